/**
 * The eval split as retrieval and (for scored pairs) similarity tasks; both engines evaluate on it.
 *
 * Retrieval: queries = the eval anchors (first column), corpus = every distinct positive (second column)
 * of the eval rows used plus distractors (the negatives' texts; for scored pairs every second sentence),
 * relevant = the query's own positive. For scored pairs only the rows with the top score are queries.
 */
import { tableSize, type PairTable } from './dataset';

export interface EvalSet {
  queries: string[];
  corpus: string[];
  relevant: Set<number>[];
  /** Scored pairs for Spearman. */
  pairs?: { a: string[]; b: string[]; scores: number[] };
}

export function buildEvalSet(t: PairTable, maxQueries: number): EvalSet {
  const n = tableSize(t);
  const corpus: string[] = [];
  const corpusIndex = new Map<string, number>();
  const idOf = (text: string) => {
    let id = corpusIndex.get(text);
    if (id === undefined) {
      id = corpus.length;
      corpus.push(text);
      corpusIndex.set(text, id);
    }
    return id;
  };
  const queries: string[] = [];
  const relevant: Set<number>[] = [];
  const queryIndex = new Map<string, number>();
  let rows = Array.from({ length: n }, (_, i) => i);
  if (t.scores) {
    const top = Math.max(...t.scores);
    rows = rows.filter((i) => t.scores![i] === top);
  }
  for (const i of rows.slice(0, maxQueries)) {
    const q = t.texts[0][i];
    const doc = idOf(t.texts[1][i]);
    // The same query text twice (e.g. one lemma list, two rows) is one query with both positives relevant.
    const seen = queryIndex.get(q);
    if (seen !== undefined) relevant[seen].add(doc);
    else {
      queryIndex.set(q, queries.length);
      queries.push(q);
      relevant.push(new Set([doc]));
    }
  }
  const used = Array.from({ length: Math.min(n, maxQueries) }, (_, i) => i);
  if (t.scores) for (const i of used) idOf(t.texts[1][i]);
  else for (const i of rows.slice(0, maxQueries)) for (let c = 2; c < t.texts.length; c++) idOf(t.texts[c][i]);
  const set: EvalSet = { queries, corpus, relevant };
  if (t.scores) set.pairs = { a: used.map((i) => t.texts[0][i]), b: used.map((i) => t.texts[1][i]), scores: used.map((i) => t.scores![i]) };
  return set;
}

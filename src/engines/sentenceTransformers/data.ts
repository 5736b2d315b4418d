/**
 * engine "sentence-transformers": the data the generated train.py reads, exported by the bundled
 * trainer's own loaders (files and builtin:wordnet, the seeded split, maxRows, the eval set's queries,
 * corpus and relevance), so both engines train and evaluate on the same rows.
 *   data/train.jsonl  one row per line, text columns in loss order, then "label" (scored pairs)
 *   data/eval.json    {queries, corpus, relevant: [[corpus index…] per query], pairs?: {a, b, scores}}
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableSize, type PairTable } from '../../data/dataset';
import { buildEvalSet } from '../../data/evalSet';

export const DATA_DIR = 'data';
export const TRAIN_FILE = 'train.jsonl';
export const EVAL_FILE = 'eval.json';
/** sentence-transformers reads a column with this name as the label, whatever its position. */
const LABEL = 'label';

/** Text column names for the dataset: the config's, renamed where sentence-transformers would take one for a label. */
export function datasetColumns(columns: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of columns) {
    let n = c === LABEL || c === 'score' || c === 'labels' ? `${c}_text` : c;
    while (out.includes(n)) n += '_';
    out.push(n);
  }
  return out;
}

export interface ExportedData {
  trainRows: number;
  queries: number;
  corpus: number;
  scored: boolean;
}

/** Writes data/train.jsonl and data/eval.json under `runDir`. */
export function exportData(runDir: string, train: PairTable, evalTable: PairTable, maxQueries: number): ExportedData {
  const dir = join(runDir, DATA_DIR);
  mkdirSync(dir, { recursive: true });
  const cols = datasetColumns(train.columns);
  const n = tableSize(train);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, string | number> = {};
    cols.forEach((c, j) => (row[c] = train.texts[j][i]));
    if (train.scores) row[LABEL] = train.scores[i];
    lines.push(JSON.stringify(row));
  }
  writeFileSync(join(dir, TRAIN_FILE), lines.join('\n') + '\n');
  const set = buildEvalSet(evalTable, maxQueries);
  const evalJson: Record<string, unknown> = { queries: set.queries, corpus: set.corpus, relevant: set.relevant.map((s) => [...s]) };
  if (set.pairs) evalJson.pairs = set.pairs;
  writeFileSync(join(dir, EVAL_FILE), JSON.stringify(evalJson) + '\n');
  return { trainRows: n, queries: set.queries.length, corpus: set.corpus.length, scored: !!set.pairs };
}

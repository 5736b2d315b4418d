/**
 * From a run config's `data` to the column-major tables the trainer and the evaluator use: load the
 * source (file or builtin), check every selected value (missing column, empty text, wrong type, a score
 * that is not a number → DataError naming file and line), split train/eval by seed, shuffle and cap.
 */
import { isAbsolute, resolve } from 'node:path';
import type { DataSourceConfig, RunConfig } from '../protocol/runConfig';
import type { DataProvenance } from '../protocol/runFolder';
import { mixSeed, Rng } from '../common/random';
import { runSync, type Work } from '../common/cooperative';
import { badTypes, loadFileWork } from './files';
import { DataError, type DataIssue, type LoadedRows, type RowOrigin } from './types';
import { loadWordnetWork, WORDNET_PACKAGE, WORDNET_SOURCE, wordnetVersion } from './wordnet';

/** Rows as columns: `texts[c][i]` is column c of row i. */
export interface PairTable {
  columns: string[];
  texts: string[][];
  /** Pair scores (scored pairs only). */
  scores?: number[];
  origins: RowOrigin[];
  groups: string[];
}

export function tableSize(t: PairTable): number {
  return t.texts[0]?.length ?? 0;
}

/** Loads a source's rows; relative paths resolve against `baseDir` (the config file's folder). */
export function loadSource(src: DataSourceConfig, baseDir: string): LoadedRows {
  return runSync(loadSourceWork(src, baseDir));
}

export function* loadSourceWork(src: DataSourceConfig, baseDir: string): Work<LoadedRows> {
  if (src.source === WORDNET_SOURCE) return yield* loadWordnetWork();
  if (src.source.startsWith('builtin:')) {
    throw new DataError([{ file: src.source, line: 0, message: `unknown builtin data set; available: ${WORDNET_SOURCE}` }]);
  }
  return yield* loadFileWork(isAbsolute(src.source) ? src.source : resolve(baseDir, src.source));
}

/** Picks and checks the configured columns of every row. Throws DataError listing every bad row. */
export function selectColumns(loaded: LoadedRows, src: DataSourceConfig): PairTable {
  const columns = src.columns ?? ['anchor', 'positive'];
  const issues: DataIssue[] = [];
  const missing = [...columns, ...(src.scoreColumn ? [src.scoreColumn] : [])].filter((c) => !loaded.columns.includes(c));
  if (missing.length) {
    const file = loaded.origins[0]?.file ?? src.source;
    throw new DataError([
      {
        file,
        line: 1,
        message: `no column ${missing.map((c) => `"${c}"`).join(', ')} in the data (columns: ${loaded.columns.join(', ') || 'none'})`,
      },
    ]);
  }
  const texts: string[][] = columns.map(() => []);
  const scores: number[] | undefined = src.scoreColumn ? [] : undefined;
  const origins: RowOrigin[] = [];
  const groups: string[] = [];
  loaded.rows.forEach((row, i) => {
    const at = loaded.origins[i];
    let ok = true;
    const values: string[] = [];
    for (const c of columns) {
      const v = row[c];
      const bad = badTypes.get(row)?.[c];
      if (bad) {
        issues.push({ file: at.file, line: at.line, message: `column "${c}" is ${bad}, expected a string` });
        ok = false;
      } else if (v === undefined) {
        issues.push({ file: at.file, line: at.line, message: `missing column "${c}"` });
        ok = false;
      } else if (typeof v !== 'string') {
        issues.push({ file: at.file, line: at.line, message: `column "${c}" is a ${typeof v}, expected a string` });
        ok = false;
      } else if (v.trim() === '') {
        issues.push({ file: at.file, line: at.line, message: `column "${c}" is empty` });
        ok = false;
      } else values.push(v);
    }
    let score = NaN;
    if (src.scoreColumn) {
      const raw = row[src.scoreColumn];
      score = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(score)) {
        issues.push({
          file: at.file,
          line: at.line,
          message: `score column "${src.scoreColumn}" is ${raw === undefined ? 'missing' : JSON.stringify(raw)}, expected a number`,
        });
        ok = false;
      }
    }
    if (!ok) return;
    values.forEach((v, c) => texts[c].push(v));
    scores?.push(score);
    origins.push(at);
    // Rows of a file are grouped by their first text (an anchor never lands on both sides of the split);
    // by content, not by path, so the split does not change when the folder moves.
    groups.push(loaded.groups?.[i] ?? values[0]);
  });
  if (issues.length) throw new DataError(issues);
  if (origins.length === 0) throw new DataError([{ file: loaded.origins[0]?.file ?? src.source, line: 0, message: 'no rows' }]);
  return { columns, texts, scores, origins, groups };
}

export function subset(t: PairTable, idx: number[]): PairTable {
  return {
    columns: t.columns,
    texts: t.texts.map((col) => idx.map((i) => col[i])),
    scores: t.scores && idx.map((i) => t.scores![i]),
    origins: idx.map((i) => t.origins[i]),
    groups: idx.map((i) => t.groups[i]),
  };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Held-out split by group (WordNet: by synset, so an eval definition is never trained on): a group goes
 * to eval when hash(seed, group) falls below `fraction`. Independent of row order and of maxRows.
 */
export function splitByGroup(t: PairTable, fraction: number, seed: number): { train: number[]; eval: number[] } {
  const train: number[] = [];
  const evalIdx: number[] = [];
  const threshold = fraction * 2 ** 32;
  t.groups.forEach((g, i) => (mixSeed(seed ^ 0x5eed, hashString(g)) < threshold ? evalIdx : train).push(i));
  return { train, eval: evalIdx };
}

/** Seeded shuffle of row indices, capped. */
export function shuffledCap(n: number, seed: number, cap?: number): number[] {
  const idx = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  return cap !== undefined && cap < n ? idx.slice(0, cap) : idx;
}

export interface PreparedData {
  train: PairTable;
  eval: PairTable;
  /** Where each split's rows came from (run.json `data`): train, then eval when it has its own source. */
  sources: DataProvenance[];
}

/** A source as run.json records it: a file's path (as the config names it), SHA-256 and rows; a builtin's package version. */
export function sourceProvenance(src: DataSourceConfig, loaded: LoadedRows, split: 'train' | 'eval'): DataProvenance {
  const rows = loaded.rows.length;
  if (src.source === WORDNET_SOURCE) return { split, builtin: 'wordnet', package: WORDNET_PACKAGE, version: wordnetVersion(), rows };
  return { split, path: src.source, sha256: loaded.sha256 ?? '', rows };
}

/**
 * Train and eval tables of a resolved config. Errors: DataError with `configPath` set to the JSON
 * pointer of the source (`/data/train/source`).
 */
export function prepareData(config: RunConfig, baseDir: string): PreparedData {
  return runSync(prepareDataWork(config, baseDir));
}

/** prepareData as cooperative work (../common/cooperative.ts): loading and parsing yield to the event loop. */
export function* prepareDataWork(config: RunConfig, baseDir: string): Work<PreparedData> {
  const { data, seed } = config;
  const sources: DataProvenance[] = [];
  const load = function* (src: DataSourceConfig, pointer: string): Work<PairTable> {
    try {
      const loaded = yield* loadSourceWork(src, baseDir);
      sources.push(sourceProvenance(src, loaded, pointer === '/data/eval/source' ? 'eval' : 'train'));
      yield;
      return selectColumns(loaded, src);
    } catch (e) {
      if (e instanceof DataError) throw new DataError(e.issues, pointer);
      throw e;
    }
  };
  const full = yield* load(data.train, '/data/train/source');
  yield;
  let train: PairTable;
  let evalTable: PairTable;
  if (data.eval) {
    train = full;
    const ev = yield* load(data.eval, '/data/eval/source');
    evalTable = subset(ev, shuffledCap(tableSize(ev), mixSeed(seed, 2), data.eval.maxRows));
  } else {
    const split = splitByGroup(full, data.evalFraction, seed);
    if (split.eval.length === 0 || split.train.length === 0) {
      throw new DataError(
        [
          {
            file: full.origins[0].file,
            line: 0,
            message: `evalFraction ${data.evalFraction} of ${tableSize(full)} rows leaves ${split.train.length} train and ${split.eval.length} eval rows; add rows, change evalFraction or give data.eval`,
          },
        ],
        '/data/evalFraction',
      );
    }
    train = subset(full, split.train);
    evalTable = subset(full, split.eval);
    // Shuffle eval too, so evaluation.maxQueries takes a fair sample rather than the file's first rows.
    evalTable = subset(evalTable, shuffledCap(tableSize(evalTable), mixSeed(seed, 2)));
  }
  train = subset(train, shuffledCap(tableSize(train), mixSeed(seed, 1), data.train.maxRows));
  return { train, eval: evalTable, sources };
}

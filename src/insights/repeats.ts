/**
 * Repeats of a sweep combination (`sweep.repeat`: the same values, other seeds) taken together: which
 * runs are repeats of one combination, and their numbers as mean ± std over n. The runs table's "Group
 * repeats" rows and the charts' repeat bands read these. Pure: no DOM, no Node.
 */
import type { ByDim } from '../protocol/runFolder';

/** run.json `sweep` as far as grouping needs it. */
interface SweepPlace {
  id: string;
  index: number;
  combination?: number;
  repeat?: number;
}

/**
 * The key a run shares with the other repeats of its combination (`<sweep id>#<combination>`), or null
 * for a run that is no repeat (not in a sweep, or in a sweep without `repeat`).
 */
export function repeatGroupKey(run: { sweep?: SweepPlace }): string | null {
  const s = run.sweep;
  if (!s || s.repeat === undefined) return null;
  return `${s.id}#${s.combination ?? s.index}`;
}

/** Whether any run is a repeat of a combination. */
export function hasRepeats(runs: readonly { sweep?: SweepPlace }[]): boolean {
  return runs.some((r) => repeatGroupKey(r) !== null);
}

/**
 * Runs grouped by combination, groups in the order of their first run, runs in their given order; a run
 * that is no repeat is a group of its own (key null).
 */
export function groupRepeats<T extends { sweep?: SweepPlace }>(runs: readonly T[]): { key: string | null; runs: T[] }[] {
  const out: { key: string | null; runs: T[] }[] = [];
  const at = new Map<string, number>();
  for (const r of runs) {
    const k = repeatGroupKey(r);
    if (k === null) {
      out.push({ key: null, runs: [r] });
      continue;
    }
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push({ key: k, runs: [r] });
    } else out[i].runs.push(r);
  }
  return out;
}

export interface RepeatStats {
  /** How many of the values were numbers (the others: a repeat without the metric yet, or NaN). */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator: the repeats are a sample of seeds); 0 when n = 1. */
  std: number;
  min: number;
  max: number;
}

/** Mean ± std over the finite numbers among `values`; null when there is none. */
export function repeatStats(values: readonly unknown[]): RepeatStats | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return null;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min, max };
}

/** Per key, the mean of the finite values the records hold for it (a key none holds a number for is left out). */
export function meanRecord(records: readonly (Record<string, number> | undefined)[]): Record<string, number> {
  const keys = new Set<string>();
  for (const r of records) for (const k in r ?? {}) keys.add(k);
  const out: Record<string, number> = {};
  for (const k of keys) {
    const s = repeatStats(records.map((r) => r?.[k]));
    if (s) out[k] = s.mean;
  }
  return out;
}

/** Per dim and metric, the mean over the repeats that have it (an eval digest of the combination). */
export function meanByDim(list: readonly (ByDim | undefined)[]): ByDim {
  const dims = new Set<string>();
  for (const b of list) for (const d in b ?? {}) dims.add(d);
  const out: ByDim = {};
  for (const d of dims) {
    const m = meanRecord(list.map((b) => b?.[d]));
    if (Object.keys(m).length) out[d] = m;
  }
  return out;
}

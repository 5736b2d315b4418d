/**
 * CSV export of a chart: its curves' full-resolution points (not the decimated ones), long format, one
 * row per point. `metric` is the key as metrics.jsonl writes it: a metric on a quantised index keeps its
 * precision prefix (`int8+rescore:ndcg@10`; src/protocol/runFolder.ts precisionKey), float32 the bare
 * name, so rows of two precisions never read as one metric. Pure (no DOM).
 *
 * Run names and metric names come from run folders, which may come from a cloned repository: a cell
 * that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) is neutralised with a
 * leading single quote (OWASP's advice for CSV injection). Only text is touched: numbers, negative ones
 * included, are written as numbers.
 */
import { curveSmoothing } from './smoothingRule';
import type { Curve } from './timeChart';

/** `smoothed` is the value as the chart drew it; `smoothing` the EMA weight behind it (0: raw — eval
 *  curves are never smoothed, see smoothingRule.ts), so a reader of the file knows which it got. */
export const CSV_HEADER = 'run_id,run_name,split,metric,dim,step,time_s,wall_time_ms,value,smoothed,smoothing';

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: text neutralised against formula injection, then quoted where CSV requires it. */
export function csvCell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const s = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

/**
 * The CSV of `curves`: every point each series holds, with the smoothed value as the chart draws it at the
 * slider's `smoothing` (train curves smoothed, eval curves raw; 0 = raw everywhere) and the weight used.
 * `runName` names a run id (the id itself when it has none).
 */
export function buildCsv(
  curves: readonly Pick<Curve, 'runId' | 'series'>[],
  smoothing: number,
  runName: (runId: string) => string | undefined,
): string {
  const lines = [CSV_HEADER];
  for (const c of curves) {
    const s = c.series;
    const w = curveSmoothing(s.key, smoothing);
    const sm = w > 0 ? s.smoothed(w) : s.y;
    const name = runName(c.runId) ?? c.runId;
    const pre = `${csvCell(c.runId)},${csvCell(name)},${csvCell(s.key.split)},${csvCell(s.key.metric)},${s.key.dim ?? ''}`;
    for (let i = 0; i < s.n; i++) {
      lines.push(`${pre},${s.step[i]},${s.time[i]},${num(s.wall[i])},${num(s.y[i])},${num(sm[i])},${w}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A file name from a chart id or title: no path separators, no spaces, never empty. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9@._-]+/g, '_').replace(/^_+|_+$/g, '') || 'chart';
}

/** `m:eval/ndcg@10` → `eval_ndcg@10.csv`. */
export function csvFileName(chartId: string): string {
  return `${safeName(chartId.replace(/^[md]:/, ''))}.csv`;
}

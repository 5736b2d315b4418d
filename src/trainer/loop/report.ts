/**
 * What a run reports as it goes and when it ends, as text: the ProgressSink the loop reports each step
 * and each evaluation to (the CLI's terminal bar, src/trainer/cli/progress.ts, is one), the one-line
 * evaluation summaries, and the final metrics table (one row per dim).
 */
import { FUNNEL_PREFIX, PRECISIONS, parsePrecisionKey, precisionKey, type ByDim } from '../../protocol/runFolder';
import { DEFAULT_ADVISOR_PERCENT } from '../../insights/dimAdvisor';
import { adviseFrontier, bytesPerVector, describeFrontierAdvice, floatOnly } from '../../insights/frontier';
import type { EvalResult } from '../eval/evaluator';

export interface ProgressLine {
  step: number;
  total: number;
  loss: number;
  samplesPerSec: number;
  etaSeconds: number;
}

/** What the training loop reports to (a terminal progress bar, or anything else that watches steps). */
export interface ProgressSink {
  update(p: ProgressLine): void;
  message(text: string): void;
  done(): void;
}

/** "ndcg@10 64: 0.123, 32: 0.101" for progress lines. */
export function evalSummary(byDim: ByDim): string {
  const dims = Object.keys(byDim).sort((a, b) => Number(b) - Number(a));
  const key = dims.length && byDim[dims[0]]['ndcg@10'] !== undefined ? 'ndcg@10' : 'spearman';
  return `${key} ` + dims.map((d) => `${d}: ${byDim[d][key]?.toFixed(4) ?? '-'}`).join(', ');
}

const COLUMN_ORDER = ['loss', 'ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100', 'spearman'];

/**
 * One row per dim (ascending), one column per metric; `before` (the step-0 evaluation) adds a
 * "untrained ndcg@10" style column so the gain is visible at a glance.
 */
export function metricsTable(byDim: ByDim, before?: ByDim): string {
  return [floatTable(floatOnly(byDim), before && floatOnly(before)), precisionTable(byDim)].filter((t) => t).join('\n\n');
}

/** The float32 metrics: one row per dim, one column per metric (what the table was before precisions). */
function floatTable(byDim: ByDim, before?: ByDim): string {
  const dims = Object.keys(byDim).sort((a, b) => Number(a) - Number(b));
  const metrics = [...new Set(dims.flatMap((d) => Object.keys(byDim[d])))].sort(
    (a, b) => (COLUMN_ORDER.indexOf(a) + 1 || 99) - (COLUMN_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
  );
  const headline = metrics.includes('ndcg@10') ? 'ndcg@10' : metrics.includes('spearman') ? 'spearman' : metrics[0];
  const header = ['dim', ...metrics, ...(before && headline ? [`${headline} (step 0)`] : [])];
  const rows = dims.map((d) => [d, ...metrics.map((m) => fmt(byDim[d][m])), ...(before && headline ? [fmt(before[d]?.[headline])] : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padStart(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The headline metric at every precision the evaluation measured (evaluation.precisions), one row per dim,
 * each value with its index bytes per vector: "" when only float32 was measured.
 */
function precisionTable(byDim: ByDim): string {
  const dims = Object.keys(byDim).sort((a, b) => Number(a) - Number(b));
  const keys = new Set(dims.flatMap((d) => Object.keys(byDim[d])));
  const quantised = [...keys].map(parsePrecisionKey).filter((p) => p.precision !== 'float32');
  if (quantised.length === 0) return '';
  const metric = quantised.some((p) => p.metric === 'ndcg@10') ? 'ndcg@10' : quantised[0].metric;
  const columns = PRECISIONS.flatMap((precision) =>
    (precision === 'float32' ? [false] : [false, true]).map((rescore) => ({ precision, rescore })),
  )
    .map((c) => ({ ...c, key: precisionKey(metric, c.precision, c.rescore) }))
    .filter((c) => keys.has(c.key));
  const header = ['dim', ...columns.map((c) => `${c.precision}${c.rescore ? '+rescore' : ''}`)];
  const rows = dims.map((d) => [
    d,
    ...columns.map((c) => {
      const v = byDim[d][c.key];
      return v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(4)} (${bytesPerVector(Number(d), c.precision)} B)`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [
    `${metric} by precision (index bytes per vector)`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

/** At the advisor's default percentage (95, the default of matryoshkaLab.advisorPercent): "frontier: reaches 95 % at 16 bytes/vector: binary at dim 128, rescored (…)", or undefined without float32 values. */
export function frontierLine(byDim: ByDim): string | undefined {
  const a = adviseFrontier(byDim, { percent: DEFAULT_ADVISOR_PERCENT });
  return a ? `frontier (cheapest dim × precision): ${describeFrontierAdvice(a)}` : undefined;
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(4);
}

function formatSeconds(s: number): string {
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export interface FinalReport {
  name: string;
  steps: number;
  seconds: number;
  backend: string;
  final: EvalResult;
  initial?: EvalResult;
  funnel: { shortlistDim: number; rerankDim: number; shortlistSize: number } | null;
  runDir: string;
}

/** The lines a completed run prints: the headline, the metrics table, the funnel's trade, the run folder. */
export function printFinalReport(r: FinalReport, print: (s: string) => void): void {
  print(`\n${r.name}: ${r.steps} steps, ${formatSeconds(r.seconds)}, backend ${r.backend}\n`);
  print(metricsTable(r.final.byDim, r.initial?.byDim));
  const v = r.final.values;
  const f = r.funnel;
  if (f && v[`${FUNNEL_PREFIX}macsSaved`] !== undefined) {
    const headline = Object.keys(v).find((k) => k.startsWith(FUNNEL_PREFIX) && !/(macsSaved|shortlistDim|rerankDim)$/.test(k));
    const full = headline ? r.final.byDim[String(f.rerankDim)]?.[headline.slice(FUNNEL_PREFIX.length)] : undefined;
    print(
      `\nfunnel (shortlist ${f.shortlistSize} at dim ${f.shortlistDim}, re-rank at dim ${f.rerankDim}): ` +
        (headline
          ? `${headline.slice(FUNNEL_PREFIX.length)} ${v[headline].toFixed(4)}${full !== undefined ? ` vs ${full.toFixed(4)} at full dim ${f.rerankDim}` : ''}, `
          : '') +
        `${(100 * v[`${FUNNEL_PREFIX}macsSaved`]).toFixed(1)}% fewer multiply-adds`,
    );
  }
  const frontier = frontierLine(r.final.byDim);
  if (frontier) print(`\n${frontier}`);
  print(`\nrun folder: ${r.runDir}`);
}

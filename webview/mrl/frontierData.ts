/**
 * Data behind the frontier chart (quality against index bytes per vector, every dim × precision): per
 * shown run, the eval at the metric-vs-dim card's step, the frontier's answer from src/insights/frontier.ts
 * (adviseFrontier: the cheapest point reaching p % of full-dim float32, the Pareto front), the funnel on
 * the same scale, and the sentence under the chart. Pure (no DOM, no Chart.js).
 *
 * The funnel's bytes: it shortlists with shortlistDim-dim vectors and re-ranks with rerankDim-dim ones, so
 * its index holds both, float32: 4·(shortlistDim + rerankDim) bytes per vector. A store that kept only the
 * rerankDim vectors and scored their prefix would need 4·rerankDim (+ a norm per vector, since the
 * shortlist's cosine re-normalises the prefix), but that is not how vector databases hold two-stage
 * search (two vector fields, the small one in memory), so the chart takes the index as deployed.
 */
import { adviseFrontier, compareFrontierAdvice, describeFrontierAdvice, type FrontierAdvice } from '../../src/insights/frontier';
import type { ByDim } from '../../src/protocol/runFolder';
import { RUN_LEGEND_MAX } from '../charts/chartSpecs';
import { isFloat32Metric, keyAt, PRECISION_VARIANTS, variantOf, type PrecisionVariant } from '../app/precision';
import type { MetricsStore } from '../app/store';
import { funnelDims, latestFunnelAtOrBefore } from './mrlData';

export interface FrontierRun {
  id: string;
  name: string;
  /** Position among the shown runs: the front line's dash. */
  index: number;
  config?: Record<string, unknown> | null;
}

/** The funnel placed on the frontier's axes. */
export interface FunnelOnFrontier {
  shortlistDim: number;
  rerankDim: number;
  bytesPerVector: number;
  value: number;
  /** value / full-dim float32 value. */
  ratio: number;
}

export interface RunFrontier {
  runId: string;
  name: string;
  index: number;
  /** The eval step read (the last one ≤ the card's step at which the run has the metric). */
  step: number;
  /** null: no positive full-dim float32 value at that step. */
  advice: FrontierAdvice | null;
  funnel: FunnelOnFrontier | null;
}

/** Index bytes per vector of the funnel's two indexes (see the header). */
export function funnelBytesPerVector(shortlistDim: number, rerankDim: number): number {
  return 4 * (shortlistDim + rerankDim);
}

/** The eval metric keys of `base` the store holds, every precision (`ndcg@10`, `int8:ndcg@10`, …). */
export function variantKeys(store: MetricsStore, base: string): { key: string; variant: PrecisionVariant }[] {
  const out: { key: string; variant: PrecisionVariant }[] = [];
  for (const v of PRECISION_VARIANTS) {
    const key = keyAt(base, v);
    if (store.metrics.has(`eval/${key}`)) out.push({ key, variant: v });
  }
  return out;
}

/** Whether the frontier card has anything the metric-vs-dim card has not: a quantised variant of `base`. */
export function hasPrecisionVariants(store: MetricsStore, base: string): boolean {
  return variantKeys(store, base).some((k) => k.variant !== 'float32');
}

/** The metric the frontier reads from the MRL card's metric id: an eval float32 metric, else none. */
export function frontierMetric(store: MetricsStore, mrlMetricId: string | null): string | null {
  const m = mrlMetricId ? store.metrics.get(mrlMetricId) : undefined;
  if (!m || m.split !== 'eval' || !isFloat32Metric(m.metric)) return null;
  return variantOf(m.metric).base;
}

/** One run's byDim at exactly `step`, every precision of `base` (what adviseFrontier reads). */
export function byDimAt(store: MetricsStore, runId: string, base: string, step: number, dims: readonly number[]): ByDim {
  const out: ByDim = {};
  const keys = variantKeys(store, base);
  for (const d of dims) {
    for (const { key } of keys) {
      const s = store.series(runId, 'eval', key, d);
      if (!s) continue;
      const i = s.indexAtOrBeforeStep(step);
      if (i >= 0 && s.step[i] === step && Number.isFinite(s.y[i])) (out[String(d)] ??= {})[key] = s.y[i];
    }
  }
  return out;
}

/** The last eval step ≤ `step` (Infinity: the latest) at which the run has the float32 metric. */
export function frontierStep(store: MetricsStore, runId: string, base: string, step: number, dims: readonly number[]): number | null {
  let at = -Infinity;
  for (const d of dims) {
    const s = store.series(runId, 'eval', base, d);
    if (!s) continue;
    const i = s.indexAtOrBeforeStep(step);
    if (i >= 0 && s.step[i] > at) at = s.step[i];
  }
  return Number.isFinite(at) ? at : null;
}

/** Every shown run's frontier at `step` (runs without the metric by then are left out). */
export function runFrontiers(
  store: MetricsStore,
  runs: readonly FrontierRun[],
  base: string,
  step: number,
  dims: readonly number[],
  percent: number,
): RunFrontier[] {
  const out: RunFrontier[] = [];
  for (const run of runs) {
    const rd = store.runs.get(run.id);
    if (!rd) continue;
    const at = frontierStep(store, run.id, base, step, dims);
    if (at === null) continue;
    const advice = adviseFrontier(byDimAt(store, run.id, base, at, dims), { metric: base, percent });
    let funnel: FunnelOnFrontier | null = null;
    const rec = rd.funnel.get(at) ?? latestFunnelAtOrBefore(rd.funnel, at);
    const fd = rec && funnelDims(rec, run.config);
    if (advice && rec && fd && Number.isFinite(rec[base])) {
      funnel = {
        shortlistDim: fd[0],
        rerankDim: fd[1],
        bytesPerVector: funnelBytesPerVector(fd[0], fd[1]),
        value: rec[base],
        ratio: rec[base] / advice.fullValue,
      };
    }
    out.push({ runId: run.id, name: run.name, index: run.index, step: at, advice, funnel });
  }
  return out;
}

/** What the funnel's point says: "funnel 16→64: 97 % of float32 at 320 bytes/vector". */
export function describeFunnelOnFrontier(f: FunnelOnFrontier): string {
  return `funnel ${f.shortlistDim}→${f.rerankDim}: ${Math.round(f.ratio * 100)} % of float32 at ${f.bytesPerVector} bytes/vector`;
}

/**
 * The lines under the frontier chart. One run: "<name> reaches 95 % at 16 bytes/vector: … (step N)" from
 * describeFrontierAdvice, then its funnel. Several: compareFrontierAdvice over the runs the legend names,
 * "+ N more runs", then each named run's funnel.
 */
export function frontierLines(runs: readonly RunFrontier[]): string[] {
  if (!runs.length) return [];
  if (runs.length === 1) {
    const r = runs[0];
    if (!r.advice) return [`${r.name}: no frontier at step ${r.step} (the metric needs a positive full-dim float32 value)`];
    return [
      `${r.name} ${describeFrontierAdvice(r.advice)} (step ${r.step})`,
      ...(r.funnel ? [`${describeFunnelOnFrontier(r.funnel)}`] : []),
    ];
  }
  const named = runs.slice(0, RUN_LEGEND_MAX);
  const more = runs.length - named.length;
  const lines = [compareFrontierAdvice(named.map((r) => ({ name: r.name, advice: r.advice }))) + (more > 0 ? `; + ${more} more runs` : '')];
  for (const r of named) if (r.funnel) lines.push(`${r.name} ${describeFunnelOnFrontier(r.funnel)}`);
  return lines;
}

/** Marker shape per precision; rescored points are filled, un-rescored quantised ones hollow. */
export const PRECISION_MARKER = { float32: 'circle', int8: 'rect', binary: 'triangle' } as const;

export function markerOf(variant: PrecisionVariant): { shape: (typeof PRECISION_MARKER)[keyof typeof PRECISION_MARKER]; filled: boolean } {
  const [precision, rescore] = variant.split('+') as [keyof typeof PRECISION_MARKER, string | undefined];
  return { shape: PRECISION_MARKER[precision], filled: precision === 'float32' || rescore !== undefined };
}

/** "16 B", "1 KiB", "1.5 KiB": an x tick (bytes per vector). */
export function formatBytes(b: number): string {
  if (b < 1024) return `${Math.round(b * 10) / 10} B`;
  const k = b / 1024;
  return `${Number.isInteger(k) ? k : Number(k.toPrecision(3))} KiB`;
}

/**
 * "Which dim should I ship?" — the dim advisor. Matryoshka's promise is a smaller index at nearly the same
 * quality: for one eval (a run's latest or best per-dim values), the smallest dim whose metric reaches p %
 * of the full-dim value, what it saves in index bytes per vector and in multiply-adds per query, and where
 * the funnel (shortlist at a small dim, re-rank at a larger one) sits on the same scale.
 *
 * Pure: the runs table, the metric-vs-dim chart and the tree use the same answer. No DOM, Node or vscode.
 */
import type { ByDim } from '../protocol/runFolder';
import { FUNNEL_PREFIX } from '../protocol/runFolder';
import { headlineMetric, lowerIsBetter } from './metricRules';

export const DEFAULT_ADVISOR_PERCENT = 95;

/** Index bytes of one vector of `dim` components: float32 (4 bytes each) and int8 (1 byte each, stated as
 *  such: scalar quantisation, before any product quantisation or compression). */
export function vectorBytes(dim: number): { float32: number; int8: number } {
  return { float32: 4 * dim, int8: dim };
}

export interface FunnelPlacement {
  /** The funnel's metric value (`funnel:<metric>`), and as a share of the full-dim value. */
  value: number;
  ratio: number;
  /** Share of full-dim exhaustive multiply-adds the funnel saves (`funnel:macsSaved`). */
  macsSaving: number;
  /** The exhaustive dim that costs as many multiply-adds per query: (1 − macsSaving) × fullDim. */
  equivalentDim: number;
  shortlistDim?: number;
  rerankDim?: number;
  /** Whether the funnel reaches the target (p % of full dim). */
  reachesTarget: boolean;
}

export interface DimAdvice {
  metric: string;
  /** Target, percent of the full-dim value. */
  percent: number;
  fullDim: number;
  fullValue: number;
  /** The value a dim must reach: p % of full (for a lower-is-better metric: full / p %). */
  threshold: number;
  /** The smallest dim reaching the threshold (the full dim at worst). */
  dim: number;
  value: number;
  /** value / fullValue. */
  ratio: number;
  /** Index bytes per vector at the chosen dim and at full dim. */
  bytes: { float32: number; int8: number };
  fullBytes: { float32: number; int8: number };
  /** Share of index bytes saved against full dim (1 − dim / fullDim), the same for float32 and int8. */
  bytesSaving: number;
  /** Multiply-adds per query and scored document (exhaustive cosine search): dim, against fullDim. */
  macsPerDoc: number;
  fullMacsPerDoc: number;
  macsSaving: number;
  funnel: FunnelPlacement | null;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The dims (ascending) that carry a finite value of `metric`. */
export function dimsWith(byDim: ByDim, metric: string): number[] {
  return Object.keys(byDim)
    .filter((d) => finite(byDim[d]?.[metric]))
    .map(Number)
    .filter((d) => Number.isInteger(d) && d > 0)
    .sort((a, b) => a - b);
}

/** The metric the advisor uses by default: the headline one among those every dim reports. */
export function advisorMetric(byDim: ByDim): string | undefined {
  const names = new Set<string>();
  for (const d of Object.keys(byDim)) for (const m of Object.keys(byDim[d] ?? {})) if (m !== 'loss') names.add(m);
  return headlineMetric(names);
}

/**
 * The advice for one eval's per-dim values, or null when the metric is not reported at two dims or more
 * (there is nothing to choose between) or the full-dim value is not positive (no meaningful percentage).
 * `values`: the same eval's dimension-less values, for the funnel (`funnel:<metric>`, `funnel:macsSaved`).
 */
export function adviseDim(
  byDim: ByDim,
  opts: { metric?: string; percent?: number; values?: Record<string, number> } = {},
): DimAdvice | null {
  const metric = opts.metric ?? advisorMetric(byDim);
  if (!metric) return null;
  const percent = opts.percent ?? DEFAULT_ADVISOR_PERCENT;
  if (!(percent > 0 && percent <= 100)) return null;
  const dims = dimsWith(byDim, metric);
  if (dims.length < 2) return null;
  const fullDim = dims[dims.length - 1];
  const fullValue = byDim[String(fullDim)][metric];
  if (!(fullValue > 0)) return null;
  const lower = lowerIsBetter(metric);
  const share = percent / 100;
  // A lower-is-better metric "reaches p %" when it is at most full / p % (p = 95: at most ~5 % worse).
  const threshold = lower ? fullValue / share : fullValue * share;
  const reaches = (v: number) => (lower ? v <= threshold : v >= threshold);
  // Float rounding must not hide the full dim itself from its own target.
  const dim = dims.find((d) => reaches(byDim[String(d)][metric]) || d === fullDim) ?? fullDim;
  const value = byDim[String(dim)][metric];
  const macsSaving = 1 - dim / fullDim;
  return {
    metric,
    percent,
    fullDim,
    fullValue,
    threshold,
    dim,
    value,
    ratio: value / fullValue,
    bytes: vectorBytes(dim),
    fullBytes: vectorBytes(fullDim),
    bytesSaving: 1 - dim / fullDim,
    macsPerDoc: dim,
    fullMacsPerDoc: fullDim,
    macsSaving,
    funnel: funnelPlacement(opts.values, metric, fullDim, fullValue, reaches),
  };
}

function funnelPlacement(
  values: Record<string, number> | undefined,
  metric: string,
  fullDim: number,
  fullValue: number,
  reaches: (v: number) => boolean,
): FunnelPlacement | null {
  if (!values) return null;
  const value = values[FUNNEL_PREFIX + metric];
  const saved = values[FUNNEL_PREFIX + 'macsSaved'];
  if (!finite(value) || !finite(saved)) return null;
  const out: FunnelPlacement = {
    value,
    ratio: value / fullValue,
    macsSaving: saved,
    equivalentDim: (1 - saved) * fullDim,
    reachesTarget: reaches(value),
  };
  const s = values[FUNNEL_PREFIX + 'shortlistDim'];
  const r = values[FUNNEL_PREFIX + 'rerankDim'];
  if (finite(s)) out.shortlistDim = s;
  if (finite(r)) out.rerankDim = r;
  return out;
}

/** "reaches 95 % of ndcg@10 at dim 16 (0.201 of 0.210): 75 % fewer bytes and multiply-adds" */
export function describeAdvice(a: DimAdvice): string {
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const v = (x: number) => String(Number(x.toPrecision(3)));
  if (a.dim === a.fullDim) return `needs the full dim ${a.fullDim} to reach ${a.percent} % of ${a.metric} (${v(a.fullValue)})`;
  return `reaches ${a.percent} % of ${a.metric} at dim ${a.dim} (${v(a.value)} of ${v(a.fullValue)} at ${a.fullDim}): ${pct(a.bytesSaving)} fewer index bytes (${a.bytes.float32} B float32 / ${a.bytes.int8} B int8 per vector) and multiply-adds per query`;
}

/** "run A reaches 95 % at dim 16, run B needs 32" for two or more runs (name → advice). */
export function compareAdvice(runs: { name: string; advice: DimAdvice | null }[]): string {
  const parts: string[] = [];
  for (const [i, r] of runs.entries()) {
    if (!r.advice) parts.push(`${r.name}: no per-dim eval yet`);
    else parts.push(`${r.name} ${i === 0 ? `reaches ${r.advice.percent} % at dim` : 'needs'} ${r.advice.dim}`);
  }
  return parts.join(', ');
}

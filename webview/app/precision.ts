/**
 * Precision variants of a metric in the panel. An eval line's byDim carries the float32 metric under its
 * bare name and the same metric on a quantised index under a prefix (`int8:ndcg@10`,
 * `binary+rescore:ndcg@10`: src/protocol/runFolder.ts precisionKey). The store keeps each key as a metric
 * of its own; this module decides which of them a float32 view shows:
 *   - the time charts show one precision at a time, chosen in the toolbar's Precision select (float32 by
 *     default): a metric that has the chosen variant is swapped for it, every other metric (train loss,
 *     eval loss, funnel) stays as it is;
 *   - the metric-vs-dim chart and its dim advisor are float32 only (their percentages are of full-dim
 *     float32); the precisions are the frontier chart's business (webview/mrl/frontierView.ts).
 * Pure: no DOM.
 */
import { parsePrecisionKey, precisionKey, type Precision } from '../../src/protocol/runFolder';
import type { MetricsStore } from './store';

/** A precision as the panel names it: the byDim key's prefix, float32 for a bare name. */
export type PrecisionVariant = 'float32' | 'int8' | 'int8+rescore' | 'binary' | 'binary+rescore';
export const PRECISION_VARIANTS: readonly PrecisionVariant[] = ['float32', 'int8+rescore', 'int8', 'binary+rescore', 'binary'];

export function variantName(precision: Precision, rescore: boolean): PrecisionVariant {
  return precision === 'float32' ? 'float32' : ((rescore ? `${precision}+rescore` : precision) as PrecisionVariant);
}

/** `int8+rescore:ndcg@10` → {base: 'ndcg@10', variant: 'int8+rescore'}; a bare name is float32. */
export function variantOf(metric: string): { base: string; variant: PrecisionVariant } {
  const p = parsePrecisionKey(metric);
  return { base: p.metric, variant: variantName(p.precision, p.rescore) };
}

/** The metric's key at a variant (the inverse of variantOf). */
export function keyAt(base: string, variant: PrecisionVariant): string {
  const [precision, rescore] = variant.split('+') as [Precision, string | undefined];
  return precisionKey(base, precision, rescore !== undefined);
}

export function isFloat32Metric(metric: string): boolean {
  return parsePrecisionKey(metric).precision === 'float32';
}

/** "int8 + rescore" */
export function variantLabel(v: PrecisionVariant): string {
  return v.replace('+', ' + ');
}

/** The variants the store holds, float32 first; [] when every metric is float32 (an older run). */
export function presentVariants(store: MetricsStore): PrecisionVariant[] {
  const seen = new Set<PrecisionVariant>();
  for (const m of store.metrics.values()) seen.add(variantOf(m.metric).variant);
  if (![...seen].some((v) => v !== 'float32')) return [];
  return PRECISION_VARIANTS.filter((v) => v === 'float32' || seen.has(v));
}

/** The toolbar's choice if the store has it, else float32. */
export function currentPrecision(store: MetricsStore, chosen: string | undefined): PrecisionVariant {
  const present = presentVariants(store);
  return present.includes(chosen as PrecisionVariant) ? (chosen as PrecisionVariant) : 'float32';
}

/**
 * The metric ids (`eval/int8:ndcg@10` …) a time-chart view shows at `variant`: the metrics at that
 * variant, and the float32 metrics that have no such variant (train loss, eval loss, funnel figures).
 */
export function metricIdsAt(store: MetricsStore, mids: readonly string[], variant: PrecisionVariant): string[] {
  return mids.filter((mid) => {
    const m = store.metrics.get(mid)!;
    const v = variantOf(m.metric);
    if (v.variant === variant) return true;
    if (v.variant !== 'float32') return false;
    return variant === 'float32' || !store.metrics.has(`${m.split}/${keyAt(v.base, variant)}`);
  });
}

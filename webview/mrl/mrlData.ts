/**
 * Data choices behind the MRL curve (metric vs dim at one step): which metrics qualify, which one is
 * shown, the eval steps the slider walks, and where the slider stands. Pure (no DOM, no Chart.js).
 */
import { compareAdvice, DEFAULT_ADVISOR_PERCENT, describeAdvice, type DimAdvice } from '../../src/insights/dimAdvisor';
import { percentBeside } from '../../src/insights/percent';
import { RUN_LEGEND_MAX } from '../charts/chartSpecs';
import { compareMetricIds, shownRuns, type ViewModel } from '../app/model';
import { isFloat32Metric } from '../app/precision';
import type { MetricsStore } from '../app/store';
import type { UiState } from '../app/uiState';

/** Metrics that have dims (candidates for the MRL chart), eval first; float32 only (the precisions are
 *  the frontier chart's: its percentages, like the dim advisor's, are of full-dim float32). */
export function mrlCandidates(store: MetricsStore): string[] {
  return [...store.metrics.keys()]
    .filter((mid) => store.metrics.get(mid)!.dims.size > 1 && isFloat32Metric(store.metrics.get(mid)!.metric))
    .sort((a, b) => {
      const sa = store.metrics.get(a)!.split === 'eval' ? 0 : 1;
      const sb = store.metrics.get(b)!.split === 'eval' ? 0 : 1;
      return sa - sb || compareMetricIds(store, a, b);
    });
}

/** The user's pick if it still exists, else eval NDCG@10, else the first candidate; null = no chart. */
export function currentMrlMetric(store: MetricsStore, state: Pick<UiState, 'mrlMetric'>): string | null {
  const c = mrlCandidates(store);
  if (state.mrlMetric && c.includes(state.mrlMetric)) return state.mrlMetric;
  return c.find((m) => m === 'eval/ndcg@10') ?? c[0] ?? null;
}

/** Steps at which the shown runs have the MRL metric (union, sorted); cached until a series grows. */
export class MrlSteps {
  private cache: { key: string; steps: number[] } = { key: '', steps: [] };

  get(m: ViewModel): number[] {
    const { store } = m;
    const mid = currentMrlMetric(store, m.state);
    if (!mid) return [];
    const metric = store.metrics.get(mid)!;
    const cols: { step: Float64Array; n: number }[] = [];
    let key = mid;
    for (const r of shownRuns(m)) {
      for (const d of metric.dims) {
        const s = store.series(r.id, metric.split, metric.metric, d);
        if (!s) continue;
        cols.push({ step: s.step, n: s.n });
        key += `|${r.id}:${s.generation}:${s.n}`;
        break; // every dim is evaluated at the same steps; one is enough
      }
    }
    if (key === this.cache.key) return this.cache.steps;
    let steps: number[];
    if (cols.length === 1) steps = Array.from(cols[0].step.subarray(0, cols[0].n));
    else {
      const set = new Set<number>();
      for (const c of cols) for (let i = 0; i < c.n; i++) set.add(c.step[i]);
      steps = [...set].sort((a, b) => a - b);
    }
    this.cache = { key, steps };
    return steps;
  }
}

export interface MrlStepPick {
  /** Slider position (-1 when there are no steps). */
  index: number;
  /** Following the latest step. */
  follow: boolean;
  /** The step handed to the chart: Infinity = the latest each run has. */
  step: number;
  /** What the slider's output says. */
  label: string;
}

/** Where the step slider stands for the chosen step (null = follow the latest): the last step ≤ it. */
export function pickMrlStep(steps: readonly number[], chosen: number | null): MrlStepPick {
  const follow = chosen === null;
  let index = steps.length - 1;
  if (!follow) {
    index = 0;
    for (let i = 0; i < steps.length; i++) if (steps[i] <= chosen) index = i;
  }
  const step = follow ? Infinity : (steps[index] ?? Infinity);
  const label = steps.length ? `${steps[index]}${follow ? ' (latest)' : ''}` : '—';
  return { index, follow, step, label };
}

/** The chosen step for slider position i: the last position means "follow the latest" (null). */
export function mrlStepAtSlider(steps: readonly number[], i: number): number | null {
  return i >= steps.length - 1 ? null : (steps[i] ?? null);
}

/**
 * The advisor's target percentage: `model.settings.advisorPercent` (the `matryoshkaLab.advisorPercent`
 * setting the host sends in `init` / `settings`) when it is a usable number, else the default (95).
 * Read defensively: a model without settings (an older host, a test) gets the default.
 */
export function advisorPercent(m: object): number {
  const p = (m as { settings?: { advisorPercent?: unknown } | null }).settings?.advisorPercent;
  return typeof p === 'number' && p > 0 && p <= 100 ? p : DEFAULT_ADVISOR_PERCENT;
}

/** Runs named one by one in the advisor text (as many as the legend names); the rest are counted. */
export const ADVICE_RUNS_MAX = RUN_LEGEND_MAX;

/** What the advisor text says of one funnel: "funnel 16→64: 97 % of full at the cost of dim 21". */
export function describeFunnel(a: DimAdvice): string | null {
  const f = a.funnel;
  if (!f) return null;
  const dims = f.shortlistDim !== undefined && f.rerankDim !== undefined ? ` ${f.shortlistDim}→${f.rerankDim}` : '';
  const verdict = f.reachesTarget ? `reaches ${a.percent} %` : `below ${a.percent} %`;
  // Never rounded onto the target it is compared with (0.9464 is "94.6 %", below 95 %).
  const pct = percentBeside(f.ratio, a.percent, f.reachesTarget);
  return `funnel${dims}: ${pct} % of full at the cost of dim ${Math.round(f.equivalentDim)} (${verdict})`;
}

/**
 * The text lines under the metric-vs-dim chart. One run: describeAdvice, then its funnel. Several:
 * compareAdvice ("A reaches 95 % at dim 16, B needs 32", the first ADVICE_RUNS_MAX runs, "+ N more"),
 * then each named run's funnel. No run: nothing.
 */
export function advisorLines(runs: readonly { name: string; step: number; advice: DimAdvice | null }[]): string[] {
  if (!runs.length) return [];
  if (runs.length === 1) {
    const r = runs[0];
    if (!r.advice) return [`${r.name}: no advice at step ${r.step} (the metric needs a positive value at two dims or more)`];
    const f = describeFunnel(r.advice);
    return [`${r.name} ${describeAdvice(r.advice)} (step ${r.step})`, ...(f ? [f] : [])];
  }
  const named = runs.slice(0, ADVICE_RUNS_MAX);
  const more = runs.length - named.length;
  const lines = [compareAdvice(named.map((r) => ({ name: r.name, advice: r.advice }))) + (more > 0 ? `, + ${more} more runs` : '')];
  for (const r of named) {
    const f = r.advice && describeFunnel(r.advice);
    if (f) lines.push(`${r.name} ${f}`);
  }
  return lines;
}

/** Where a run's funnel dims come from: values `funnel:shortlistDim`/`funnel:rerankDim`, else the config. */
export function funnelDims(rec: Record<string, number>, config: Record<string, unknown> | null | undefined): [number, number] | null {
  let s = rec.shortlistDim;
  let r = rec.rerankDim;
  const f = (config?.evaluation as { funnel?: { shortlistDim?: unknown; rerankDim?: unknown } } | undefined)?.funnel;
  if (!Number.isFinite(s) && typeof f?.shortlistDim === 'number') s = f.shortlistDim;
  if (!Number.isFinite(r) && typeof f?.rerankDim === 'number') r = f.rerankDim;
  return Number.isFinite(s) && Number.isFinite(r) && s > 0 && r > 0 ? [s, r] : null;
}

/** The funnel record of the latest eval step ≤ `step`. */
export function latestFunnelAtOrBefore(m: Map<number, Record<string, number>>, step: number): Record<string, number> | undefined {
  let best = -Infinity;
  let rec: Record<string, number> | undefined;
  for (const [s, r] of m)
    if (s <= step && s > best) {
      best = s;
      rec = r;
    }
  return rec;
}

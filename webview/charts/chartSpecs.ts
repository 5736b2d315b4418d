/**
 * What the time-series charts show, as data: one spec per chart (its id, title, curves and legend), from
 * the store, the UI state and the run list. Pure (no DOM, no Chart.js): the chart grid turns the specs
 * into TimeCharts and compares them to decide what to redraw.
 *
 * One run shown: "Chart per metric" (`m:<metricId>`): one line per dim (coloured by dim) plus the
 * dimension-less total. "Chart per dim" (`d:<dim>`, `d:none`): one line per metric. More than one run: an
 * overlay, colour = run (overlaySpecs.ts). Both show one precision (`state.precision`, float32 by default;
 * webview/app/precision.ts).
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import type { PanelTheme } from './chartSetup';
import { dimColor, hexOf, metricColor, RUN_DASHES, RUN_MARKERS } from './colors';
import { allDimsSorted, compareMetricIds, isPlottedMetric, prettyMetric, shownRuns, type ViewModel } from '../app/model';
import { overlaySpecs } from './overlaySpecs';
import { currentPrecision, metricIdsAt } from '../app/precision';
import type { MetricsStore } from '../app/store';
import type { Curve, LegendEntry } from './timeChart';

export interface ChartSpec {
  id: string;
  title: string;
  curves: Curve[];
  legend: LegendEntry[];
}

/** Theme colours the specs use (hexOf: a non-hex colour is normalised through a canvas, in the browser). */
export type SpecTheme = Pick<PanelTheme, 'kind' | 'fg' | 'muted'>;

/** Whether the charts are an overlay (more than one run shown): colour = run, the dims a choice. */
export function isOverlay(m: Pick<ViewModel, 'state' | 'runs'>): boolean {
  return shownRuns(m).length > 1;
}

export function buildSpecs(m: ViewModel, theme: SpecTheme): ChartSpec[] {
  const { store, state } = m;
  const shown = shownRuns(m).filter((r) => store.runs.has(r.id));
  // One precision at a time (webview/app/precision.ts): float32 unless the toolbar's Precision says otherwise.
  const plotted = [...store.metrics.keys()].filter((mid) => isPlottedMetric(store, mid));
  const metricIds = metricIdsAt(store, plotted, currentPrecision(store, state.precision)).sort((a, b) => compareMetricIds(store, a, b));
  if (isOverlay(m)) return overlaySpecs({ m, shown, metricIds, theme, keptBest: keptBestStep });
  const dims = allDimsSorted(store);
  const hidden = new Set(state.hiddenDims);
  const ctx: SpecContext = { store, shown, dims, hidden, metricIds, theme };
  return state.viewMode === 'metric' ? perMetricSpecs(ctx) : perDimSpecs(ctx);
}

export { RUN_LEGEND_MAX } from './overlaySpecs';

interface SpecContext {
  store: MetricsStore;
  shown: PanelRun[];
  dims: number[];
  hidden: Set<number>;
  metricIds: string[];
  theme: SpecTheme;
}

/** One run: a solid line, the first marker. */
const SOLO = { dash: RUN_DASHES[0], marker: RUN_MARKERS[0] };

function perMetricSpecs({ store, shown, dims, hidden, metricIds, theme }: SpecContext): ChartSpec[] {
  const specs: ChartSpec[] = [];
  const { dash, marker } = SOLO;
  const totalColor = hexOf(theme.muted);
  for (const mid of metricIds) {
    const m = store.metrics.get(mid)!;
    const curves: Curve[] = [];
    const presentDims = new Set<number>();
    let hasTotal = false;
    shown.forEach((r) => {
      for (const d of [...m.dims].sort((a, b) => a - b)) {
        const s = store.series(r.id, m.split, m.metric, d);
        if (!s) continue;
        presentDims.add(d);
        if (hidden.has(d)) continue;
        curves.push({
          id: `${r.id}|${d}`,
          series: s,
          runId: r.id,
          dim: d,
          label: `dim ${d}`,
          color: dimColor(d, dims, theme.kind),
          dash,
          marker,
          legendKey: `dim:${d}`,
          keptBestStep: keptBestStep(r, m.split, m.metric, d),
        });
      }
      const t = store.series(r.id, m.split, m.metric, null);
      if (t) {
        hasTotal = true;
        curves.push({
          id: `${r.id}|all`,
          series: t,
          runId: r.id,
          dim: null,
          label: m.dims.size ? 'all dims' : m.metric,
          color: m.dims.size ? totalColor : hexOf(theme.fg),
          dash,
          marker,
          legendKey: 'total',
        });
      }
    });
    if (!presentDims.size && !hasTotal) continue;
    const legend: LegendEntry[] = [...presentDims]
      .sort((a, b) => a - b)
      .map((d) => ({ key: `dim:${d}`, text: `dim ${d}`, color: dimColor(d, dims, theme.kind), hidden: hidden.has(d) }));
    if (hasTotal && presentDims.size) legend.push({ key: 'total', text: 'all dims', color: totalColor, hidden: false });
    specs.push({ id: `m:${mid}`, title: prettyMetric(m.split, m.metric), curves, legend });
  }
  return specs;
}

function perDimSpecs({ store, shown, dims, hidden, metricIds }: SpecContext): ChartSpec[] {
  const specs: ChartSpec[] = [];
  const { dash, marker } = SOLO;
  const withDim = metricIds.filter((mid) => store.metrics.get(mid)!.dims.size > 0);
  const dimless = metricIds.filter((mid) => store.metrics.get(mid)!.dimless);
  const perDim = dims
    .filter((d) => !hidden.has(d))
    .map((d) => ({ id: `d:${d}`, title: `dim ${d}`, dim: d as number | null, mids: withDim }));
  if (dimless.length) perDim.push({ id: 'd:none', title: 'all dims / dimension-less', dim: null, mids: dimless });
  for (const spec of perDim) {
    const curves: Curve[] = [];
    const present = new Set<string>();
    shown.forEach((r) => {
      spec.mids.forEach((mid) => {
        const m = store.metrics.get(mid)!;
        const s = store.series(r.id, m.split, m.metric, spec.dim);
        if (!s) return;
        present.add(mid);
        curves.push({
          id: `${r.id}|${mid}`,
          series: s,
          runId: r.id,
          dim: spec.dim,
          label: prettyMetric(m.split, m.metric),
          color: metricColor(metricIds.indexOf(mid)),
          dash,
          marker,
          legendKey: `metric:${mid}`,
          keptBestStep: keptBestStep(r, m.split, m.metric, spec.dim),
        });
      });
    });
    if (!curves.length) continue;
    const legend = [...present].map((mid) => {
      const m = store.metrics.get(mid)!;
      return { key: `metric:${mid}`, text: prettyMetric(m.split, m.metric), color: metricColor(metricIds.indexOf(mid)), hidden: false };
    });
    specs.push({ id: spec.id, title: spec.title, curves, legend });
  }
  return specs;
}

/**
 * training.keepBest: the step of the best checkpoint kept for this curve — the run's eval curve of the
 * kept metric at a listed dim (run.json bestCheckpoints) — else undefined.
 */
export function keptBestStep(run: PanelRun, split: string, metric: string, dim: number | null): number | undefined {
  if (split !== 'eval' || dim === null) return undefined;
  const b = run.bestCheckpoints?.[String(dim)];
  return b && b.metric === metric ? b.step : undefined;
}

/** What decides whether a chart's curves must be handed over again (vs. refreshed in place). */
export function specSignature(spec: ChartSpec): string {
  return JSON.stringify([spec.curves.map((cv) => [cv.id, cv.series.uid, cv.color, cv.dash, cv.label, cv.keptBestStep]), spec.legend]);
}

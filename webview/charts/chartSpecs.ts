/**
 * What the time-series charts show, as data: one spec per chart (its id, title, curves and legend), from
 * the store, the UI state and the run list. Pure (no DOM, no Chart.js): the chart grid turns the specs
 * into TimeCharts and compares them to decide what to redraw.
 *
 * "Chart per metric" (`m:<metricId>`): one line per dim (coloured by dim) plus the dimension-less total,
 * for every shown run (dash/marker by run). "Chart per dim" (`d:<dim>`, `d:none`): one line per metric.
 * Both show one precision (`state.precision`, float32 by default; webview/app/precision.ts).
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import type { PanelTheme } from './chartSetup';
import { dimColor, hexOf, metricColor, RUN_DASHES, RUN_MARKERS } from './colors';
import { allDimsSorted, compareMetricIds, isPlottedMetric, prettyMetric, runLabel, shownRuns, type ViewModel } from '../app/model';
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

export function buildSpecs(m: ViewModel, theme: SpecTheme): ChartSpec[] {
  const { store, state } = m;
  const shown = shownRuns(m).filter((r) => store.runs.has(r.id));
  const dims = allDimsSorted(store);
  const hidden = new Set(state.hiddenDims);
  const runLegend = runLegendEntries(shown, hexOf(theme.fg));
  // One precision at a time (webview/app/precision.ts): float32 unless the toolbar's Precision says otherwise.
  const plotted = [...store.metrics.keys()].filter((mid) => isPlottedMetric(store, mid));
  const metricIds = metricIdsAt(store, plotted, currentPrecision(store, state.precision)).sort((a, b) => compareMetricIds(store, a, b));
  const ctx: SpecContext = { store, shown, dims, hidden, metricIds, theme, runLegend };
  return state.viewMode === 'metric' ? perMetricSpecs(ctx) : perDimSpecs(ctx);
}

/** Run entries a chart's legend lists at most; the rest are one "+ N more runs" entry. Chart.js draws a
 *  legend inside the chart's fixed-height box: 500 run entries would leave no room for the plot. */
export const RUN_LEGEND_MAX = 8;

/** The run part of a chart legend: one entry (display name, dash) per shown run, bounded. */
export function runLegendEntries(shown: readonly PanelRun[], color: string): LegendEntry[] {
  if (shown.length < 2) return [];
  const dashOf = (i: number) => (RUN_DASHES[i % RUN_DASHES.length].length ? RUN_DASHES[i % RUN_DASHES.length] : [1, 0]);
  const out: LegendEntry[] = shown
    .slice(0, RUN_LEGEND_MAX)
    .map((r, i) => ({ key: `run:${r.id}`, text: runLabel(r), color, dash: dashOf(i), hidden: false }));
  const more = shown.length - RUN_LEGEND_MAX;
  if (more > 0) out.push({ key: 'more', text: `+ ${more} more runs`, color, hidden: false });
  return out;
}

interface SpecContext {
  store: MetricsStore;
  shown: PanelRun[];
  dims: number[];
  hidden: Set<number>;
  metricIds: string[];
  theme: SpecTheme;
  runLegend: LegendEntry[];
}

/** Dash, marker and label prefix of the i-th shown run. */
function runStyle(r: PanelRun, i: number, multi: boolean): { dash: number[]; marker: string; prefix: string } {
  return { dash: RUN_DASHES[i % RUN_DASHES.length], marker: RUN_MARKERS[i % RUN_MARKERS.length], prefix: multi ? `${runLabel(r)} · ` : '' };
}

function perMetricSpecs({ store, shown, dims, hidden, metricIds, theme, runLegend }: SpecContext): ChartSpec[] {
  const specs: ChartSpec[] = [];
  const multi = shown.length > 1;
  const totalColor = hexOf(theme.muted);
  for (const mid of metricIds) {
    const m = store.metrics.get(mid)!;
    const curves: Curve[] = [];
    const presentDims = new Set<number>();
    let hasTotal = false;
    shown.forEach((r, i) => {
      const { dash, marker, prefix } = runStyle(r, i, multi);
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
          label: `${prefix}dim ${d}`,
          color: dimColor(d, dims, theme.kind),
          dash,
          marker,
          legendKey: `dim:${d}`,
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
          label: `${prefix}${m.dims.size ? 'all dims' : m.metric}`,
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
    specs.push({ id: `m:${mid}`, title: prettyMetric(m.split, m.metric), curves, legend: [...legend, ...runLegend] });
  }
  return specs;
}

function perDimSpecs({ store, shown, dims, hidden, metricIds, runLegend }: SpecContext): ChartSpec[] {
  const specs: ChartSpec[] = [];
  const multi = shown.length > 1;
  const withDim = metricIds.filter((mid) => store.metrics.get(mid)!.dims.size > 0);
  const dimless = metricIds.filter((mid) => store.metrics.get(mid)!.dimless);
  const perDim = dims
    .filter((d) => !hidden.has(d))
    .map((d) => ({ id: `d:${d}`, title: `dim ${d}`, dim: d as number | null, mids: withDim }));
  if (dimless.length) perDim.push({ id: 'd:none', title: 'all dims / dimension-less', dim: null, mids: dimless });
  for (const spec of perDim) {
    const curves: Curve[] = [];
    const present = new Set<string>();
    shown.forEach((r, i) => {
      const { dash, marker, prefix } = runStyle(r, i, multi);
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
          label: `${prefix}${prettyMetric(m.split, m.metric)}`,
          color: metricColor(metricIds.indexOf(mid)),
          dash,
          marker,
          legendKey: `metric:${mid}`,
        });
      });
    });
    if (!curves.length) continue;
    const legend = [...present].map((mid) => {
      const m = store.metrics.get(mid)!;
      return { key: `metric:${mid}`, text: prettyMetric(m.split, m.metric), color: metricColor(metricIds.indexOf(mid)), hidden: false };
    });
    specs.push({ id: spec.id, title: spec.title, curves, legend: [...legend, ...runLegend] });
  }
  return specs;
}

/** What decides whether a chart's curves must be handed over again (vs. refreshed in place). */
export function specSignature(spec: ChartSpec): string {
  return JSON.stringify([spec.curves.map((cv) => [cv.id, cv.series.uid, cv.color, cv.dash, cv.label]), spec.legend]);
}

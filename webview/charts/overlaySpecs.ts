/**
 * What the time-series charts show when more than one run is shown (an overlay): colour = run, never dim.
 * Each run has its own colour (runPalette.ts, kept while others come and go), so fifty runs are fifty
 * colours, and the shared run legend (runLegend.ts) names them all and highlights one.
 *
 * "Chart per metric": the dims are a choice, not colours — one dim plotted (`state.overlayDim`, picked in the
 * dims bar; the largest by default), one curve per run. A metric that also has a dimension-less total
 * (the train loss over every dim) gets a second chart for it (`m:<metricId>|all`); a metric without dims
 * (gradNorm, lr) is one curve per run. "Chart per dim" stays small multiples, one chart per dim: colour is
 * the run and the dash tells the metrics apart (named in the chart's legend).
 * Pure (no DOM, no Chart.js), like chartSpecs.ts, which calls it.
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import { allDimsSorted, prettyMetric, runLabel, type ViewModel } from '../app/model';
import type { MetricsStore } from '../app/store';
import type { ChartSpec, SpecTheme } from './chartSpecs';
import { hexOf, RUN_DASHES, RUN_MARKERS, type ThemeKind } from './colors';
import { assignColorSlots, PALETTE_SIZE, runColorMap } from './runPalette';
import type { Curve, LegendEntry } from './timeChart';

/** Each shown run's colour (slots as the frame stores them: assignColorSlots is pure and repeatable). */
export function shownRunColors(m: Pick<ViewModel, 'state'>, shown: readonly PanelRun[], kind: ThemeKind): Map<string, string> {
  const ids = shown.map((r) => r.id);
  return runColorMap(assignColorSlots(m.state.runColors, ids), ids, kind);
}

/** Each shown run's colour slot (past PALETTE_SIZE colours come round again: those runs also get a dash). */
function slotsOf(m: Pick<ViewModel, 'state'>, shown: readonly PanelRun[]): Record<string, number> {
  return assignColorSlots(
    m.state.runColors,
    shown.map((r) => r.id),
  );
}

/** Runs a chart's own legend names at most: an overlay of more is named by the run legend above the charts
 *  alone (and the metric-vs-dim and frontier cards' advice text names this many, then "+ N more runs"). */
export const RUN_LEGEND_MAX = 8;

/** A chart's own run entries (for a PNG that says which line is which): up to RUN_LEGEND_MAX runs, else none. */
function runEntries(shown: readonly PanelRun[], colors: ReadonlyMap<string, string>): LegendEntry[] {
  if (shown.length > RUN_LEGEND_MAX) return [];
  return shown.map((r) => ({ key: `run:${r.id}`, text: runLabel(r), color: colors.get(r.id) ?? 'gray', hidden: false }));
}

/**
 * How each shown run looks on the charts: in an overlay its colour, and a dash for runs past the palette's
 * PALETTE_SIZE colours (whose colours come round again); one run, a plain line in the curves' own colours.
 */
export function runLooks(
  m: Pick<ViewModel, 'state'>,
  shown: readonly PanelRun[],
  kind: ThemeKind,
): Map<string, { color?: string; dash: number[] }> {
  if (shown.length < 2) return new Map(shown.map((r) => [r.id, { dash: RUN_DASHES[0] }]));
  const colors = shownRunColors(m, shown, kind);
  const slots = slotsOf(m, shown);
  return new Map(
    shown.map((r) => [
      r.id,
      { color: colors.get(r.id), dash: RUN_DASHES[Math.floor((slots[r.id] ?? 0) / PALETTE_SIZE) % RUN_DASHES.length] },
    ]),
  );
}

/** The dim an overlay plots: the one picked if some run has it, else the largest. */
export function overlayDim(store: MetricsStore, picked: number | null): number | null {
  const dims = allDimsSorted(store);
  if (picked !== null && dims.includes(picked)) return picked;
  return dims.length ? dims[dims.length - 1] : null;
}

export interface OverlayContext {
  m: ViewModel;
  shown: PanelRun[];
  metricIds: string[];
  theme: SpecTheme;
  keptBest: (run: PanelRun, split: string, metric: string, dim: number | null) => number | undefined;
}

export function overlaySpecs(ctx: OverlayContext): ChartSpec[] {
  return ctx.m.state.viewMode === 'metric' ? perMetric(ctx) : perDim(ctx);
}

function perMetric({ m, shown, metricIds, theme, keptBest }: OverlayContext): ChartSpec[] {
  const { store } = m;
  const colors = shownRunColors(m, shown, theme.kind);
  const slots = slotsOf(m, shown);
  const dim = overlayDim(store, m.state.overlayDim);
  const legend = runEntries(shown, colors);
  const specs: ChartSpec[] = [];
  const curveOf = (r: PanelRun, split: 'train' | 'eval', metric: string, d: number | null, suffix: string): Curve | null => {
    const s = store.series(r.id, split, metric, d);
    if (!s) return null;
    const round = Math.floor((slots[r.id] ?? 0) / PALETTE_SIZE);
    return {
      id: `${r.id}|${suffix}`,
      series: s,
      runId: r.id,
      dim: d,
      label: runLabel(r),
      color: colors.get(r.id) ?? hexOf(theme.fg),
      dash: RUN_DASHES[round % RUN_DASHES.length],
      marker: RUN_MARKERS[0],
      legendKey: `run:${r.id}`,
      keptBestStep: keptBest(r, split, metric, d),
    };
  };
  for (const mid of metricIds) {
    const mm = store.metrics.get(mid)!;
    const title = prettyMetric(mm.split, mm.metric);
    if (mm.dims.size && dim !== null) {
      const curves = shown.map((r) => curveOf(r, mm.split, mm.metric, dim, String(dim))).filter((c): c is Curve => c !== null);
      if (curves.length) specs.push({ id: `m:${mid}`, title: `${title} · dim ${dim}`, curves, legend });
    }
    if (mm.dimless) {
      const curves = shown.map((r) => curveOf(r, mm.split, mm.metric, null, 'all')).filter((c): c is Curve => c !== null);
      if (curves.length)
        specs.push({
          id: mm.dims.size ? `m:${mid}|all` : `m:${mid}`,
          title: mm.dims.size ? `${title} · all dims` : title,
          curves,
          legend,
        });
    }
  }
  return specs;
}

/** Dashes of the metrics in a per-dim overlay chart (a solid line for the first). */
const METRIC_DASHES = RUN_DASHES;

function perDim({ m, shown, metricIds, theme, keptBest }: OverlayContext): ChartSpec[] {
  const { store, state } = m;
  const colors = shownRunColors(m, shown, theme.kind);
  const fg = hexOf(theme.fg);
  const hidden = new Set(state.hiddenDims);
  const withDim = metricIds.filter((mid) => store.metrics.get(mid)!.dims.size > 0);
  const dimless = metricIds.filter((mid) => store.metrics.get(mid)!.dimless);
  const charts = allDimsSorted(store)
    .filter((d) => !hidden.has(d))
    .map((d) => ({ id: `d:${d}`, title: `dim ${d}`, dim: d as number | null, mids: withDim }));
  if (dimless.length) charts.push({ id: 'd:none', title: 'all dims / dimension-less', dim: null, mids: dimless });
  const specs: ChartSpec[] = [];
  for (const chart of charts) {
    const curves: Curve[] = [];
    const present = new Set<string>();
    for (const r of shown) {
      chart.mids.forEach((mid, k) => {
        const mm = store.metrics.get(mid)!;
        const s = store.series(r.id, mm.split, mm.metric, chart.dim);
        if (!s) return;
        present.add(mid);
        curves.push({
          id: `${r.id}|${mid}`,
          series: s,
          runId: r.id,
          dim: chart.dim,
          label: `${runLabel(r)} · ${prettyMetric(mm.split, mm.metric)}`,
          color: colors.get(r.id) ?? fg,
          dash: METRIC_DASHES[k % METRIC_DASHES.length],
          marker: RUN_MARKERS[k % RUN_MARKERS.length],
          legendKey: `metric:${mid}`,
          keptBestStep: keptBest(r, mm.split, mm.metric, chart.dim),
        });
      });
    }
    if (!curves.length) continue;
    const legend: LegendEntry[] = chart.mids
      .map((mid, k) => ({ mid, k }))
      .filter(({ mid }) => present.has(mid))
      .map(({ mid, k }) => {
        const mm = store.metrics.get(mid)!;
        const dash = METRIC_DASHES[k % METRIC_DASHES.length];
        // a solid line still shows as a line in the legend
        return {
          key: `metric:${mid}`,
          text: prettyMetric(mm.split, mm.metric),
          color: fg,
          dash: dash.length ? dash : [1, 0],
          hidden: false,
        };
      });
    specs.push({ id: chart.id, title: chart.title, curves, legend: [...legend, ...runEntries(shown, colors)] });
  }
  return specs;
}

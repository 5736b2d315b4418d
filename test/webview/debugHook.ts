/**
 * `window.__mrlPanel`: a read-only view of the panel for the browser tests and the panel bench (state,
 * stats, what each chart holds, the MRL curve, the diff rows, the CSV a chart would export) plus settle()
 * and onDrawn() to wait for frames. Frozen, and it hands out copies. Test-only: installed by
 * panelWithHook.ts, never part of the shipped bundle (dist/webview.js).
 */
import type { PanelParts } from '../../webview/app/panel';
import { xColumn } from '../../webview/charts/axes';
import type { TimeChart } from '../../webview/charts/timeChart';
import { diffRowsAsText } from '../../webview/diff/diffTable';
import { repeatBandsOf } from '../../webview/charts/repeatBands';
import { formatCell } from '../../webview/runsTable/cellFormat';

/** Each dataset handed to Chart.js: its label, role (raw / smoothed / line), curve, points, and the style it
 *  is drawn with now (the curve's colour, or faint while another run is highlighted; width; drawing order). */
function datasetInfos(c: TimeChart): {
  label: string;
  role: string;
  runId: string;
  dim: number | null;
  points: number;
  color: string;
  dash: number[];
  borderColor: string;
  borderWidth: number;
  order: number;
  minY: number;
  maxY: number;
}[] {
  return c.datasets.map((d) => ({
    label: String(d.label),
    role: d._info!.role,
    runId: d._info!.curve.runId,
    dim: d._info!.curve.dim,
    points: d.data.length,
    color: d._info!.curve.color,
    dash: d._info!.curve.dash,
    borderColor: String(d.borderColor),
    borderWidth: Number(d.borderWidth),
    order: d.order ?? 0,
    minY: d.data.reduce((m, p) => Math.min(m, p.y ?? Infinity), Infinity),
    maxY: d.data.reduce((m, p) => Math.max(m, p.y ?? -Infinity), -Infinity),
  }));
}

/** The x axis' tick labels as drawn (tests: integer steps only). */
function xTickLabels(c: TimeChart): string[] {
  return (c.created?.scales.x?.ticks ?? []).map((t) => String(t.label ?? ''));
}

function legendTexts(c: TimeChart): string[] {
  return (c.created?.legend?.legendItems ?? []).map((i) => i.text);
}

export function installDebugHook(src: PanelParts): void {
  const { state, grid, mrl, scheduler } = src;
  const debug = {
    state: () => structuredClone(state),
    stats: () => ({ ...src.counters, ...scheduler.stats, chartPasses: grid.stats.passes, chartPassTimes: [...grid.stats.passTimes] }),
    runs: () => src.runs().map((r) => ({ id: r.id, name: r.name, status: r.status, error: r.error })),
    theme: () => ({ ...src.theme() }),
    chartIds: () => [...grid.charts.keys()],
    /** The Chart.js instance behind a chart (read it, do not mutate it); none before its first draw. */
    chartInstance: (id: string) =>
      id === 'mrl' ? mrl.chart?.chart : id === 'frontier' ? src.frontier.chart?.chart : grid.get(id)?.created,
    chart: (id: string) => {
      const c = grid.get(id);
      if (!c) return null;
      const sc = c.created?.scales ?? {};
      return {
        id,
        title: c.card.querySelector('h3')?.textContent ?? '',
        /** False while changes wait for the chart to come near the viewport. */
        drawn: !c.dirty,
        draws: c.draws,
        legend: legendTexts(c),
        xTicks: xTickLabels(c),
        datasets: datasetInfos(c),
        rawPoints: c.lastRawPoints,
        drawnPoints: c.lastDrawnPoints,
        best: c.bestPoints(),
        kept: c.keptBestPoints(),
        zoom: c.getZoom(),
        x: { min: sc.x?.min, max: sc.x?.max, type: sc.x?.type },
        y: { min: sc.y?.min, max: sc.y?.max, type: sc.y?.type },
        seriesLength: c
          .getCurves()
          .map((cv) => ({ runId: cv.runId, dim: cv.dim, n: cv.series.n, firstX: cv.series.n ? xColumn(cv.series, state.xAxis)[0] : null })),
      };
    },
    mrl: () => {
      const ch = mrl.chart;
      if (!ch || !mrl.shown) return null;
      return {
        points: ch.points.map((p) => ({ ...p })),
        funnel: ch.funnel.map((f) => ({ ...f })),
        steps: Object.fromEntries(ch.shownSteps),
        datasets: ch.chart.data.datasets.map((d) => ({
          label: String(d.label),
          points: d.data.length,
          runId: (d as { _runId?: string })._runId,
          borderColor: String(d.borderColor),
          borderWidth: Number(d.borderWidth),
        })),
        metric: src.mrlMetric(),
        advice: ch.advice.map((a) => ({
          runId: a.runId,
          name: a.name,
          step: a.step,
          advice: a.advice ? { ...a.advice, funnel: a.advice.funnel ? { ...a.advice.funnel } : null } : null,
        })),
        advisorMarks: ch.advisorMarks.map((k) => ({ ...k })),
        adviceText: [...mrl.adviceLines],
        legend: (ch.chart.legend?.legendItems ?? []).map((i) => i.text),
        availableSteps: src.mrlSteps(),
      };
    },
    /** The frontier card: per run its advice (chosen point, Pareto front, every point), funnel, rings, text. */
    frontier: () => {
      const f = src.frontier;
      const ch = f.chart;
      if (!ch || !f.shown) return null;
      const pt = (p: {
        dim: number;
        precision: string;
        rescore: boolean;
        key: string;
        value: number;
        ratio: number;
        bytesPerVector: number;
      }) => ({
        dim: p.dim,
        precision: p.precision,
        rescore: p.rescore,
        key: p.key,
        value: p.value,
        ratio: p.ratio,
        bytesPerVector: p.bytesPerVector,
      });
      return {
        metric: ch.metric,
        percent: ch.percent,
        runs: ch.runs.map((r) => ({
          runId: r.runId,
          name: r.name,
          step: r.step,
          point: r.advice ? pt(r.advice.point) : null,
          front: r.advice ? r.advice.front.map(pt) : [],
          points: r.advice ? r.advice.points.map(pt) : [],
          fullDim: r.advice?.fullDim ?? null,
          funnel: r.funnel ? { ...r.funnel } : null,
        })),
        marks: ch.marks.map((k) => ({ ...k })),
        thresholdPx: ch.thresholdPx,
        text: [...f.adviceLines],
        datasets: ch.chart.data.datasets.map((d) => ({
          label: String(d.label),
          points: d.data.length,
          kind: (d as any)._kind,
          variant: (d as any)._variant,
        })),
        legend: (ch.chart.legend?.legendItems ?? []).map((i) => i.text),
      };
    },
    /** The run legend of an overlay: the runs it lists (and those its search leaves), pins, highlight. */
    runLegend: () => ({ ...src.legend.state, shown: !src.legend.section.hidden, highlighted: [...src.legend.highlighted] }),
    diffRows: () => diffRowsAsText(src.diffRows()),
    csv: (id: string) => {
      const c = grid.get(id);
      return c ? src.csv(c) : null;
    },
    settings: () => ({ ...src.settings() }),
    /** The runs table as last drawn: columns, rows (cells as shown), groups, selection, filter error. */
    table: () => {
      const v = src.table.view;
      if (!v) return null;
      const now = Date.now();
      return {
        columns: v.columns.map((c) => ({ key: c.key, label: c.label, group: c.group })),
        allColumnKeys: v.allColumns.map((c) => c.key),
        rows: v.rows.map((r) => ({
          id: r.run.id,
          cells: Object.fromEntries(v.columns.map((c) => [c.key, c.cellText?.(r, now) ?? formatCell(c, c.value(r, now))])),
        })),
        groups: v.items.filter((i) => i.kind === 'group').map((i) => (i.kind === 'group' ? { sweepId: i.sweepId, count: i.count } : null)),
        selected: src.table.selectedIds(),
        focus: src.table.sel.focus,
        filterError: v.filterError,
        total: v.total,
        lastRenderMs: src.table.lastRenderMs,
        lastBuildMs: src.table.lastBuildMs,
      };
    },
    tableCsv: () => src.table.csv(),
    /** The sweep shape as last drawn: axes, where they are on the canvas, the lines, brushes, the scatter. */
    sweepShape: () => {
      const s = src.shape;
      const m = s.model;
      if (!m) return null;
      const canvas = s.pc.canvas.getBoundingClientRect();
      return {
        open: s.section.open,
        source: (document.getElementById('shapeSource') as HTMLSelectElement).value,
        metric: (document.getElementById('shapeMetric') as HTMLSelectElement).value,
        param: (document.getElementById('shapeParam') as HTMLSelectElement).value,
        axes: m.axes.map((a) => ({
          key: a.key,
          label: a.label,
          scale: a.scale,
          metric: a.metric,
          categories: [...a.categories],
          ticks: a.ticks.map((t) => ({ ...t })),
        })),
        lines: m.lines.map((l) => ({ runId: l.runId, pos: [...l.pos], metric: l.metric })),
        /** Page coordinates of each axis and of its ends (top: position 1, bottom: position 0). */
        layout: (() => {
          const l = s.pc.layout();
          return { axisX: l.axisX.map((x) => canvas.left + x), top: canvas.top + l.top, bottom: canvas.top + l.bottom };
        })(),
        drawn: s.pc.drawn.map((d) => ({ ...d })),
        brushes: Object.fromEntries([...s.pc.brushes].map(([k, r]) => [k, [...r]])),
        brushed: s.brushedIds ? [...s.brushedIds] : null,
        status: s.status.textContent,
        lastRenderMs: s.lastRenderMs,
        scatter: {
          points: s.scatter.points.map((p) => ({ runId: p.runId, x: p.x, y: p.y, inside: p.inside })),
          xType: s.scatter.chart.scales.x?.type,
        },
      };
    },
    /** The repeat bands a time chart drew last: per band its members and points. */
    repeatBands: (id: string) =>
      repeatBandsOf(grid.get(id)?.created).map((b) => ({
        key: b.key,
        label: b.label,
        color: b.color,
        runIds: [...b.runIds],
        points: b.points.map((p) => ({ ...p })),
      })),
    /** Resolves after the next frame's draw (everything received so far is on screen). */
    settle: () => scheduler.settle(),
    onDrawn: (cb: (info: { messageToDrawnMs: number; flushMs: number }) => void) => scheduler.onDrawn(cb),
  };
  Object.defineProperty(window, '__mrlPanel', { value: Object.freeze(debug), writable: false, configurable: false });
}

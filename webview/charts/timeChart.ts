/**
 * One metric-over-time chart (Chart.js line chart) fed from Series columns: decimated over the visible x
 * range — one run: LTTB to about one point per pixel; an overlay of several runs: min/max per bucket
 * (downsample.ts), fewer points per series as runs are added — smoothed curve on top of the faint raw curve,
 * the best value of each curve ringed. The datasets and their highlight are timeDatasets.ts, zoom and pan
 * zoomPan.ts, the options timeChartOptions.ts, the rings, kept-best marks and zoom box overlayPlugin.ts.
 * The Chart instance lives as long as the chart's curves keep their identity; new points only replace
 * dataset arrays and call update('none') (no re-creation, no animation).
 */
import type { ScatterDataPoint } from 'chart.js';
import { xColumn, type XAxisMode } from './axes';
import { Chart, type PanelTheme } from './chartSetup';
import { minMaxDownsample, overlayPointBudget } from './downsample';
import { lttb, visibleRange } from './lttb';
import { overlayPlugin } from './overlayPlugin';
import { repeatBandsPlugin } from './repeatBands';
import { curveSmoothing } from './smoothingRule';
import { applyHighlight, buildDatasets, type TimeDataset } from './timeDatasets';
import { timeChartOptions } from './timeChartOptions';
import { ZoomPan } from './zoomPan';
import type { Series } from '../app/store';

export { RAW_UNDERLAY_MAX_RUNS, type DatasetInfo, type TimeDataset } from './timeDatasets';

export interface Curve {
  id: string;
  series: Series;
  runId: string;
  dim: number | null;
  label: string;
  color: string;
  dash: number[];
  marker: string;
  /** Curves sharing a legend key share one legend entry (a dim, or a metric in the per-dim view). */
  legendKey: string;
  /** training.keepBest: the step whose checkpoint is kept as this curve's best (marked), if any. */
  keptBestStep?: number;
}

export interface LegendEntry {
  key: string;
  text: string;
  color: string;
  dash?: number[];
  hidden: boolean;
}

export interface ViewOpts {
  smoothing: number;
  logY: boolean;
  xAxis: XAxisMode;
  theme: PanelTheme;
}

export class TimeChart {
  readonly id: string;
  readonly card: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly heading: HTMLHeadingElement;
  title = '';
  /** Created at the first draw: a chart that never comes near the viewport costs no Chart.js instance. */
  private instance: Chart<'line', ScatterDataPoint[]> | null = null;
  private ds: TimeDataset[] = [];
  private curves: Curve[] = [];
  private legend: LegendEntry[] = [];
  /** Runs among the curves: more than one is an overlay (min/max decimation, nearest-point tooltips). */
  private runCount = 0;
  /** Highlighted run ids (the run legend): their lines wide and on top, the others faint. */
  private highlight: ReadonlySet<string> = new Set();
  private view: ViewOpts;
  private readonly zoom: ZoomPan;
  /** A refresh requested for the next animation frame (resize, pan). */
  private pendingFrame = 0;
  /** Total raw points (full resolution) of the curves shown, and points actually handed to Chart.js. */
  lastRawPoints = 0;
  lastDrawnPoints = 0;
  lastRefreshMs = 0;
  /** Passes that reached Chart.js (decimation + update). */
  draws = 0;
  /** Data or view changed while the chart was out of view: it is drawn when it comes near the viewport. */
  dirty = false;
  /** Whether a refresh may draw now (the chart grid: in or near the viewport); drawNow() ignores it. */
  drawable: () => boolean = () => true;

  constructor(
    parent: HTMLElement,
    id: string,
    title: string,
    view: ViewOpts,
    private readonly cb: {
      onLegendClick: (key: string) => void;
      onExportPng: (chart: TimeChart) => void;
      onExportCsv: (chart: TimeChart) => void;
    },
  ) {
    this.id = id;
    this.view = view;
    this.card = document.createElement('section');
    this.card.className = 'chart-card';
    this.card.dataset.chartId = id;
    const head = document.createElement('header');
    head.className = 'chart-head';
    const h = document.createElement('h3');
    this.heading = h;
    head.append(
      h,
      this.button('Reset zoom', '⟲', 'reset', () => this.resetZoom()),
      this.button('Export PNG', 'PNG', 'png', () => this.cb.onExportPng(this)),
      this.button('Export CSV (full resolution)', 'CSV', 'csv', () => this.cb.onExportCsv(this)),
    );
    const box = document.createElement('div');
    box.className = 'chart-box';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    box.append(canvas);
    this.card.append(head, box);
    parent.append(this.card);

    this.canvas = canvas;
    this.setTitle(title);
    this.zoom = new ZoomPan(canvas, this.card, {
      chart: () => this.chart,
      refresh: (nextFrame) => (nextFrame ? this.refreshNextFrame() : this.refresh()),
    });
  }

  /** The card's title (an overlay's names the dim plotted, which the dims bar changes). */
  setTitle(title: string): void {
    this.title = title;
    this.heading.textContent = title;
    this.heading.title = title;
    this.canvas.setAttribute('aria-label', `${title} over time`);
  }

  /** The Chart.js instance (created, and drawn with the current datasets, on first use). */
  get chart(): Chart<'line', ScatterDataPoint[]> {
    if (!this.instance) {
      this.instance = new Chart<'line', ScatterDataPoint[]>(this.canvas, {
        type: 'line',
        data: { datasets: this.ds },
        options: this.options(),
        plugins: [
          overlayPlugin({
            best: () => this.bestPoints(),
            kept: () => this.keptBestPoints(),
            selectionBox: () => this.zoom.selectionBox(),
            theme: () => this.view.theme,
          }),
          repeatBandsPlugin(
            () => this.curves,
            () => this.view,
          ),
        ],
      });
    }
    return this.instance;
  }

  /** The instance if one was created (reading it does not create one). */
  get created(): Chart<'line', ScatterDataPoint[]> | null {
    return this.instance;
  }

  /** The datasets handed to Chart.js, with the curve each draws (read them, do not change them). */
  get datasets(): readonly TimeDataset[] {
    return this.ds;
  }

  private button(title: string, text: string, role: string, onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = 'icon-btn';
    b.type = 'button';
    b.title = title;
    b.setAttribute('aria-label', title);
    b.dataset.action = role;
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  private options(): any {
    return timeChartOptions(this.view, this.zoom.window, this.runCount > 1, {
      legend: () => this.legend,
      onLegendClick: (key) => this.cb.onLegendClick(key),
      // decimation targets ~1 point per pixel: a new width needs a new pass (next frame, not inside resize)
      onResize: () => this.refreshNextFrame(),
    });
  }

  private refreshNextFrame(): void {
    if (!this.pendingFrame)
      this.pendingFrame = requestAnimationFrame(() => {
        this.pendingFrame = 0;
        this.refresh();
      });
  }

  /** Each visible curve's best raw value (min for losses, max otherwise) in current axis units. */
  bestPoints(): { curveId: string; x: number; y: number; step: number; color: string }[] {
    const out: { curveId: string; x: number; y: number; step: number; color: string }[] = [];
    const zoom = this.zoom.window;
    for (const c of this.curves) {
      const s = c.series;
      if (s.best < 0 || s.best >= s.n) continue;
      if (this.highlight.size && !this.highlight.has(c.runId)) continue; // rings of faint lines would not be faint
      const xs = xColumn(s, this.view.xAxis);
      if (zoom && (xs[s.best] < zoom.min || xs[s.best] > zoom.max)) continue;
      out.push({ curveId: c.id, x: xs[s.best], y: s.y[s.best], step: s.step[s.best], color: c.color });
    }
    return out;
  }

  /** The points whose checkpoint training.keepBest kept (Curve.keptBestStep), in current axis units. */
  keptBestPoints(): { curveId: string; x: number; y: number; step: number; color: string }[] {
    const out: { curveId: string; x: number; y: number; step: number; color: string }[] = [];
    const zoom = this.zoom.window;
    for (const c of this.curves) {
      if (c.keptBestStep === undefined) continue;
      const s = c.series;
      // The last point at that step: after the resume rule a step appears once; before a replay ends, the latest wins.
      let i = s.n - 1;
      while (i >= 0 && s.step[i] !== c.keptBestStep) i--;
      if (i < 0 || !Number.isFinite(s.y[i])) continue;
      const xs = xColumn(s, this.view.xAxis);
      if (zoom && (xs[i] < zoom.min || xs[i] > zoom.max)) continue;
      out.push({ curveId: c.id, x: xs[i], y: s.y[i], step: c.keptBestStep, color: c.color });
    }
    return out;
  }

  setZoom(min: number, max: number, throttle = false): void {
    this.zoom.set(min, max, throttle);
  }

  resetZoom(): void {
    this.zoom.reset();
  }

  getZoom(): { min: number; max: number } | null {
    const w = this.zoom.window;
    return w ? { ...w } : null;
  }

  setView(view: ViewOpts): void {
    const axisChanged = view.xAxis !== this.view.xAxis;
    this.view = view;
    if (axisChanged) this.zoom.clear();
    if (this.instance) this.instance.options = this.options();
    this.rebuildDatasets();
  }

  setCurves(curves: Curve[], legend: LegendEntry[]): void {
    this.curves = curves;
    this.legend = legend;
    const runs = new Set(curves.map((c) => c.runId)).size;
    const modeChanged = runs > 1 !== this.runCount > 1;
    this.runCount = runs;
    // one run ↔ an overlay: the tooltip's interaction changes (options read runCount)
    if (this.instance && modeChanged) this.instance.options = this.options();
    if (this.instance) (this.instance.options.plugins as any).legend.display = legend.length > 0;
    this.rebuildDatasets();
  }

  /** Highlight these runs (empty: none): restyled in place, the decimated points kept. */
  setHighlight(runIds: ReadonlySet<string>): void {
    const same = runIds.size === this.highlight.size && [...runIds].every((id) => this.highlight.has(id));
    if (same) return;
    this.highlight = new Set(runIds);
    applyHighlight(this.ds, this.highlight);
    this.refresh();
  }

  getCurves(): readonly Curve[] {
    return this.curves;
  }

  private rebuildDatasets(): void {
    const ds = buildDatasets(this.curves, this.view.smoothing, this.view.theme.kind.startsWith('high-contrast'), this.highlight);
    this.ds = ds;
    if (this.instance) this.instance.data.datasets = ds;
    this.refresh();
  }

  /**
   * Redraw from the columns. Zoomed: decimated over the visible window (one run: LTTB; an overlay: min/max
   * per bucket, overlayPointBudget points per series at most). Full range while a run streams: the
   * decimated curve from the last full pass is kept and the few new raw points are appended to it; a
   * full LTTB pass runs again once the appended tail reaches a quarter of the target, and such passes
   * share a per-frame time budget (a pass that does not fit waits for a later frame, its curve still
   * growing by appends), so no frame pays for 8 dims × 2 curves × 100k points at once.
   */
  refresh(budgetMs = 5): void {
    if (!this.drawable()) {
      this.dirty = true;
      return;
    }
    this.drawNow(budgetMs);
  }

  /** Draw if a change is pending (export, or the chart came into view). */
  flush(): void {
    if (this.dirty) this.drawNow();
  }

  private drawNow(budgetMs = 5): void {
    this.dirty = false;
    this.draws++;
    const t0 = performance.now();
    const mode = this.view.xAxis;
    // Before the instance exists: the box's width less the y axis' (a first guess; a resize decimates anew).
    const area = this.instance?.chartArea;
    const width = Math.max(200, area ? area.right - area.left : this.canvas.parentElement!.clientWidth - 70);
    const overlay = this.runCount > 1;
    const method = overlay ? 'minmax' : 'lttb';
    const fullTarget = overlay ? overlayPointBudget(width, this.runCount) : Math.round(width);
    const zoom = this.zoom.window;
    let raw = 0;
    let drawn = 0;
    for (const d of this.ds) {
      const info = d._info!;
      const s = info.curve.series;
      const xs = xColumn(s, mode);
      const smoothing = info.role === 'smoothed' ? curveSmoothing(s.key, this.view.smoothing) : 0;
      // the faint raw curve under a smoothed one needs less detail (LTTB keeps its spikes either way)
      const target = info.role === 'raw' ? Math.round(fullTarget / 2) : fullTarget;
      const ys = smoothing > 0 ? s.smoothed(smoothing) : s.y;
      const c = d._dec;
      const valid =
        !zoom &&
        c !== undefined &&
        c.gen === s.generation &&
        c.target === target &&
        c.smoothing === smoothing &&
        c.axis === mode &&
        c.method === method &&
        c.n <= s.n &&
        !c.zoomed;
      if (valid && c.n === s.n) {
        // unchanged
      } else if (valid && (s.n - c.n + c.appended <= target / 4 || performance.now() - t0 > budgetMs)) {
        for (let i = c.n; i < s.n; i++) if (Number.isFinite(ys[i])) d.data.push({ x: xs[i], y: ys[i] });
        c.appended += s.n - c.n;
        c.n = s.n;
      } else {
        const [lo, hi] = zoom ? visibleRange(xs, s.n, zoom.min, zoom.max) : [0, s.n];
        d.data = overlay ? minMaxDownsample(xs, ys, lo, hi, target) : lttb(xs, ys, lo, hi, target);
        d._dec = { gen: s.generation, n: s.n, target, smoothing, axis: mode, appended: 0, zoomed: !!zoom, method };
      }
      if (info.role !== 'raw') raw += zoom ? visibleRange(xs, s.n, zoom.min, zoom.max).reduce((a, b) => b - a) : s.n;
      drawn += d.data.length;
    }
    if (this.instance) {
      const xo = (this.instance.options.scales as any).x;
      xo.min = zoom?.min;
      xo.max = zoom?.max;
      this.instance.update('none');
    } else {
      void this.chart; // created with the datasets and options just computed: drawn once, by its constructor
    }
    this.lastRawPoints = raw;
    this.lastDrawnPoints = drawn;
    this.lastRefreshMs = performance.now() - t0;
  }

  destroy(): void {
    if (this.pendingFrame) cancelAnimationFrame(this.pendingFrame);
    this.instance?.destroy();
    this.card.remove();
  }
}

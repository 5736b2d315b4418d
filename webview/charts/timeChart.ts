/**
 * One metric-over-time chart (Chart.js line chart) fed from Series columns: LTTB-decimated to about one
 * point per pixel of the visible x range, smoothed curve on top of the faint raw curve, the best value of
 * each curve ringed (more than RAW_UNDERLAY_MAX_RUNS runs: the smoothed curves only), x zoom (drag a box, Ctrl/Alt+wheel), pan (Shift+drag) and reset (double-click).
 * The Chart instance lives as long as the chart's curves keep their identity; new points only replace
 * dataset arrays and call update('none') (no re-creation, no animation).
 */
import type { ChartDataset, Plugin, ScatterDataPoint, LegendItem } from 'chart.js';
import { Chart, type PanelTheme } from './chartSetup';
import { lttb, visibleRange } from './lttb';
import type { Series } from '../app/store';
import { withAlpha } from './colors';
import { curveSmoothing } from './smoothingRule';

export type XAxisMode = 'step' | 'relative' | 'wall';

/** Runs shown up to which a smoothed curve keeps its faint raw curve underneath. */
export const RAW_UNDERLAY_MAX_RUNS = 8;

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
}

export interface LegendEntry { key: string; text: string; color: string; dash?: number[]; hidden: boolean }

export interface ViewOpts { smoothing: number; logY: boolean; xAxis: XAxisMode; theme: PanelTheme }

export interface DatasetInfo { curve: Curve; role: 'raw' | 'smoothed' | 'line' }

/** Decimation cache of one dataset: what its `data` was computed from. */
interface DecCache { gen: number; n: number; target: number; smoothing: number; axis: XAxisMode; appended: number; zoomed: boolean }
type DS = ChartDataset<'line', ScatterDataPoint[]> & { _info?: DatasetInfo; _dec?: DecCache };

export function xColumn(s: Series, mode: XAxisMode): Float64Array {
  if (mode === 'step') return s.step;
  if (mode === 'wall' && s.n > 0 && Number.isFinite(s.wall[0])) return s.wall;
  return s.time;
}

export function formatDuration(sec: number): string {
  const s = Math.abs(sec);
  const sign = sec < 0 ? '-' : '';
  if (s < 60) return `${sign}${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = Math.round(s % 60);
  return h > 0 ? `${sign}${h}h${String(m).padStart(2, '0')}m` : `${sign}${m}m${String(r).padStart(2, '0')}s`;
}

function formatWall(ms: number, span: number): string {
  const d = new Date(ms);
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (span > 86400e3) return `${d.getMonth() + 1}/${d.getDate()} ${hhmm}`;
  return span < 600e3 ? `${hhmm}:${String(d.getSeconds()).padStart(2, '0')}` : hhmm;
}

export function formatStep(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

/** Whole-number ticks only (for a step axis), at most one per integer. */
export function integerTicks<T extends { value: number }>(ticks: readonly T[]): T[] {
  const seen = new Set<number>();
  return ticks.filter((t) => Number.isInteger(t.value) && !seen.has(t.value) && seen.add(t.value));
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(+v.toPrecision(4));
}

export function formatX(v: number, mode: XAxisMode, span: number): string {
  return mode === 'step' ? formatStep(v) : mode === 'relative' ? formatDuration(v) : formatWall(v, span);
}

interface DragState { mode: 'box' | 'pan'; startPx: number; curPx: number; startMin: number; startMax: number }

export class TimeChart {
  readonly id: string;
  readonly card: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  /** Created at the first draw: a chart that never comes near the viewport costs no Chart.js instance. */
  private instance: Chart<'line', ScatterDataPoint[]> | null = null;
  private datasets: DS[] = [];
  private curves: Curve[] = [];
  private legend: LegendEntry[] = [];
  private view: ViewOpts;
  /** x zoom window in current axis units; null = everything. */
  private zoom: { min: number; max: number } | null = null;
  private drag: DragState | null = null;
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
    h.textContent = title;
    h.title = title;
    head.append(h, this.button('Reset zoom', '⟲', 'reset', () => this.resetZoom()),
      this.button('Export PNG', 'PNG', 'png', () => this.cb.onExportPng(this)),
      this.button('Export CSV (full resolution)', 'CSV', 'csv', () => this.cb.onExportCsv(this)));
    const box = document.createElement('div');
    box.className = 'chart-box';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title} over time`);
    box.append(canvas);
    this.card.append(head, box);
    parent.append(this.card);

    this.canvas = canvas;
    this.attachZoom(canvas);
  }

  /** The Chart.js instance (created, and drawn with the current datasets, on first use). */
  get chart(): Chart<'line', ScatterDataPoint[]> {
    if (!this.instance) {
      this.instance = new Chart<'line', ScatterDataPoint[]>(this.canvas, {
        type: 'line',
        data: { datasets: this.datasets },
        options: this.options(),
        plugins: [this.overlayPlugin()],
      });
    }
    return this.instance;
  }

  /** The instance if one was created (reading it does not create one). */
  get created(): Chart<'line', ScatterDataPoint[]> | null {
    return this.instance;
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
    const t = this.view.theme;
    const mode = this.view.xAxis;
    return {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      // decimation targets ~1 point per pixel: a new width needs a new pass (next frame, not inside resize)
      onResize: () => {
        if (!this.pendingPan) this.pendingPan = requestAnimationFrame(() => {
          this.pendingPan = 0;
          this.refresh();
        });
      },
      spanGaps: true,
      events: ['mousemove', 'mouseout', 'click'],
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 4, hoverRadius: 3 }, line: { tension: 0, borderJoinStyle: 'round' } },
      layout: { padding: { top: 4, right: 10 } },
      scales: {
        x: {
          type: 'linear',
          min: this.zoom?.min,
          max: this.zoom?.max,
          grid: { color: t.grid },
          border: { color: t.border },
          ticks: {
            color: t.muted,
            maxRotation: 0,
            autoSkipPadding: 12,
            // Steps are whole numbers: a step size below 1 (a short run) must not give ticks 1, 1.5, 2
            // labelled "1 2 2" (precision 0 rounds the step size up to 1).
            precision: mode === 'step' ? 0 : undefined,
            callback(this: any, v: number | string) {
              return formatX(Number(v), mode, (this.max ?? 0) - (this.min ?? 0));
            },
          },
          // A zoom window's fractional bounds are ticks too (Chart.js includes the bounds): on the step axis
          // keep whole steps only.
          afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
            if (mode === 'step') sc.ticks = integerTicks(sc.ticks);
          },
          title: { display: true, text: mode === 'step' ? 'step' : mode === 'relative' ? 'time since start' : 'wall time', color: t.muted },
        },
        y: {
          type: this.view.logY ? 'logarithmic' : 'linear',
          // A flat curve (a constant, or an EMA of one with float noise) would get a 1e-16-tall axis
          // with every tick labelled the same: give it a visible band around the value instead.
          afterDataLimits: (sc: { min: number; max: number }) => {
            if (!Number.isFinite(sc.min) || !Number.isFinite(sc.max)) return;
            const mag = Math.max(Math.abs(sc.min), Math.abs(sc.max));
            if (sc.max - sc.min <= 1e-9 * Math.max(mag, 1e-12)) {
              const pad = mag > 0 ? mag * 0.05 : 1;
              sc.min -= this.view.logY ? Math.min(pad, sc.min / 2) : pad;
              sc.max += pad;
            }
          },
          grid: { color: t.grid },
          border: { color: t.border },
          ticks: { color: t.muted, callback: (v: number | string) => formatValue(Number(v)) },
        },
      },
      plugins: {
        legend: {
          display: true,
          position: 'bottom',
          labels: {
            color: t.fg,
            boxWidth: 18,
            boxHeight: 2,
            padding: 8,
            generateLabels: (): LegendItem[] =>
              this.legend.map((e, i) => ({
                text: e.text,
                fillStyle: e.dash ? 'transparent' : e.color,
                strokeStyle: e.color,
                lineWidth: e.dash ? 2 : 0,
                lineDash: e.dash,
                hidden: e.hidden,
                fontColor: e.hidden ? t.muted : t.fg,
                datasetIndex: i,
              })),
          },
          onClick: (_e: unknown, item: LegendItem) => {
            const e = this.legend[item.datasetIndex ?? -1];
            if (e) this.cb.onLegendClick(e.key);
          },
        },
        tooltip: {
          filter: (item: any) => (item.dataset as DS)._info?.role !== 'raw',
          itemSort: (a: any, b: any) => b.parsed.y - a.parsed.y,
          callbacks: {
            title: (items: any[]) => (items.length ? formatX(items[0].parsed.x, mode, 1e9) : ''),
            label: (item: any) => `${(item.dataset as DS)._info?.curve.label ?? item.dataset.label}: ${formatValue(item.parsed.y)}`,
          },
        },
      },
    };
  }

  /** Best-value rings and the zoom selection box, drawn after the lines. */
  private overlayPlugin(): Plugin<'line'> {
    return {
      id: 'mrlOverlay',
      afterDatasetsDraw: (chart) => {
        const ctx = chart.ctx;
        const xs = chart.scales.x;
        const ys = chart.scales.y;
        const area = chart.chartArea;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        for (const b of this.bestPoints()) {
          const px = xs.getPixelForValue(b.x);
          const py = ys.getPixelForValue(b.y);
          if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
          ctx.beginPath();
          ctx.arc(px, py, 4.5, 0, Math.PI * 2);
          ctx.fillStyle = this.view.theme.bg;
          ctx.fill();
          ctx.lineWidth = 2;
          ctx.strokeStyle = b.color;
          ctx.stroke();
        }
        if (this.drag?.mode === 'box') {
          const x0 = Math.min(this.drag.startPx, this.drag.curPx);
          const x1 = Math.max(this.drag.startPx, this.drag.curPx);
          ctx.fillStyle = withAlpha('#808080', 0.18);
          ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
          ctx.strokeStyle = this.view.theme.accent;
          ctx.lineWidth = 1;
          ctx.strokeRect(x0 + 0.5, area.top + 0.5, x1 - x0, area.bottom - area.top - 1);
        }
        ctx.restore();
      },
    };
  }

  /** Each visible curve's best raw value (min for losses, max otherwise) in current axis units. */
  bestPoints(): { curveId: string; x: number; y: number; step: number; color: string }[] {
    const out: { curveId: string; x: number; y: number; step: number; color: string }[] = [];
    for (const c of this.curves) {
      const s = c.series;
      if (s.best < 0 || s.best >= s.n) continue;
      const xs = xColumn(s, this.view.xAxis);
      if (this.zoom && (xs[s.best] < this.zoom.min || xs[s.best] > this.zoom.max)) continue;
      out.push({ curveId: c.id, x: xs[s.best], y: s.y[s.best], step: s.step[s.best], color: c.color });
    }
    return out;
  }

  private attachZoom(canvas: HTMLCanvasElement): void {
    const inArea = (px: number, py: number) => {
      const a = this.chart.chartArea;
      return a && px >= a.left && px <= a.right && py >= a.top && py <= a.bottom;
    };
    const local = (e: MouseEvent) => {
      const r = canvas.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top] as const;
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      const [px, py] = local(e);
      if (!inArea(px, py)) return;
      const sc = this.chart.scales.x;
      this.drag = { mode: e.shiftKey ? 'pan' : 'box', startPx: px, curPx: px, startMin: sc.min, startMax: sc.max };
      canvas.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    canvas.addEventListener('pointermove', (e) => {
      const d = this.drag;
      if (!d) return;
      const [px] = local(e);
      d.curPx = px;
      if (d.mode === 'pan') {
        const a = this.chart.chartArea;
        const perPx = (d.startMax - d.startMin) / Math.max(1, a.right - a.left);
        const shift = (d.startPx - px) * perPx;
        this.setZoom(d.startMin + shift, d.startMax + shift, true);
      } else {
        this.chart.draw();
      }
    });
    const end = (e: PointerEvent) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      if (d.mode === 'box' && Math.abs(d.curPx - d.startPx) > 4) {
        const sc = this.chart.scales.x;
        const a = sc.getValueForPixel(Math.min(d.startPx, d.curPx)) ?? sc.min;
        const b = sc.getValueForPixel(Math.max(d.startPx, d.curPx)) ?? sc.max;
        this.setZoom(a, b);
      } else {
        this.chart.draw();
      }
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener(
      'wheel',
      (e) => {
        if (!(e.ctrlKey || e.altKey || e.metaKey)) return; // plain wheel scrolls the panel
        const [px, py] = local(e);
        if (!inArea(px, py)) return;
        e.preventDefault();
        const sc = this.chart.scales.x;
        const at = sc.getValueForPixel(px) ?? (sc.min + sc.max) / 2;
        const f = e.deltaY > 0 ? 1.25 : 0.8;
        this.setZoom(at - (at - sc.min) * f, at + (sc.max - at) * f);
      },
      { passive: false },
    );
    canvas.addEventListener('dblclick', () => this.resetZoom());
  }

  private pendingPan = 0;
  setZoom(min: number, max: number, throttle = false): void {
    if (!(max > min)) return;
    this.zoom = { min, max };
    this.card.classList.add('zoomed');
    if (throttle) {
      if (!this.pendingPan) this.pendingPan = requestAnimationFrame(() => {
        this.pendingPan = 0;
        this.refresh();
      });
    } else this.refresh();
  }

  resetZoom(): void {
    this.zoom = null;
    this.card.classList.remove('zoomed');
    this.refresh();
  }

  getZoom(): { min: number; max: number } | null {
    return this.zoom ? { ...this.zoom } : null;
  }

  setView(view: ViewOpts): void {
    const axisChanged = view.xAxis !== this.view.xAxis;
    this.view = view;
    if (axisChanged) {
      this.zoom = null;
      this.card.classList.remove('zoomed');
    }
    if (this.instance) this.instance.options = this.options();
    this.rebuildDatasets();
  }

  setCurves(curves: Curve[], legend: LegendEntry[]): void {
    this.curves = curves;
    this.legend = legend;
    this.rebuildDatasets();
  }

  getCurves(): readonly Curve[] {
    return this.curves;
  }

  private rebuildDatasets(): void {
    const hc = this.view.theme.kind.startsWith('high-contrast');
    const ds: DS[] = [];
    // Many runs overlaid: the smoothed curves only. Fifty faint raw curves under fifty smoothed ones read
    // as noise, and each is a Chart.js dataset (its options resolved, its points laid out, every pass).
    const underlay = new Set(this.curves.map((c) => c.runId)).size <= RAW_UNDERLAY_MAX_RUNS;
    for (const c of this.curves) {
      // Per curve: eval curves are drawn raw whatever the slider (smoothingRule.ts).
      const smooth = curveSmoothing(c.series.key, this.view.smoothing) > 0;
      const base = {
        data: [] as ScatterDataPoint[],
        borderDash: c.dash,
        pointStyle: c.marker as any,
        fill: false,
        spanGaps: true,
      };
      if (smooth) {
        if (underlay) ds.push({ ...base, label: `${c.label} (raw)`, borderColor: withAlpha(c.color, hc ? 0.45 : 0.28), borderWidth: 1, _info: { curve: c, role: 'raw' } });
        ds.push({ ...base, label: c.label, borderColor: c.color, backgroundColor: c.color, borderWidth: hc ? 2.5 : 1.75, _info: { curve: c, role: 'smoothed' } });
      } else {
        ds.push({ ...base, label: c.label, borderColor: c.color, backgroundColor: c.color, borderWidth: hc ? 2.5 : 1.5, _info: { curve: c, role: 'line' } });
      }
    }
    this.datasets = ds;
    if (this.instance) this.instance.data.datasets = ds;
    this.refresh();
  }

  /**
   * Redraw from the columns. Zoomed: LTTB over the visible window. Full range while a run streams: the
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
    const fullTarget = Math.round(width);
    const zoom = this.zoom;
    let raw = 0;
    let drawn = 0;
    for (const d of this.datasets) {
      const info = d._info!;
      const s = info.curve.series;
      const xs = xColumn(s, mode);
      const smoothing = info.role === 'smoothed' ? curveSmoothing(s.key, this.view.smoothing) : 0;
      // the faint raw curve under a smoothed one needs less detail (LTTB keeps its spikes either way)
      const target = info.role === 'raw' ? Math.round(fullTarget / 2) : fullTarget;
      const ys = smoothing > 0 ? s.smoothed(smoothing) : s.y;
      const c = d._dec;
      const valid =
        !zoom && c !== undefined && c.gen === s.generation && c.target === target && c.smoothing === smoothing && c.axis === mode && c.n <= s.n && !c.zoomed;
      if (valid && c.n === s.n) {
        // unchanged
      } else if (valid && (s.n - c.n + c.appended <= target / 4 || performance.now() - t0 > budgetMs)) {
        for (let i = c.n; i < s.n; i++) if (Number.isFinite(ys[i])) d.data.push({ x: xs[i], y: ys[i] });
        c.appended += s.n - c.n;
        c.n = s.n;
      } else {
        const [lo, hi] = zoom ? visibleRange(xs, s.n, zoom.min, zoom.max) : [0, s.n];
        d.data = lttb(xs, ys, lo, hi, target);
        d._dec = { gen: s.generation, n: s.n, target, smoothing, axis: mode, appended: 0, zoomed: !!zoom };
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

  datasetInfos(): { label: string; role: string; runId: string; dim: number | null; points: number; color: string; dash: number[] }[] {
    return this.datasets.map((d) => ({
      label: String(d.label),
      role: d._info!.role,
      runId: d._info!.curve.runId,
      dim: d._info!.curve.dim,
      points: d.data.length,
      color: d._info!.curve.color,
      dash: d._info!.curve.dash,
    }));
  }

  /** The x axis' tick labels as drawn (tests: integer steps only). */
  xTickLabels(): string[] {
    return (this.instance?.scales.x?.ticks ?? []).map((t) => String(t.label ?? ''));
  }

  legendTexts(): string[] {
    return (this.instance?.legend?.legendItems ?? []).map((i) => i.text);
  }

  destroy(): void {
    if (this.pendingPan) cancelAnimationFrame(this.pendingPan);
    this.instance?.destroy();
    this.card.remove();
  }
}

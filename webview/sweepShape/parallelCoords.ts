/**
 * The parallel-coordinates plot of a sweep's shape (shapeData.ts), drawn by hand on a canvas: one vertical
 * axis per parameter and the metric last, each run a polyline across them coloured by its metric (runs
 * outside the brushes in faint grey underneath). Dragging along an axis brushes a range on it; a click on
 * an axis clears its brush. What was drawn is kept (`drawn`) for the browser tests.
 */
import type { PanelTheme } from '../charts/chartSetup';
import { withAlpha, hexOf } from '../charts/colors';
import { insideBrushes, metricColour, type ShapeModel } from './shapeData';

/** How close (px) to an axis a press starts a brush on it. */
const GRAB_PX = 16;
const PAD = { top: 34, bottom: 18, left: 28, right: 70 };

export interface PcLayout {
  axisX: number[];
  top: number;
  bottom: number;
}

export interface DrawnLine {
  runId: string;
  inside: boolean;
  /** Vertices drawn (one per axis the run has a value on). */
  points: number;
  colour: string;
}

export class ParallelCoords {
  private model: ShapeModel | null = null;
  readonly brushes = new Map<string, [number, number]>();
  private drag: { axis: number; y0: number; y1: number } | null = null;
  private theme: PanelTheme;
  /** The lines of the last draw (tests). */
  drawn: DrawnLine[] = [];

  constructor(
    readonly canvas: HTMLCanvasElement,
    theme: PanelTheme,
    /** The brushes changed (a drag ended, or a click cleared one). */
    private readonly brushed: () => void,
  ) {
    this.theme = theme;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', () => {
      this.drag = null;
      this.draw();
    });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setTheme(t: PanelTheme): void {
    this.theme = t;
    this.draw();
  }

  /** New axes and lines; brushes on axes that are gone are dropped. */
  update(model: ShapeModel): void {
    this.model = model;
    for (const k of [...this.brushes.keys()]) if (!model.axes.some((a) => a.key === k)) this.brushes.delete(k);
    this.draw();
  }

  clearBrushes(): void {
    this.brushes.clear();
    this.draw();
  }

  /** Where the axes are, in CSS pixels of the canvas. */
  layout(): PcLayout {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const n = this.model?.axes.length ?? 0;
    const span = w - PAD.left - PAD.right;
    const axisX = Array.from({ length: n }, (_, i) => PAD.left + (n <= 1 ? span / 2 : (i * span) / (n - 1)));
    return { axisX, top: PAD.top, bottom: h - PAD.bottom };
  }

  /** Pixel y of a position (0 bottom .. 1 top) and back. */
  yOf(pos: number, l = this.layout()): number {
    return l.bottom - pos * (l.bottom - l.top);
  }
  private posOf(y: number, l: PcLayout): number {
    return Math.min(1, Math.max(0, (l.bottom - y) / (l.bottom - l.top)));
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private axisAt(x: number, l: PcLayout): number {
    let best = -1;
    l.axisX.forEach((ax, i) => {
      if (Math.abs(ax - x) <= GRAB_PX && (best < 0 || Math.abs(ax - x) < Math.abs(l.axisX[best] - x))) best = i;
    });
    return best;
  }

  private down(e: PointerEvent): void {
    const l = this.layout();
    const p = this.point(e);
    const axis = this.axisAt(p.x, l);
    if (axis < 0 || e.button !== 0) return;
    this.drag = { axis, y0: p.y, y1: p.y };
    this.canvas.setPointerCapture?.(e.pointerId);
    e.preventDefault();
  }

  private move(e: PointerEvent): void {
    const p = this.point(e);
    if (!this.drag) {
      this.canvas.style.cursor = this.axisAt(p.x, this.layout()) >= 0 ? 'ns-resize' : 'default';
      return;
    }
    this.drag.y1 = p.y;
    this.draw();
  }

  private up(e: PointerEvent): void {
    const d = this.drag;
    if (!d || !this.model) return;
    this.drag = null;
    d.y1 = this.point(e).y;
    const l = this.layout();
    const key = this.model.axes[d.axis].key;
    if (Math.abs(d.y1 - d.y0) < 3) this.brushes.delete(key);
    else this.brushes.set(key, [this.posOf(Math.max(d.y0, d.y1), l), this.posOf(Math.min(d.y0, d.y1), l)]);
    this.draw();
    this.brushed();
  }

  /** Size the backing store to the box and draw everything. */
  draw(): void {
    const c = this.canvas;
    const ctx = c.getContext('2d');
    const m = this.model;
    if (!ctx || !m) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (w === 0 || h === 0) return; // a hidden tab: drawn when it shows (the observer fires)
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const t = this.theme;
    const l = this.layout();
    const inside = new Set(insideBrushes(m, this.brushes).map((x) => x.runId));
    // Outside the brushes first and faint; inside on top, the best metric last (drawn over the others).
    const order = [...m.lines].sort((a, b) => {
      const ia = inside.has(a.runId) ? 1 : 0;
      const ib = inside.has(b.runId) ? 1 : 0;
      const better = (x: number | null) => (x === null ? -Infinity : m.lowerIsBetter ? -x : x);
      return ia - ib || better(a.metric) - better(b.metric);
    });
    this.drawn = [];
    ctx.lineJoin = 'round';
    for (const line of order) {
      const isIn = inside.has(line.runId);
      const colour = isIn ? metricColour(line.metric, m.metricRange, m.lowerIsBetter) : withAlpha(hexOf(t.muted), 0.25);
      ctx.strokeStyle = isIn ? withAlpha(colour, 0.9) : colour;
      ctx.lineWidth = isIn ? 1.75 : 1;
      ctx.beginPath();
      let points = 0;
      let open = false;
      line.pos.forEach((p, i) => {
        if (p === null) {
          open = false;
          return;
        }
        const x = l.axisX[i];
        const y = this.yOf(p, l);
        if (open) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        open = true;
        points++;
      });
      ctx.stroke();
      this.drawn.push({ runId: line.runId, inside: isIn, points, colour });
    }
    this.drawAxes(ctx, l);
  }

  private drawAxes(ctx: CanvasRenderingContext2D, l: PcLayout): void {
    const m = this.model!;
    const t = this.theme;
    const font = `${Math.max(10, t.fontSize - 2)}px ${t.fontFamily}`;
    const gap = l.axisX.length > 1 ? l.axisX[1] - l.axisX[0] : 200;
    m.axes.forEach((a, i) => {
      const x = l.axisX[i];
      const brush = this.brushes.get(a.key);
      const live = this.drag?.axis === i ? this.drag : null;
      if (brush || live) {
        const y0 = live ? Math.min(live.y0, live.y1) : this.yOf(brush![1], l);
        const y1 = live ? Math.max(live.y0, live.y1) : this.yOf(brush![0], l);
        ctx.fillStyle = withAlpha(hexOf(t.accent), 0.22);
        ctx.fillRect(x - 8, y0, 16, y1 - y0);
        ctx.strokeStyle = t.accent;
        ctx.lineWidth = 1;
        ctx.strokeRect(x - 8 + 0.5, y0 + 0.5, 15, y1 - y0);
      }
      ctx.strokeStyle = a.metric ? t.fg : t.border;
      ctx.lineWidth = a.metric ? 2 : 1.25;
      ctx.beginPath();
      ctx.moveTo(x, l.top);
      ctx.lineTo(x, l.bottom);
      ctx.stroke();
      ctx.font = font;
      ctx.fillStyle = t.muted;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      for (const tk of a.ticks) {
        const y = this.yOf(tk.pos, l);
        ctx.beginPath();
        ctx.moveTo(x - 3, y);
        ctx.lineTo(x + 3, y);
        ctx.stroke();
        ctx.fillText(fit(ctx, tk.label, Math.min(gap - 14, 120)), x + 7, y);
      }
      ctx.fillStyle = t.fg;
      ctx.textAlign = i === 0 ? 'left' : i === m.axes.length - 1 ? 'right' : 'center';
      ctx.textBaseline = 'alphabetic';
      const label = a.scale === 'log' ? `${a.label} (log)` : a.label;
      const lx = i === 0 ? x - 6 : i === m.axes.length - 1 ? x + 6 : x;
      ctx.fillText(fit(ctx, label, Math.max(60, gap - 8), true), lx, l.top - 14);
    });
  }
}

/** `text` cut to `max` px: from the end, or from the start (a dotted path keeps its last, telling part). */
function fit(ctx: CanvasRenderingContext2D, text: string, max: number, keepEnd = false): string {
  if (ctx.measureText(text).width <= max) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`…${s}`).width > max) s = keepEnd ? s.slice(1) : s.slice(0, -1);
  return keepEnd ? `…${s}` : `${s}…`;
}

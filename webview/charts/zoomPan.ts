/**
 * x zoom and pan of one time chart: drag a box to zoom, Shift+drag to pan, Ctrl/Alt/Cmd+wheel to zoom
 * about the pointer, double-click to reset. Holds the zoom window (in current x axis units) and the drag
 * in progress (the overlay plugin draws its box); the chart redraws from its columns when the window moves.
 */
import type { ScatterDataPoint } from 'chart.js';
import type { Chart } from './chartSetup';

/** An x range in current axis units. */
export interface XWindow {
  min: number;
  max: number;
}

interface DragState {
  mode: 'box' | 'pan';
  startPx: number;
  curPx: number;
  startMin: number;
  startMax: number;
}

export interface ZoomPanHost {
  /** The Chart.js instance (created on first use). */
  chart(): Chart<'line', ScatterDataPoint[]>;
  /** The window changed: redraw from the columns, now or (while panning) in the next frame. */
  refresh(nextFrame: boolean): void;
}

export class ZoomPan {
  /** null = everything. */
  private win: XWindow | null = null;
  private drag: DragState | null = null;

  constructor(
    canvas: HTMLCanvasElement,
    /** Carries the `zoomed` class while zoomed (shows the reset button). */
    private readonly card: HTMLElement,
    private readonly host: ZoomPanHost,
  ) {
    this.attach(canvas);
  }

  /** The zoom window (not a copy: read it, do not change it); null = everything. */
  get window(): XWindow | null {
    return this.win;
  }

  /** The box being dragged out, [left, right] in canvas px; null when none. */
  selectionBox(): [number, number] | null {
    const d = this.drag;
    if (d?.mode !== 'box') return null;
    return [Math.min(d.startPx, d.curPx), Math.max(d.startPx, d.curPx)];
  }

  set(min: number, max: number, throttle = false): void {
    if (!(max > min)) return;
    this.win = { min, max };
    this.card.classList.add('zoomed');
    this.host.refresh(throttle);
  }

  reset(): void {
    this.clear();
    this.host.refresh(false);
  }

  /** Back to everything without a redraw (the x axis changed: the window's units mean nothing now). */
  clear(): void {
    this.win = null;
    this.card.classList.remove('zoomed');
  }

  private attach(canvas: HTMLCanvasElement): void {
    const chart = () => this.host.chart();
    const inArea = (px: number, py: number) => {
      const a = chart().chartArea;
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
      const sc = chart().scales.x;
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
        const a = chart().chartArea;
        const perPx = (d.startMax - d.startMin) / Math.max(1, a.right - a.left);
        const shift = (d.startPx - px) * perPx;
        this.set(d.startMin + shift, d.startMax + shift, true);
      } else {
        chart().draw();
      }
    });
    const end = (e: PointerEvent) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      if (d.mode === 'box' && Math.abs(d.curPx - d.startPx) > 4) {
        const sc = chart().scales.x;
        const a = sc.getValueForPixel(Math.min(d.startPx, d.curPx)) ?? sc.min;
        const b = sc.getValueForPixel(Math.max(d.startPx, d.curPx)) ?? sc.max;
        this.set(a, b);
      } else {
        chart().draw();
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
        const sc = chart().scales.x;
        const at = sc.getValueForPixel(px) ?? (sc.min + sc.max) / 2;
        const f = e.deltaY > 0 ? 1.25 : 0.8;
        this.set(at - (at - sc.min) * f, at + (sc.max - at) * f);
      },
      { passive: false },
    );
    canvas.addEventListener('dblclick', () => this.reset());
  }
}

/**
 * The list of time-series charts: one TimeChart per spec, kept (same Chart.js instance) while its spec
 * exists, given new curves only when their identity changed, destroyed when its spec goes, and ordered
 * as the specs are.
 *
 * Only charts in or near the viewport are drawn (Chart.js costs ~0.1 s per chart of 50 runs × 5 curves,
 * and 14 such charts fill several screens): the others are marked dirty and drawn when they scroll near
 * (an IntersectionObserver asks for a frame, drawPending() draws them). Whether a chart is near is read
 * from its box at draw time, so a chart just created or just laid out draws in the same frame.
 */
import { specSignature, type ChartSpec } from './chartSpecs';
import { metricId } from '../app/store';
import { TimeChart, type ViewOpts } from './timeChart';

export interface ChartCallbacks {
  onLegendClick: (key: string) => void;
  onExportPng: (chart: TimeChart) => void;
  onExportCsv: (chart: TimeChart) => void;
}

/** How far outside the viewport (px, above and below) a chart still counts as near and is drawn. */
export const NEAR_VIEWPORT_PX = 300;

export interface GridStats {
  /** Passes over the charts (a reconcile, or new points in place), and when (performance.now()). */
  passes: number;
  passTimes: number[];
}

export class ChartGrid {
  readonly charts = new Map<string, TimeChart>();
  private readonly signatures = new Map<string, string>();
  readonly stats: GridStats = { passes: 0, passTimes: [] };
  private readonly observer: IntersectionObserver | null;
  /** Inside reconcile: charts only collect changes, drawn in one pass after every card is in place. */
  private batching = false;
  /** Highlighted runs (the run legend): every chart, including those created later, styles them. */
  private highlight: ReadonlySet<string> = new Set();

  /** `onNear`: a dirty chart came near the viewport; call drawPending() in the next frame. */
  constructor(
    private readonly parent: HTMLElement,
    private readonly cb: ChartCallbacks,
    onNear: () => void = () => undefined,
  ) {
    this.observer =
      typeof IntersectionObserver === 'function'
        ? new IntersectionObserver(
            (entries) => {
              if (entries.some((e) => e.isIntersecting && this.byCard(e.target)?.dirty)) onNear();
            },
            { rootMargin: `${NEAR_VIEWPORT_PX}px 0px` },
          )
        : null;
  }

  private byCard(el: Element): TimeChart | undefined {
    const id = (el as HTMLElement).dataset.chartId;
    return id === undefined ? undefined : this.charts.get(id);
  }

  /** In or near the viewport, and laid out (not on a hidden tab). */
  isNear(c: TimeChart): boolean {
    if (this.batching) return false;
    const r = c.card.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return false;
    return r.bottom > -NEAR_VIEWPORT_PX && r.top < window.innerHeight + NEAR_VIEWPORT_PX;
  }

  /** Draw the dirty charts that are near the viewport now. */
  drawPending(): void {
    for (const c of this.charts.values()) if (c.dirty && this.isNear(c)) c.flush();
  }

  private notePass(): void {
    this.stats.passes++;
    this.stats.passTimes.push(performance.now());
    if (this.stats.passTimes.length > 64) this.stats.passTimes.shift();
  }

  get size(): number {
    return this.charts.size;
  }

  get(id: string): TimeChart | undefined {
    return this.charts.get(id);
  }

  /** Make the charts match `specs`; `viewChanged`: smoothing, log-y, x axis or theme changed. */
  reconcile(specs: readonly ChartSpec[], view: ViewOpts, viewChanged: boolean): void {
    this.notePass();
    this.batching = true;
    try {
      this.reconcileCharts(specs, view, viewChanged);
    } finally {
      this.batching = false;
    }
    this.drawPending();
  }

  private reconcileCharts(specs: readonly ChartSpec[], view: ViewOpts, viewChanged: boolean): void {
    const keep = new Set(specs.map((s) => s.id));
    for (const [id, c] of this.charts) {
      if (!keep.has(id)) {
        this.observer?.unobserve(c.card);
        c.destroy();
        this.charts.delete(id);
        this.signatures.delete(id);
      }
    }
    const parent = this.parent;
    specs.forEach((spec, i) => {
      let c = this.charts.get(spec.id);
      const sig = specSignature(spec);
      if (!c) {
        c = new TimeChart(parent, spec.id, spec.title, view, this.cb);
        const chart = c;
        c.drawable = () => this.isNear(chart);
        this.charts.set(spec.id, c);
        this.observer?.observe(c.card);
        c.setHighlight(this.highlight);
        c.setCurves(spec.curves, spec.legend);
      } else {
        if (c.title !== spec.title) c.setTitle(spec.title);
        if (viewChanged) c.setView(view);
        if (sig !== this.signatures.get(spec.id)) c.setCurves(spec.curves, spec.legend);
        else if (!viewChanged) c.refresh();
      }
      this.signatures.set(spec.id, sig);
      if (parent.children[i] !== c.card) parent.insertBefore(c.card, parent.children[i] ?? null);
    });
  }

  /** Highlight these runs on every chart: restyled at once near the viewport, when scrolled near elsewhere. */
  setHighlight(runIds: ReadonlySet<string>): void {
    this.highlight = new Set(runIds);
    for (const c of this.charts.values()) c.setHighlight(this.highlight);
  }

  /** New points only: redraw the charts that show one of these metric ids. */
  refreshTouched(metricIds: ReadonlySet<string>): void {
    this.notePass();
    for (const c of this.charts.values()) {
      if (c.getCurves().some((cv) => metricIds.has(metricId(cv.series.key.split, cv.series.key.metric)))) c.refresh();
    }
  }
}

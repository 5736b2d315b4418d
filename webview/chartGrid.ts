/**
 * The list of time-series charts: one TimeChart per spec, kept (same Chart.js instance) while its spec
 * exists, given new curves only when their identity changed, destroyed when its spec goes, and ordered
 * as the specs are.
 */
import { specSignature, type ChartSpec } from './chartSpecs';
import { metricId } from './store';
import { TimeChart, type ViewOpts } from './timeChart';

export interface ChartCallbacks {
  onLegendClick: (key: string) => void;
  onExportPng: (chart: TimeChart) => void;
  onExportCsv: (chart: TimeChart) => void;
}

export class ChartGrid {
  readonly charts = new Map<string, TimeChart>();
  private readonly signatures = new Map<string, string>();

  constructor(private readonly parent: HTMLElement, private readonly cb: ChartCallbacks) {}

  get size(): number {
    return this.charts.size;
  }

  get(id: string): TimeChart | undefined {
    return this.charts.get(id);
  }

  /** Make the charts match `specs`; `viewChanged`: smoothing, log-y, x axis or theme changed. */
  reconcile(specs: readonly ChartSpec[], view: ViewOpts, viewChanged: boolean): void {
    const keep = new Set(specs.map((s) => s.id));
    for (const [id, c] of this.charts) {
      if (!keep.has(id)) {
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
        this.charts.set(spec.id, c);
        c.setCurves(spec.curves, spec.legend);
      } else {
        if (viewChanged) c.setView(view);
        if (sig !== this.signatures.get(spec.id)) c.setCurves(spec.curves, spec.legend);
        else if (!viewChanged) c.refresh();
      }
      this.signatures.set(spec.id, sig);
      if (parent.children[i] !== c.card) parent.insertBefore(c.card, parent.children[i] ?? null);
    });
  }

  /** New points only: redraw the charts that show one of these metric ids. */
  refreshTouched(metricIds: ReadonlySet<string>): void {
    for (const c of this.charts.values()) {
      if (c.getCurves().some((cv) => metricIds.has(metricId(cv.series.key.split, cv.series.key.metric)))) c.refresh();
    }
  }
}

/**
 * The frontier card ("Quality vs bytes per vector") under the metric-vs-dim card: it follows that card's
 * metric (an eval float32 metric) and step, and is shown when a shown run has that metric at a quantised
 * precision (runs written before precisions existed have nothing to add to the metric-vs-dim chart). The
 * data is frontierData.ts, the drawing frontierChart.ts; this is their DOM side.
 */
import type { PanelTheme } from '../charts/chartSetup';
import { allDimsSorted, runLabel, shownRuns, type ViewModel } from '../app/model';
import type { PanelModel } from '../app/model';
import { FrontierChart } from './frontierChart';
import { frontierLines, frontierMetric, hasPrecisionVariants, runFrontiers } from './frontierData';
import { advisorPercent, currentMrlMetric, pickMrlStep } from './mrlData';

export interface FrontierElements {
  section: HTMLElement;
  what: HTMLElement;
  canvas: HTMLCanvasElement;
  advice: HTMLElement;
}

export class FrontierView {
  chart: FrontierChart | null = null;
  /** The lines under the chart as last shown (read by the browser tests' hook). */
  adviceLines: string[] = [];

  constructor(
    private readonly el: FrontierElements,
    /** The metric-vs-dim card's eval steps (its slider). */
    private readonly steps: { get(m: ViewModel): number[] },
  ) {}

  get shown(): boolean {
    return !this.el.section.hidden;
  }

  setTheme(theme: PanelTheme): void {
    this.chart?.setTheme(theme);
  }

  private highlight: ReadonlySet<string> = new Set();
  /** Highlight these runs (the run legend). */
  setHighlight(runIds: ReadonlySet<string>): void {
    this.highlight = runIds;
    this.chart?.setHighlight(runIds);
  }

  /** `colors`: each shown run's colour in an overlay (none for one run: the points are coloured by dim). */
  render(m: ViewModel & Pick<PanelModel, 'settings'>, theme: PanelTheme, colors: ReadonlyMap<string, string> = new Map()): void {
    const { store, state } = m;
    const shown = shownRuns(m);
    const metric = frontierMetric(store, currentMrlMetric(store, state));
    this.el.section.hidden = !metric || shown.length === 0 || !hasPrecisionVariants(store, metric);
    if (!metric || this.el.section.hidden) return;
    const pick = pickMrlStep(this.steps.get(m), state.mrlStep);
    const percent = advisorPercent(m);
    const runs = runFrontiers(
      store,
      shown.map((r, index) => ({ id: r.id, name: runLabel(r), index, config: r.config })),
      metric,
      pick.step,
      allDimsSorted(store),
      percent,
    );
    this.el.what.textContent = `${metric} · step ${pick.label}`;
    if (!this.chart) {
      this.chart = new FrontierChart(this.el.canvas, theme);
      this.chart.setHighlight(this.highlight);
    }
    this.chart.update(runs, metric, percent, allDimsSorted(store), colors);
    const lines = frontierLines(runs);
    if (lines.join('\n') === this.adviceLines.join('\n')) return;
    this.adviceLines = lines;
    this.el.advice.replaceChildren(
      ...lines.map((l) => {
        const d = document.createElement('div');
        d.textContent = l;
        return d;
      }),
    );
    this.el.advice.hidden = lines.length === 0;
  }
}

/**
 * The "metric vs dimension" card: metric picker, step slider and the MrlChart, kept in step with the
 * model. The data choices are in mrlData.ts; this is their DOM side.
 */
import type { PanelTheme } from '../charts/chartSetup';
import { allDimsSorted, prettyMetric, runLabel, shownRuns, type ViewModel } from '../app/model';
import { MrlChart } from './mrlChart';
import { advisorLines, advisorPercent, currentMrlMetric, mrlCandidates, MrlSteps, pickMrlStep } from './mrlData';

export interface MrlElements {
  section: HTMLElement;
  metric: HTMLElement & { value: string };
  step: HTMLInputElement;
  stepValue: HTMLOutputElement;
  canvas: HTMLCanvasElement;
}

export class MrlView {
  chart: MrlChart | null = null;
  private readonly stepsCache = new MrlSteps();
  private optionsSig = '';

  /** The dim advisor's text under the chart (made here, so the page skeleton needs no change). */
  readonly advice: HTMLElement;
  /** The advisor lines last shown (read by the browser tests' hook). */
  adviceLines: string[] = [];

  constructor(private readonly el: MrlElements) {
    this.advice = document.createElement('div');
    this.advice.className = 'mrl-advice';
    this.advice.id = 'mrlAdvice';
    this.advice.setAttribute('aria-live', 'polite');
    el.section.append(this.advice);
  }

  steps(m: ViewModel): number[] {
    return this.stepsCache.get(m);
  }

  /** Whether the card is on screen. */
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
  render(m: ViewModel, theme: PanelTheme, colors: ReadonlyMap<string, string> = new Map()): void {
    const { store, state } = m;
    const el = this.el;
    const mid = currentMrlMetric(store, state);
    const shown = shownRuns(m);
    el.section.hidden = !mid || shown.length === 0;
    if (!mid || el.section.hidden) return;
    const cands = mrlCandidates(store);
    const sig = cands.join('\n') + '\n' + mid;
    if (sig !== this.optionsSig) {
      this.optionsSig = sig;
      el.metric.replaceChildren(
        ...cands.map((c) => {
          const o = document.createElement('vscode-option');
          o.setAttribute('value', c);
          const cm = store.metrics.get(c)!;
          o.textContent = prettyMetric(cm.split, cm.metric);
          if (c === mid) o.setAttribute('selected', '');
          return o;
        }),
      );
      el.metric.value = mid;
    }
    const steps = this.steps(m);
    const pick = pickMrlStep(steps, state.mrlStep);
    el.step.max = String(Math.max(0, steps.length - 1));
    el.step.value = String(Math.max(0, pick.index));
    el.step.disabled = steps.length < 2;
    el.stepValue.value = pick.label;
    if (!this.chart) {
      this.chart = new MrlChart(el.canvas, theme);
      this.chart.setHighlight(this.highlight);
    }
    const metric = store.metrics.get(mid)!;
    const dims = allDimsSorted(store).filter((d) => !state.hiddenDims.includes(d));
    this.chart.update(
      store,
      shown.map((r, index) => ({ id: r.id, name: runLabel(r), index, config: r.config, color: colors.get(r.id) })),
      metric.split,
      metric.metric,
      pick.step,
      dims,
      allDimsSorted(store),
      advisorPercent(m),
    );
    this.renderAdvice(advisorLines(this.chart.advice));
  }

  private renderAdvice(lines: string[]): void {
    if (lines.join('\n') === this.adviceLines.join('\n')) return;
    this.adviceLines = lines;
    this.advice.replaceChildren(
      ...lines.map((l) => {
        const d = document.createElement('div');
        d.textContent = l;
        return d;
      }),
    );
    this.advice.hidden = lines.length === 0;
  }
}

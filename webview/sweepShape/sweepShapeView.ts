/**
 * The "Sweep shape" section at the top of the Runs tab: which runs (a sweep, the table's selected rows, or
 * all), which metric @ dim (the runs table's metric columns: the latest eval), the parallel coordinates
 * (parallelCoords.ts) and one parameter against the metric (paramScatter.ts). Brushing the axes keeps the
 * runs table to the runs inside every brush; clearing them shows every run again. Every dynamic text goes
 * in through textContent.
 */
import type { PanelRun, PanelSettings } from '../../src/protocol/panelMessages';
import type { PanelTheme } from '../charts/chartSetup';
import { filterableColumns, type Column } from '../runsTable/columns';
import { el } from '../runsTable/dom';
import { tableRows } from '../runsTable/rows';
import { ParallelCoords } from './parallelCoords';
import { ParamScatter } from './paramScatter';
import { buildShape, defaultMetric, describeBrush, insideBrushes, metricChoices, sweepsOf, type ShapeModel } from './shapeData';
import type { SweepShapeState } from './shapeState';

export interface SweepShapeCallbacks {
  /** The choices changed: persist them. */
  save(): void;
  /** Keep the runs table to these runs (null: every run). */
  filterTable(ids: ReadonlySet<string> | null): void;
  /** The runs table's selected runs. */
  selectedIds(): string[];
}

export class SweepShapeView {
  readonly section: HTMLDetailsElement;
  readonly pc: ParallelCoords;
  readonly scatter: ParamScatter;
  private readonly source: HTMLSelectElement;
  private readonly metric: HTMLSelectElement;
  private readonly param: HTMLSelectElement;
  private readonly clear: HTMLButtonElement;
  readonly status: HTMLElement;
  model: ShapeModel | null = null;
  /** The runs inside the brushes as last told to the table (null: no brush). */
  private told: ReadonlySet<string> | null = null;
  private runs: PanelRun[] = [];
  /** The last render's time (ms): the model and both plots (the panel bench). */
  lastRenderMs = NaN;
  private settings: PanelSettings = { advisorPercent: 95 };

  constructor(
    root: HTMLElement,
    private readonly state: SweepShapeState,
    theme: PanelTheme,
    private readonly cb: SweepShapeCallbacks,
  ) {
    const s = (this.section = el('details', 'sweep-shape'));
    s.id = 'sweepShape';
    s.open = state.open;
    const summary = el('summary', undefined, 'Sweep shape');
    const bar = el('div', 'toolbar sweep-shape-bar');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Sweep shape');
    this.source = this.select('shapeSource', 'Runs', bar, 'Which runs: a sweep, the rows selected in the table, or every run');
    this.metric = this.select('shapeMetric', 'Metric', bar, 'The metric @ dim of the last axis and of the colours (the latest eval)');
    this.param = this.select('shapeParam', 'Scatter x', bar, 'The parameter of the scatter plot');
    this.clear = el('button', 'icon-btn', 'Clear brushes');
    this.clear.type = 'button';
    this.clear.id = 'shapeClear';
    this.clear.title = 'Remove every brush: the runs table shows every run again';
    this.status = el('span', 'hint sweep-shape-status');
    this.status.id = 'shapeStatus';
    this.status.setAttribute('aria-live', 'polite');
    bar.append(this.clear, this.status);
    const plots = el('div', 'sweep-shape-plots');
    const pcBox = el('div', 'chart-box sweep-pc-box');
    const pcCanvas = el('canvas');
    pcCanvas.id = 'shapeParallel';
    pcCanvas.setAttribute('role', 'img');
    pcBox.append(pcCanvas);
    const scBox = el('div', 'chart-box sweep-scatter-box');
    const scCanvas = el('canvas');
    scCanvas.id = 'shapeScatter';
    scCanvas.setAttribute('role', 'img');
    scCanvas.setAttribute('aria-label', 'One parameter against the metric, a point per run');
    scBox.append(scCanvas);
    plots.append(pcBox, scBox);
    s.append(summary, bar, plots);
    root.prepend(s);

    this.pc = new ParallelCoords(pcCanvas, theme, () => this.brushed());
    this.scatter = new ParamScatter(scCanvas, theme);
    s.addEventListener('toggle', () => {
      state.open = s.open;
      cb.save();
      if (s.open) this.render();
    });
    for (const [sel, key] of [
      [this.source, 'source'],
      [this.metric, 'metric'],
      [this.param, 'param'],
    ] as const) {
      sel.addEventListener('change', () => {
        state[key] = sel.value;
        cb.save();
        this.render();
      });
    }
    this.clear.addEventListener('click', () => {
      this.pc.clearBrushes();
      this.brushed();
    });
    // "Selected runs" follows the table's selection (clicks and keys on its rows bubble up to here).
    const follow = () => {
      if (this.sourceValue() === 'selected') this.render();
    };
    root.addEventListener('click', (e) => {
      if (!s.contains(e.target as Node)) follow();
    });
    root.addEventListener('keyup', (e) => {
      if (!s.contains(e.target as Node)) follow();
    });
  }

  private select(id: string, label: string, bar: HTMLElement, title: string): HTMLSelectElement {
    const f = el('label', 'field');
    f.title = title;
    const sel = el('select');
    sel.id = id;
    f.append(el('span', undefined, label), sel);
    bar.append(f);
    return sel;
  }

  setTheme(t: PanelTheme): void {
    this.pc.setTheme(t);
    this.scatter.setTheme(t);
  }

  /** New runs or settings (the Runs tab draws): redraw. */
  update(runs: PanelRun[], settings: PanelSettings): void {
    this.runs = runs;
    this.settings = settings;
    this.render();
  }

  /** The source in effect: the chosen one while it exists, else the newest sweep, else every run. */
  private sourceValue(): string {
    const sweeps = sweepsOf(this.runs);
    const chosen = this.state.source;
    if (chosen === 'all' || chosen === 'selected' || (chosen && sweeps.some((s) => `sweep:${s.id}` === chosen))) return chosen;
    return sweeps.length ? `sweep:${sweeps[0].id}` : 'all';
  }

  private sourceRuns(source: string): PanelRun[] {
    if (source === 'all') return this.runs;
    if (source === 'selected') {
      const ids = new Set(this.cb.selectedIds());
      return this.runs.filter((r) => ids.has(r.id));
    }
    const id = source.slice('sweep:'.length);
    return this.runs.filter((r) => r.sweep?.id === id);
  }

  private fill(sel: HTMLSelectElement, options: { value: string; label: string }[], value: string): void {
    const same =
      sel.options.length === options.length && options.every((o, i) => sel.options[i].value === o.value && sel.options[i].text === o.label);
    if (!same) sel.replaceChildren(...options.map((o) => Object.assign(el('option', undefined, o.label), { value: o.value })));
    sel.value = value;
  }

  render(): void {
    const t0 = performance.now();
    this.renderNow();
    this.lastRenderMs = performance.now() - t0;
  }

  private renderNow(): void {
    const source = this.sourceValue();
    const nSel = this.cb.selectedIds().length;
    this.fill(
      this.source,
      [
        ...sweepsOf(this.runs).map((s) => ({ value: `sweep:${s.id}`, label: `Sweep ${s.name} · ${s.id.slice(-4)} (${s.count} runs)` })),
        { value: 'selected', label: `Selected runs (${nSel})` },
        { value: 'all', label: `All runs (${this.runs.length})` },
      ],
      source,
    );
    const rows = tableRows(this.sourceRuns(source), this.settings);
    const metrics = metricChoices(filterableColumns(rows, this.settings));
    const metric: Column | null = metrics.find((c) => c.key === this.state.metric) ?? defaultMetric(metrics);
    this.fill(
      this.metric,
      metrics.map((c) => ({ value: c.key, label: c.label })),
      metric?.key ?? '',
    );
    const model = (this.model = buildShape(rows, metric, Date.now()));
    const params = model.axes.filter((a) => !a.metric);
    const param = params.find((a) => a.key === this.state.param) ?? params[0];
    this.fill(
      this.param,
      params.map((a) => ({ value: a.key, label: a.label })),
      param?.key ?? '',
    );
    if (!this.section.open) return;
    this.pc.canvas.setAttribute(
      'aria-label',
      `Parallel coordinates of ${rows.length} runs over ${params.map((a) => a.label).join(', ') || 'no parameter'}${metric ? ` against ${metric.label}` : ''}`,
    );
    this.pc.update(model);
    this.brushed(param?.key ?? null);
  }

  /** The brushes changed (or the lines did): the scatter's faint points, the status line, the table. */
  private brushed(param = this.param.value || null): void {
    const m = this.model;
    if (!m) return;
    const inside = insideBrushes(m, this.pc.brushes);
    const ids = new Set(inside.map((l) => l.runId));
    this.scatter.update(m, param, ids);
    const params = m.axes.filter((a) => !a.metric).length;
    const brushes = [...this.pc.brushes].map(([k, r]) =>
      describeBrush(
        m.axes.find((a) => a.key === k)!,
        r,
      ),
    );
    this.status.textContent = brushes.length
      ? `${brushes.join(' · ')} → ${ids.size} of ${m.lines.length} runs in the table`
      : `${m.lines.length} run${m.lines.length === 1 ? '' : 's'} · ${params} parameter${params === 1 ? '' : 's'}${params ? ' · drag along an axis to keep a range of it' : ''}`;
    this.clear.disabled = brushes.length === 0;
    const next = brushes.length ? ids : null;
    const prev = this.told;
    if (next === prev || (next && prev && next.size === prev.size && [...next].every((id) => prev.has(id)))) return;
    this.told = next;
    this.cb.filterTable(next);
  }

  /** The runs inside the brushes (null: no brush). */
  get brushedIds(): ReadonlySet<string> | null {
    return this.told;
  }
}

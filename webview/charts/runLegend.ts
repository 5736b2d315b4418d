/**
 * The run legend of an overlay (more than one run shown): every shown run with its colour, all of them
 * (not "+ N more"), with a search box. Hover (or focus) a run to highlight it on every chart, click to pin
 * the highlight (several can be pinned); typing in the search box filters the list and highlights the runs
 * it matches. The highlighted runs are drawn wide and on top, the others faint (timeDatasets.ts), so one
 * run among fifty can be followed across the charts. It stays under the toolbar while the charts scroll.
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import { runLabel } from '../app/model';

export interface RunLegendHooks {
  /** The highlighted runs changed (called at once; the caller batches the redraw). */
  highlightChanged(runIds: ReadonlySet<string>): void;
}

interface Entry {
  run: PanelRun;
  label: string;
  color: string;
  dash: number[];
  /** Lower-cased text the search matches: display name, name, id, tags. */
  haystack: string;
  el: HTMLButtonElement;
}

export class RunLegend {
  private readonly list: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly count: HTMLElement;
  private readonly clear: HTMLButtonElement;
  private entries: Entry[] = [];
  private sig = '';
  private readonly pinned = new Set<string>();
  private hovered: string | null = null;
  private filter = '';
  private last: ReadonlySet<string> = new Set();

  constructor(
    readonly section: HTMLElement,
    private readonly hooks: RunLegendHooks,
  ) {
    section.classList.add('run-legend');
    section.setAttribute('aria-label', 'Runs on the charts');
    const head = document.createElement('div');
    head.className = 'run-legend-head';
    const label = document.createElement('span');
    label.className = 'bar-label';
    label.textContent = 'Legend';
    this.search = document.createElement('input');
    this.search.type = 'search';
    this.search.id = 'runLegendSearch';
    this.search.placeholder = 'Find runs…';
    this.search.setAttribute('aria-label', 'Find runs in the legend (matching runs are highlighted)');
    this.search.addEventListener('input', () => this.setFilter(this.search.value));
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.search.value) {
        this.search.value = '';
        this.setFilter('');
      }
    });
    this.count = document.createElement('span');
    this.count.className = 'run-legend-count';
    this.count.setAttribute('aria-live', 'polite');
    this.clear = document.createElement('button');
    this.clear.type = 'button';
    this.clear.className = 'icon-btn';
    this.clear.dataset.action = 'clear-highlight';
    this.clear.textContent = 'Clear';
    this.clear.title = 'Stop highlighting the pinned runs';
    this.clear.addEventListener('click', () => {
      this.pinned.clear();
      this.syncPressed();
      this.emit();
    });
    // A column beside the list (label, count, Clear; the search box under them), so the box is no taller
    // than the list's three rows: the charts stay on screen.
    const top = document.createElement('div');
    top.className = 'run-legend-top';
    top.append(label, this.count, this.clear);
    this.search.title = 'Hover a run to highlight it on every chart, click to pin it; runs this search matches are highlighted';
    head.append(top, this.search);
    this.list = document.createElement('div');
    this.list.className = 'run-legend-list';
    this.list.setAttribute('role', 'list');
    this.list.addEventListener('mouseleave', () => this.setHovered(null));
    section.append(head, this.list);
    section.hidden = true;
  }

  /** The runs highlighted now: pinned, hovered, and those the search matches (when it matches some, not all). */
  get highlighted(): ReadonlySet<string> {
    return this.last;
  }

  /** What the legend lists, for the tests' hook. */
  get state(): { runIds: string[]; visibleIds: string[]; pinned: string[]; filter: string; colors: Record<string, string> } {
    return {
      runIds: this.entries.map((e) => e.run.id),
      visibleIds: this.entries.filter((e) => !e.el.hidden).map((e) => e.run.id),
      pinned: [...this.pinned],
      filter: this.filter,
      colors: Object.fromEntries(this.entries.map((e) => [e.run.id, e.color])),
    };
  }

  /**
   * Show `shown` (in run order) with their colours and dashes; hidden for fewer than two runs. Pins of runs
   * no longer shown are dropped.
   */
  render(shown: readonly PanelRun[], colors: ReadonlyMap<string, string>, dashes: ReadonlyMap<string, number[]>): void {
    const overlay = shown.length > 1;
    this.section.hidden = !overlay;
    const list = overlay ? shown : [];
    const sig = JSON.stringify(list.map((r) => [r.id, runLabel(r), r.name, r.notes?.tags, colors.get(r.id), dashes.get(r.id)]));
    if (sig === this.sig) return;
    this.sig = sig;
    const ids = new Set(list.map((r) => r.id));
    for (const id of [...this.pinned]) if (!ids.has(id)) this.pinned.delete(id);
    if (this.hovered && !ids.has(this.hovered)) this.hovered = null;
    this.entries = list.map((r) => this.entry(r, colors.get(r.id) ?? 'currentColor', dashes.get(r.id) ?? []));
    this.list.replaceChildren(...this.entries.map((e) => e.el));
    this.applyFilter();
    this.syncPressed();
    this.emit();
  }

  private entry(run: PanelRun, color: string, dash: number[]): Entry {
    const label = runLabel(run);
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'legend-run';
    b.dataset.runId = run.id;
    b.setAttribute('role', 'listitem');
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', '22');
    svg.setAttribute('height', '8');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', '1');
    line.setAttribute('x2', '21');
    line.setAttribute('y1', '4');
    line.setAttribute('y2', '4');
    line.setAttribute('stroke-width', '3');
    line.setAttribute('stroke', color); // a presentation attribute, not an inline style: allowed by the CSP
    if (dash.length) line.setAttribute('stroke-dasharray', dash.join(' '));
    svg.append(line);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = label;
    b.append(svg, name);
    b.title = `${label}${label !== run.name ? ` — ${run.name}` : ''} (${run.id})\nHover: highlight on every chart · click: pin`;
    b.addEventListener('mouseenter', () => this.setHovered(run.id));
    b.addEventListener('focus', () => this.setHovered(run.id));
    b.addEventListener('blur', () => this.setHovered(null));
    b.addEventListener('click', () => {
      if (this.pinned.has(run.id)) this.pinned.delete(run.id);
      else this.pinned.add(run.id);
      this.syncPressed();
      this.emit();
    });
    const haystack = [label, run.name, run.id, ...(run.notes?.tags ?? [])].join('\n').toLowerCase();
    return { run, label, color, dash, haystack, el: b };
  }

  private setHovered(id: string | null): void {
    if (id === this.hovered) return;
    this.hovered = id;
    this.emit();
  }

  private setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    this.applyFilter();
    this.emit();
  }

  /** Runs the search matches (all of them when it is empty). */
  private matches(): Entry[] {
    const f = this.filter;
    return f ? this.entries.filter((e) => e.haystack.includes(f)) : this.entries;
  }

  private applyFilter(): void {
    const shown = new Set(this.matches());
    for (const e of this.entries) e.el.hidden = !shown.has(e);
    const n = this.entries.length;
    this.count.textContent = this.filter ? `${shown.size} of ${n} runs` : `${n} runs`;
  }

  private syncPressed(): void {
    for (const e of this.entries) e.el.setAttribute('aria-pressed', String(this.pinned.has(e.run.id)));
    this.clear.hidden = this.pinned.size === 0;
  }

  private emit(): void {
    const next = new Set(this.pinned);
    if (this.hovered) next.add(this.hovered);
    const m = this.matches();
    if (this.filter && m.length < this.entries.length) for (const e of m) next.add(e.run.id);
    for (const e of this.entries) e.el.classList.toggle('lit', next.has(e.run.id));
    const same = next.size === this.last.size && [...next].every((id) => this.last.has(id));
    if (same) return;
    this.last = next;
    this.hooks.highlightChanged(next);
  }

  /** Stay just under `bar` (the sticky toolbar) while the charts scroll: its height, kept current. */
  stickBelow(bar: HTMLElement): void {
    const set = () => this.section.style.setProperty('--mrl-toolbar-height', `${bar.offsetHeight}px`); // CSSOM: allowed by the CSP
    set();
    if (typeof ResizeObserver === 'function') new ResizeObserver(set).observe(bar);
  }

  /** Pin or unpin a run (a chart legend's run entry was clicked). */
  togglePin(runId: string): void {
    if (!this.entries.some((e) => e.run.id === runId)) return;
    if (this.pinned.has(runId)) this.pinned.delete(runId);
    else this.pinned.add(runId);
    this.syncPressed();
    this.emit();
  }
}

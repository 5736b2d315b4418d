/**
 * The runs table's column chooser: a panel under the toolbar (opened by its Columns… button) with a
 * checkbox per column, grouped (run, params, metrics, funnel, advisor), a search box, and Defaults. What
 * the user changes is kept as ColumnPrefs on top of the defaults.
 */
import type { Column, ColumnGroup, ColumnPrefs } from './columns';
import { el } from './dom';
import type { TableUiState, TableView } from './tableModel';

const GROUP_LABEL: Record<ColumnGroup, string> = {
  run: 'Run',
  param: 'Params',
  metric: 'Metrics',
  funnel: 'Funnel',
  advisor: 'Dim advisor',
  frontier: 'Frontier (dim × precision)',
};

/** The prefs with column c shown or hidden: only departures from its default are kept. Pure. */
export function withColumnShown(prefs: ColumnPrefs, c: Column, on: boolean): ColumnPrefs {
  const shown = new Set(prefs.shown);
  const hidden = new Set(prefs.hidden);
  shown.delete(c.key);
  hidden.delete(c.key);
  if (on && !c.defaultShown) shown.add(c.key);
  if (!on && c.defaultShown) hidden.add(c.key);
  return { shown: [...shown], hidden: [...hidden] };
}

export class ColumnChooser {
  private readonly panel: HTMLElement;

  /** Appends the (closed) panel to root. */
  constructor(
    root: HTMLElement,
    private readonly button: HTMLButtonElement,
    private readonly ui: TableUiState,
    /** The table as last drawn (its columns, shown and all). */
    private readonly view: () => TableView | null,
    /** The columns changed: persist and redraw the table (which redraws the open chooser). */
    private readonly changed: () => void,
  ) {
    this.panel = el('div', 'column-chooser');
    this.panel.id = 'columnChooser';
    this.panel.hidden = true;
    root.append(this.panel);
  }

  get open(): boolean {
    return !this.panel.hidden;
  }

  toggle(): void {
    this.panel.hidden = !this.panel.hidden;
    this.button.setAttribute('aria-expanded', String(!this.panel.hidden));
    if (!this.panel.hidden) {
      this.render();
      this.panel.querySelector<HTMLInputElement>('input')?.focus();
    }
  }

  private setColumnShown(c: Column, on: boolean): void {
    this.ui.columns = withColumnShown(this.ui.columns, c, on);
    this.changed();
    this.panel.querySelector<HTMLElement>(`input[data-key="${CSS.escape(c.key)}"]`)?.focus();
  }

  render(): void {
    const v = this.view();
    if (!v) return;
    const visible = new Set(v.columns.map((c) => c.key));
    const search = this.panel.querySelector<HTMLInputElement>('input.chooser-search')?.value ?? '';
    const frag = document.createDocumentFragment();
    const head = el('div', 'chooser-head');
    const s = el('input', 'chooser-search');
    s.type = 'search';
    s.placeholder = 'Find a column';
    s.setAttribute('aria-label', 'Find a column');
    s.value = search;
    s.addEventListener('input', () => {
      this.render();
      this.panel.querySelector<HTMLInputElement>('input.chooser-search')?.focus();
    });
    const reset = el('button', 'icon-btn', 'Defaults');
    reset.type = 'button';
    reset.title = 'Back to the default columns (params that differ among the rows shown)';
    reset.addEventListener('click', () => {
      this.ui.columns = { shown: [], hidden: [] };
      this.changed();
    });
    head.append(s, reset);
    frag.append(head);
    const q = search.toLowerCase();
    for (const g of Object.keys(GROUP_LABEL) as ColumnGroup[]) {
      const cols = v.allColumns.filter(
        (c) => c.group === g && (!q || c.key.toLowerCase().includes(q) || c.label.toLowerCase().includes(q)),
      );
      if (!cols.length) continue;
      const fs = el('fieldset');
      fs.append(el('legend', undefined, GROUP_LABEL[g]));
      for (const c of cols) {
        const l = el('label');
        const cb = el('input');
        cb.type = 'checkbox';
        cb.checked = visible.has(c.key);
        cb.dataset.key = c.key;
        cb.addEventListener('change', () => this.setColumnShown(c, cb.checked));
        l.append(cb, document.createTextNode(` ${c.label}`));
        l.title = c.title;
        fs.append(l);
      }
      frag.append(fs);
    }
    this.panel.replaceChildren(frag);
  }
}

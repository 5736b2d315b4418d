/**
 * The runs table's DOM: its toolbar (filter, group by sweep, column chooser, actions, CSV), the table and
 * the keyboard and mouse handling. What is shown comes from tableModel.ts; selection rules from
 * selection.ts. Every dynamic text goes in through textContent.
 */
import type { PanelRun, PanelSettings, RunAction } from '../../src/protocol/panelMessages';
import { formatCell, type Column, type ColumnGroup } from './columns';
import { tableCsv, tableCsvFileName } from './csv';
import { clickRow, emptySelection, moveFocus, pruneSelection, toggleAll, toggleFocused, type Selection } from './selection';
import { nextSort } from './sort';
import { buildTableView, type TableUiState, type TableView } from './tableModel';

export interface RunsTableCallbacks {
  /** The table's UI state changed: persist it. */
  save(): void;
  action(action: RunAction, runIds: string[]): void;
  exportCsv(suggestedName: string, csv: string): void;
}

const ACTIONS: { action: RunAction; label: string; title: string }[] = [
  { action: 'plot', label: 'Plot', title: 'Overlay the selected runs in the Charts tab' },
  { action: 'diff', label: 'Diff configs', title: 'Two runs: VS Code’s diff editor; more: the changed-keys table' },
  { action: 'stop', label: 'Stop', title: 'Stop the selected running runs' },
  { action: 'resume', label: 'Resume', title: 'Resume the selected runs from their last checkpoint' },
  { action: 'delete', label: 'Delete', title: 'Delete the selected runs’ folders (asks first)' },
  { action: 'editNotes', label: 'Edit notes', title: 'Display name, tags and note of the selected run' },
  { action: 'stopSweep', label: 'Stop sweep', title: 'Stop the running run of each selected run’s sweep and drop the queued rest' },
];

const GROUP_LABEL: Record<ColumnGroup, string> = { run: 'Run', param: 'Params', metric: 'Metrics', funnel: 'Funnel', advisor: 'Dim advisor' };

/** Typical widths (ch) of the run's own columns; others follow their header. */
const RUN_WIDTHS: Record<string, number> = { status: 13, name: 22, tags: 16, started: 19, duration: 11, pairsPerSec: 10, backend: 10, step: 8, loss: 9 };

export function columnWidthCh(c: Column): number {
  const fixed = RUN_WIDTHS[c.key];
  if (fixed !== undefined && c.group === 'run') return fixed;
  return Math.min(32, Math.max(c.kind === 'text' ? 10 : 8, c.label.length + 4));
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function blankCell(span: number): HTMLTableCellElement {
  const td = h('td', 'blank');
  td.colSpan = span;
  return td;
}

/** Set a cell's (or text node's) text only when it differs: an unchanged text costs no layout. */
function setText(n: Node, text: string): void {
  if (n.textContent !== text) n.textContent = text;
}

export class RunsTableView {
  readonly sel: Selection = emptySelection();
  view: TableView | null = null;
  private readonly filterInput: HTMLInputElement;
  private readonly filterError: HTMLElement;
  private readonly groupToggle: HTMLInputElement;
  private readonly chooserBtn: HTMLButtonElement;
  private readonly chooser: HTMLElement;
  private readonly count: HTMLElement;
  private readonly buttons = new Map<RunAction, HTMLButtonElement>();
  private readonly table: HTMLTableElement;
  private readonly wrap: HTMLElement;
  private runs: PanelRun[] = [];
  private settings: PanelSettings = { advisorPercent: 95 };
  /** Time of the last render: durations of running runs and filters on them read the same clock. */
  private now = Date.now();
  /** The last render's time, and the part of it spent deriving the rows and columns (the bench). */
  lastRenderMs = NaN;
  lastBuildMs = NaN;
  /** The scroll window's geometry, read before the DOM is touched. */
  private viewport = { top: 0, height: 0, left: 0, width: 0 };
  /** Left and right edge (px) of each visible column, measured on the header when the columns change. */
  private colEdges: [number, number][] = [];
  private colKeys = '';

  constructor(
    root: HTMLElement,
    private readonly ui: TableUiState,
    private readonly cb: RunsTableCallbacks,
  ) {
    const bar = h('header', 'toolbar table-toolbar');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Runs table');
    this.filterInput = h('input', 'table-filter');
    this.filterInput.type = 'search';
    this.filterInput.id = 'tableFilter';
    this.filterInput.placeholder = 'Filter: text  status:running  tag:x  sweep:id  ndcg@10@64 > 0.2';
    this.filterInput.setAttribute('aria-label', 'Filter runs');
    this.filterInput.setAttribute('aria-describedby', 'tableFilterError');
    this.filterInput.value = ui.filter;
    const groupLabel = h('label', 'field check');
    this.groupToggle = h('input');
    this.groupToggle.type = 'checkbox';
    this.groupToggle.id = 'groupBySweep';
    this.groupToggle.checked = ui.groupBySweep;
    groupLabel.append(this.groupToggle, h('span', undefined, 'Group by sweep'));
    this.chooserBtn = h('button', 'icon-btn', 'Columns…');
    this.chooserBtn.type = 'button';
    this.chooserBtn.id = 'columnChooserButton';
    this.chooserBtn.setAttribute('aria-expanded', 'false');
    this.chooserBtn.setAttribute('aria-controls', 'columnChooser');
    this.count = h('span', 'table-count');
    this.count.id = 'tableCount';
    this.count.setAttribute('aria-live', 'polite');
    const actions = h('span', 'table-actions');
    for (const a of ACTIONS) {
      const b = h('button', 'icon-btn', a.label);
      b.type = 'button';
      b.dataset.action = a.action;
      b.title = a.title;
      b.addEventListener('click', () => this.act(a.action));
      this.buttons.set(a.action, b);
      actions.append(b);
    }
    const csv = h('button', 'icon-btn', 'Export CSV');
    csv.type = 'button';
    csv.id = 'tableCsv';
    csv.title = 'Save the table as shown (columns, filter, order) as CSV';
    csv.addEventListener('click', () => this.cb.exportCsv(tableCsvFileName(this.now), this.csv()));
    actions.append(csv);
    bar.append(this.filterInput, groupLabel, this.chooserBtn, this.count, actions);
    this.filterError = h('div', 'filter-error');
    this.filterError.id = 'tableFilterError';
    this.filterError.setAttribute('role', 'status');
    this.filterError.hidden = true;
    this.chooser = h('div', 'column-chooser');
    this.chooser.id = 'columnChooser';
    this.chooser.hidden = true;
    this.wrap = h('div', 'runs-table-wrap');
    this.table = h('table', 'runs-table');
    this.table.id = 'runsTable';
    this.table.setAttribute('role', 'grid');
    this.table.setAttribute('aria-multiselectable', 'true');
    this.table.setAttribute('aria-label', 'Runs');
    this.table.append(h('thead'), h('tbody'));
    this.wrap.append(this.table);
    root.append(bar, this.filterError, this.chooser, this.wrap);

    this.filterInput.addEventListener('input', () => {
      ui.filter = this.filterInput.value;
      this.changed();
    });
    this.groupToggle.addEventListener('change', () => {
      ui.groupBySweep = this.groupToggle.checked;
      this.changed();
    });
    this.chooserBtn.addEventListener('click', () => this.toggleChooser());
    this.table.tHead!.addEventListener('click', (e) => this.onHeadClick(e));
    this.table.tHead!.addEventListener('keydown', (e) => {
      const th = (e.target as HTMLElement).closest<HTMLElement>('th[data-key]');
      if (th && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.sortBy(th.dataset.key!);
      }
    });
    const body = this.table.tBodies[0];
    body.addEventListener('click', (e) => this.onRowClick(e));
    body.addEventListener('keydown', (e) => this.onRowKey(e));
    this.wrap.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // The scroll window's size, kept by an observer: reading it while rendering (after the filter box
    // changed, say) would force a layout of the old table first.
    new ResizeObserver(() => {
      const before = this.viewport;
      this.viewport = this.readViewport();
      if (before.height !== this.viewport.height || before.width !== this.viewport.width) this.renderWindow();
    }).observe(this.wrap);
  }

  /** New data (run list, settings): redraw. */
  update(runs: PanelRun[], settings: PanelSettings): void {
    this.runs = runs;
    this.settings = settings;
    // First draw since the tab opened: the observer has not reported the size yet. Reading it now costs a
    // layout of a table not drawn yet, and spares drawing every column once.
    if (!this.viewport.width) this.viewport = this.readViewport();
    this.render();
  }

  private changed(): void {
    this.cb.save();
    this.render();
  }

  /** The ids of the rows as shown, in order. */
  order(): string[] {
    return this.view ? this.view.rows.map((r) => r.run.id) : [];
  }

  selectedIds(): string[] {
    return this.order().filter((id) => this.sel.selected.has(id));
  }

  csv(): string {
    return this.view ? tableCsv(this.view.columns, this.view.rows, this.now) : '';
  }

  render(): void {
    const t0 = performance.now();
    this.now = Date.now();
    const v = buildTableView(this.runs, this.settings, this.ui, this.now);
    this.view = v;
    this.lastBuildMs = performance.now() - t0;
    pruneSelection(this.sel, new Set(v.rows.map((r) => r.run.id)));
    this.filterError.hidden = !v.filterError;
    this.filterError.textContent = v.filterError ? `Filter not applied: ${v.filterError}` : '';
    this.filterInput.setAttribute('aria-invalid', String(!!v.filterError));
    this.renderHead(v.columns);
    this.renderBody(v);
    this.syncSelection();
    if (!this.chooser.hidden) this.renderChooser();
    this.lastRenderMs = performance.now() - t0;
  }

  /**
   * Fixed column widths (table-layout: fixed): the browser then lays out the table without measuring every
   * cell's text, which with ~70 columns cost far more than drawing the rows did. Widths in ch of the
   * table's monospace font, from the header label and what the column holds; a longer value is cut with an
   * ellipsis (its cell's text is in the CSV and the filter all the same).
   */
  private renderColgroup(cols: Column[]): void {
    const cg = h('colgroup');
    const sel = h('col');
    sel.style.width = '28px';
    cg.append(sel);
    let total = 0;
    for (const c of cols) {
      const w = columnWidthCh(c);
      total += w;
      const col = h('col');
      col.style.width = `${w}ch`;
      cg.append(col);
    }
    this.table.querySelector('colgroup')?.remove();
    this.table.prepend(cg);
    this.table.style.width = `calc(${total}ch + 28px)`;
  }

  /** The header drawn: its columns (key and label) — a re-render with the same ones only updates the sort marks. */
  private headSig = '';

  private renderHead(cols: Column[]): void {
    const sig = cols.map((c) => `${c.key}\t${c.label}`).join('\n');
    if (sig === this.headSig && this.table.tHead!.rows.length) {
      const sort = this.ui.sort;
      for (const th of this.table.tHead!.querySelectorAll<HTMLElement>('th[data-key]')) {
        const dir = sort && sort.key === th.dataset.key ? sort.dir : null;
        th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none');
        th.classList.toggle('sorted-asc', dir === 'asc');
        th.classList.toggle('sorted-desc', dir === 'desc');
      }
      return;
    }
    this.headSig = sig;
    this.renderColgroup(cols);
    const tr = h('tr');
    const all = h('th', 'select-col');
    all.scope = 'col';
    const cb = h('input');
    cb.type = 'checkbox';
    cb.id = 'selectAllRuns';
    cb.setAttribute('aria-label', 'Select all shown runs');
    cb.addEventListener('change', () => {
      toggleAll(this.sel, this.order());
      this.syncSelection();
    });
    all.append(cb);
    tr.append(all);
    const sort = this.ui.sort;
    for (const c of cols) {
      const th = h('th', `col-${c.group}`, c.label);
      th.scope = 'col';
      th.dataset.key = c.key;
      th.title = c.title;
      th.tabIndex = 0;
      const dir = sort?.key === c.key ? sort.dir : null;
      th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none');
      if (dir) th.classList.add(`sorted-${dir}`);
      if (c.kind !== 'text') th.classList.add('num');
      tr.append(th);
    }
    this.table.tHead!.replaceChildren(tr);
    const keys = cols.map((c) => c.key).join('\n');
    if (keys !== this.colKeys || this.colEdges.length !== cols.length) {
      this.colKeys = keys;
      // From the fixed widths (no layout needed): the width of one ch of the table's font, measured once.
      const ch = this.chPx();
      let x = 28;
      this.colEdges = ch > 0 ? cols.map((c) => [x, (x += columnWidthCh(c) * ch)]) : [];
    }
  }

  private chWidth = 0;
  /** Pixels per ch in the table's font (0 while the table is not laid out: hidden tab). */
  private chPx(): number {
    if (this.chWidth > 0) return this.chWidth;
    const probe = h('span', 'ch-probe', '0'.repeat(100));
    this.table.tHead!.rows[0]?.cells[0]?.append(probe);
    const w = probe.getBoundingClientRect().width / 100;
    probe.remove();
    if (w > 0) this.chWidth = w;
    return w;
  }

  /**
   * Only the rows in view (plus OVERSCAN either side) are in the DOM; spacer rows above and below keep the
   * scroll height. Measured: drawing all 500 rows × ~70 columns took seconds of script and layout.
   */
  private renderBody(v: TableView): void {
    this.count.textContent = v.rows.length === v.total ? `${v.total} runs` : `${v.rows.length} of ${v.total} runs`;
    this.drawnRange = null;
    this.renderWindow();
  }

  /** Rows drawn beyond the view above and below, and px of columns beyond it left and right. */
  private static readonly OVERSCAN = 6;
  private static readonly OVERSCAN_PX = 240;
  /** Row height in px, measured on the first row drawn (all rows are one line: white-space nowrap). */
  private rowHeight = 0;
  /** Rows [from, to) and columns [c0, c1) drawn. */
  private drawnRange: [number, number, number, number] | null = null;
  private scrollPending = false;

  private onScroll(): void {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      this.viewport = this.readViewport();
      this.renderWindow();
    });
  }

  private readViewport(): { top: number; height: number; left: number; width: number } {
    const w = this.wrap;
    return { top: w.scrollTop, height: w.clientHeight, left: w.scrollLeft, width: w.clientWidth };
  }

  /** The columns in view (plus OVERSCAN_PX either side), as [first, end) indices into view.columns. */
  private visibleCols(n: number): [number, number] {
    const edges = this.colEdges;
    if (edges.length !== n || !this.viewport.width) return [0, n];
    const lo = this.viewport.left - RunsTableView.OVERSCAN_PX;
    const hi = this.viewport.left + this.viewport.width + RunsTableView.OVERSCAN_PX;
    let a = 0;
    while (a < n && edges[a][1] < lo) a++;
    let b = a;
    while (b < n && edges[b][0] <= hi) b++;
    return [a, Math.max(b, Math.min(n, a + 1))];
  }

  private visibleRange(n: number): [number, number] {
    const h = this.rowHeight || 22;
    const o = RunsTableView.OVERSCAN;
    const viewH = this.viewport.height || 800;
    const rows = Math.ceil(viewH / h);
    // Fewer rows than before (a filter): the browser clamps the scroll position, and so do we.
    const first = Math.max(0, Math.min(Math.floor(this.viewport.top / h), n - rows) - o);
    return [first, Math.min(n, first + rows + 2 * o)];
  }

  /**
   * The rows drawn, kept between draws: a new filter, sort or scroll position fills the same <tr>/<td>
   * elements with other runs (text and attributes set where they differ) instead of building new ones, so
   * the browser restyles almost nothing (building ~50 rows × ~20 cells anew cost more in style and layout
   * than all the filter's script). Dropped when the columns drawn change.
   */
  private slots: HTMLTableRowElement[] = [];
  private slotCols = '';
  private readonly topSpacer = this.spacerRow();
  private readonly bottomSpacer = this.spacerRow();
  private readonly emptyRow = h('tr');

  private spacerRow(): HTMLTableRowElement {
    const tr = h('tr', 'spacer');
    tr.setAttribute('aria-hidden', 'true');
    tr.append(h('td'));
    return tr;
  }

  /** Draw the rows of the current scroll window (no-op when it is the one drawn). */
  private renderWindow(): void {
    const v = this.view;
    if (!v) return;
    const [from, to] = this.visibleRange(v.items.length);
    const [c0, c1] = this.visibleCols(v.columns.length);
    const d = this.drawnRange;
    if (d && d[0] === from && d[1] === to && d[2] === c0 && d[3] === c1) return;
    this.drawnRange = [from, to, c0, c1];
    const ncols = v.columns.length;
    const cols = v.columns.slice(c0, c1);
    const body = this.table.tBodies[0];
    const ncol = v.columns.length + 1;
    const hadFocus = body.contains(document.activeElement);
    const colSig = `${c0}\t${c1}\t${ncols}\n${cols.map((c) => c.key).join('\n')}`;
    if (colSig !== this.slotCols || body.firstChild !== this.topSpacer) {
      this.slotCols = colSig;
      this.slots = [];
      body.replaceChildren(this.topSpacer, this.emptyRow, this.bottomSpacer);
    }
    const spacer = (tr: HTMLTableRowElement, rows: number) => {
      tr.hidden = rows === 0;
      const td = tr.cells[0];
      if (td.colSpan !== ncol) td.colSpan = ncol;
      const height = `${rows * (this.rowHeight || 22)}px`;
      if (td.style.height !== height) td.style.height = height; // CSSOM (the CSP forbids style attributes)
    };
    spacer(this.topSpacer, from);
    spacer(this.bottomSpacer, Math.max(0, v.items.length - to));
    this.emptyRow.hidden = v.items.length > 0;
    if (v.items.length === 0) {
      const td = h('td', 'muted', v.total === 0 ? 'No runs yet.' : 'No run matches the filter.');
      td.colSpan = ncol;
      this.emptyRow.replaceChildren(td);
    }
    const now = this.now;
    let k = 0;
    for (let i = from; i < to; i++, k++) {
      const it = v.items[i];
      let tr = this.slots[k];
      const isGroup = it.kind === 'group';
      if (!tr || tr.classList.contains('group-row') !== isGroup) {
        const fresh = isGroup ? this.groupRow(ncol) : this.runRow(c0, c1, ncols, cols.length);
        if (tr) tr.replaceWith(fresh);
        else body.insertBefore(fresh, this.bottomSpacer);
        this.slots[k] = tr = fresh;
      }
      if (it.kind === 'group') {
        tr.dataset.sweep = it.sweepId ?? '';
        setText(tr.cells[0], `${it.sweepId === null ? 'Not in a sweep' : `Sweep ${it.sweepId}`} · ${it.count} run${it.count === 1 ? '' : 's'}`);
        continue;
      }
      const r = it.row;
      const cls = `run-row status-${r.run.status}`;
      if (!tr.classList.contains(`status-${r.run.status}`)) tr.className = cls;
      tr.dataset.id = r.run.id;
      tr.setAttribute('aria-rowindex', String(i + 2));
      const cb = tr.cells[0].firstChild as HTMLInputElement;
      cb.setAttribute('aria-label', `Select ${r.name}`);
      let ci = c0 > 0 ? 2 : 1;
      for (const c of cols) {
        const td = tr.cells[ci++];
        const val = c.value(r, now);
        if (c.key === 'status') setText(td.lastChild as Text, ` ${formatCell(c, val)}`);
        else setText(td, formatCell(c, val));
        const tip = c.cellTitle?.(r) ?? '';
        if (td.title !== tip) td.title = tip;
      }
    }
    for (const tr of this.slots.splice(k)) tr.remove();
    this.table.setAttribute('aria-rowcount', String(v.items.length + 1));
    if (!this.rowHeight) {
      const first = body.querySelector<HTMLElement>('tr.run-row');
      if (first && first.offsetHeight > 0) {
        this.rowHeight = first.offsetHeight;
        // The spacers were sized with a guess: redraw once with the real height.
        this.drawnRange = null;
        this.renderWindow();
        return;
      }
    }
    this.syncSelection();
    if (hadFocus) this.focusRow(this.sel.focus, false);
  }

  private groupRow(ncol: number): HTMLTableRowElement {
    const tr = h('tr', 'group-row');
    const td = h('td');
    td.colSpan = ncol;
    tr.append(td);
    return tr;
  }

  /** An empty run row for the columns [c0, c1) of ncols: checkbox, blank cells for the columns out of view. */
  private runRow(c0: number, c1: number, ncols: number, n: number): HTMLTableRowElement {
    const cols = this.view!.columns;
    const tr = h('tr', 'run-row');
    tr.tabIndex = -1;
    const sc = h('td', 'select-col');
    const cb = h('input');
    cb.type = 'checkbox';
    cb.tabIndex = -1;
    sc.append(cb);
    tr.append(sc);
    // Columns scrolled far out of view are one empty cell each side (the colgroup keeps the widths).
    if (c0 > 0) tr.append(blankCell(c0));
    for (let j = 0; j < n; j++) {
      const c = cols[c0 + j];
      const td = h('td');
      if (c.kind !== 'text') td.className = 'num';
      if (c.key === 'status') {
        const dot = h('span', 'status-dot');
        dot.setAttribute('aria-hidden', 'true');
        td.append(dot, document.createTextNode(''));
      }
      tr.append(td);
    }
    if (c1 < ncols) tr.append(blankCell(ncols - c1));
    return tr;
  }

  /** Selection and focus onto the rows drawn (no redraw), and the buttons that apply to the selection. */
  private syncSelection(): void {
    const body = this.table.tBodies[0];
    const focusId = this.sel.focus ?? this.order()[0] ?? null;
    const drawn = body.querySelectorAll<HTMLTableRowElement>('tr.run-row');
    let tabStop = false;
    for (const tr of drawn) {
      const id = tr.dataset.id!;
      const on = this.sel.selected.has(id);
      tr.setAttribute('aria-selected', String(on));
      tr.classList.toggle('selected', on);
      (tr.cells[0].firstChild as HTMLInputElement).checked = on;
      tr.tabIndex = id === focusId ? 0 : -1;
      tabStop ||= id === focusId;
    }
    // The focused row may be scrolled out of the drawn window: keep the table reachable by Tab.
    if (!tabStop && drawn.length) drawn[0].tabIndex = 0;
    const order = this.order();
    const n = order.filter((id) => this.sel.selected.has(id)).length;
    const all = this.table.querySelector<HTMLInputElement>('#selectAllRuns');
    if (all) {
      all.checked = n > 0 && n === order.length;
      all.indeterminate = n > 0 && n < order.length;
    }
    const runs = this.view ? this.view.rows.filter((r) => this.sel.selected.has(r.run.id)).map((r) => r.run) : [];
    const enable: Record<RunAction, boolean> = {
      plot: n >= 1,
      diff: n >= 2,
      stop: runs.some((r) => r.status === 'running'),
      resume: runs.some((r) => r.status === 'stopped' || r.status === 'failed'),
      delete: n >= 1 && runs.every((r) => r.status !== 'running'),
      editNotes: n === 1,
      stopSweep: runs.some((r) => !!r.sweep),
    };
    for (const [a, b] of this.buttons) b.disabled = !enable[a];
  }

  /** Focus a row, scrolling it into the drawn window first when it is outside. */
  private focusRow(id: string | null, scroll = true): void {
    if (id === null || !this.view) return;
    if (scroll) {
      const i = this.view.items.findIndex((it) => it.kind === 'row' && it.row.run.id === id);
      const h = this.rowHeight || 22;
      const head = this.table.tHead!.offsetHeight;
      const top = i * h;
      const wrap = this.wrap;
      if (i >= 0 && (top < wrap.scrollTop || top + h + head > wrap.scrollTop + wrap.clientHeight)) {
        wrap.scrollTop = top < wrap.scrollTop ? top : top + h + head - wrap.clientHeight;
        this.viewport = this.readViewport();
        this.renderWindow();
      }
    }
    const tr = this.table.tBodies[0].querySelector<HTMLElement>(`tr.run-row[data-id="${CSS.escape(id)}"]`);
    tr?.focus({ preventScroll: !scroll });
  }

  private onRowClick(e: MouseEvent): void {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.run-row');
    if (!tr) return;
    const onBox = (e.target as HTMLElement).matches('input[type="checkbox"]');
    clickRow(this.sel, tr.dataset.id!, { toggle: onBox || e.ctrlKey || e.metaKey, range: e.shiftKey }, this.order());
    if (e.shiftKey) window.getSelection()?.removeAllRanges();
    this.syncSelection();
    // No scroll: the row is where it was clicked (focus would pull a scrolled-right table back left).
    tr.focus({ preventScroll: true });
  }

  private onRowKey(e: KeyboardEvent): void {
    const order = this.order();
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.run-row');
    if (tr && this.sel.focus !== tr.dataset.id) this.sel.focus = tr.dataset.id!;
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        moveFocus(this.sel, e.key === 'ArrowDown' ? 1 : -1, order, e.shiftKey);
        break;
      case 'Home':
      case 'End':
        moveFocus(this.sel, e.key === 'Home' ? -order.length : order.length, order, e.shiftKey);
        break;
      case ' ':
        toggleFocused(this.sel);
        break;
      case 'a':
        if (e.ctrlKey || e.metaKey) toggleAll(this.sel, order);
        else handled = false;
        break;
      case 'Enter':
        if (this.sel.focus) this.cb.action('plot', this.selectedIds().length ? this.selectedIds() : [this.sel.focus]);
        break;
      default:
        handled = false;
    }
    if (!handled) return;
    e.preventDefault();
    this.syncSelection();
    this.focusRow(this.sel.focus);
  }

  private onHeadClick(e: MouseEvent): void {
    const th = (e.target as HTMLElement).closest<HTMLElement>('th[data-key]');
    if (th) this.sortBy(th.dataset.key!);
  }

  private sortBy(key: string): void {
    this.ui.sort = nextSort(this.ui.sort, key);
    this.changed();
    this.table.tHead!.querySelector<HTMLElement>(`th[data-key="${CSS.escape(key)}"]`)?.focus();
  }

  private act(action: RunAction): void {
    const ids = this.selectedIds();
    if (ids.length) this.cb.action(action, ids);
  }

  // ---------------------------------------------------------------- column chooser

  private toggleChooser(): void {
    this.chooser.hidden = !this.chooser.hidden;
    this.chooserBtn.setAttribute('aria-expanded', String(!this.chooser.hidden));
    if (!this.chooser.hidden) {
      this.renderChooser();
      this.chooser.querySelector<HTMLInputElement>('input')?.focus();
    }
  }

  private setColumnShown(c: Column, on: boolean): void {
    const shown = new Set(this.ui.columns.shown);
    const hidden = new Set(this.ui.columns.hidden);
    shown.delete(c.key);
    hidden.delete(c.key);
    if (on && !c.defaultShown) shown.add(c.key);
    if (!on && c.defaultShown) hidden.add(c.key);
    this.ui.columns = { shown: [...shown], hidden: [...hidden] };
    this.changed();
    this.chooser.querySelector<HTMLElement>(`input[data-key="${CSS.escape(c.key)}"]`)?.focus();
  }

  private renderChooser(): void {
    const v = this.view;
    if (!v) return;
    const visible = new Set(v.columns.map((c) => c.key));
    const search = this.chooser.querySelector<HTMLInputElement>('input.chooser-search')?.value ?? '';
    const frag = document.createDocumentFragment();
    const head = h('div', 'chooser-head');
    const s = h('input', 'chooser-search');
    s.type = 'search';
    s.placeholder = 'Find a column';
    s.setAttribute('aria-label', 'Find a column');
    s.value = search;
    s.addEventListener('input', () => {
      this.renderChooser();
      this.chooser.querySelector<HTMLInputElement>('input.chooser-search')?.focus();
    });
    const reset = h('button', 'icon-btn', 'Defaults');
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
      const cols = v.allColumns.filter((c) => c.group === g && (!q || c.key.toLowerCase().includes(q) || c.label.toLowerCase().includes(q)));
      if (!cols.length) continue;
      const fs = h('fieldset');
      fs.append(h('legend', undefined, GROUP_LABEL[g]));
      for (const c of cols) {
        const l = h('label');
        const cb = h('input');
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
    this.chooser.replaceChildren(frag);
  }
}

/**
 * The runs table itself, with 2-D virtual scrolling: only the rows in view (plus an overscan) are in the
 * DOM, spacer rows above and below keep the scroll height, and columns scrolled far left or right are one
 * blank cell each side (the colgroup keeps the widths). Measured: drawing all 500 rows × ~70 columns took
 * seconds of script and layout. The checkbox, status and name columns are frozen (position: sticky, and
 * always drawn): scrolled sideways to a metric, every row keeps its name. The header is tableHead.ts, the
 * geometry gridGeometry.ts.
 */
import type { Column } from './columns';
import { formatCell } from './cellFormat';
import { el, setText } from './dom';
import {
  columnEdges,
  frozenCount,
  frozenLefts,
  ROW_PX_GUESS,
  scrollTopToShow,
  visibleCols,
  visibleRows,
  type Viewport,
} from './gridGeometry';
import type { SortSpec } from './sort';
import { TableHead, type TableHeadCallbacks } from './tableHead';
import type { TableView } from './tableModel';

export interface VirtualGridCallbacks extends TableHeadCallbacks {
  /** Rows were drawn (another window, or other rows): paint the selection on them; focus the focused row
   *  again when the table had the focus (its <tr> may be another one now). */
  drawn(hadFocus: boolean): void;
}

function blankCell(span: number): HTMLTableCellElement {
  const td = el('td', 'blank');
  td.colSpan = span;
  return td;
}

function spacerRow(): HTMLTableRowElement {
  const tr = el('tr', 'spacer');
  tr.setAttribute('aria-hidden', 'true');
  tr.append(el('td'));
  return tr;
}

function groupRow(ncol: number): HTMLTableRowElement {
  const tr = el('tr', 'group-row');
  const td = el('td');
  td.colSpan = ncol;
  tr.append(td);
  return tr;
}

export class VirtualGrid {
  readonly table: HTMLTableElement;
  /** The scroll window. */
  readonly wrap: HTMLElement;
  readonly head: TableHead;
  private v: TableView | null = null;
  /** The time the rows' values are read at (durations of running runs): the last render's. */
  private now = Date.now();
  /** The scroll window's geometry, read before the DOM is touched. */
  private viewport: Viewport = { top: 0, height: 0, left: 0, width: 0 };
  /** Left and right edge (px) of each visible column, measured on the header when the columns change. */
  private colEdges: [number, number][] = [];
  private colKeys = '';
  /** The frozen columns whose sticky offsets are set on the table (CSS variables --frozen-left-j). */
  private frozenKeys = '';
  private chWidth = 0;
  /** Row height in px, measured on the first row drawn (all rows are one line: white-space nowrap). */
  private rowHeight = 0;
  /** Rows [from, to) and columns [c0, c1) drawn. */
  private drawnRange: [number, number, number, number] | null = null;
  private scrollPending = false;
  /**
   * The rows drawn, kept between draws: a new filter, sort or scroll position fills the same <tr>/<td>
   * elements with other runs (text and attributes set where they differ) instead of building new ones, so
   * the browser restyles almost nothing (building ~50 rows × ~20 cells anew cost more in style and layout
   * than all the filter's script). Dropped when the columns drawn change.
   */
  private slots: HTMLTableRowElement[] = [];
  private slotCols = '';
  private readonly topSpacer = spacerRow();
  private readonly bottomSpacer = spacerRow();
  private readonly emptyRow = el('tr');

  constructor(
    root: HTMLElement,
    private readonly cb: VirtualGridCallbacks,
  ) {
    this.wrap = el('div', 'runs-table-wrap');
    this.table = el('table', 'runs-table');
    this.table.id = 'runsTable';
    this.table.setAttribute('role', 'grid');
    this.table.setAttribute('aria-multiselectable', 'true');
    this.table.setAttribute('aria-label', 'Runs');
    this.table.append(el('thead'), el('tbody'));
    this.wrap.append(this.table);
    root.append(this.wrap);
    this.head = new TableHead(this.table, cb);

    this.wrap.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // The scroll window's size, kept by an observer: reading it while rendering (after the filter box
    // changed, say) would force a layout of the old table first.
    new ResizeObserver(() => {
      const before = this.viewport;
      this.viewport = this.readViewport();
      if (before.height !== this.viewport.height || before.width !== this.viewport.width) this.renderWindow();
    }).observe(this.wrap);
  }

  get body(): HTMLTableSectionElement {
    return this.table.tBodies[0];
  }

  /** First draw since the tab opened: the observer has not reported the size yet. Reading it now costs a
   *  layout of a table not drawn yet, and spares drawing every column once. */
  measureIfUnknown(): void {
    if (!this.viewport.width) this.viewport = this.readViewport();
  }

  /** Draw a new table view: the header, then the rows of the current scroll window. */
  render(v: TableView, sort: SortSpec | null, now: number): void {
    this.v = v;
    this.now = now;
    if (this.head.render(v.columns, sort)) this.measureColumns(v.columns);
    this.drawnRange = null;
    this.renderWindow();
  }

  private measureColumns(cols: readonly Column[]): void {
    const keys = cols.map((c) => c.key).join('\n');
    if (keys !== this.colKeys || this.colEdges.length !== cols.length) {
      this.colKeys = keys;
      // From the fixed widths (no layout needed): the width of one ch of the table's font, measured once.
      this.colEdges = columnEdges(cols, this.chPx());
    }
  }

  /** Pixels per ch in the table's font (0 while the table is not laid out: hidden tab). */
  private chPx(): number {
    if (this.chWidth > 0) return this.chWidth;
    const probe = el('span', 'ch-probe', '0'.repeat(100));
    this.table.tHead!.rows[0]?.cells[0]?.append(probe);
    const w = probe.getBoundingClientRect().width / 100;
    probe.remove();
    if (w > 0) this.chWidth = w;
    return w;
  }

  private onScroll(): void {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      this.viewport = this.readViewport();
      this.renderWindow();
    });
  }

  private readViewport(): Viewport {
    const w = this.wrap;
    return { top: w.scrollTop, height: w.clientHeight, left: w.scrollLeft, width: w.clientWidth };
  }

  /** Draw the rows of the current scroll window (no-op when it is the one drawn). */
  private renderWindow(): void {
    const v = this.v;
    if (!v) return;
    const [from, to] = visibleRows(this.viewport, this.rowHeight, v.items.length);
    // The frozen columns are drawn wherever the table is scrolled; the window covers the others.
    const f = frozenCount(v.columns);
    this.pinFrozen(v.columns, f);
    const vc = visibleCols(this.colEdges, this.viewport, v.columns.length);
    const c0 = Math.max(vc[0], f);
    const c1 = Math.max(vc[1], c0);
    const d = this.drawnRange;
    if (d && d[0] === from && d[1] === to && d[2] === c0 && d[3] === c1) return;
    this.drawnRange = [from, to, c0, c1];
    const ncols = v.columns.length;
    const cols = [...v.columns.slice(0, f), ...v.columns.slice(c0, c1)];
    const body = this.body;
    const ncol = v.columns.length + 1;
    const hadFocus = body.contains(document.activeElement);
    const colSig = `${f}\t${c0}\t${c1}\t${ncols}\n${cols.map((c) => c.key).join('\n')}`;
    if (colSig !== this.slotCols || body.firstChild !== this.topSpacer) {
      this.slotCols = colSig;
      this.slots = [];
      body.replaceChildren(this.topSpacer, this.emptyRow, this.bottomSpacer);
    }
    const spacer = (tr: HTMLTableRowElement, rows: number) => {
      tr.hidden = rows === 0;
      const td = tr.cells[0];
      if (td.colSpan !== ncol) td.colSpan = ncol;
      const height = `${rows * (this.rowHeight || ROW_PX_GUESS)}px`;
      if (td.style.height !== height) td.style.height = height; // CSSOM (the CSP forbids style attributes)
    };
    spacer(this.topSpacer, from);
    spacer(this.bottomSpacer, Math.max(0, v.items.length - to));
    this.emptyRow.hidden = v.items.length > 0;
    if (v.items.length === 0) {
      const td = el('td', 'muted', v.total === 0 ? 'No runs yet.' : 'No run matches the filter.');
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
        const fresh = isGroup ? groupRow(ncol) : this.runRow(v.columns, f, c0, c1);
        if (tr) tr.replaceWith(fresh);
        else body.insertBefore(fresh, this.bottomSpacer);
        this.slots[k] = tr = fresh;
      }
      if (it.kind === 'group') {
        tr.dataset.sweep = it.sweepId ?? '';
        setText(
          tr.cells[0],
          `${it.sweepId === null ? 'Not in a sweep' : `Sweep ${it.sweepId}`} · ${it.count} run${it.count === 1 ? '' : 's'}`,
        );
        continue;
      }
      const r = it.row;
      const cls = `run-row status-${r.run.status}`;
      if (!tr.classList.contains(`status-${r.run.status}`)) tr.className = cls;
      tr.dataset.id = r.run.id;
      tr.setAttribute('aria-rowindex', String(i + 2));
      const cb = tr.cells[0].firstChild as HTMLInputElement;
      cb.setAttribute('aria-label', `Select ${r.name}`);
      let ci = 1;
      for (let k = 0; k < cols.length; k++) {
        const c = cols[k];
        if (k === f && c0 > f) ci++; // the blank cell of the columns scrolled out on the left
        const td = tr.cells[ci++];
        const val = c.value(r, now);
        if (c.key === 'status') setText(td.lastChild as Text, ` ${formatCell(c, val)}`);
        else setText(td, c.cellText?.(r, now) ?? formatCell(c, val));
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
    this.cb.drawn(hadFocus);
  }

  /** An empty run row for the frozen columns [0, f) and the columns [c0, c1): checkbox, blank cells for
   *  the columns out of view. */
  private runRow(all: readonly Column[], f: number, c0: number, c1: number): HTMLTableRowElement {
    const tr = el('tr', 'run-row');
    tr.tabIndex = -1;
    const sc = el('td', 'select-col');
    const cb = el('input');
    cb.type = 'checkbox';
    cb.tabIndex = -1;
    sc.append(cb);
    tr.append(sc);
    const cell = (j: number) => {
      const c = all[j];
      const td = el('td');
      if (c.kind !== 'text') td.className = 'num';
      if (j < f) td.classList.add('frozen', `frozen-${j}`, ...(j === f - 1 ? ['frozen-last'] : []));
      if (c.key === 'status') {
        const dot = el('span', 'status-dot');
        dot.setAttribute('aria-hidden', 'true');
        td.append(dot, document.createTextNode(''));
      }
      tr.append(td);
    };
    for (let j = 0; j < f; j++) cell(j);
    // Columns scrolled far out of view are one empty cell each side (the colgroup keeps the widths).
    if (c0 > f) tr.append(blankCell(c0 - f));
    for (let j = c0; j < c1; j++) cell(j);
    if (c1 < all.length) tr.append(blankCell(all.length - c1));
    return tr;
  }

  /** The frozen columns' sticky offsets, as CSS variables on the table (the cells' classes use them; the
   *  CSP allows no style attributes), set once the font's ch is known (not while the tab is hidden). */
  private pinFrozen(cols: readonly Column[], f: number): void {
    const keys = cols
      .slice(0, f)
      .map((c) => c.key)
      .join('\n');
    if (keys === this.frozenKeys) return;
    const ch = this.chPx();
    if (!ch) return;
    this.frozenKeys = keys;
    frozenLefts(cols, f, ch).forEach((x, j) => this.table.style.setProperty(`--frozen-left-${j}`, `${x}px`));
  }

  /** Selection and the tab stop onto the rows drawn (no redraw). */
  paintSelection(selected: ReadonlySet<string>, focusId: string | null): void {
    const drawn = this.body.querySelectorAll<HTMLTableRowElement>('tr.run-row');
    let tabStop = false;
    for (const tr of drawn) {
      const id = tr.dataset.id!;
      const on = selected.has(id);
      tr.setAttribute('aria-selected', String(on));
      tr.classList.toggle('selected', on);
      (tr.cells[0].firstChild as HTMLInputElement).checked = on;
      tr.tabIndex = id === focusId ? 0 : -1;
      tabStop ||= id === focusId;
    }
    // The focused row may be scrolled out of the drawn window: keep the table reachable by Tab.
    if (!tabStop && drawn.length) drawn[0].tabIndex = 0;
  }

  /** Focus a row, scrolling it into the drawn window first when it is outside. */
  focusRow(id: string | null, scroll = true): void {
    if (id === null || !this.v) return;
    if (scroll) {
      const i = this.v.items.findIndex((it) => it.kind === 'row' && it.row.run.id === id);
      const head = this.table.tHead!.offsetHeight;
      const wrap = this.wrap;
      const top = scrollTopToShow(i, this.rowHeight || ROW_PX_GUESS, head, wrap.scrollTop, wrap.clientHeight);
      if (top !== null) {
        wrap.scrollTop = top;
        this.viewport = this.readViewport();
        this.renderWindow();
      }
    }
    const tr = this.body.querySelector<HTMLElement>(`tr.run-row[data-id="${CSS.escape(id)}"]`);
    tr?.focus({ preventScroll: !scroll });
  }
}

/**
 * The runs table's header row and column widths: a select-all checkbox, one sortable header per column
 * (click, Enter or Space sorts; aria-sort says how), and a colgroup of fixed widths (table-layout: fixed:
 * the browser then lays out the table without measuring every cell's text, which with ~70 columns cost
 * far more than drawing the rows did; a longer value is cut with an ellipsis).
 */
import type { Column } from './columns';
import { el } from './dom';
import { columnWidthCh, frozenCount, SELECT_COL_PX } from './gridGeometry';
import type { SortSpec } from './sort';

export interface TableHeadCallbacks {
  sort(key: string): void;
  selectAll(): void;
}

function ariaSort(dir: 'asc' | 'desc' | null): string {
  return dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none';
}

export class TableHead {
  /** The header drawn: its columns (key and label) — a re-render with the same ones only updates the sort marks. */
  private sig = '';

  constructor(
    private readonly table: HTMLTableElement,
    private readonly cb: TableHeadCallbacks,
  ) {
    const head = table.tHead!;
    head.addEventListener('click', (e) => {
      const th = (e.target as HTMLElement).closest<HTMLElement>('th[data-key]');
      if (th) cb.sort(th.dataset.key!);
    });
    head.addEventListener('keydown', (e) => {
      const th = (e.target as HTMLElement).closest<HTMLElement>('th[data-key]');
      if (th && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        cb.sort(th.dataset.key!);
      }
    });
  }

  /** Draw the header for these columns; true when it was built anew (other columns), false for sort marks only. */
  render(cols: readonly Column[], sort: SortSpec | null): boolean {
    const head = this.table.tHead!;
    const sig = cols.map((c) => `${c.key}\t${c.label}`).join('\n');
    if (sig === this.sig && head.rows.length) {
      for (const th of head.querySelectorAll<HTMLElement>('th[data-key]')) {
        const dir = sort && sort.key === th.dataset.key ? sort.dir : null;
        th.setAttribute('aria-sort', ariaSort(dir));
        th.classList.toggle('sorted-asc', dir === 'asc');
        th.classList.toggle('sorted-desc', dir === 'desc');
      }
      return false;
    }
    this.sig = sig;
    this.renderColgroup(cols);
    const tr = el('tr');
    const all = el('th', 'select-col');
    all.scope = 'col';
    const cb = el('input');
    cb.type = 'checkbox';
    cb.id = 'selectAllRuns';
    cb.setAttribute('aria-label', 'Select all shown runs');
    cb.addEventListener('change', () => this.cb.selectAll());
    all.append(cb);
    tr.append(all);
    const f = frozenCount(cols);
    for (const [j, c] of cols.entries()) {
      const th = el('th', `col-${c.group}`, c.label);
      // Frozen (sticky) like their cells: the name stays over the names (virtualGrid.ts).
      if (j < f) th.classList.add('frozen', `frozen-${j}`, ...(j === f - 1 ? ['frozen-last'] : []));
      th.scope = 'col';
      th.dataset.key = c.key;
      th.title = c.title;
      th.tabIndex = 0;
      const dir = sort?.key === c.key ? sort.dir : null;
      th.setAttribute('aria-sort', ariaSort(dir));
      if (dir) th.classList.add(`sorted-${dir}`);
      if (c.kind !== 'text') th.classList.add('num');
      tr.append(th);
    }
    head.replaceChildren(tr);
    return true;
  }

  /** The select-all checkbox for n of total rows selected. */
  paintSelectAll(n: number, total: number): void {
    const all = this.table.querySelector<HTMLInputElement>('#selectAllRuns');
    if (all) {
      all.checked = n > 0 && n === total;
      all.indeterminate = n > 0 && n < total;
    }
  }

  focus(key: string): void {
    this.table.tHead!.querySelector<HTMLElement>(`th[data-key="${CSS.escape(key)}"]`)?.focus();
  }

  /** Widths in ch of the table's monospace font, from the header label and what the column holds. */
  private renderColgroup(cols: readonly Column[]): void {
    const cg = el('colgroup');
    const sel = el('col');
    sel.style.width = `${SELECT_COL_PX}px`;
    cg.append(sel);
    let total = 0;
    for (const c of cols) {
      const w = columnWidthCh(c);
      total += w;
      const col = el('col');
      col.style.width = `${w}ch`;
      cg.append(col);
    }
    this.table.querySelector('colgroup')?.remove();
    this.table.prepend(cg);
    this.table.style.width = `calc(${total}ch + ${SELECT_COL_PX}px)`;
  }
}

/**
 * Sorting the runs table by one column: numbers numerically, text naturally (`run-2` before `run-10`),
 * and rows without a value last in either direction. Stable: equal rows keep their order (the run list's,
 * newest first). Pure: no DOM.
 */
import type { Column } from './columns';
import type { CellValue } from './cellFormat';
import type { TableRow } from './rows';

export type SortDir = 'asc' | 'desc';
export interface SortSpec {
  key: string;
  dir: SortDir;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function missing(v: CellValue): boolean {
  return v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

/** Compare two present values: numbers before text when a column mixes them. */
export function compareValues(a: CellValue, b: CellValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return collator.compare(String(a), String(b));
}

export function sortRows(rows: readonly TableRow[], col: Column | undefined, dir: SortDir, now: number): TableRow[] {
  if (!col) return [...rows];
  const keyed = rows.map((row, i) => ({ row, i, v: col.value(row, now) }));
  const sign = dir === 'asc' ? 1 : -1;
  keyed.sort((x, y) => {
    const mx = missing(x.v);
    const my = missing(y.v);
    if (mx || my) return mx && my ? x.i - y.i : mx ? 1 : -1;
    return sign * compareValues(x.v, y.v) || x.i - y.i;
  });
  return keyed.map((k) => k.row);
}

/** A header click: a new column sorts ascending, the same column flips, a third click unsorts. */
export function nextSort(current: SortSpec | null, key: string): SortSpec | null {
  if (!current || current.key !== key) return { key, dir: 'asc' };
  return current.dir === 'asc' ? { key, dir: 'desc' } : null;
}

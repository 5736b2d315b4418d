/**
 * The runs table as CSV, as shown: the visible columns (header = the column key, so a sheet's columns read
 * back to the filter's names), the rows in their shown order. Numbers are written whole (no rounding);
 * dates as ISO 8601, durations in seconds; text goes through exportCsv's cell rule (quoting, and formula
 * injection neutralised). Pure: no DOM.
 */
import { csvCell } from '../charts/exportCsv';
import type { Column } from './columns';
import type { CellValue } from './cellFormat';
import type { TableRow } from './rows';

function cell(col: Column, v: CellValue): string {
  if (v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '';
    return col.kind === 'date' ? new Date(v).toISOString() : String(v);
  }
  return csvCell(v);
}

export function tableCsv(cols: readonly Column[], rows: readonly TableRow[], now: number): string {
  const lines = [['id', ...cols.map((c) => c.key)].map((k) => csvCell(k)).join(',')];
  for (const r of rows) lines.push([csvCell(r.run.id), ...cols.map((c) => cell(c, c.value(r, now)))].join(','));
  return lines.join('\n') + '\n';
}

export function tableCsvFileName(now: number): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, '0');
  return `runs-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}.csv`;
}

/** How a runs-table cell reads: numbers, durations, dates and the kinds of Column (columns.ts). */

export type ColumnKind = 'text' | 'number' | 'int' | 'date' | 'duration' | 'share' | 'bestStep';

export type CellValue = string | number | undefined;

/** What a cell shows while the host reads the run's metrics (PanelRun.metricsLoading): not blank, which
 *  would read as "no value", and not a value of the lines read so far. */
export const LOADING_CELL = '…';
export const LOADING_CELL_TITLE = 'Loading: the extension is still reading this run’s metrics';

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

export function formatDuration(sec: number): string {
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${pad2(m % 60)}m`;
}

export function formatDate(msSinceEpoch: number): string {
  const d = new Date(msSinceEpoch);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** A value as the table shows it ('' when missing). */
export function formatCell(col: { kind: ColumnKind }, v: CellValue): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  switch (col.kind) {
    case 'date':
      return formatDate(v);
    case 'duration':
      return formatDuration(v);
    case 'share':
      return `${Math.round(v * 1000) / 10} %`;
    case 'int':
      return String(Math.round(v));
    case 'bestStep':
      return `best at step ${Math.round(v)}`;
    case 'text':
      // A config number as written (0.0001, not 1.00e-4).
      return String(v);
    default:
      return formatNumber(v);
  }
}

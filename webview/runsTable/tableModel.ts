/**
 * What the runs table shows, from the run list, the settings and the table's UI state: rows filtered,
 * sorted and (optionally) grouped by sweep, and the columns. Pure: no DOM; the view draws it.
 */
import type { PanelRun, PanelSettings } from '../../src/protocol/panelMessages';
import { deriveColumns, filterableColumns, type Column, type ColumnPrefs } from './columns';
import { applyFilter, parseFilter } from './filter';
import { groupRepeatRows, withRepeatStats } from './repeatRows';
import { tableRows, type TableRow } from './rows';
import { sortRows, type SortDir, type SortSpec } from './sort';

/** The table's part of the persisted UI state. */
export interface TableUiState {
  sort: SortSpec | null;
  filter: string;
  groupBySweep: boolean;
  /** One row per sweep combination for its repeats (repeatRows.ts): mean ± std (n) in the metric cells. */
  groupRepeats: boolean;
  columns: ColumnPrefs;
}

export function defaultTableState(): TableUiState {
  return { sort: null, filter: '', groupBySweep: false, groupRepeats: false, columns: { shown: [], hidden: [] } };
}

function strArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

/** Restore what we can; a field of the wrong type falls back to its default. */
export function loadTableState(raw: unknown): TableUiState {
  const s = defaultTableState();
  if (typeof raw !== 'object' || raw === null) return s;
  const r = raw as Record<string, unknown>;
  const sort = r.sort as { key?: unknown; dir?: unknown } | null | undefined;
  if (sort && typeof sort.key === 'string' && (sort.dir === 'asc' || sort.dir === 'desc'))
    s.sort = { key: sort.key, dir: sort.dir as SortDir };
  if (typeof r.filter === 'string') s.filter = r.filter;
  if (typeof r.groupBySweep === 'boolean') s.groupBySweep = r.groupBySweep;
  if (typeof r.groupRepeats === 'boolean') s.groupRepeats = r.groupRepeats;
  const c = r.columns as { shown?: unknown; hidden?: unknown } | undefined;
  if (c && strArray(c.shown) && strArray(c.hidden)) s.columns = { shown: c.shown, hidden: c.hidden };
  return s;
}

export type TableItem = { kind: 'group'; sweepId: string | null; count: number } | { kind: 'row'; row: TableRow };

export interface TableView {
  columns: Column[];
  /** Every column (for the chooser). */
  allColumns: Column[];
  /** Rows as shown (filtered, sorted, grouped), and with the group headers. */
  rows: TableRow[];
  items: TableItem[];
  total: number;
  filterError: string | null;
}

/** Group rows by sweep id, groups in order of their first row; runs in no sweep last. */
function grouped(rows: readonly TableRow[]): { rows: TableRow[]; items: TableItem[] } {
  const groups = new Map<string | null, TableRow[]>();
  for (const r of rows) {
    const k = r.run.sweep?.id ?? null;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const keys = [...groups.keys()].sort((a, b) => (a === null ? 1 : 0) - (b === null ? 1 : 0));
  const out: TableRow[] = [];
  const items: TableItem[] = [];
  for (const k of keys) {
    const g = groups.get(k)!;
    items.push({ kind: 'group', sweepId: k, count: g.length });
    for (const r of g) {
      out.push(r);
      items.push({ kind: 'row', row: r });
    }
  }
  return { rows: out, items };
}

/** filterableColumns of the last row set: rows are cached per run object, so the same rows → the same columns. */
let lastFilterable: { rows: TableRow[]; percent: number; cols: Column[] } | null = null;
function filterColumnsOf(all: TableRow[], settings: PanelSettings): Column[] {
  const l = lastFilterable;
  if (l && l.percent === settings.advisorPercent && l.rows.length === all.length && l.rows.every((r, i) => r === all[i])) return l.cols;
  const cols = filterableColumns(all, settings);
  lastFilterable = { rows: all, percent: settings.advisorPercent, cols };
  return cols;
}

/** `only`: the runs to keep besides the filter (the sweep shape's brushes), null for all. */
export function buildTableView(
  runs: readonly PanelRun[],
  settings: PanelSettings,
  ui: TableUiState,
  now: number,
  only: ReadonlySet<string> | null = null,
): TableView {
  const all = tableRows(runs, settings);
  let shown = all;
  let filterError: string | null = null;
  if (ui.filter.trim()) {
    const f = parseFilter(ui.filter, filterColumnsOf(all, settings));
    if (f.ok) shown = applyFilter(all, f.test, now);
    else filterError = f.error;
  }
  if (only) shown = shown.filter((r) => only.has(r.run.id));
  // Grouped repeats: the params shown by default are those that differ among the combinations (not the seed).
  if (ui.groupRepeats) shown = groupRepeatRows(shown, settings);
  const cols = deriveColumns(all, shown, ui.columns, settings);
  if (ui.groupRepeats) {
    cols.all = withRepeatStats(cols.all);
    cols.visible = withRepeatStats(cols.visible);
  }
  const sortCol = ui.sort ? cols.all.find((c) => c.key === ui.sort!.key) : undefined;
  const sorted = sortRows(shown, sortCol, ui.sort?.dir ?? 'asc', now);
  const g = ui.groupBySweep ? grouped(sorted) : { rows: sorted, items: sorted.map((row) => ({ kind: 'row' as const, row })) };
  return { columns: cols.visible, allColumns: cols.all, rows: g.rows, items: g.items, total: all.length, filterError };
}

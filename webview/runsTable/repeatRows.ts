/**
 * "Group repeats" in the runs table: the repeats of one sweep combination (run.json `sweep.combination`,
 * `sweep.repeat`) shown as one row whose metric cells read mean ± std (n). The row stands on a run made
 * for it — the first repeat's, with a summary whose every value is the repeats' mean — so every column
 * (the dim advisor's and the frontier's answers included) reads the combination's mean; metric and funnel
 * cells also say the spread. Runs that are no repeat stay rows of their own. Pure: no DOM.
 */
import { groupRepeats, meanByDim, meanRecord, repeatStats, type RepeatStats } from '../../src/insights/repeats';
import { runDisplayName } from '../../src/insights/runLabel';
import type { PanelRun, PanelRunSummary, PanelSettings } from '../../src/protocol/panelMessages';
import type { RunStatus } from '../../src/protocol/runFolder';
import { formatNumber, type CellValue } from './cellFormat';
import type { Column } from './columns';
import { columnWidthCh } from './gridGeometry';
import { tableRow, type TableRow } from './rows';

/** A combination's row: its repeats' rows, and the stats of a column over them (computed once per column). */
export interface RepeatGroupRow extends TableRow {
  repeats: { rows: TableRow[]; stats: Map<string, RepeatStats | null> };
}

export function isRepeatGroup(r: TableRow): r is RepeatGroupRow {
  return (r as Partial<RepeatGroupRow>).repeats !== undefined;
}

/** The runs a row stands for: a combination's row, every repeat. */
export function memberRuns(r: TableRow): PanelRun[] {
  return isRepeatGroup(r) ? r.repeats.rows.map((m) => m.run) : [r.run];
}

/** The run ids a row stands for. */
export function memberIds(r: TableRow): string[] {
  return memberRuns(r).map((x) => x.id);
}

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Mean over the repeats that have a value; the progress ones (steps) the least advanced repeat's. */
export function meanSummary(list: readonly (PanelRunSummary | undefined)[]): PanelRunSummary | undefined {
  const s = list.filter((x): x is PanelRunSummary => x !== undefined);
  if (!s.length) return undefined;
  const mean = (f: (x: PanelRunSummary) => number | null) => repeatStats(s.map(f))?.mean ?? null;
  const least = (f: (x: PanelRunSummary) => number | null) => {
    const xs = s.map(f).filter((x): x is number => num(x) !== undefined);
    return xs.length ? Math.min(...xs) : null;
  };
  return {
    evalStep: least((x) => x.evalStep),
    last: meanByDim(s.map((x) => x.last)),
    best: meanByDim(s.map((x) => x.best)),
    lastValues: meanRecord(s.map((x) => x.lastValues)),
    loss: mean((x) => x.loss),
    pairsPerSec: mean((x) => x.pairsPerSec),
    lastStep: least((x) => x.lastStep),
  };
}

/** Running while any repeat runs; completed when all did; else the first repeat's other status. */
function groupStatus(runs: readonly PanelRun[]): RunStatus {
  if (runs.some((r) => r.status === 'running')) return 'running';
  return runs.find((r) => r.status !== 'completed')?.status ?? 'completed';
}

function groupRow(members: TableRow[], settings: PanelSettings): RepeatGroupRow {
  const first = members[0].run;
  const sweep = first.sweep ? { ...first.sweep, repeat: undefined } : undefined;
  const run: PanelRun = {
    ...first,
    status: groupStatus(members.map((m) => m.run)),
    sweep,
    summary: meanSummary(members.map((m) => m.run.summary)),
    bestCheckpoints: undefined,
    notes: undefined,
  };
  const row = tableRow(run, settings);
  // The seed is what tells the repeats apart: the combination has none of its own.
  const params = new Map(members[0].params);
  params.delete('seed');
  const starts = members.map((m) => m.startedMs).filter((x): x is number => x !== undefined);
  const ends = members.map((m) => m.endedMs);
  return {
    ...row,
    name: `${runDisplayName({ ...first, notes: undefined, sweep })} · ${members.length} repeat${members.length === 1 ? '' : 's'}`,
    params,
    startedMs: starts.length ? Math.min(...starts) : undefined,
    endedMs: ends.every((x) => x !== undefined) ? Math.max(...(ends as number[])) : undefined,
    haystack: members.map((m) => m.haystack).join('\n'),
    repeats: { rows: members, stats: new Map() },
  };
}

/**
 * Rows with each combination's repeats folded into one row, at the place of the first of them shown; the
 * row is its repeats in repeat order, so it stands on repeat 0 (the config's own seed) where that is shown.
 */
export function groupRepeatRows(rows: readonly TableRow[], settings: PanelSettings): TableRow[] {
  const repeatOf = (r: TableRow) => r.run.sweep?.repeat ?? 0;
  return groupRepeats(rows.map((row) => ({ row, sweep: row.run.sweep }))).map((g) =>
    g.key === null
      ? g.runs[0].row
      : groupRow(
          g.runs.map((x) => x.row).sort((a, b) => repeatOf(a) - repeatOf(b)),
          settings,
        ),
  );
}

function statsOf(r: RepeatGroupRow, c: Column, now: number): RepeatStats | null {
  let s = r.repeats.stats.get(c.key);
  if (s === undefined) r.repeats.stats.set(c.key, (s = repeatStats(r.repeats.rows.map((m) => c.value(m, now)))));
  return s;
}

/** "0.2345 ± 0.01234 (n=10)" fits. */
const STATS_WIDTH_CH = 23;

function formatStat(kind: Column['kind'], v: number): string {
  return kind === 'share' ? `${Math.round(v * 1000) / 10} %` : formatNumber(v);
}

/** "0.2345 ± 0.0123 (n=3)"; one repeat with a value: "0.2345 (n=1)". */
export function formatRepeatStats(s: RepeatStats, kind: Column['kind'] = 'number'): string {
  const mean = formatStat(kind, s.mean);
  return s.n > 1 ? `${mean} ± ${formatStat(kind, s.std)} (n=${s.n})` : `${mean} (n=${s.n})`;
}

/**
 * The columns for grouped rows: a metric or funnel column's value on a combination's row is the mean of its
 * repeats' values (what sorting and filtering read), its text mean ± std (n), its tooltip every value.
 */
export function withRepeatStats(cols: readonly Column[]): Column[] {
  return cols.map((c) => {
    if ((c.group !== 'metric' && c.group !== 'funnel') || (c.kind !== 'number' && c.kind !== 'share')) return c;
    return {
      ...c,
      widthCh: Math.max(columnWidthCh(c), STATS_WIDTH_CH),
      value: (r: TableRow, now: number): CellValue => (isRepeatGroup(r) ? statsOf(r, c, now)?.mean : c.value(r, now)),
      cellText: (r: TableRow, now: number) => {
        if (!isRepeatGroup(r)) return c.cellText?.(r, now);
        const s = statsOf(r, c, now);
        return s ? formatRepeatStats(s, c.kind) : '';
      },
      cellTitle: (r: TableRow) => {
        if (!isRepeatGroup(r)) return c.cellTitle?.(r);
        const now = Date.now();
        const s = statsOf(r, c, now);
        if (!s) return undefined;
        const each = r.repeats.rows.map((m) => {
          const v = c.value(m, now);
          return typeof v === 'number' ? formatStat(c.kind, v) : '–';
        });
        return `mean of ${s.n} repeat${s.n === 1 ? '' : 's'} (${each.join(', ')}); sample std ${formatStat(c.kind, s.std)}, min ${formatStat(c.kind, s.min)}, max ${formatStat(c.kind, s.max)}`;
      },
    };
  });
}

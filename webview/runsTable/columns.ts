/**
 * The runs table's columns: the run's own fields, its params (config values, flattened to dotted paths:
 * by default those that differ among the rows shown), its metrics (per eval metric and dim, last and best;
 * float32 shown by default, the precision variants `int8:ndcg@10@64`, `binary+rescore:ndcg@10@64` … in the
 * column chooser), the steps of the best checkpoints kept (training.keepBest), the funnel figures, the dim
 * advisor's answer and the frontier's (cheapest dim × precision reaching p %). A column's `key` is what the
 * filter and the sort name (`ndcg@10@64`, `best:ndcg@10@64`, `training.learningRate`, `bestCheckpoint@64`,
 * `funnel:ndcg@10`, `advisor:dim`, `frontier:bytes`). Pure: no DOM.
 */
import { formatConfigValue, leafEqual } from '../../src/config/diff';
import { describeAdvice } from '../../src/insights/dimAdvisor';
import { describeFrontierAdvice } from '../../src/insights/frontier';
import { PRECISION_VARIANTS, variantName, variantOf } from '../app/precision';
import type { PanelSettings } from '../../src/protocol/panelMessages';
import type { TableRow } from './rows';
import { formatNumber, type CellValue, type ColumnKind } from './cellFormat';
import { provenanceColumns } from './provenanceColumns';

export type ColumnGroup = 'run' | 'param' | 'metric' | 'funnel' | 'advisor' | 'frontier';
/** How a value is shown (and written to CSV). */

export interface Column {
  key: string;
  label: string;
  /** Header tooltip: what the column is, and its key for filters. */
  title: string;
  group: ColumnGroup;
  kind: ColumnKind;
  /** Shown unless the user hides it (the column chooser). */
  defaultShown: boolean;
  value(row: TableRow, now: number): CellValue;
  /** A cell's tooltip, where the value needs explaining. */
  cellTitle?(row: TableRow): string | undefined;
  /** A cell's text where it says more than its value (a combination of repeats: mean ± std (n)); else formatCell. */
  cellText?(row: TableRow, now: number): string | undefined;
  /** Its width (ch) where that text needs more than the label's (gridGeometry.columnWidthCh). */
  widthCh?: number;
}

/** What the user changed in the column chooser, on top of the defaults. */
export interface ColumnPrefs {
  shown: readonly string[];
  hidden: readonly string[];
}

/** Config paths not shown by default even when they differ: the run's name is the name column. */
const PARAMS_NOT_BY_DEFAULT = new Set(['name']);
/** Metrics in this order first (then by name); the eval loss per dim is there to add, not shown by default. */
const METRIC_ORDER = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100', 'spearman'];
const METRICS_NOT_BY_DEFAULT = new Set(['loss']);

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function runColumns(): Column[] {
  const col = (
    key: string,
    label: string,
    kind: ColumnKind,
    title: string,
    value: Column['value'],
    cellTitle?: Column['cellTitle'],
  ): Column => ({
    key,
    label,
    title: `${title} (key: ${key})`,
    group: 'run',
    kind,
    defaultShown: true,
    value,
    cellTitle,
  });
  return [
    col(
      'status',
      'status',
      'text',
      'Run status',
      (r) => r.run.status,
      (r) => r.run.error,
    ),
    col(
      'name',
      'name',
      'text',
      'Display name (notes), else the run name',
      (r) => r.name,
      (r) => `${r.run.name} (${r.run.id})${r.run.notes?.note ? `\n${r.run.notes.note}` : ''}`,
    ),
    col('tags', 'tags', 'text', 'Tags (notes)', (r) => (r.tags.length ? r.tags.join(', ') : undefined)),
    col('started', 'started', 'date', 'Start time', (r) => r.startedMs),
    col('duration', 'duration', 'duration', 'Seconds from start to end (to now while running)', (r, now) => {
      if (r.startedMs === undefined) return undefined;
      const end = r.endedMs ?? (r.run.status === 'running' ? now : undefined);
      return end === undefined ? undefined : Math.max(0, (end - r.startedMs) / 1000);
    }),
    col('pairsPerSec', 'pairs/s', 'number', 'Training pairs per second', (r) => num(r.run.summary?.pairsPerSec)),
    col('backend', 'backend', 'text', 'Compute backend', (r) => r.run.backend),
    col('step', 'step', 'int', 'Last step written', (r) => num(r.run.summary?.lastStep) ?? num(r.run.step)),
    col('loss', 'loss', 'number', 'Latest training loss', (r) => num(r.run.summary?.loss)),
    ...provenanceColumns(),
  ];
}

/**
 * Every config path any row has, in first-appearance order; `differing`: not the same in all `shown` that
 * have a config (a key absent from one of them counts as a value of its own).
 */
export function paramPaths(all: readonly TableRow[], shown: readonly TableRow[]): { paths: string[]; differing: Set<string> } {
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const r of all) {
    for (const p of r.params.keys()) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  const differing = new Set<string>();
  // A run whose config.json is missing or unreadable has no params: it would "differ" on every path.
  shown = shown.filter((r) => r.params.size > 0);
  if (shown.length > 1) {
    for (const p of paths) {
      const first = shown[0].params.get(p);
      for (let i = 1; i < shown.length; i++) {
        if (!leafEqual(shown[i].params.get(p), first)) {
          differing.add(p);
          break;
        }
      }
    }
  }
  return { paths, differing };
}

function paramColumn(path: string, defaultShown: boolean): Column {
  return {
    key: path,
    label: path,
    title: `Config value ${path}`,
    group: 'param',
    kind: 'text',
    defaultShown,
    value: (r) => {
      if (!r.params.has(path)) return undefined;
      const v = r.params.get(path);
      return typeof v === 'number' ? v : formatConfigValue(v);
    },
  };
}

function metricRank(m: string): number {
  const i = METRIC_ORDER.indexOf(m);
  return i < 0 ? METRIC_ORDER.length : i;
}

/** A metric's columns sort by its float32 name, then float32 before its precision variants. */
function compareMetrics(a: string, b: string): number {
  const va = variantOf(a);
  const vb = variantOf(b);
  return (
    metricRank(va.base) - metricRank(vb.base) ||
    va.base.localeCompare(vb.base) ||
    PRECISION_VARIANTS.indexOf(va.variant) - PRECISION_VARIANTS.indexOf(vb.variant)
  );
}

/** Eval metric names and dims over every row's summary (last and best). */
function metricsAndDims(rows: readonly TableRow[]): { metrics: string[]; dims: number[] } {
  const metrics = new Set<string>();
  const dims = new Set<number>();
  for (const r of rows) {
    const s = r.run.summary;
    if (!s) continue;
    for (const byDim of [s.last, s.best]) {
      for (const d in byDim) {
        const n = Number(d);
        if (!Number.isInteger(n) || n <= 0) continue;
        dims.add(n);
        for (const m in byDim[d]) metrics.add(m);
      }
    }
  }
  return {
    metrics: [...metrics].sort(compareMetrics),
    dims: [...dims].sort((a, b) => a - b),
  };
}

function metricColumns(rows: readonly TableRow[]): Column[] {
  const { metrics, dims } = metricsAndDims(rows);
  const out: Column[] = [];
  for (const m of metrics) {
    // The quantised variants are there to add (the column chooser): the frontier columns sum them up.
    const shown = !METRICS_NOT_BY_DEFAULT.has(m) && variantOf(m).variant === 'float32';
    for (const d of dims) {
      out.push({
        key: `${m}@${d}`,
        label: `${m} @${d}`,
        title: `${m} at dim ${d}, latest eval (key: ${m}@${d})`,
        group: 'metric',
        kind: 'number',
        defaultShown: shown,
        value: (r) => num(r.run.summary?.last[d]?.[m]),
      });
    }
    for (const d of dims) {
      out.push({
        key: `best:${m}@${d}`,
        label: `best ${m} @${d}`,
        title: `${m} at dim ${d}, best over every eval (key: best:${m}@${d})`,
        group: 'metric',
        kind: 'number',
        defaultShown: shown,
        value: (r) => num(r.run.summary?.best[d]?.[m]),
      });
    }
  }
  return out;
}

/**
 * training.keepBest: per listed dim, the step of the best checkpoint kept (run.json bestCheckpoints),
 * shown "best at step N" and sorted as a number; key `bestCheckpoint@<dim>`.
 */
function bestCheckpointColumns(rows: readonly TableRow[]): Column[] {
  const dims = new Set<number>();
  for (const r of rows) for (const d in r.run.bestCheckpoints ?? {}) dims.add(Number(d));
  return [...dims]
    .sort((a, b) => b - a)
    .map((d) => ({
      key: `bestCheckpoint@${d}`,
      label: `best ckpt @${d}`,
      title: `Step of the best checkpoint kept for dim ${d} (training.keepBest; checkpoints/best-${d}) (key: bestCheckpoint@${d})`,
      group: 'metric' as const,
      kind: 'bestStep' as const,
      defaultShown: true,
      value: (r: TableRow) => num(r.run.bestCheckpoints?.[String(d)]?.step),
      cellTitle: (r: TableRow) => {
        const b = r.run.bestCheckpoints?.[String(d)];
        return b ? `${b.metric} ${formatNumber(b.value)} at step ${b.step}: checkpoints/best-${d}` : undefined;
      },
    }));
}

/** funnel:<metric> first, then the funnel's settings and savings. */
function funnelColumns(rows: readonly TableRow[]): Column[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k in r.run.summary?.lastValues ?? {}) if (k.startsWith('funnel:')) keys.add(k);
  const rank = (k: string) => (/Dim$|shortlist|rerank|macsSaved/i.test(k) ? 1 : 0);
  return [...keys]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((k) => ({
      key: k,
      label: k === 'funnel:macsSaved' ? 'funnel MACs saved' : k,
      title: `${k === 'funnel:macsSaved' ? 'Share of full-dim multiply-adds the funnel saves' : `Funnel retrieval ${k.slice(7)}`}, latest eval (key: ${k})`,
      group: 'funnel' as const,
      kind: k === 'funnel:macsSaved' ? ('share' as const) : /Dim$|Size$/.test(k) ? ('int' as const) : ('number' as const),
      defaultShown: true,
      value: (r: TableRow) => num(r.run.summary?.lastValues[k]),
    }));
}

/** A column of an advisor's answer for a run (shown by default; the cell's tooltip is the answer in words). */
function answerColumn(group: 'advisor' | 'frontier', why: (r: TableRow) => string | undefined) {
  return (key: string, label: string, kind: ColumnKind, title: string, value: Column['value']): Column => ({
    key,
    label,
    title: `${title} (key: ${key})`,
    group,
    kind,
    defaultShown: true,
    value,
    cellTitle: why,
  });
}

function advisorColumns(settings: PanelSettings): Column[] {
  const p = settings.advisorPercent;
  const why = (r: TableRow) => (r.advice ? describeAdvice(r.advice) : undefined);
  const col = answerColumn('advisor', why);
  return [
    col(
      'advisor:dim',
      `dim for ${p} %`,
      'int',
      `Smallest dim whose headline eval metric reaches ${p} % of the full-dim value (latest eval)`,
      (r) => r.advice?.dim,
    ),
    col('advisor:float32', 'float32 B/vec', 'int', 'Index bytes per vector at that dim, float32', (r) => r.advice?.bytes.float32),
    col('advisor:int8', 'int8 B/vec', 'int', 'Index bytes per vector at that dim, int8 (scalar quantisation)', (r) => r.advice?.bytes.int8),
    col(
      'advisor:macsSaved',
      'MACs saved',
      'share',
      'Share of multiply-adds per query saved against the full dim',
      (r) => r.advice?.macsSaving,
    ),
  ];
}

/** The frontier's answer (src/insights/frontier.ts adviseFrontier on the latest eval): bytes, dim, precision, quality. */
function frontierColumns(settings: PanelSettings): Column[] {
  const p = settings.advisorPercent;
  const why = (r: TableRow) => (r.frontier ? describeFrontierAdvice(r.frontier) : undefined);
  const col = answerColumn('frontier', why);
  return [
    col(
      'frontier:bytes',
      `B/vec for ${p} %`,
      'int',
      `Fewest index bytes per vector over every dim × precision reaching ${p} % of the full-dim float32 value of the headline eval metric (latest eval)`,
      (r) => r.frontier?.point.bytesPerVector,
    ),
    col('frontier:dim', 'frontier dim', 'int', 'The dim of that point', (r) => r.frontier?.point.dim),
    col(
      'frontier:precision',
      'precision',
      'text',
      'The precision of that point: float32, int8, binary; +rescore when the quantised shortlist is re-scored with the float32 query',
      (r) => (r.frontier ? variantName(r.frontier.point.precision, r.frontier.point.rescore) : undefined),
    ),
    col(
      'frontier:quality',
      'quality',
      'share',
      'The metric at that point as a share of the full-dim float32 value',
      (r) => r.frontier?.point.ratio,
    ),
  ];
}

export interface DerivedColumns {
  /** Every column there is (the chooser lists them; the filter resolves keys against them). */
  all: Column[];
  /** The ones shown, in order. */
  visible: Column[];
}

/**
 * The columns for these rows. `all`: every row the host lists (params and metrics any of them has);
 * `shown`: the rows that pass the filter (which params differ among them decides the default params).
 */
export function deriveColumns(
  all: readonly TableRow[],
  shown: readonly TableRow[],
  prefs: ColumnPrefs,
  settings: PanelSettings,
): DerivedColumns {
  const { paths, differing } = paramPaths(all, shown);
  const params = paths.map((p) => paramColumn(p, differing.has(p) && !PARAMS_NOT_BY_DEFAULT.has(p)));
  const cols = [
    ...runColumns(),
    ...params,
    ...metricColumns(all),
    ...bestCheckpointColumns(all),
    ...funnelColumns(all),
    ...advisorColumns(settings),
    ...frontierColumns(settings),
  ];
  const hidden = new Set(prefs.hidden);
  const added = new Set(prefs.shown);
  return { all: cols, visible: cols.filter((c) => !hidden.has(c.key) && (added.has(c.key) || c.defaultShown)) };
}

/** The columns the filter may name, before the rows are filtered (params: all, none by default). */
export function filterableColumns(all: readonly TableRow[], settings: PanelSettings): Column[] {
  return deriveColumns(all, [], { shown: [], hidden: [] }, settings).all;
}

// ---------------------------------------------------------------- formatting

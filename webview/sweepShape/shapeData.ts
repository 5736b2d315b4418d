/**
 * A sweep's shape, as data: for a set of runs (a sweep, or any runs), one axis per parameter — the sweep's
 * `params`, or for runs from no one sweep the config keys that differ among them — and a last axis for a
 * metric @ dim, the runs table's own column (its value: the latest eval). Each run is a line of positions
 * (0 at the bottom of an axis, 1 at the top). Numeric axes are linear, or logarithmic when the values span
 * more than a decade; other values (text, lists, booleans) are categories, evenly spaced. Brushes are
 * ranges of positions per axis; a run is inside when it is inside every brush. Pure: no DOM.
 */
import { formatConfigValue } from '../../src/config/diff';
import { lowerIsBetter } from '../../src/insights/metricRules';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { formatNumber } from '../runsTable/cellFormat';
import { paramPaths, type Column } from '../runsTable/columns';
import type { TableRow } from '../runsTable/rows';

export type AxisScale = 'linear' | 'log' | 'category';

export interface ShapeAxis {
  /** The config path (a parameter) or the metric column's key. */
  key: string;
  label: string;
  scale: AxisScale;
  metric: boolean;
  /** Numeric axes: the range of the values. */
  min: number;
  max: number;
  /** Category axes: the values as text, bottom to top. */
  categories: string[];
  ticks: { pos: number; label: string }[];
}

export interface ShapeLine {
  runId: string;
  name: string;
  /** One per axis: where the run is on it (0..1), null without a value. */
  pos: (number | null)[];
  /** One per axis: the value as the run has it. */
  values: unknown[];
  /** The metric's value (the last axis), null when the run has none yet. */
  metric: number | null;
}

export interface ShapeModel {
  axes: ShapeAxis[];
  lines: ShapeLine[];
  /** The metric's range over the lines (the colour scale), null when no run has it. */
  metricRange: [number, number] | null;
  /** The metric is a cost (loss): lower is better, so the colour scale runs the other way. */
  lowerIsBetter: boolean;
}

/** [lo, hi] positions on an axis, by axis key. */
export type Brushes = ReadonlyMap<string, readonly [number, number]>;

/** More axes than this do not read as lines: the first ones are kept. */
export const MAX_PARAM_AXES = 12;
/** Paths that differ among runs without saying anything about them. */
const NOT_PARAMS = new Set(['name']);

/**
 * The parameters of these rows: every row of a sweep → the swept paths (run.json `sweep.params`, in
 * first-appearance order); otherwise (or a sweep of repeats only) the config paths that differ among
 * them — the runs table's own rule (columns.ts paramPaths).
 */
export function shapeParamKeys(rows: readonly TableRow[]): string[] {
  const swept: string[] = [];
  if (rows.length && rows.every((r) => r.run.sweep)) {
    for (const r of rows) for (const k of Object.keys(r.run.sweep!.params)) if (!swept.includes(k)) swept.push(k);
  }
  if (swept.length) return swept.slice(0, MAX_PARAM_AXES);
  const { paths, differing } = paramPaths(rows, rows);
  return paths.filter((p) => differing.has(p) && !NOT_PARAMS.has(p)).slice(0, MAX_PARAM_AXES);
}

/** A run's value of a parameter: its sweep's record of it (the path as the sweep wrote it), else its config's. */
export function paramValue(row: TableRow, key: string): unknown {
  const p = row.run.sweep?.params;
  if (p && Object.prototype.hasOwnProperty.call(p, key)) return p[key];
  return row.params.get(key);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'number' && !Number.isFinite(v));

/** An axis over these values (absent ones are left out); `metric`: the metric axis (always linear). */
export function makeAxis(key: string, label: string, values: readonly unknown[], metric = false): ShapeAxis {
  const vs = values.filter(present);
  const base = { key, label, metric, min: 0, max: 0, categories: [] as string[], ticks: [] as ShapeAxis['ticks'] };
  if (vs.length && vs.every((v) => typeof v === 'number')) {
    const nums = vs as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    const scale: AxisScale = !metric && min > 0 && max / min > 10 ? 'log' : 'linear';
    const axis: ShapeAxis = { ...base, scale, min, max };
    const distinct = [...new Set(nums)].sort((a, b) => a - b);
    // A sweep tries a few values: a tick on each; a metric (or many values): five evenly spaced.
    const at = !metric && distinct.length <= 8 ? distinct : [0, 0.25, 0.5, 0.75, 1].map((f) => fromPos(axis, f));
    // A parameter's value as the config writes it (0.0001, not 1.00e-4); a metric's to three digits.
    axis.ticks = [...new Set(at)].map((v) => ({
      pos: axisPos(axis, v)!,
      label: metric ? formatNumber(Number(v.toPrecision(3))) : String(v),
    }));
    return axis;
  }
  const categories = [...new Set(vs.map(formatConfigValue))].sort(collator.compare);
  const axis: ShapeAxis = { ...base, scale: 'category', categories };
  axis.ticks = categories.map((c, i) => ({ pos: categoryPos(i, categories.length), label: c }));
  return axis;
}

function categoryPos(i: number, n: number): number {
  return n <= 1 ? 0.5 : i / (n - 1);
}

/** Where a value sits on an axis (0 bottom .. 1 top), null when it has none there. */
export function axisPos(a: ShapeAxis, v: unknown): number | null {
  if (!present(v)) return null;
  if (a.scale === 'category') {
    const i = a.categories.indexOf(formatConfigValue(v));
    return i < 0 ? null : categoryPos(i, a.categories.length);
  }
  if (typeof v !== 'number') return null;
  if (a.max === a.min) return 0.5;
  if (a.scale === 'log') return (Math.log10(v) - Math.log10(a.min)) / (Math.log10(a.max) - Math.log10(a.min));
  return (v - a.min) / (a.max - a.min);
}

/** The value at a position of a numeric axis (brush ranges in words). */
export function fromPos(a: ShapeAxis, p: number): number {
  if (a.scale === 'log') return 10 ** (Math.log10(a.min) + p * (Math.log10(a.max) - Math.log10(a.min)));
  return a.min + p * (a.max - a.min);
}

/** The metric's name in a metric column key (`best:int8:ndcg@10@64` → `int8:ndcg@10`). */
function metricName(key: string): string {
  return key.replace(/^best:/, '').replace(/@\d+$/, '');
}

/** The axes and lines of these rows against `metric` (a runs-table metric column). */
export function buildShape(rows: readonly TableRow[], metric: Column | null, now: number, params = shapeParamKeys(rows)): ShapeModel {
  const values = rows.map((r) => params.map((k) => paramValue(r, k)));
  const axes = params.map((k, i) =>
    makeAxis(
      k,
      k,
      values.map((v) => v[i]),
    ),
  );
  const metrics = rows.map((r) => {
    const v = metric?.value(r, now);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
  if (metric) axes.push(makeAxis(metric.key, metric.label, metrics, true));
  const lines = rows.map((r, j) => {
    const vs = metric ? [...values[j], metrics[j]] : values[j];
    return { runId: r.run.id, name: r.name, values: vs, pos: vs.map((v, i) => axisPos(axes[i], v)), metric: metrics[j] };
  });
  const known = metrics.filter((m): m is number => m !== null);
  return {
    axes,
    lines,
    metricRange: known.length ? [Math.min(...known), Math.max(...known)] : null,
    lowerIsBetter: metric ? lowerIsBetter(metricName(metric.key)) : false,
  };
}

/** The lines inside every brush (no brush: all of them). A line without a value on a brushed axis is outside. */
export function insideBrushes(model: ShapeModel, brushes: Brushes): ShapeLine[] {
  const at = [...brushes].map(([key, range]) => ({ i: model.axes.findIndex((a) => a.key === key), range })).filter((b) => b.i >= 0);
  return model.lines.filter((l) =>
    at.every(({ i, range }) => {
      const p = l.pos[i];
      return p !== null && p >= range[0] - 1e-9 && p <= range[1] + 1e-9;
    }),
  );
}

/** A brush in words: "training.learningRate 0.0003–0.003", "loss.type ∈ {A, B}". */
export function describeBrush(a: ShapeAxis, range: readonly [number, number]): string {
  if (a.scale === 'category') {
    const inside = a.categories.filter((_, i) => {
      const p = categoryPos(i, a.categories.length);
      return p >= range[0] - 1e-9 && p <= range[1] + 1e-9;
    });
    return `${a.label} ∈ {${inside.join(', ')}}`;
  }
  const f = (p: number) => String(Number(fromPos(a, p).toPrecision(3)));
  return `${a.label} ${f(range[0])}–${f(range[1])}`;
}

/** Metric colours, poor → good: blue, teal, green, yellow, orange (reads on light and dark backgrounds). */
const RAMP: [number, number, number][] = [
  [70, 95, 180],
  [40, 150, 170],
  [80, 180, 105],
  [205, 195, 55],
  [240, 125, 40],
];

/** The colour of a metric value within `range` (better = warmer), as #rrggbb; grey without a value. */
export function metricColour(v: number | null, range: [number, number] | null, lowerBetter = false): string {
  if (v === null || !range) return '#8c8c8c';
  let t = range[1] > range[0] ? (v - range[0]) / (range[1] - range[0]) : 1;
  if (lowerBetter) t = 1 - t;
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const c = RAMP[i].map((a, k) => Math.round(a + (RAMP[i + 1][k] - a) * f));
  return '#' + c.map((n) => n.toString(16).padStart(2, '0')).join('');
}

/** The metric columns the view offers: the latest eval's, every metric and dim (the table's keys). */
export function metricChoices(cols: readonly Column[]): Column[] {
  return cols.filter((c) => c.group === 'metric' && c.kind === 'number');
}

/** The default metric: the headline (ndcg@10) at float32 and the largest dim, else the first shown metric column. */
export function defaultMetric(cols: readonly Column[]): Column | null {
  const last = cols.filter((c) => !c.key.startsWith('best:') && c.defaultShown);
  const dimOf = (c: Column) => Number(/@(\d+)$/.exec(c.key)?.[1] ?? 0);
  const ndcg = last.filter((c) => /^ndcg@10@\d+$/.test(c.key)).sort((a, b) => dimOf(b) - dimOf(a));
  return ndcg[0] ?? last[0] ?? cols[0] ?? null;
}

/** The sweeps among the runs, newest first (the run list's order), with how many runs each has. */
export function sweepsOf(runs: readonly PanelRun[]): { id: string; name: string; count: number }[] {
  const by = new Map<string, { id: string; name: string; count: number }>();
  for (const r of runs) {
    if (!r.sweep) continue;
    const s = by.get(r.sweep.id);
    if (s) s.count++;
    else by.set(r.sweep.id, { id: r.sweep.id, name: r.name, count: 1 });
  }
  return [...by.values()];
}

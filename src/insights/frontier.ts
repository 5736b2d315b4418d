/**
 * "Which dim and precision should I ship?" — the dim × precision frontier. Every (dim, precision) an
 * evaluation scored is a point with a quality (the metric as a share of the full-dim float32 value) and a
 * cost (index bytes per vector; multiply-adds or popcounts per scored document). The answer is the
 * cheapest point, in bytes, that reaches p % of full-dim float32; the Pareto front is what a chart joins.
 *
 * Costs, per vector of `dim` components: float32 4·dim bytes and dim multiply-adds per document; int8
 * dim bytes and dim multiply-adds; binary ⌈dim/8⌉ bytes and ⌈dim/64⌉ 64-bit popcounts. Rescoring keeps
 * the quantised index (same bytes); it adds a float32 × quantised re-score of a shortlist per query, which
 * is a per-query cost, not a per-document one, so it is not in `opsPerDoc`.
 *
 * Pure: the panel, the runs table, the demo and Export Model give the same answer. No DOM, Node or vscode.
 */
import { parsePrecisionKey, type ByDim, type Precision } from '../protocol/runFolder';
import { DEFAULT_ADVISOR_PERCENT, advisorMetric } from './dimAdvisor';
import { lowerIsBetter } from './metricRules';

export interface FrontierPoint {
  dim: number;
  precision: Precision;
  rescore: boolean;
  /** The key of this point's value in byDim[dim] (`int8+rescore:ndcg@10`). */
  key: string;
  value: number;
  /** Quality: value / full-dim float32 value (for a lower-is-better metric: full / value). */
  ratio: number;
  bytesPerVector: number;
  /** Work to score one document against a query: multiply-adds (float32, int8) or popcounts (binary). */
  opsPerDoc: number;
  opsKind: 'macs' | 'popcounts';
}

export interface FrontierAdvice {
  metric: string;
  percent: number;
  fullDim: number;
  /** The full-dim float32 value every ratio is taken against. */
  fullValue: number;
  /** The cheapest point reaching p % (full-dim float32 at worst, which always does). */
  point: FrontierPoint;
  /** Every point scored, cheapest first (ties: better quality first). */
  points: FrontierPoint[];
  /** The Pareto front: no other point is at most as many bytes with a better quality. Cheapest first. */
  front: FrontierPoint[];
}

export function bytesPerVector(dim: number, precision: Precision): number {
  return precision === 'float32' ? 4 * dim : precision === 'int8' ? dim : Math.ceil(dim / 8);
}

function cost(dim: number, precision: Precision): Pick<FrontierPoint, 'opsPerDoc' | 'opsKind'> {
  return precision === 'binary' ? { opsPerDoc: Math.ceil(dim / 64), opsKind: 'popcounts' } : { opsPerDoc: dim, opsKind: 'macs' };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Cheapest first; among equal bytes the better quality first, then the one without a rescoring pass. */
function byCost(a: FrontierPoint, b: FrontierPoint): number {
  return a.bytesPerVector - b.bytesPerVector || b.ratio - a.ratio || Number(a.rescore) - Number(b.rescore) || a.dim - b.dim;
}

/** Every (dim, precision) point of `metric` in one eval, or [] without a positive full-dim float32 value. */
export function frontierPoints(byDim: ByDim, metric: string): FrontierPoint[] {
  const dims = Object.keys(byDim)
    .map(Number)
    .filter((d) => Number.isInteger(d) && d > 0 && finite(byDim[String(d)]?.[metric]))
    .sort((a, b) => a - b);
  if (dims.length === 0) return [];
  const fullDim = dims[dims.length - 1];
  const fullValue = byDim[String(fullDim)][metric];
  if (!(fullValue > 0)) return [];
  const lower = lowerIsBetter(metric);
  const points: FrontierPoint[] = [];
  for (const [d, values] of Object.entries(byDim)) {
    const dim = Number(d);
    if (!Number.isInteger(dim) || dim <= 0) continue;
    for (const [key, value] of Object.entries(values)) {
      const p = parsePrecisionKey(key);
      if (p.metric !== metric || !finite(value)) continue;
      const ratio = lower ? (value > 0 ? fullValue / value : 0) : value / fullValue;
      points.push({
        dim,
        precision: p.precision,
        rescore: p.rescore,
        key,
        value,
        ratio,
        bytesPerVector: bytesPerVector(dim, p.precision),
        ...cost(dim, p.precision),
      });
    }
  }
  return points.sort(byCost);
}

/** The points no other point beats: walking cheapest first, each one better than every cheaper one. */
export function paretoFront(points: readonly FrontierPoint[]): FrontierPoint[] {
  const front: FrontierPoint[] = [];
  let best = -Infinity;
  for (const p of [...points].sort(byCost)) {
    if (p.ratio > best) {
      front.push(p);
      best = p.ratio;
    }
  }
  return front;
}

/**
 * The frontier's answer for one eval: the cheapest point reaching p % of full-dim float32, or null when
 * the metric has no positive full-dim float32 value (nothing to take a percentage of).
 */
export function adviseFrontier(byDim: ByDim, opts: { metric?: string; percent?: number } = {}): FrontierAdvice | null {
  const metric = opts.metric ?? advisorMetric(floatOnly(byDim));
  if (!metric) return null;
  const percent = opts.percent ?? DEFAULT_ADVISOR_PERCENT;
  if (!(percent > 0 && percent <= 100)) return null;
  const points = frontierPoints(byDim, metric);
  if (points.length === 0) return null;
  const floats = points.filter((p) => p.precision === 'float32');
  const full = floats.reduce((a, b) => (b.dim > a.dim ? b : a));
  // Float rounding must not hide full-dim float32 itself from its own target.
  const point = points.find((p) => p.ratio >= percent / 100 || p === full) ?? full;
  return { metric, percent, fullDim: full.dim, fullValue: full.value, point, points, front: paretoFront(points) };
}

/** byDim without the precision-prefixed keys: what the float32-only advisor and metric pickers read. */
export function floatOnly(byDim: ByDim): ByDim {
  const out: ByDim = {};
  for (const [d, values] of Object.entries(byDim)) {
    out[d] = {};
    for (const [k, v] of Object.entries(values)) if (parsePrecisionKey(k).precision === 'float32') out[d][k] = v;
  }
  return out;
}

/** "binary at dim 128, rescored" */
export function describePoint(p: Pick<FrontierPoint, 'dim' | 'precision' | 'rescore'>): string {
  return `${p.precision} at dim ${p.dim}${p.rescore ? ', rescored' : ''}`;
}

/** "reaches 95 % at 16 bytes/vector: binary at dim 128, rescored (ndcg@10 0.231, 97 % of float32 at 256)" */
export function describeFrontierAdvice(a: FrontierAdvice): string {
  const v = (x: number) => String(Number(x.toPrecision(3)));
  const p = a.point;
  const head = `${p.bytesPerVector} bytes/vector: ${describePoint(p)}`;
  const detail = `${a.metric} ${v(p.value)}, ${Math.round(p.ratio * 100)} % of float32 at ${a.fullDim}`;
  if (p.precision === 'float32' && p.dim === a.fullDim) return `needs ${head} to reach ${a.percent} % (${detail})`;
  return `reaches ${a.percent} % at ${head} (${detail})`;
}

/** "run A reaches 95 % at 16 bytes/vector: binary at dim 128, rescored; run B needs 64 bytes: int8 at dim 64" */
export function compareFrontierAdvice(runs: { name: string; advice: FrontierAdvice | null }[]): string {
  return runs
    .map((r, i) => {
      if (!r.advice) return `${r.name}: no per-dim eval yet`;
      const p = r.advice.point;
      const what = `${p.bytesPerVector} bytes${i === 0 ? '/vector' : ''}: ${describePoint(p)}`;
      return i === 0 ? `${r.name} reaches ${r.advice.percent} % at ${what}` : `${r.name} needs ${what}`;
    })
    .join('; ');
}

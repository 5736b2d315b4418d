/**
 * The webview's copy of the metrics: one Series per (run, split, metric, dim), in columnar typed arrays
 * so that 100k points × 8 dims stay cheap to append, smooth, decimate and scan. Browser-only code, but
 * free of DOM use so the logic is easy to reason about.
 */
import { droppedByResume, lowerIsBetter } from '../../src/insights/metricRules';
import type { MetricsLine, MetricsEvent } from '../../src/protocol/runFolder';
import { isResumeEvent, SYS_PREFIX } from '../../src/protocol/runFolder';

/** Which way is better for a metric: one rule for host and webview (src/insights/metricRules). */
export { lowerIsBetter };

/** dim = null for a dimension-less value (`values.loss`, `values["funnel:ndcg@10"]`). */
export interface SeriesKey {
  runId: string;
  split: 'train' | 'eval';
  metric: string;
  dim: number | null;
}

/** A metric's identity across runs and dims: what one "chart per metric" shows. */
export function metricId(split: string, metric: string): string {
  return `${split}/${metric}`;
}

class Column {
  a: Float64Array;
  constructor(cap = 64) {
    this.a = new Float64Array(cap);
  }
  ensure(n: number): void {
    if (n <= this.a.length) return;
    let cap = this.a.length * 2;
    while (cap < n) cap *= 2;
    const b = new Float64Array(cap);
    b.set(this.a);
    this.a = b;
  }
}

let nextSeriesUid = 1;

export class Series {
  readonly key: SeriesKey;
  /** Identity across replays: a reset creates new Series, and charts must notice they hold old ones. */
  readonly uid = nextSeriesUid++;
  /** metricId(split, metric), precomputed: ingest marks it touched for every value. */
  readonly mid: string;
  n = 0;
  private cStep = new Column();
  private cTime = new Column();
  private cWall = new Column();
  private cY = new Column();
  /** Index of the best point (min or max by metric), -1 when none. */
  best = -1;
  /** Bumped on any non-append change (truncate/reset) so caches know to start over. */
  generation = 0;
  private smooth: { weight: number; gen: number; upto: number; out: Column; num: number; den: number; gap: number } | null = null;
  private readonly lower: boolean;

  constructor(key: SeriesKey) {
    this.key = key;
    this.mid = metricId(key.split, key.metric);
    this.lower = lowerIsBetter(key.metric);
  }

  get step(): Float64Array {
    return this.cStep.a;
  }
  get time(): Float64Array {
    return this.cTime.a;
  }
  get wall(): Float64Array {
    return this.cWall.a;
  }
  get y(): Float64Array {
    return this.cY.a;
  }

  push(step: number, time: number, wall: number, y: number): void {
    const i = this.n;
    const need = i + 1;
    this.cStep.ensure(need);
    this.cTime.ensure(need);
    this.cWall.ensure(need);
    this.cY.ensure(need);
    this.cStep.a[i] = step;
    this.cTime.a[i] = time;
    this.cWall.a[i] = wall;
    this.cY.a[i] = y;
    this.n = need;
    if (Number.isFinite(y)) {
      const b = this.best;
      if (b < 0 || (this.lower ? y < this.cY.a[b] : y > this.cY.a[b])) this.best = i;
    }
  }

  /** Resume: drop the trailing points the resume rule drops (they will be re-written by the resumed run). */
  truncateAfterStep(fromStep: number): void {
    let n = this.n;
    while (n > 0 && droppedByResume(this.cStep.a[n - 1], fromStep)) n--;
    if (n === this.n) return;
    this.n = n;
    this.generation++;
    this.best = -1;
    for (let i = 0; i < n; i++) {
      const y = this.cY.a[i];
      if (Number.isFinite(y) && (this.best < 0 || (this.lower ? y < this.cY.a[this.best] : y > this.cY.a[this.best]))) {
        this.best = i;
      }
    }
  }

  /** Last index with step ≤ s (binary search; steps are non-decreasing within a run), -1 if none. */
  indexAtOrBeforeStep(s: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let ans = -1;
    const a = this.cStep.a;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] <= s) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /**
   * Time-weighted, debiased EMA (TensorBoard's debiasing; W&B's "time weighted" idea): a point's weight
   * decays by `weight ** (Δstep / gap)`, gap = the series' first step spacing, so evenly spaced points get
   * the classic EMA and a gap (a resume, sparse eval) decays the history more. Causal, so it is extended
   * incrementally as points stream in instead of being recomputed over 100k points every frame.
   */
  smoothed(weight: number): Float64Array {
    let s = this.smooth;
    if (!s || s.weight !== weight || s.gen !== this.generation) {
      s = { weight, gen: this.generation, upto: 0, out: new Column(Math.max(64, this.n)), num: 0, den: 0, gap: 0 };
      this.smooth = s;
    }
    if (s.upto < this.n) {
      s.out.ensure(this.n);
      const st = this.cStep.a;
      const y = this.cY.a;
      const out = s.out.a;
      let { num, den, gap } = s;
      for (let i = s.upto; i < this.n; i++) {
        const yi = y[i];
        if (!Number.isFinite(yi)) {
          out[i] = NaN;
          continue;
        }
        if (i === 0 || den === 0) {
          num = 0;
          den = 0;
        } else {
          const d = st[i] - st[i - 1];
          if (gap <= 0 && d > 0) gap = d;
          const w = gap > 0 ? Math.pow(weight, Math.max(0, d) / gap) : weight;
          num *= w;
          den *= w;
        }
        num += (1 - weight) * yi;
        den += 1 - weight;
        out[i] = weight === 0 ? yi : num / den;
      }
      s.num = num;
      s.den = den;
      s.gap = gap;
      s.upto = this.n;
    }
    return s.out.a;
  }
}

export interface RunData {
  runId: string;
  series: Map<string, Series>;
  /** split → metric → dim key as written in byDim ('' = dimension-less): the ingest fast path. */
  index: Map<string, Map<string, Map<string, Series>>>;
  /** Highest step seen, and all eval steps (for the MRL curve's step slider). */
  maxStep: number;
  evalSteps: number[];
  /** Funnel retrieval results per eval step: values keyed `funnel:*` (dimension-less). */
  funnel: Map<number, Record<string, number>>;
  /** Whether any metrics message arrived (even an empty replay). */
  loaded: boolean;
  startedAtMs: number;
  /** Relative time made monotonic: a resumed trainer may restart its clock at 0; later events are
   *  shifted to continue from the last time seen, so the time axis never runs backwards. */
  timeOffset: number;
  lastTime: number;
}

function seriesKeyString(split: string, metric: string, dim: number | null): string {
  return `${split}\u0000${metric}\u0000${dim ?? ''}`;
}

export interface IngestResult {
  /** Metric ids that got points. */
  touched: Set<string>;
  /** A new series appeared, a run was reset or truncated: chart structure may change. */
  structural: boolean;
  dropped: number;
}

export class MetricsStore {
  readonly runs = new Map<string, RunData>();
  /** Every metric id seen, with its dims (sorted), across runs. */
  readonly metrics = new Map<string, { split: 'train' | 'eval'; metric: string; dims: Set<number>; dimless: boolean }>();
  readonly dims = new Set<number>();

  run(runId: string): RunData {
    let r = this.runs.get(runId);
    if (!r) {
      r = {
        runId,
        series: new Map(),
        index: new Map(),
        maxStep: -Infinity,
        evalSteps: [],
        funnel: new Map(),
        loaded: false,
        startedAtMs: NaN,
        timeOffset: 0,
        lastTime: -Infinity,
      };
      this.runs.set(runId, r);
    }
    return r;
  }

  setStartedAt(runId: string, iso: string | undefined): void {
    if (!iso) return;
    const t = Date.parse(iso);
    if (Number.isFinite(t)) this.run(runId).startedAtMs = t;
  }

  reset(runId: string): void {
    const r = this.run(runId);
    const started = r.startedAtMs;
    this.runs.delete(runId);
    this.run(runId).startedAtMs = started;
  }

  remove(runId: string): void {
    this.runs.delete(runId);
  }

  private getSeries(r: RunData, split: 'train' | 'eval', metric: string, dim: number | null, res: IngestResult): Series {
    const k = seriesKeyString(split, metric, dim);
    let s = r.series.get(k);
    if (!s) {
      s = new Series({ runId: r.runId, split, metric, dim });
      r.series.set(k, s);
      res.structural = true;
      const id = metricId(split, metric);
      let m = this.metrics.get(id);
      if (!m) {
        m = { split, metric, dims: new Set(), dimless: false };
        this.metrics.set(id, m);
      }
      if (dim === null) m.dimless = true;
      else {
        m.dims.add(dim);
        this.dims.add(dim);
      }
    }
    return s;
  }

  /** getSeries through the per-run index, keyed by the raw byDim key (no string building per value). */
  private lookup(r: RunData, split: 'train' | 'eval', metric: string, dk: string, dim: number | null, res: IngestResult): Series {
    let bySplit = r.index.get(split);
    if (!bySplit) r.index.set(split, (bySplit = new Map()));
    let byMetric = bySplit.get(metric);
    if (!byMetric) bySplit.set(metric, (byMetric = new Map()));
    let s = byMetric.get(dk);
    if (!s) byMetric.set(dk, (s = this.getSeries(r, split, metric, dim, res)));
    return s;
  }

  series(runId: string, split: string, metric: string, dim: number | null): Series | undefined {
    return this.runs.get(runId)?.series.get(seriesKeyString(split, metric, dim));
  }

  ingest(runId: string, lines: readonly MetricsLine[], reset = false): IngestResult {
    const res: IngestResult = { touched: new Set(), structural: false, dropped: 0 };
    if (reset) {
      this.reset(runId);
      res.structural = true;
    }
    const r = this.run(runId);
    r.loaded = true;
    for (const line of lines) {
      if (isResumeEvent(line)) {
        const from = line.fromStep;
        for (const s of r.series.values()) {
          const before = s.generation;
          s.truncateAfterStep(from);
          if (s.generation !== before) {
            res.structural = true;
            res.touched.add(metricId(s.key.split, s.key.metric));
          }
        }
        r.evalSteps = r.evalSteps.filter((st) => !droppedByResume(st, from));
        for (const st of [...r.funnel.keys()]) if (droppedByResume(st, from)) r.funnel.delete(st);
        r.maxStep = Math.min(r.maxStep, from);
        // the clock continues from the last kept event, not from the dropped ones
        let last = -Infinity;
        for (const s of r.series.values()) if (s.n > 0 && s.time[s.n - 1] > last) last = s.time[s.n - 1];
        r.lastTime = last;
        continue;
      }
      const ev = line as MetricsEvent;
      const split = ev.split;
      const step = ev.step;
      let time = ev.time + r.timeOffset;
      if (time < r.lastTime) {
        r.timeOffset += r.lastTime - time;
        time = r.lastTime;
      }
      r.lastTime = time;
      const wall = typeof ev.wallTime === 'number' ? ev.wallTime : r.startedAtMs + time * 1000;
      if (step > r.maxStep) r.maxStep = step;
      let funnel: Record<string, number> | null = null;
      const values = ev.values;
      if (values) {
        for (const metric in values) {
          const v = values[metric];
          const y = typeof v === 'number' ? v : NaN; // null (a NaN written as JSON) → gap
          if (metric.startsWith('funnel:')) (funnel ??= {})[metric.slice(7)] = y;
          const s = this.lookup(r, split, metric, '', null, res);
          s.push(step, time, wall, y);
          res.touched.add(s.mid);
        }
      }
      // The process' resources (train events): series of their own, `sys.cpu`, `sys.rssMB`, charted like a metric.
      const sys = ev.sys;
      if (sys) {
        for (const k in sys) {
          const v = sys[k];
          const s = this.lookup(r, split, SYS_PREFIX + k, '', null, res);
          s.push(step, time, wall, typeof v === 'number' ? v : NaN);
          res.touched.add(s.mid);
        }
      }
      const byDim = ev.byDim;
      if (byDim) {
        for (const dk in byDim) {
          const rec = byDim[dk];
          for (const metric in rec) {
            const v = rec[metric];
            let s = r.index.get(split)?.get(metric)?.get(dk);
            if (!s) {
              const dim = Number(dk);
              if (!Number.isFinite(dim) || dim <= 0 || String(dim) !== dk.trim()) {
                res.dropped++;
                continue;
              }
              s = this.lookup(r, split, metric, dk, dim, res);
            }
            s.push(step, time, wall, typeof v === 'number' ? v : NaN);
            res.touched.add(s.mid);
          }
        }
        if (split === 'eval' && r.evalSteps[r.evalSteps.length - 1] !== step) r.evalSteps.push(step);
      }
      if (funnel) r.funnel.set(step, funnel);
    }
    return res;
  }
}

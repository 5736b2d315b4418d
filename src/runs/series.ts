/**
 * A run's metrics in memory, fed incrementally with the lines a tail returns, with the resume rule
 * (src/insights/metricRules.ts) applied: `{"type":"resume","fromStep":N}` drops the events before it with
 * step > N (the resumed run writes those steps again from its checkpoint).
 */
import { headlineMetric, higherIsBetter, truncateForResume } from '../insights/metricRules';
import type { ByDim, MetricsEvent, MetricsLine } from '../protocol/runFolder';
import { isResumeEvent } from '../protocol/runFolder';

export interface RunSummary {
  lastStep: number | null;
  /** Latest training loss. */
  loss: number | null;
  /** Best value of the headline eval metric at the largest dim. */
  best: { metric: string; dim: string; value: number; step: number } | null;
  /** Throughput from the latest event that reports it (`samples/s` or `samplesPerSec`). */
  samplesPerSec: number | null;
  events: number;
}

/** Events a RunSeries keeps in memory; past it, older train events are thinned (see `decimate`). */
export const MAX_SERIES_EVENTS = 50_000;

interface Extremes {
  max: number;
  maxStep: number;
  min: number;
  minStep: number;
}

export class RunSeries {
  events: MetricsEvent[] = [];
  /** Events pushed (after resume markers), including those thinned out of `events`. */
  total = 0;
  /** True once `events` no longer holds every event (older ones were thinned). */
  decimated = false;
  /** Best/worst of every eval metric per dim over every event pushed (exact, whatever was thinned). */
  private evalStats = new Map<string, Map<string, Extremes>>();

  /** `maxEvents`: memory bound; a 100 MB metrics.jsonl keeps about this many events, not millions. */
  constructor(readonly maxEvents = MAX_SERIES_EVENTS) {}

  /** Add lines read from the file (in order). Returns true when a resume marker removed events. */
  push(lines: readonly MetricsLine[]): boolean {
    let dropped = false;
    for (const l of lines) {
      if (isResumeEvent(l)) {
        const n = truncateForResume(this.events, l);
        if (n > 0) {
          dropped = true;
          this.total -= n;
          // Recount from what is held (exact unless the series was thinned before the resume).
          this.evalStats.clear();
          for (const e of this.events) this.track(e);
        }
      } else {
        this.events.push(l);
        this.total++;
        this.track(l);
        if (this.events.length > this.maxEvents) this.decimate();
      }
    }
    return dropped;
  }

  clear(): void {
    this.events = [];
    this.total = 0;
    this.decimated = false;
    this.evalStats.clear();
  }

  private track(e: MetricsEvent): void {
    if (e.split !== 'eval' || !e.byDim) return;
    for (const [dim, ms] of Object.entries(e.byDim)) {
      let m = this.evalStats.get(dim);
      if (!m) this.evalStats.set(dim, (m = new Map()));
      if (!ms || typeof ms !== 'object') continue;
      for (const [k, v] of Object.entries(ms)) {
        let x = m.get(k);
        if (!x) m.set(k, (x = { max: NaN, maxStep: 0, min: NaN, minStep: 0 }));
        if (typeof v !== 'number' || Number.isNaN(v)) continue;
        // `!(v <= max)` is also true while max is NaN (the first value).
        if (!(v <= x.max)) {
          x.max = v;
          x.maxStep = e.step;
        }
        if (!(v >= x.min)) {
          x.min = v;
          x.minStep = e.step;
        }
      }
    }
  }

  /**
   * Keep memory bounded: the newest quarter of `maxEvents` stays whole (live curves, throughput), the
   * older events keep every eval event and every other train event (and, if evals alone are too many,
   * every other eval event too) until they fit in half of `maxEvents`. O(n), and it runs once per
   * maxEvents/4 pushes at most, so amortised O(1) per event. The panel decimates again (LTTB) to draw.
   */
  private decimate(): void {
    const keepTail = Math.max(1, Math.floor(this.maxEvents / 4));
    const tail = this.events.slice(-keepTail);
    let older = this.events.slice(0, this.events.length - keepTail);
    const room = Math.max(1, Math.floor(this.maxEvents / 2));
    let thinEval = false;
    while (older.length > room) {
      let t = 0;
      let v = 0;
      older = older.filter((e) => (e.split === 'eval' && !thinEval ? true : e.split === 'eval' ? v++ % 2 === 0 : t++ % 2 === 0));
      if (older.length > room) thinEval = true;
    }
    this.events = older.concat(tail);
    this.decimated = true;
  }

  /**
   * The latest eval event (per-dim and dimension-less values) and the best value per dim and metric over
   * every eval event pushed (max, or min for lower-is-better metrics): what the runs table shows.
   */
  evalDigest(): { evalStep: number | null; last: ByDim; lastValues: Record<string, number>; best: ByDim } {
    let latest: MetricsEvent | undefined;
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e.split === 'eval') {
        latest = e;
        break;
      }
    }
    const best: ByDim = {};
    for (const [dim, stats] of this.evalStats) {
      const rec: Record<string, number> = {};
      for (const [metric, x] of stats) {
        const v = higherIsBetter(metric) ? x.max : x.min;
        if (!Number.isNaN(v)) rec[metric] = v;
      }
      best[dim] = rec;
    }
    const lastValues: Record<string, number> = {};
    for (const [k, v] of Object.entries(latest?.values ?? {})) if (typeof v === 'number' && Number.isFinite(v)) lastValues[k] = v;
    return { evalStep: latest ? latest.step : null, last: latest?.byDim ? structuredClone(latest.byDim) : {}, lastValues, best };
  }

  /** `batchSize` (config.json training.batchSize) lets throughput be derived when no event reports it. */
  summary(batchSize?: number): RunSummary {
    const ev = this.events;
    let loss: number | null = null;
    let lastStep: number | null = null;
    let sps: number | null = null;
    for (let i = ev.length - 1; i >= 0; i--) {
      const e = ev[i];
      if (lastStep === null) lastStep = e.step;
      const v = e.values ?? {};
      if (loss === null && e.split === 'train' && typeof v.loss === 'number') loss = v.loss;
      if (sps === null) {
        const s = v['samples/s'] ?? v.samplesPerSec ?? v.samples_per_sec;
        if (typeof s === 'number') sps = s;
      }
      if (loss !== null && sps !== null) break;
    }
    if (sps === null && batchSize && batchSize > 0) sps = this.derivedSamplesPerSec(batchSize);
    return { lastStep, loss, best: this.best(), samplesPerSec: sps, events: this.total };
  }

  /** Steps/s over the last ~10 train events (eval pauses in between are included: honest wall-clock). */
  private derivedSamplesPerSec(batchSize: number): number | null {
    let last: MetricsEvent | undefined;
    let first: MetricsEvent | undefined;
    let n = 0;
    for (let i = this.events.length - 1; i >= 0 && n < 10; i--) {
      const e = this.events[i];
      if (e.split !== 'train') continue;
      if (!last) last = e;
      first = e;
      n++;
    }
    if (!last || !first || last === first) return null;
    const dt = last.time - first.time;
    const ds = last.step - first.step;
    return dt > 0 && ds > 0 ? (ds * batchSize) / dt : null;
  }

  private best(): RunSummary['best'] {
    let dim: string | null = null;
    for (const d of this.evalStats.keys()) if (dim === null || Number(d) > Number(dim)) dim = d;
    if (dim === null) return null;
    const stats = this.evalStats.get(dim)!;
    const metric = headlineMetric(stats.keys());
    if (!metric) return null;
    const x = stats.get(metric)!;
    const higher = higherIsBetter(metric);
    const value = higher ? x.max : x.min;
    if (Number.isNaN(value)) return null;
    return { metric, dim, value, step: higher ? x.maxStep : x.minStep };
  }
}

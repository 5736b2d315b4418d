/**
 * A run's metrics in memory, fed incrementally with the lines a tail returns, with the resume rule of
 * DESIGN.md applied: `{"type":"resume","fromStep":N}` drops the events before it with step > N (the
 * resumed run writes those steps again from its checkpoint).
 */
import type { MetricsEvent, MetricsLine } from '../protocol/runFolder';
import { isResumeEvent } from '../protocol/runFolder';

/** Events of a whole file, with resume markers applied. */
export function applyResume(lines: readonly MetricsLine[]): MetricsEvent[] {
  const out: MetricsEvent[] = [];
  for (const l of lines) {
    if (isResumeEvent(l)) {
      const n = l.fromStep;
      let w = 0;
      for (let r = 0; r < out.length; r++) if (out[r].step <= n) out[w++] = out[r];
      out.length = w;
    } else out.push(l);
  }
  return out;
}

/** Metrics where a higher value is better; anything else (loss…) is lower-is-better. */
const HIGHER_IS_BETTER = /^(ndcg|mrr|map|recall|precision|accuracy|spearman|pearson|acc)/i;
/** Which eval metric the tree shows as "best", in order of preference. */
const PREFERRED = ['ndcg@10', 'spearman', 'mrr@10', 'map@100', 'recall@10'];

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

export class RunSeries {
  events: MetricsEvent[] = [];

  /** Add lines read from the file (in order). Returns true when a resume marker removed events. */
  push(lines: readonly MetricsLine[]): boolean {
    let dropped = false;
    for (const l of lines) {
      if (isResumeEvent(l)) {
        const before = this.events.length;
        this.events = this.events.filter((e) => e.step <= l.fromStep);
        dropped ||= this.events.length !== before;
      } else this.events.push(l);
    }
    return dropped;
  }

  clear(): void {
    this.events = [];
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
    return { lastStep, loss, best: this.best(), samplesPerSec: sps, events: ev.length };
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
    for (const e of this.events) {
      if (e.split !== 'eval' || !e.byDim) continue;
      for (const d of Object.keys(e.byDim)) if (dim === null || Number(d) > Number(dim)) dim = d;
    }
    if (dim === null) return null;
    const names = new Set<string>();
    for (const e of this.events) if (e.split === 'eval' && e.byDim?.[dim]) for (const k of Object.keys(e.byDim[dim])) names.add(k);
    const metric =
      PREFERRED.find((m) => names.has(m)) ?? [...names].find((m) => HIGHER_IS_BETTER.test(m)) ?? [...names][0];
    if (!metric) return null;
    const higher = HIGHER_IS_BETTER.test(metric);
    let best: RunSummary['best'] = null;
    for (const e of this.events) {
      const v = e.split === 'eval' ? e.byDim?.[dim]?.[metric] : undefined;
      if (typeof v !== 'number' || Number.isNaN(v)) continue;
      if (!best || (higher ? v > best.value : v < best.value)) best = { metric, dim, value: v, step: e.step };
    }
    return best;
  }
}

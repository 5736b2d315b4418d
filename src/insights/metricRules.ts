/**
 * Rules about metrics that the host (tree summary, RunSeries) and the webview (charts' best point) must
 * agree on. Pure: imported by both ends, no Node, no DOM, no vscode.
 */
import type { MetricsEvent, MetricsLine, ResumeEvent } from '../protocol/runFolder';
import { isResumeEvent, parsePrecisionKey } from '../protocol/runFolder';

// ---------------------------------------------------------------- the resume rule

/**
 * The resume rule (docs/architecture.md#the-resume-rule): a `{"type":"resume","fromStep":N}` line drops the events before it with
 * step > N (the resumed trainer writes those steps again from its checkpoint). True when an event at
 * `step` is dropped by a resume from `fromStep`.
 */
export function droppedByResume(step: number, fromStep: number): boolean {
  return step > fromStep;
}

/**
 * Apply one resume marker to events held in file order, in place (stable; no new array). Returns how
 * many events were dropped.
 */
export function truncateForResume<T extends { step: number }>(events: T[], marker: Pick<ResumeEvent, 'fromStep'>): number {
  let w = 0;
  for (let r = 0; r < events.length; r++) if (!droppedByResume(events[r].step, marker.fromStep)) events[w++] = events[r];
  const dropped = events.length - w;
  events.length = w;
  return dropped;
}

/** The events of a whole file (or of lines read in order), with every resume marker applied. */
export function applyResume(lines: readonly MetricsLine[]): MetricsEvent[] {
  const out: MetricsEvent[] = [];
  for (const l of lines) {
    if (isResumeEvent(l)) truncateForResume(out, l);
    else out.push(l);
  }
  return out;
}

// ---------------------------------------------------------------- which way is better

/**
 * Loss-like names, where lower is better: losses, errors, perplexity, and times/latencies. "saved"
 * (`funnel:macsSaved`, a share of work saved) is a gain, not a cost, whatever else the name says.
 */
const LOWER_IS_BETTER = /loss|error|perplexity|time|latency/i;
const GAIN = /saved/i;

/**
 * Is a lower value of this metric better? Lower for loss-like names (`loss`, `train/loss`, `mse_loss`,
 * `error`, `perplexity`, `time`, `latency`, …); higher for everything else: the retrieval and correlation
 * scores the trainer reports (`ndcg@10`, `mrr@10`, `map@100`, `recall@k`, `precision@k`, `accuracy`,
 * `spearman`, `pearson`, `funnel:<metric>`, `funnel:macsSaved`) and any name this rule does not know. An
 * unknown name is taken for a score (higher is better): an eval reports scores, and a cost metric that
 * wants lower says so in its name (`…loss`, `…error`, `…time`). `lr` has no better direction; it falls
 * under the unknown-name answer.
 */
export function lowerIsBetter(metric: string): boolean {
  return LOWER_IS_BETTER.test(metric) && !GAIN.test(metric);
}

export function higherIsBetter(metric: string): boolean {
  return !lowerIsBetter(metric);
}

/**
 * Known retrieval / correlation scores.
 * Used to choose a headline metric when none of the preferred ones is present; the direction of any
 * metric is `higherIsBetter`.
 */
const RETRIEVAL_METRIC = /^(ndcg|mrr|map|recall|precision|accuracy|spearman|pearson|acc)/i;

export function isRetrievalMetric(metric: string): boolean {
  return RETRIEVAL_METRIC.test(metric);
}

/** Which eval metric is the headline (tree, table, dim advisor), in order of preference. */
export const HEADLINE_METRICS: readonly string[] = ['ndcg@10', 'spearman', 'mrr@10', 'map@100', 'recall@10'];

/**
 * The headline metric among these names: a preferred one, else a retrieval score, else the first. Only
 * float32 names compete: a precision-prefixed key (`int8:ndcg@10`, `binary+rescore:ndcg@10`) is the same
 * metric on a quantised index, never a run's headline (the tree, the table's best, the dim advisor).
 */
export function headlineMetric(names: Iterable<string>): string | undefined {
  const all = [...names].filter((n) => parsePrecisionKey(n).precision === 'float32');
  return HEADLINE_METRICS.find((m) => all.includes(m)) ?? all.find(isRetrievalMetric) ?? all[0];
}

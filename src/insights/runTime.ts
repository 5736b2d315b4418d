/**
 * How long a run takes and how much memory, as text: the estimate the bundled trainer writes to run.json
 * before its first step (from a short timed warm-up: "≈ 1.4 s/step, ≈ 19 min for 800 steps, ≈ 2.6 GB"),
 * and the elapsed / remaining time of a running run from the pace it writes as it goes. Pure: the trainer
 * (log.txt), the host (the start notification, the runs view) and tests share it.
 */
import type { RunEstimate, RunInfo } from '../protocol/runFolder';

/** "45 s", "19 min", "2 h 05 min", "3 d 4 h": the precision a person plans with. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 59.5) return `${Math.max(0, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "1.4 s", "0.35 s", "12 s": a step's time. */
export function formatStepTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  return seconds >= 10 ? `${Math.round(seconds)} s` : `${Number(seconds.toPrecision(2))} s`;
}

/** "2.6 GB", "740 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 2 ** 20))} MB`;
}

/** "≈ 1.4 s/step, ≈ 19 min for 800 steps, ≈ 2.6 GB" */
export function estimateText(e: RunEstimate): string {
  const steps = `${e.steps} step${e.steps === 1 ? '' : 's'}`;
  return `≈ ${formatStepTime(e.secondsPerStep)}/step, ≈ ${formatDuration(e.secondsPerStep * e.steps)} for ${steps}, ≈ ${formatBytes(e.memoryBytes)}`;
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** run.json's `estimate`, when it is well formed (a run folder from anywhere may hold anything). */
export function runEstimate(info: Pick<RunInfo, 'estimate'>): RunEstimate | undefined {
  const e = info.estimate as Partial<RunEstimate> | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const secondsPerStep = num(e.secondsPerStep);
  const steps = num(e.steps);
  const memoryBytes = num(e.memoryBytes);
  if (secondsPerStep === undefined || steps === undefined || memoryBytes === undefined || secondsPerStep < 0 || steps < 0) return undefined;
  return { secondsPerStep, steps, memoryBytes, ...(num(e.estimatedBytes) !== undefined ? { estimatedBytes: num(e.estimatedBytes) } : {}) };
}

/**
 * A running run's elapsed and remaining time at `now` (ms since the epoch), from what the trainer last
 * wrote: its training time so far (`elapsedSeconds`), its pace (`secondsPerStep`, evaluations included) and
 * when (`progressAt`); before the first of those, the warm-up's estimate. Undefined when neither is there.
 */
export function runTimes(
  info: Pick<RunInfo, 'step' | 'totalSteps' | 'elapsedSeconds' | 'secondsPerStep' | 'progressAt' | 'estimate'>,
  now: number,
): { elapsed: number; remaining?: number } | undefined {
  const at = num(info.progressAt);
  const elapsedThen = num(info.elapsedSeconds);
  const total = num(info.totalSteps);
  const step = num(info.step) ?? 0;
  const since = at !== undefined ? Math.max(0, (now - at) / 1000) : 0;
  const pace = num(info.secondsPerStep) ?? runEstimate(info)?.secondsPerStep;
  if (elapsedThen === undefined || at === undefined) {
    const e = runEstimate(info);
    return e && total !== undefined ? { elapsed: 0, remaining: Math.max(0, (total - step) * e.secondsPerStep) } : undefined;
  }
  const remaining = pace !== undefined && total !== undefined ? Math.max(0, (total - step) * pace - since) : undefined;
  return { elapsed: elapsedThen + since, ...(remaining !== undefined ? { remaining } : {}) };
}

/** "12 min elapsed · ≈ 7 min left" for a running run; "" when nothing is known yet. */
export function runTimesText(info: Parameters<typeof runTimes>[0], now: number): string {
  const t = runTimes(info, now);
  if (!t) return '';
  const parts = t.elapsed > 0 ? [`${formatDuration(t.elapsed)} elapsed`] : [];
  if (t.remaining !== undefined) parts.push(`≈ ${formatDuration(t.remaining)} left`);
  return parts.join(' · ');
}

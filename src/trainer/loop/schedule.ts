/**
 * Learning rate per step, as transformers' get_{constant,linear,cosine}_schedule_with_warmup: linear
 * warmup from 0 over `warmupSteps`, then constant, linear decay to 0, or half-cosine decay to 0 at
 * `totalSteps`. `step` is the 0-based index of the update about to be applied.
 */
export type SchedulerName = 'constant' | 'linear' | 'cosine';

export function learningRateAt(
  step: number,
  o: { learningRate: number; warmupSteps: number; totalSteps: number; scheduler: SchedulerName },
): number {
  const { learningRate: lr, warmupSteps: warm, totalSteps: total } = o;
  if (step < warm) return (lr * step) / Math.max(1, warm);
  if (o.scheduler === 'constant') return lr;
  const progress = (step - warm) / Math.max(1, total - warm);
  if (o.scheduler === 'linear') return lr * Math.max(0, 1 - progress);
  return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

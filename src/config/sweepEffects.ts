/**
 * Swept fields that cannot change what a run trains: a sweep over them alone trains the same model
 * every time. Said as a note on the swept path (a diagnostic of severity information, never an error)
 * and in the sweep's start message (the host's confirmation, the CLI's first line). Pure.
 *
 * - `miniBatchSize` of a Cached* loss: GradCache is exact (src/trainer/loop/gradCache.ts: the gradient
 *   equals the un-cached one, dropout masks are keyed by row, not by chunk; pinned by
 *   test/trainer/gradCacheEquivalence.test.ts), so it changes memory and speed, not the results — up to
 *   the order of float sums: on a 3-step quick start the losses agree to 1e-7 and the float32 metrics to
 *   1e-6, while an int8 metric, its calibration being discontinuous, moved by 0.001
 *   (test/trainer/sweepCli.test.ts).
 * - the cadence of logs, evaluations and checkpoints, and what is kept: when things are written down.
 * - `evaluation.*`: what is measured, on the same trained model.
 * - `name`: the runs' names.
 */
import type { RunConfig } from '../protocol/runConfig';
import { parameterPointer, pathSegments } from './sweep';

/** The keyword of the note on a swept path that cannot change what is trained. */
export const SWEEP_NO_EFFECT = 'sweepNoEffect';

export interface SweepNote {
  path: string;
  message: string;
  keyword: string;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** What sweeping `dotted` changes when it cannot change what is trained ("changes …, not …"), else undefined. */
export function whyNoEffect(config: RunConfig, dotted: string): string | undefined {
  const segs = pathSegments(dotted);
  const last = segs[segs.length - 1];
  if (segs[0] === 'loss' && last === 'miniBatchSize') {
    let parent: unknown = config;
    for (const s of segs.slice(0, -1)) parent = isObj(parent) || Array.isArray(parent) ? (parent as Record<string, unknown>)[s] : undefined;
    const type = isObj(parent) ? parent.type : undefined;
    if (typeof type === 'string' && type.startsWith('Cached'))
      return `changes memory and speed, not the results: ${type} uses GradCache, which is exact (the same gradient for any mini-batch size, up to float rounding)`;
    return undefined;
  }
  const field = segs.join('.');
  if (field === 'training.logEvery') return 'changes how often the training loss is written, not what is trained';
  if (field === 'training.evalEvery') return 'changes when the model is evaluated, not what is trained';
  if (field === 'training.checkpointEvery' || field.startsWith('training.keepBest'))
    return 'changes which checkpoints are written, not what is trained';
  if (segs[0] === 'evaluation' && segs.length > 1) return 'changes what is measured, not what is trained';
  if (field === 'name') return "changes the runs' names, nothing else";
  return undefined;
}

const SAME_MODEL = 'Every run of this sweep trains the same model';

/** A note per swept path (of `paths`, all valid) that cannot change what is trained. */
export function noEffectNotes(config: RunConfig, paths: readonly string[]): SweepNote[] {
  const every = paths.every((q) => whyNoEffect(config, q) !== undefined);
  const out: SweepNote[] = [];
  for (const p of paths) {
    const why = whyNoEffect(config, p);
    if (why)
      out.push({ path: parameterPointer(p), keyword: SWEEP_NO_EFFECT, message: `"${p}" ${why}` + (every ? `. ${SAME_MODEL}.` : '') });
  }
  return out;
}

/** The line the sweep's start message adds, or undefined when every swept field can change the results. */
export function noEffectSummary(config: RunConfig, paths: readonly string[]): string | undefined {
  const hit = paths.map((p) => [p, whyNoEffect(config, p)] as const).filter(([, why]) => why !== undefined);
  if (!hit.length) return undefined;
  return (hit.length === paths.length ? `${SAME_MODEL}: ` : 'Note: ') + hit.map(([p, why]) => `${p} ${why}`).join('; ') + '.';
}

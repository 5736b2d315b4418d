/**
 * Checkpoints: everything `--resume` needs to continue the same curve.
 *   checkpoints/step-<n>/model.safetensors      encoder parameters (the encoder's own names and layout)
 *   checkpoints/step-<n>/optimizer.safetensors  AdamW moments (`m:<param>`, `v:<param>`)
 *   checkpoints/step-<n>/tokenizer.json         the tokenizer (a from-scratch one is not rebuilt on resume)
 *   checkpoints/step-<n>/state.json             step, data position, RNG states, the loss window, time
 * A checkpoint is written into a temp folder and renamed into place, so a folder named step-<n> is
 * always complete (a kill -9 mid-write leaves only a temp folder, ignored and cleaned up later).
 * state.json is written last and lists the size and sha256 of every other file (`files`): resume skips a
 * checkpoint whose bytes changed after it was written (a bad block, a sync tool, a hand edit), which
 * parsing alone cannot see in the tensors' data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../../protocol/runFolder';
import type { EmbeddingLoss } from '../losses/types';
import type { AdamW } from './optimizer';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece';

export interface LossWindow {
  sum: number;
  count: number;
  byDim: Record<string, number>;
  /** Steps that recorded each dim (with nDimsPerStep not every step sees every dim). */
  byDimCount: Record<string, number>;
  samples: number;
}

export interface TrainerState {
  /** Optimizer updates done. */
  step: number;
  /** Data position: the next batch is batch `batchInEpoch` of epoch `epoch`. */
  epoch: number;
  batchInEpoch: number;
  /** Seconds of training before this checkpoint (the `time` axis continues from it on resume). */
  elapsed: number;
  /** RNG states of the loss (MatryoshkaLoss' nDimsPerStep sampling), in loss-tree order. */
  lossRng: number[];
  /** The training-loss average being accumulated since the last train event. */
  window: LossWindow;
  optimizerStep: number;
}

export function emptyWindow(): LossWindow {
  return { sum: 0, count: 0, byDim: {}, byDimCount: {}, samples: 0 };
}

/** The state of a run before its first step. */
export function initialState(loss: EmbeddingLoss): TrainerState {
  return { step: 0, epoch: 0, batchInEpoch: 0, elapsed: 0, lossRng: lossRngState(loss), window: emptyWindow(), optimizerStep: 0 };
}

const KEEP = 2;

interface RngHolder {
  getRngState(): number;
  setRngState(s: number): void;
}

/** Every part of a loss tree that has an RNG, in a fixed order. */
function rngHolders(loss: EmbeddingLoss): RngHolder[] {
  const out: RngHolder[] = [];
  const walk = (l: unknown) => {
    const x = l as Partial<RngHolder> & { terms?: readonly { loss: unknown }[] };
    if (typeof x.getRngState === 'function' && typeof x.setRngState === 'function') out.push(x as RngHolder);
    if (Array.isArray(x.terms)) x.terms.forEach((t) => walk(t.loss));
  };
  walk(loss);
  return out;
}

export function lossRngState(loss: EmbeddingLoss): number[] {
  return rngHolders(loss).map((h) => h.getRngState());
}

export function setLossRngState(loss: EmbeddingLoss, states: number[]): void {
  const holders = rngHolders(loss);
  if (holders.length !== states.length) throw new Error(`checkpoint has ${states.length} loss RNG states, the loss has ${holders.length}`);
  holders.forEach((h, i) => h.setRngState(states[i]));
}

function toWrite(tensors: Map<string, tf.Tensor>): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) out.set(name, { shape: t.shape, data: t.dataSync() as Float32Array });
  return out;
}

export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, RUN_FILES.checkpoints, `step-${step}`);
}

/** What state.json says of each other file of its checkpoint. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** Size and sha256 of a file's bytes as they are on disk now. */
export function fileDigest(file: string): FileDigest {
  const data = readFileSync(file);
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** state.json's text: the trainer state, `extra`, and the digests of the files beside it (written before it). */
export function stateJson(state: TrainerState, extra: Record<string, unknown> | undefined, files: Record<string, FileDigest>): string {
  const { files: _old, ...rest } = { ...state, ...extra } as Record<string, unknown>;
  return JSON.stringify({ ...rest, files }, null, 2) + '\n';
}

/**
 * The files of a checkpoint that describe the model itself — model.safetensors, tokenizer.json,
 * state.json — into an existing folder: a step checkpoint adds the optimizer moments (`optimizer`), a
 * best checkpoint (bestCheckpoints.ts) is these alone. `extra` fields go into state.json beside the
 * trainer state; state.json comes last, with the digests of the others.
 */
export function writeModelFiles(
  dir: string,
  o: { params: Map<string, tf.Variable>; tokenizer: WordPieceTokenizer; state: TrainerState; optimizer?: AdamW },
  extra?: Record<string, unknown>,
): void {
  writeSafetensors(join(dir, 'model.safetensors'), toWrite(o.params));
  o.tokenizer.save(join(dir, 'tokenizer.json'));
  const names = ['model.safetensors', 'tokenizer.json'];
  if (o.optimizer) {
    writeSafetensors(join(dir, 'optimizer.safetensors'), toWrite(o.optimizer.getState().tensors));
    names.push('optimizer.safetensors');
  }
  const files = Object.fromEntries(names.map((n) => [n, fileDigest(join(dir, n))]));
  writeFileSync(join(dir, 'state.json'), stateJson(o.state, extra, files));
}

export function saveCheckpoint(
  runDir: string,
  o: { params: Map<string, tf.Variable>; optimizer: AdamW; tokenizer: WordPieceTokenizer; state: TrainerState },
): string {
  const root = join(runDir, RUN_FILES.checkpoints);
  mkdirSync(root, { recursive: true });
  const final = checkpointDir(runDir, o.state.step);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeModelFiles(tmp, o);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  // Older checkpoints are pruned: resume needs only the last one, one more guards a bad disk write. Only
  // step-<n> folders (listCheckpoints): the best-<dim> ones of training.keepBest are never pruned here.
  const steps = listCheckpoints(runDir);
  for (const s of steps.slice(0, Math.max(0, steps.length - KEEP))) rmSync(checkpointDir(runDir, s), { recursive: true, force: true });
  for (const name of readdirSync(root))
    if (name.includes('.tmp-') && !name.endsWith(`.tmp-${process.pid}`)) rmSync(join(root, name), { recursive: true, force: true });
  return final;
}

/** Steps of the complete checkpoints, ascending. */
export function listCheckpoints(runDir: string): number[] {
  const root = join(runDir, RUN_FILES.checkpoints);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(root, m[0], 'state.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export interface LoadedCheckpoint {
  dir: string;
  state: TrainerState;
}

export function latestCheckpoint(runDir: string): LoadedCheckpoint | undefined {
  const steps = listCheckpoints(runDir);
  if (!steps.length) return undefined;
  const dir = checkpointDir(runDir, steps[steps.length - 1]);
  return { dir, state: withoutDigests(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))) };
}

/** The trainer state of a state.json (its `files` digests describe the folder, not the run). */
function withoutDigests(json: unknown): TrainerState {
  const { files: _files, ...state } = json as TrainerState & { files?: unknown };
  return state;
}

/** Loads parameters and optimizer moments into a freshly built encoder / optimizer (names and shapes must match). */
function restoreCheckpoint(ckpt: LoadedCheckpoint, params: Map<string, tf.Variable>, optimizer: AdamW): void {
  const model = readSafetensors(join(ckpt.dir, 'model.safetensors'));
  for (const [name, v] of params) {
    const t = model.get(name);
    if (!t) throw new Error(`checkpoint ${ckpt.dir} has no parameter ${name}`);
    if (t.shape.join(',') !== v.shape.join(','))
      throw new Error(`checkpoint parameter ${name} has shape [${t.shape}], the model [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  const opt = readSafetensors(join(ckpt.dir, 'optimizer.safetensors'));
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, t] of opt) tensors.set(name, tf.tensor(t.data, t.shape, 'float32'));
  try {
    optimizer.setState({ step: ckpt.state.optimizerStep, tensors });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** A resumed run: the checkpoint's parameters, optimizer moments and loss RNGs restored; its state, to go on from. */
export function restoreRun(ckpt: LoadedCheckpoint, params: Map<string, tf.Variable>, optimizer: AdamW, loss: EmbeddingLoss): TrainerState {
  restoreCheckpoint(ckpt, params, optimizer);
  const state = { ...ckpt.state, window: { ...emptyWindow(), ...ckpt.state.window } };
  setLossRngState(loss, state.lossRng);
  return state;
}

/**
 * The newest checkpoint that reads back whole (state.json parses, every file matches the size and sha256
 * state.json lists, both safetensors files decode, the tokenizer parses): a checkpoint damaged after its
 * rename (a full disk, a bad block, a hand edit) is skipped with a message, and resume continues from the
 * one before it. A checkpoint from before the digests is checked by parsing alone.
 */
export function latestReadableCheckpoint(runDir: string, log: (s: string) => void = () => {}): LoadedCheckpoint | undefined {
  const steps = listCheckpoints(runDir);
  for (let i = steps.length - 1; i >= 0; i--) {
    const dir = checkpointDir(runDir, steps[i]);
    try {
      const json = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainerState & { files?: Record<string, FileDigest> };
      if (!Number.isInteger(json?.step) || !Number.isInteger(json.epoch) || !Number.isInteger(json.batchInEpoch))
        throw new Error('state.json lacks step / epoch / batchInEpoch');
      for (const [name, want] of Object.entries(json.files ?? {})) {
        const got = fileDigest(join(dir, name));
        if (got.bytes !== want?.bytes || got.sha256 !== want?.sha256)
          throw new Error(
            `${name} is not the file written (${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…; state.json says ${want?.bytes} bytes, ${String(want?.sha256).slice(0, 12)}…)`,
          );
      }
      const state = withoutDigests(json);
      readSafetensors(join(dir, 'model.safetensors'));
      readSafetensors(join(dir, 'optimizer.safetensors'));
      JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      return { dir, state };
    } catch (e) {
      log(
        `checkpoint ${dir} is unreadable (${(e as Error).message}); ${i > 0 ? `falling back to step ${steps[i - 1]}` : 'no earlier checkpoint'}`,
      );
    }
  }
  return undefined;
}

/**
 * Removes the step checkpoints after `step` (a resume from `step` skipped them as unreadable): the run
 * goes on from `step`, and pruning (KEEP) must not keep a damaged one in place of a good one.
 */
export function removeCheckpointsAfter(runDir: string, step: number): number[] {
  const gone = listCheckpoints(runDir).filter((s) => s > step);
  for (const s of gone) rmSync(checkpointDir(runDir, s), { recursive: true, force: true });
  return gone;
}

/** Removes the temp folders of checkpoints whose write was cut short (`step-<n>.tmp-<pid>`, and a best checkpoint's, bestCheckpoints.ts). */
export function removeTempCheckpoints(runDir: string): string[] {
  const root = join(runDir, RUN_FILES.checkpoints);
  if (!existsSync(root)) return [];
  const removed = readdirSync(root).filter((n) => n.includes('.tmp-'));
  for (const n of removed) rmSync(join(root, n), { recursive: true, force: true });
  return removed;
}

/**
 * Loss and parameter gradients for one batch, plain or with GradCache (Gao et al. 2021, "Scaling Deep
 * Contrastive Learning Batch Size under Memory Limited Setup").
 *
 * The loss is a function of the embeddings only (EmbeddingLoss), so one mechanism serves every loss:
 *   plain:  g = ∂/∂θ L(f_θ(x))                       one forward of all rows under the tape
 *   cached: the rows in chunks x_1..x_k of at most miniBatchSize rows (memory: one chunk's activations)
 *           1. r_i = f_θ(x_i) for i < k, no tape                                               embedWithoutTape
 *           2. one tape: r_k = f_θ(x_k) and L(r_1..r_k); its backward gives both the last chunk's
 *              parameter gradient and G = ∂L/∂r_{<k}, the cache (MatryoshkaLoss truncates     lossAndGradsLastChunkOnTape
 *              inside L, so G already holds the weighted sum over dims)
 *           3. g += Σ_{i<k} ∂/∂θ ⟨f_θ(x_i), G_i⟩   re-forward with the tape, one chunk at a time   backpropCachedGrads
 *                                                   (`surrogate`)
 * Step 3 is the vector-Jacobian product of G through the encoder, so g equals the plain gradient as long
 * as the re-forward reproduces r exactly — which is why dropout masks are keyed by row, not by chunk
 * (see DropoutContext). The last chunk is forwarded once, the others twice: 2k − 1 chunk forwards per
 * step, whatever the number of dims; with one chunk the step is the plain one. Memory stays one chunk's
 * activations: in step 2 they share the tape with the loss's graph on all rows ([rows, D] inputs).
 *
 * Rows are the column-major concatenation of the loss columns: row c·B + i is column c, example i.
 *
 * This module is the only place that implements the steps: lossAndGradsCached runs them on one thread;
 * the data-parallel pool (parallel/pool.ts, parallel/worker.ts) runs them on each thread's rows with
 * the loss on the main thread (lossAndRepGrads) and shared memory between the steps: there every thread
 * holds its last chunk on the tape while the main thread computes G (backpropHoldingLastChunk). The
 * Cached* losses (losses/Cached*.ts) are the un-cached loss functions with a miniBatchSize, which is
 * what routes them here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossSink } from '../losses/types';
import { wasmAddInPlace } from '../runtime/kernels/wasmKernels';
import { variableGradsInto } from '../runtime/leanBackward';

export interface RowEmbedder {
  readonly variables: tf.Variable[];
  /** Embeddings of rows [start, end), [end - start, D]. `training` turns dropout on. */
  embed(start: number, end: number, training: boolean): tf.Tensor2D;
}

export interface LossExtras {
  labels?: tf.Tensor1D;
  guide?: tf.Tensor2D[];
}

export interface StepResult {
  loss: number;
  /** Parameter gradients; the caller owns (and disposes) them. Variables the loss does not reach are absent. */
  grads: Map<tf.Variable, tf.Tensor>;
  /** Values the loss recorded through its sink (per-dim losses), as numbers. */
  sideValues: Record<string, number>;
}

/** Collects recorded scalars across a tape; they are kept past the gradient's tidy and read once at the end. */
export class KeepingSink implements LossSink {
  private readonly kept = new Map<string, tf.Scalar>();
  record(key: string, value: tf.Scalar): void {
    this.kept.get(key)?.dispose();
    this.kept.set(key, tf.keep(value.clone()));
  }
  drain(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.kept) {
      out[k] = v.dataSync()[0];
      v.dispose();
    }
    this.kept.clear();
    return out;
  }
}

export function splitColumns(rows: tf.Tensor2D, nColumns: number, batchSize: number): tf.Tensor2D[] {
  return nColumns === 1 ? [rows] : tf.split(rows, new Array(nColumns).fill(batchSize), 0);
}

function namedGradsToMap(variables: tf.Variable[], grads: tf.NamedTensorMap): Map<tf.Variable, tf.Tensor> {
  const out = new Map<tf.Variable, tf.Tensor>();
  for (const v of variables) {
    const g = grads[v.name];
    if (g) out.set(v, g);
  }
  return out;
}

export function lossAndGradsPlain(
  embedder: RowEmbedder,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
): StepResult {
  const sink = new KeepingSink();
  const { value, grads } = tf.variableGrads(() => {
    const rows = embedder.embed(0, nColumns * batchSize, true);
    return loss.compute({ columns: splitColumns(rows, nColumns, batchSize), ...extras }, sink);
  }, embedder.variables);
  const lossValue = value.dataSync()[0];
  value.dispose();
  return { loss: lossValue, grads: namedGradsToMap(embedder.variables, grads), sideValues: sink.drain() };
}

/** [s, e) chunks of at most `miniBatchSize` rows covering rows [start, end), in order. */
export function chunkBounds(start: number, end: number, miniBatchSize: number): Array<[number, number]> {
  // Validation gave every Cached* loss an integer miniBatchSize ≥ 1; anything else is a bug (and would loop forever).
  if (!(miniBatchSize >= 1)) throw new Error(`internal: miniBatchSize ${miniBatchSize}`);
  const bounds: Array<[number, number]> = [];
  for (let s = start; s < end; s += miniBatchSize) bounds.push([s, Math.min(s + miniBatchSize, end)]);
  return bounds;
}

/**
 * GradCache step 1: the embeddings of rows [start, end), [end - start, D], computed chunk by chunk without
 * the tape (one tidy per chunk, so only the chunk's output outlives it). The caller owns the result.
 */
export function embedWithoutTape(embedder: RowEmbedder, start: number, end: number, miniBatchSize: number): tf.Tensor2D {
  const chunkReps = chunkBounds(start, end, miniBatchSize).map(([s, e]) => tf.tidy(() => embedder.embed(s, e, true)));
  if (chunkReps.length === 1) return chunkReps[0];
  const reps = tf.concat(chunkReps, 0) as tf.Tensor2D;
  chunkReps.forEach((t) => t.dispose());
  return reps;
}

export interface RepLossResult {
  loss: number;
  /** ∂L/∂reps, the same shape as the reps; the caller owns (and disposes) it. */
  repGrads: tf.Tensor2D;
  sideValues: Record<string, number>;
}

/**
 * GradCache step 2 when the loss runs apart from the encoder (the data-parallel pool): the loss on the
 * (full-width) embeddings of all rows and its gradient w.r.t. them — the cache. `reps` must not be on a
 * tape (a fresh or tape-less tensor): the gradient stops at the embeddings. MatryoshkaLoss truncates
 * inside `loss.compute`, so the gradient already holds the weighted sum over dims.
 */
export function lossAndRepGrads(
  reps: tf.Tensor2D,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
): RepLossResult {
  const sink = new KeepingSink();
  const { value, grad } = tf.valueAndGrad((r: tf.Tensor2D) =>
    loss.compute({ columns: splitColumns(r, nColumns, batchSize), ...extras }, sink),
  )(reps);
  const lossValue = value.dataSync()[0];
  value.dispose();
  return { loss: lossValue, repGrads: grad as tf.Tensor2D, sideValues: sink.drain() };
}

/**
 * The GradCache surrogate ⟨emb, g⟩ = sum(emb ∘ g): its parameter gradient is the vector-Jacobian product
 * of the cached gradient g through the encoder.
 */
export function surrogate(emb: tf.Tensor2D, g: tf.Tensor2D): tf.Scalar {
  return tf.sum(tf.mul(emb, g)) as tf.Scalar;
}

/**
 * GradCache step 3: re-embeds rows [start, end) chunk by chunk with the tape and back-propagates the
 * cached gradient of each chunk (`gradOf(s, e)`, [e - s, D], disposed here) through it; the parameter
 * gradients are summed into `acc` (returned; a new map when absent).
 */
export function backpropCachedGrads(
  embedder: RowEmbedder,
  start: number,
  end: number,
  miniBatchSize: number,
  gradOf: (s: number, e: number) => tf.Tensor2D,
  acc: Map<tf.Variable, tf.Tensor> = new Map(),
): Map<tf.Variable, tf.Tensor> {
  for (const [s, e] of chunkBounds(start, end, miniBatchSize)) {
    const gChunk = gradOf(s, e);
    const f = () => surrogate(embedder.embed(s, e, true), gChunk);
    // Added into acc as the backward goes where it can (runtime/leanBackward.ts): one set of gradients, not two.
    if (!variableGradsInto(f, embedder.variables, acc)) {
      const { value, grads } = tf.variableGrads(f, embedder.variables);
      value.dispose();
      accumulateGrads(acc, embedder.variables, grads);
    }
    gChunk.dispose();
  }
  return acc;
}

export interface LastChunkResult extends RepLossResult {
  /** Parameter gradients through the last chunk's rows; the caller owns (and disposes) them. */
  grads: Map<tf.Variable, tf.Tensor>;
}

/**
 * GradCache step 2 on one thread: under one tape, embeds rows [lastStart, total) — the last chunk — and
 * evaluates the loss on [`reps` (rows [0, lastStart), off the tape), that embedding]. One backward gives
 * the last chunk's parameter gradients and ∂L/∂reps (the cache for step 3) from the same evaluation, so
 * the sink records each side value once.
 */
export function lossAndGradsLastChunkOnTape(
  embedder: RowEmbedder,
  reps: tf.Tensor2D,
  total: number,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
): LastChunkResult {
  const lastStart = reps.shape[0];
  const sink = new KeepingSink();
  const xs: tf.Tensor[] = [...embedder.variables, reps];
  const { value, grads } = tf.engine().gradients(
    () => {
      const rows = tf.concat([reps, embedder.embed(lastStart, total, true)], 0) as tf.Tensor2D;
      return loss.compute({ columns: splitColumns(rows, nColumns, batchSize), ...extras }, sink);
    },
    xs,
    undefined,
    true,
  );
  const lossValue = value.dataSync()[0];
  value.dispose();
  const paramGrads = new Map<tf.Variable, tf.Tensor>();
  embedder.variables.forEach((v, i) => {
    if (grads[i]) paramGrads.set(v, grads[i]);
  });
  // A loss that ignores the earlier rows leaves them no gradient: step 3 then back-propagates zeros.
  const repGrads = (grads[xs.length - 1] as tf.Tensor2D | undefined) ?? tf.zerosLike(reps);
  return { loss: lossValue, grads: paramGrads, repGrads, sideValues: sink.drain() };
}

/** GradCache (steps 1-3) on one thread; the parallel pool (parallel/pool.ts) composes the same steps across threads. */
export function lossAndGradsCached(
  embedder: RowEmbedder,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras,
  miniBatchSize: number,
): StepResult {
  const total = nColumns * batchSize;
  const bounds = chunkBounds(0, total, miniBatchSize);
  if (bounds.length === 1) return lossAndGradsPlain(embedder, nColumns, batchSize, loss, extras);
  const lastStart = bounds[bounds.length - 1][0];
  const reps = embedWithoutTape(embedder, 0, lastStart, miniBatchSize);
  let step: LastChunkResult;
  try {
    step = lossAndGradsLastChunkOnTape(embedder, reps, total, nColumns, batchSize, loss, extras);
  } finally {
    reps.dispose();
  }
  const { repGrads } = step;
  const grads = backpropCachedGrads(
    embedder,
    0,
    lastStart,
    miniBatchSize,
    (s, e) => tf.slice(repGrads, [s, 0], [e - s, repGrads.shape[1]]),
    step.grads,
  );
  repGrads.dispose();
  return { loss: step.loss, grads, sideValues: step.sideValues };
}

/**
 * GradCache on rows [start, end) of one thread when the loss runs elsewhere (the data-parallel pool):
 * step 1 on every chunk but the last (`publish`ed), then the last chunk embedded under a tape that stays
 * open while `awaitRepGrads` blocks (the caller publishes that embedding too and waits for, or computes,
 * ∂L/∂reps of all rows), its share of the cache back-propagated through that same tape, and step 3 on
 * the other chunks. `gradOf(s, e)` gives the cache of rows [s, e) once `awaitRepGrads` returned (it is
 * disposed here). Returns the summed parameter gradients (the caller owns them). `awaitRepGrads` runs
 * exactly once, also when the range is empty.
 */
export function backpropHoldingLastChunk(
  embedder: RowEmbedder,
  start: number,
  end: number,
  miniBatchSize: number,
  publish: (start: number, reps: tf.Tensor2D) => void,
  awaitRepGrads: () => void,
  gradOf: (s: number, e: number) => tf.Tensor2D,
): Map<tf.Variable, tf.Tensor> {
  const acc = new Map<tf.Variable, tf.Tensor>();
  const bounds = chunkBounds(start, end, miniBatchSize);
  if (bounds.length === 0) {
    awaitRepGrads();
    return acc;
  }
  const [lastStart] = bounds[bounds.length - 1];
  if (lastStart > start) {
    const reps = embedWithoutTape(embedder, start, lastStart, miniBatchSize);
    try {
      publish(start, reps);
    } finally {
      reps.dispose();
    }
  }
  const { value, grads } = tf.variableGrads(() => {
    const last = embedder.embed(lastStart, end, true);
    publish(lastStart, last);
    // Blocking inside the tape keeps the last chunk's activations for its backward pass.
    awaitRepGrads();
    return surrogate(last, gradOf(lastStart, end));
  }, embedder.variables);
  value.dispose();
  accumulateGrads(acc, embedder.variables, grads);
  return backpropCachedGrads(embedder, start, lastStart, miniBatchSize, gradOf, acc);
}

/**
 * acc[v] += grads[v.name] for every variable with a gradient, disposing what it replaces. On wasm with our
 * kernels the sum is written into the accumulator's own buffer (it holds the only reference to it).
 */
export function accumulateGrads(acc: Map<tf.Variable, tf.Tensor>, variables: tf.Variable[], grads: tf.NamedTensorMap): void {
  for (const v of variables) {
    const g = grads[v.name];
    if (!g) continue;
    const prev = acc.get(v);
    if (!prev) {
      acc.set(v, g);
      continue;
    }
    if (!wasmAddInPlace(prev, g)) {
      acc.set(v, tf.add(prev, g));
      prev.dispose();
    }
    g.dispose();
  }
}

/** GradCache when the loss is a cached one (it has a miniBatchSize), plain otherwise. */
export function lossAndGrads(
  embedder: RowEmbedder,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
): StepResult {
  return loss.miniBatchSize !== undefined
    ? lossAndGradsCached(embedder, nColumns, batchSize, loss, extras, loss.miniBatchSize)
    : lossAndGradsPlain(embedder, nColumns, batchSize, loss, extras);
}

/**
 * Loss and parameter gradients for one batch, plain or with GradCache (Gao et al. 2021, "Scaling Deep
 * Contrastive Learning Batch Size under Memory Limited Setup").
 *
 * The loss is a function of the embeddings only (EmbeddingLoss), so one mechanism serves every loss:
 *   plain:  g = ∂/∂θ L(f_θ(x))                       one forward of all rows under the tape
 *   cached: 1. r = f_θ(x) chunk by chunk, no tape     (memory: one chunk's activations)
 *           2. G = ∂L/∂r on the full-width r          (MatryoshkaLoss truncates inside L, so G already
 *                                                      holds the weighted sum over dims)
 *           3. g = Σ_chunks ∂/∂θ ⟨f_θ(x_chunk), G_chunk⟩   re-forward with the tape, one chunk at a time
 * Step 3 is the vector-Jacobian product of G through the encoder, so g equals the plain gradient as long
 * as the re-forward reproduces r exactly — which is why dropout masks are keyed by row, not by chunk
 * (see DropoutContext). The encoder runs exactly twice per step, whatever the number of dims.
 *
 * Rows are the column-major concatenation of the loss columns: row c·B + i is column c, example i.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossSink } from './losses/types';

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

function checkShape(nColumns: number, batchSize: number, loss: EmbeddingLoss): void {
  const [lo, hi] = loss.columnRange;
  if (nColumns < lo || nColumns > hi) {
    const want = hi === Infinity ? `at least ${lo}` : lo === hi ? `${lo}` : `${lo} to ${hi}`;
    throw new Error(`${loss.name} takes ${want} columns, got ${nColumns}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
}

export function lossAndGradsPlain(
  embedder: RowEmbedder,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
): StepResult {
  checkShape(nColumns, batchSize, loss);
  const sink = new KeepingSink();
  const { value, grads } = tf.variableGrads(() => {
    const rows = embedder.embed(0, nColumns * batchSize, true);
    return loss.compute({ columns: splitColumns(rows, nColumns, batchSize), ...extras }, sink);
  }, embedder.variables);
  const lossValue = value.dataSync()[0];
  value.dispose();
  return { loss: lossValue, grads: namedGradsToMap(embedder.variables, grads), sideValues: sink.drain() };
}

export function lossAndGradsCached(
  embedder: RowEmbedder,
  nColumns: number,
  batchSize: number,
  loss: EmbeddingLoss,
  extras: LossExtras = {},
  miniBatchSize: number = loss.miniBatchSize ?? 32,
): StepResult {
  checkShape(nColumns, batchSize, loss);
  if (!Number.isInteger(miniBatchSize) || miniBatchSize < 1) {
    throw new Error(`miniBatchSize must be a positive integer, got ${miniBatchSize}`);
  }
  const total = nColumns * batchSize;
  const bounds: Array<[number, number]> = [];
  for (let s = 0; s < total; s += miniBatchSize) bounds.push([s, Math.min(s + miniBatchSize, total)]);

  // 1. No-tape forward, one tidy per chunk so only the chunk's output outlives it.
  const chunkReps = bounds.map(([s, e]) => tf.tidy(() => embedder.embed(s, e, true)));
  const reps = tf.concat(chunkReps, 0) as tf.Tensor2D;
  chunkReps.forEach((t) => t.dispose());

  // 2. Loss on the full-width embeddings and its gradient w.r.t. them: the cache.
  const sink = new KeepingSink();
  const { value, grad: repGrad } = tf.valueAndGrad((r: tf.Tensor2D) =>
    loss.compute({ columns: splitColumns(r, nColumns, batchSize), ...extras }, sink),
  )(reps);
  reps.dispose();
  const lossValue = value.dataSync()[0];
  value.dispose();

  // 3. Re-forward each chunk with the tape and push the cached gradient through it.
  const acc = new Map<tf.Variable, tf.Tensor>();
  for (const [s, e] of bounds) {
    const gChunk = tf.slice(repGrad, [s, 0], [e - s, repGrad.shape[1]]);
    const { value: surrogate, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(embedder.embed(s, e, true), gChunk)) as tf.Scalar,
      embedder.variables,
    );
    surrogate.dispose();
    gChunk.dispose();
    accumulateGrads(acc, embedder.variables, grads);
  }
  repGrad.dispose();
  return { loss: lossValue, grads: acc, sideValues: sink.drain() };
}

/** acc[v] += grads[v.name] for every variable with a gradient, disposing what it replaces. */
export function accumulateGrads(acc: Map<tf.Variable, tf.Tensor>, variables: tf.Variable[], grads: tf.NamedTensorMap): void {
  for (const v of variables) {
    const g = grads[v.name];
    if (!g) continue;
    const prev = acc.get(v);
    if (prev) {
      acc.set(v, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else {
      acc.set(v, g);
    }
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

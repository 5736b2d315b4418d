/**
 * MatryoshkaLoss — Kusupati et al. 2022, "Matryoshka Representation Learning": any EmbeddingLoss
 * (cached ones included) applied to truncated embeddings.
 *
 * Inputs: whatever the inner loss takes; only the model's columns are truncated (the GIST guide is not,
 * labels pass through unchanged).
 *
 *   shrink(x, d) = n̂(x[:, :d])                     slice to d, then L2-renormalise (max(‖·‖, 1e-12))
 *   L            = Σ_{d ∈ selected} w_d · inner(shrink(columns, d))
 *
 * (dim, weight) pairs are sorted by dim, largest first; weights default to 1. With nDimsPerStep = k > 0
 * (and k < the number of dims), each call draws k dims with a seeded RNG (then keeps them in that order);
 * otherwise every dim is used. Unlike sentence-transformers, the sampling is honoured for cached inner
 * losses too.
 *
 * Caching — where MatryoshkaLoss meets a Cached* loss (e.g. CachedMultipleNegativesRankingLoss.ts):
 * MatryoshkaLoss inherits the inner loss's miniBatchSize, so the trainer runs it through GradCache
 * (../loop/gradCache.ts). There compute() is called once, in step 2 (`lossAndRepGrads`), on the full-width
 * cached embeddings; being a differentiable function of them, it gives dL/d(full embeddings) = Σ_d w_d ·
 * (chain rule through shrink) in one call, so the encoder still runs at most twice per step whatever the
 * number of dims.
 *
 * Side values: sink.record(String(d), unweighted inner loss at d) for each selected dim.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs, LossSink } from './types';
import { normalizeRows } from './similarity';
import { SeededRandom } from './seededRandom';

export interface MatryoshkaOptions {
  dims: number[];
  /** null / undefined = all 1. */
  weights?: number[] | null;
  /** −1 (default) = every dim on every call; k > 0 = k dims sampled per call. */
  nDimsPerStep?: number;
  /** Seeds the dim sampling. */
  seed?: number;
}

/** shrink(x, d) = normalize(x[:, :d]). */
export function shrink(x: tf.Tensor2D, dim: number): tf.Tensor2D {
  return tf.tidy(() => normalizeRows(tf.slice(x, [0, 0], [x.shape[0], dim])));
}

export class MatryoshkaLoss implements EmbeddingLoss {
  readonly name = 'MatryoshkaLoss';
  readonly miniBatchSize?: number;
  readonly needsGuide: boolean;
  readonly needsLabels: boolean;
  readonly columnRange: readonly [number, number];
  /** Dims, largest first. */
  readonly dims: readonly number[];
  /** Weights, aligned with `dims`. */
  readonly weights: readonly number[];
  readonly nDimsPerStep: number;
  private readonly rng: SeededRandom;

  constructor(
    readonly inner: EmbeddingLoss,
    opts: MatryoshkaOptions,
  ) {
    if (opts.dims.length === 0) throw new Error('MatryoshkaLoss needs at least one dim');
    const weights = opts.weights ?? opts.dims.map(() => 1);
    if (weights.length !== opts.dims.length) {
      throw new Error(`MatryoshkaLoss: ${weights.length} weights for ${opts.dims.length} dims`);
    }
    const pairs = opts.dims.map((d, i) => [d, weights[i]] as const).sort((x, y) => y[0] - x[0]);
    this.dims = pairs.map(([d]) => d);
    this.weights = pairs.map(([, w]) => w);
    this.nDimsPerStep = opts.nDimsPerStep ?? -1;
    this.rng = new SeededRandom(opts.seed ?? 0);
    this.miniBatchSize = inner.miniBatchSize;
    this.needsGuide = inner.needsGuide;
    this.needsLabels = inner.needsLabels;
    this.columnRange = inner.columnRange;
  }

  /** Indices (into `dims`) used by the next compute(); advances the RNG when sampling. */
  selectDims(): number[] {
    const n = this.dims.length;
    const k = this.nDimsPerStep;
    if (k > 0 && k < n) return this.rng.sampleIndices(n, k);
    return Array.from({ length: n }, (_, i) => i);
  }

  compute(inputs: LossInputs, sink?: LossSink): tf.Scalar {
    const selected = this.selectDims();
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const i of selected) {
        const dim = this.dims[i];
        const columns = inputs.columns.map((c) => shrink(c, dim));
        const loss = this.inner.compute({ columns, labels: inputs.labels, guide: inputs.guide });
        sink?.record(String(dim), loss);
        total = tf.add(total, tf.mul(loss, this.weights[i]));
      }
      return total;
    });
  }

  /** The sampling RNG's state, for checkpoints (restore with setRngState to continue the same draws). */
  getRngState(): number {
    return this.rng.getState();
  }

  setRngState(state: number): void {
    this.rng.setState(state);
  }
}

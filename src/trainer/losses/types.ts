import type * as tf from '@tensorflow/tfjs-core';

/**
 * What every loss sees: embeddings, never the model. This is what lets one GradCache mechanism serve
 * every loss (and MatryoshkaLoss around any of them): the loss is a differentiable function of the
 * full-width embeddings, and the trainer decides whether they come from one forward pass or from the
 * cached, chunked one.
 */
export interface LossInputs {
  /** Embeddings per dataset column, in column order: [anchor, positive, negative_1..k], each [B, D]. */
  columns: tf.Tensor2D[];
  /** Pair scores for CoSENT / AnglE, [B]. */
  labels?: tf.Tensor1D;
  /** Guide-model embeddings per column (GIST), [B, Dg]; never truncated, never differentiated. */
  guide?: tf.Tensor2D[];
}

/** Receives side values during a loss computation (per-dim losses for the metrics). */
export interface LossSink {
  /** `value` is a scalar tensor owned by the caller of compute(); the sink must keep() it if it holds on. */
  record(key: string, value: tf.Scalar): void;
}

export interface EmbeddingLoss {
  /** The sentence-transformers class name (e.g. "CachedMultipleNegativesRankingLoss"). */
  readonly name: string;
  /** Set when the loss is a Cached* one: the GradCache mini-batch size. */
  readonly miniBatchSize?: number;
  /** Needs `guide` embeddings (GIST). */
  readonly needsGuide: boolean;
  /** Needs `labels` (CoSENT / AnglE). */
  readonly needsLabels: boolean;
  /** Columns accepted: [min, max] (max = Infinity for any number of negatives). */
  readonly columnRange: readonly [number, number];
  /** The loss value, differentiable w.r.t. `inputs.columns`. */
  compute(inputs: LossInputs, sink?: LossSink): tf.Scalar;
}

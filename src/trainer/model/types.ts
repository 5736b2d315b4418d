import type * as tf from '@tensorflow/tfjs-core';

/** A batch of tokenised sequences, padded to one length. */
export interface TokenBatch {
  /** [N, L] int32 token ids. */
  inputIds: tf.Tensor2D;
  /** [N, L] 1 for real tokens, 0 for padding (float32). */
  attentionMask: tf.Tensor2D;
}

/**
 * Dropout randomness that does not depend on how a batch is chunked: the mask of row r at dropout site
 * s is drawn from (seed, rowIds[r], s) alone. GradCache's re-forward of a chunk then draws exactly the
 * masks that its no-grad forward drew, and both equal the masks of an un-chunked forward.
 */
export interface DropoutContext {
  /** Changes every step (and per column set): the base of every mask. */
  seed: number;
  /** A stable id per row of the batch being encoded (its index in the full, un-chunked batch). */
  rowIds: Int32Array;
}

export interface Encoder {
  /** Output embedding width (the largest Matryoshka dim). */
  readonly dim: number;
  /** Trainable variables (HF parameter names). */
  readonly variables: tf.Variable[];
  /** Pooled embeddings [N, dim]. Dropout is applied only when `dropout` is given. */
  encode(batch: TokenBatch, dropout?: DropoutContext): tf.Tensor2D;
}

/**
 * CoSENTLoss — Su 2022, "CoSENT: A more efficient sentence vector scheme than Sentence-BERT": a ranking
 * loss over pairs with a float score each.
 *
 * Inputs: columns [a, p], each [B, D]; labels y [B] (the pair scores; only their order matters).
 *
 *   s_i = scale · sim(a_i, p_i)                       sim = pairwise_cos_sim (AnglE: pairwise_angle_sim)
 *   L   = log(1 + Σ_{(i,j): y_i < y_j} exp(s_i − s_j))
 *       = logsumexp([0] ∪ { s_i − s_j : y_i < y_j })
 *
 * A SUM over the ordered pairs, not a mean: the loss grows with the batch size. Ties and the diagonal
 * contribute nothing. Computed as logsumexp over [0, masked differences] (−logSoftmax at the 0 entry),
 * which is stable for any scale. Default: scale 20.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs } from './types';
import { MASKED_SCORE, pairwiseCosSim } from './similarity';
import { LOSS_COLUMN_RANGES } from '../../config/lossConfig';

export const COSENT_DEFAULT_SCALE = 20;

export type PairSimilarity = (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor1D;

export interface CosentOptions {
  scale?: number;
}

/** L = logsumexp([0] ∪ {s_i − s_j : y_i < y_j}) for per-pair scores s and labels y. */
export function cosentFromScores(scores: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const n = scores.shape[0];
    if (labels.shape[0] !== n) throw new Error(`CoSENT: ${labels.shape[0]} labels for ${n} pairs`);
    const diff = tf.sub(tf.reshape(scores, [n, 1]), tf.reshape(scores, [1, n])); // diff[i, j] = s_i − s_j
    const ordered = tf.less(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])); // y_i < y_j
    // Unordered pairs (ties, the diagonal, y_i > y_j) drop out: exp(MASKED_SCORE − max) is exactly 0 and
    // tf.where sends them no gradient.
    const terms = tf.where(ordered, diff, tf.fill([n, n], MASKED_SCORE));
    const withOne = tf.concat([tf.zeros([1, 1]), tf.reshape(terms, [1, n * n])], 1);
    // logsumexp(v) = −logSoftmax(v)[0] when v[0] = 0; tf.logSoftmax has a stable custom gradient.
    return tf.neg(tf.reshape(tf.slice(tf.logSoftmax(withOne), [0, 0], [1, 1]), [])) as tf.Scalar;
  });
}

export class CoSENTLoss implements EmbeddingLoss {
  readonly name: string = 'CoSENTLoss';
  readonly needsGuide = false;
  readonly needsLabels = true;
  readonly columnRange = LOSS_COLUMN_RANGES.CoSENTLoss;
  readonly scale: number;
  protected readonly similarity: PairSimilarity = pairwiseCosSim;

  constructor(opts: CosentOptions = {}) {
    this.scale = opts.scale ?? COSENT_DEFAULT_SCALE;
  }

  compute({ columns, labels }: LossInputs): tf.Scalar {
    if (!labels) throw new Error(`${this.name} needs labels (one score per pair)`);
    if (columns.length !== 2) throw new Error(`${this.name} takes 2 columns (sentence1, sentence2), got ${columns.length}`);
    return tf.tidy(() => {
      const scores = tf.mul(this.similarity(columns[0], columns[1]), this.scale) as tf.Tensor1D;
      return cosentFromScores(scores, labels);
    });
  }
}

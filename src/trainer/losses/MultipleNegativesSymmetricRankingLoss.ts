/**
 * MultipleNegativesSymmetricRankingLoss — MultipleNegativesRankingLoss (Henderson et al. 2017,
 * "Efficient Natural Language Response Suggestion for Smart Reply") in both directions.
 * The cached variant, CachedMultipleNegativesSymmetricRankingLoss, is this class with a miniBatchSize:
 * see CachedMultipleNegativesSymmetricRankingLoss.ts.
 *
 * Inputs: columns [a, p, n_1..n_k] (any k ≥ 0), each [B, D]; labels and guide are ignored.
 *
 *   C  = concat([p, n_1, …, n_k], rows)
 *   F  = scale · cos_sim(a, C)                     forward: each anchor against every candidate
 *   Bk = F[:, :B]ᵀ                                 backward: each positive against every anchor
 *   L  = ( CE(F, arange B) + CE(Bk, arange B) ) / 2
 *
 * Negatives only appear in the forward direction. Defaults: scale 20; cached mini_batch_size 32.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs } from './types';
import { arange, crossEntropyMean } from './similarity';
import { MNRL_DEFAULT_SCALE, anchorCandidateScores, type MnrlOptions } from './MultipleNegativesRankingLoss';
import { LOSS_COLUMN_RANGES } from '../../config/lossConfig';

export class MultipleNegativesSymmetricRankingLoss implements EmbeddingLoss {
  readonly name: string;
  readonly miniBatchSize?: number;
  readonly needsGuide = false;
  readonly needsLabels = false;
  readonly columnRange = LOSS_COLUMN_RANGES.MultipleNegativesSymmetricRankingLoss;
  readonly scale: number;

  constructor(opts: MnrlOptions = {}) {
    this.scale = opts.scale ?? MNRL_DEFAULT_SCALE;
    this.miniBatchSize = opts.miniBatchSize;
    this.name = opts.miniBatchSize === undefined ? 'MultipleNegativesSymmetricRankingLoss' : 'CachedMultipleNegativesSymmetricRankingLoss';
  }

  compute({ columns }: LossInputs): tf.Scalar {
    return tf.tidy(() => {
      const batch = columns[0].shape[0];
      const labels = arange(batch);
      const forward = anchorCandidateScores(columns, this.scale);
      // The first B candidate columns are the positives (they come first in C).
      const backward = tf.transpose(tf.slice(forward, [0, 0], [batch, batch])) as tf.Tensor2D;
      return tf.div(tf.add(crossEntropyMean(forward, labels), crossEntropyMean(backward, labels)), 2) as tf.Scalar;
    });
  }
}

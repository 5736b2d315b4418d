/**
 * MultipleNegativesRankingLoss — Henderson et al. 2017, "Efficient Natural Language Response Suggestion
 * for Smart Reply" (in-batch negatives with a softmax over the batch).
 * The cached variant, CachedMultipleNegativesRankingLoss, is this class with a miniBatchSize: see
 * CachedMultipleNegativesRankingLoss.ts.
 *
 * Inputs: columns [a, p, n_1..n_k] (any k ≥ 0), each [B, D]; labels and guide are ignored.
 *
 *   C = concat([p, n_1, …, n_k], rows)            all positives first, then negative column 1, …
 *   S = scale · cos_sim(a, C)                      [B, (1+k)B]
 *   L = CE(S, arange(B))                           mean over the B anchors
 *
 * Only anchors are queries: the other rows' positives and every negative are in-batch negatives.
 * Defaults (sentence-transformers): scale 20; the cached variant's mini_batch_size 32.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs } from './types';
import { arange, cosSim, crossEntropyMean } from './similarity';
import { LOSS_COLUMN_RANGES } from '../../config/lossConfig';

export interface MnrlOptions {
  scale?: number;
  /** Set for CachedMultipleNegativesRankingLoss: the GradCache mini-batch size. */
  miniBatchSize?: number;
}

export const MNRL_DEFAULT_SCALE = 20;

/** Shared by MNRL and MNSRL: the scaled score matrix of every anchor against every candidate. */
export function anchorCandidateScores(columns: tf.Tensor2D[], scale: number): tf.Tensor2D {
  if (columns.length < 2) throw new Error(`needs at least (anchor, positive) columns, got ${columns.length}`);
  return tf.tidy(() => {
    const [anchors, ...candidateColumns] = columns;
    const candidates = candidateColumns.length === 1 ? candidateColumns[0] : tf.concat(candidateColumns, 0);
    return tf.mul(cosSim(anchors, candidates), scale) as tf.Tensor2D;
  });
}

export class MultipleNegativesRankingLoss implements EmbeddingLoss {
  readonly name: string;
  readonly miniBatchSize?: number;
  readonly needsGuide = false;
  readonly needsLabels = false;
  readonly columnRange = LOSS_COLUMN_RANGES.MultipleNegativesRankingLoss;
  readonly scale: number;

  constructor(opts: MnrlOptions = {}) {
    this.scale = opts.scale ?? MNRL_DEFAULT_SCALE;
    this.miniBatchSize = opts.miniBatchSize;
    this.name = opts.miniBatchSize === undefined ? 'MultipleNegativesRankingLoss' : 'CachedMultipleNegativesRankingLoss';
  }

  compute({ columns }: LossInputs): tf.Scalar {
    return tf.tidy(() => {
      const batch = columns[0].shape[0];
      // Row i's positive sits at candidate column i because positives come first in C.
      return crossEntropyMean(anchorCandidateScores(columns, this.scale), arange(batch));
    });
  }
}

/**
 * GISTEmbedLoss — Solatorio 2024, "GISTEmbed: Guided In-sample Selection of Training Negatives for Text
 * Embedding Fine-tuning". The cached variant, CachedGISTEmbedLoss, is this class with a miniBatchSize:
 * see CachedGISTEmbedLoss.ts.
 *
 * Inputs: columns [a, p, n_1..n_k] of the trained model, each [B, D]; guide [ga, gp, gn_1..gn_k] from the
 * frozen guide model, each [B, Dg] (Dg may differ from D; never truncated, never differentiated).
 * GISTEmbedLoss takes 2 or 3 columns; CachedGISTEmbedLoss any number of negative columns.
 *
 *   sim(X, Y)[i, j] = cos(X_i, Y_j)                (nn.CosineSimilarity, eps 1e-8)
 *   t_i             = sim(ga, gp)[i, i]            the guide's anchor-positive similarity: the threshold
 *                                                  for every block of row i
 *   mask(G)_ij      = G_ij > t_i − margin          (absolute)
 *                     G_ij > t_i · (1 − margin)    (relative)
 *   blocks          = [ ap = sim(a, p)  masked by sim(ga, gp), diagonal never masked,
 *                       aa = sim(a, a)  masked by sim(ga, ga)   if contrastAnchors,
 *                       pp = sim(p, p)  masked by sim(gp, gp)   if contrastPositives,
 *                       an_j = sim(a, n_j) masked by sim(ga, gn_j) for every negative column ]
 *   L               = CE(concat(blocks, 1) / temperature, arange(B))
 *
 * Masked entries are −∞ in sentence-transformers; here they are a large finite negative put in with
 * tf.where, which gives the same softmax (exp underflows to 0) and exactly zero gradient through them.
 * The aa / pp diagonals (self-similarity ≈ 1 > t_i − margin) are normally masked, as in the reference:
 * nothing protects them. Defaults: temperature 0.01, margin_strategy "absolute", margin 0,
 * contrast_anchors and contrast_positives true; cached mini_batch_size 32.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs } from './types';
import { MASKED_SCORE, arange, cosSim, crossEntropyMean } from './similarity';
import { LOSS_COLUMN_RANGES } from '../../config/lossConfig';

export type MarginStrategy = 'absolute' | 'relative';

export interface GistOptions {
  temperature?: number;
  marginStrategy?: MarginStrategy;
  margin?: number;
  contrastAnchors?: boolean;
  contrastPositives?: boolean;
  /** Set for CachedGISTEmbedLoss: the GradCache mini-batch size. */
  miniBatchSize?: number;
}

export const GIST_DEFAULTS = {
  temperature: 0.01,
  marginStrategy: 'absolute' as MarginStrategy,
  margin: 0,
  contrastAnchors: true,
  contrastPositives: true,
} as const;

/** nn.CosineSimilarity's eps: the guide and model similarities of GIST use it, not F.normalize's 1e-12. */
const GIST_COS_EPS = 1e-8;

export class GISTEmbedLoss implements EmbeddingLoss {
  readonly name: 'GISTEmbedLoss' | 'CachedGISTEmbedLoss';
  readonly miniBatchSize?: number;
  readonly needsGuide = true;
  readonly needsLabels = false;
  readonly columnRange: readonly [number, number];
  readonly temperature: number;
  readonly marginStrategy: MarginStrategy;
  readonly margin: number;
  readonly contrastAnchors: boolean;
  readonly contrastPositives: boolean;

  constructor(opts: GistOptions = {}) {
    this.temperature = opts.temperature ?? GIST_DEFAULTS.temperature;
    this.marginStrategy = opts.marginStrategy ?? GIST_DEFAULTS.marginStrategy;
    this.margin = opts.margin ?? GIST_DEFAULTS.margin;
    this.contrastAnchors = opts.contrastAnchors ?? GIST_DEFAULTS.contrastAnchors;
    this.contrastPositives = opts.contrastPositives ?? GIST_DEFAULTS.contrastPositives;
    this.miniBatchSize = opts.miniBatchSize;
    const cached = opts.miniBatchSize !== undefined;
    this.name = cached ? 'CachedGISTEmbedLoss' : 'GISTEmbedLoss';
    // The uncached reference accepts (a, p[, n]) only; the cached one loops over any number of negatives.
    this.columnRange = LOSS_COLUMN_RANGES[this.name];
  }

  compute({ columns, guide }: LossInputs): tf.Scalar {
    if (!guide || guide.length !== columns.length) {
      throw new Error(
        `${this.name} needs guide embeddings for each of the ${columns.length} columns, got ${guide ? guide.length : 'none'}`,
      );
    }
    const [lo, hi] = this.columnRange;
    if (columns.length < lo || columns.length > hi) {
      throw new Error(`${this.name} takes ${lo} to ${hi} columns (anchor, positive[, negative]), got ${columns.length}`);
    }
    return tf.tidy(() => {
      const [a, p, ...negatives] = columns;
      const [ga, gp, ...guideNegatives] = guide;
      const batch = a.shape[0];

      const guideAp = cosSim(ga, gp, GIST_COS_EPS);
      // t_i: the guide's own score for the labelled pair; a candidate the guide ranks above it (minus
      // the margin) is presumed a false negative.
      const threshold = tf.reshape(tf.sum(tf.mul(guideAp, tf.eye(batch, guideAp.shape[1])), 1), [batch, 1]);
      const limit = this.marginStrategy === 'absolute' ? tf.sub(threshold, this.margin) : tf.mul(threshold, 1 - this.margin);
      const falseNegatives = (guideSim: tf.Tensor2D) => tf.greater(guideSim, limit);
      const maskOut = (modelSim: tf.Tensor2D, mask: tf.Tensor) =>
        tf.where(mask, tf.fill(modelSim.shape, MASKED_SCORE), tf.div(modelSim, this.temperature));

      // ap: the label column i of row i is protected even when the margin would mask it.
      const labelCell = tf.cast(tf.eye(batch, p.shape[0]), 'bool');
      const blocks: tf.Tensor[] = [maskOut(cosSim(a, p, GIST_COS_EPS), tf.logicalAnd(falseNegatives(guideAp), tf.logicalNot(labelCell)))];
      if (this.contrastAnchors) {
        blocks.push(maskOut(cosSim(a, a, GIST_COS_EPS), falseNegatives(cosSim(ga, ga, GIST_COS_EPS))));
      }
      if (this.contrastPositives) {
        blocks.push(maskOut(cosSim(p, p, GIST_COS_EPS), falseNegatives(cosSim(gp, gp, GIST_COS_EPS))));
      }
      negatives.forEach((n, j) => {
        blocks.push(maskOut(cosSim(a, n, GIST_COS_EPS), falseNegatives(cosSim(ga, guideNegatives[j], GIST_COS_EPS))));
      });
      // Scores are already divided by the temperature inside maskOut (masking first, as the reference
      // does, and then dividing gives the same matrix).
      return crossEntropyMean(tf.concat(blocks, 1) as tf.Tensor2D, arange(batch));
    });
  }
}

/**
 * A weighted sum of several losses over the same batch.
 *
 * Inputs: the same columns / labels / guide go to every term.
 *
 *   L = Σ_i w_i · L_i
 *
 * miniBatchSize = the smallest of the cached terms' (if any term is cached, the whole sum goes through
 * GradCache: every term is a function of the same full-width embeddings, so one cache serves them all).
 * needsGuide / needsLabels = any term's; the accepted column range is the intersection of the terms'.
 *
 * Side values: keys recorded by several terms (e.g. the same Matryoshka dim) are combined as Σ_i w_i · v_i
 * over the terms that record that key, then recorded once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLoss, LossInputs, LossSink } from './types';

export interface WeightedTerm {
  weight: number;
  loss: EmbeddingLoss;
}

export class WeightedSumLoss implements EmbeddingLoss {
  readonly name = 'WeightedSumLoss';
  readonly miniBatchSize?: number;
  readonly needsGuide: boolean;
  readonly needsLabels: boolean;
  readonly columnRange: readonly [number, number];

  constructor(readonly terms: readonly WeightedTerm[]) {
    if (terms.length === 0) throw new Error('a weighted sum needs at least one loss');
    const cached = terms.map((t) => t.loss.miniBatchSize).filter((m): m is number => m !== undefined);
    this.miniBatchSize = cached.length > 0 ? Math.min(...cached) : undefined;
    this.needsGuide = terms.some((t) => t.loss.needsGuide);
    this.needsLabels = terms.some((t) => t.loss.needsLabels);
    const lo = Math.max(...terms.map((t) => t.loss.columnRange[0]));
    const hi = Math.min(...terms.map((t) => t.loss.columnRange[1]));
    if (lo > hi) {
      throw new Error(
        `the weighted losses accept no common number of columns: ${terms
          .map((t) => `${t.loss.name} [${t.loss.columnRange.join(', ')}]`)
          .join(', ')}`,
      );
    }
    this.columnRange = [lo, hi];
  }

  compute(inputs: LossInputs, sink?: LossSink): tf.Scalar {
    return tf.tidy(() => {
      const side = new Map<string, tf.Scalar>();
      let total: tf.Scalar = tf.scalar(0);
      for (const { weight, loss } of this.terms) {
        const termSink: LossSink | undefined = sink && {
          record: (key, value) => {
            // The term records from inside its own tidy: keep the sum alive past it, free the old one.
            const prev = side.get(key);
            const next = tf.keep(prev ? (tf.add(prev, tf.mul(value, weight)) as tf.Scalar) : (tf.mul(value, weight) as tf.Scalar));
            prev?.dispose();
            side.set(key, next);
          },
        };
        total = tf.add(total, tf.mul(loss.compute(inputs, termSink), weight));
      }
      for (const [key, value] of side) {
        sink?.record(key, value);
        value.dispose();
      }
      return total;
    });
  }
}

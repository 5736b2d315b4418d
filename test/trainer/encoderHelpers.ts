// Shared fixtures for the encoder tests (not a test file itself).
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderSpec } from '../../src/trainer/model/encoder';
import type { TokenBatch } from '../../src/trainer/model/types';

export function tinySpec(over: Partial<EncoderSpec> = {}): EncoderSpec {
  return {
    vocabSize: 50, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 16,
    typeVocabSize: 2, layerNormEps: 1e-12, pooling: 'mean', layerNorm: 'post', hiddenDropout: 0.2,
    attentionDropout: 0.2, ...over,
  };
}

/** Deterministic token rows: row n has length lens[n] (ids in 1..vocab-1), then padding id 0. */
export function makeRows(lens: number[], vocab: number, seed = 1): number[][] {
  let s = seed >>> 0;
  return lens.map((len) =>
    Array.from({ length: len }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return 1 + (s % (vocab - 1));
    }),
  );
}

/** Pads rows to length L (≥ the longest row). */
export function toBatch(rows: number[][], L: number): TokenBatch {
  const N = rows.length;
  const ids = new Int32Array(N * L);
  const mask = new Float32Array(N * L);
  rows.forEach((r, n) => {
    r.forEach((id, l) => {
      ids[n * L + l] = id;
      mask[n * L + l] = 1;
    });
  });
  return { inputIds: tf.tensor2d(ids, [N, L], 'int32'), attentionMask: tf.tensor2d(mask, [N, L], 'float32') };
}

export function disposeBatch(b: TokenBatch): void {
  tf.dispose([b.inputIds, b.attentionMask]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

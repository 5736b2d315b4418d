/** Inference embeddings (no dropout, no tape) for evaluation and export. */
import * as tf from '@tensorflow/tfjs-core';
import { runSync, type Work } from '../../common/cooperative';
import type { Encoder } from '../model/types';
import { disposeBatch, type BatchTokenizer } from '../loop/textBatch';

/** Texts per forward pass when the trainer embeds its eval set. */
export const EVAL_BATCH = 128;

export interface EmbedOptions {
  maxSeqLength: number;
  batchSize: number;
}

/** A tokenizer for embedding: batches, and the id that pads them. */
export type EmbedTokenizer = BatchTokenizer & { readonly padId: number };

/** Texts tokenised at once before sorting by length (a slice of cooperative work). */
const TOKENIZE_CHUNK = 256;

/**
 * Embeddings [texts.length, encoder.dim], row-major. Texts are embedded in order of token count so that
 * each batch pads to little more than its own longest text (attention cost grows with the square), and a
 * batch holds up to batchSize·maxSeqLength tokens with padding: batchSize rows of the longest texts, more
 * rows of shorter ones (fewer, larger kernels).
 */
export function embedTexts(encoder: Encoder, tokenizer: EmbedTokenizer, texts: string[], o: EmbedOptions): Float32Array {
  return runSync(embedTextsWork(encoder, tokenizer, texts, o));
}

/** embedTexts as cooperative work (../../common/cooperative.ts): yields after every chunk of tokenising and every batch. */
export function* embedTextsWork(encoder: Encoder, tokenizer: EmbedTokenizer, texts: string[], o: EmbedOptions): Work<Float32Array> {
  const dim = encoder.dim;
  const out = new Float32Array(texts.length * dim);
  const rows: Int32Array[] = [];
  for (let s = 0; s < texts.length; s += TOKENIZE_CHUNK) {
    const chunk = texts.slice(s, s + TOKENIZE_CHUNK);
    const { ids, mask, length } = tokenizer.encodeBatch(chunk, o.maxSeqLength);
    for (let i = 0; i < chunk.length; i++) {
      let n = 0;
      while (n < length && mask[i * length + n] !== 0) n++;
      rows.push(ids.slice(i * length, i * length + n));
    }
    yield;
  }
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].length - rows[b].length || a - b);
  const budget = Math.max(1, o.batchSize) * o.maxSeqLength;
  for (let s = 0; s < order.length;) {
    // Shortest first: the batch's last row is its longest, the length every row pads to.
    let e = s + 1;
    while (e < order.length && (e + 1 - s) * rows[order[e]].length <= budget) e++;
    const idx = order.slice(s, e);
    const len = rows[order[e - 1]].length;
    const ids = new Int32Array(idx.length * len).fill(tokenizer.padId);
    const mask = new Float32Array(idx.length * len);
    idx.forEach((row, k) => {
      ids.set(rows[row], k * len);
      mask.fill(1, k * len, k * len + rows[row].length);
    });
    const batch = {
      inputIds: tf.tensor2d(ids, [idx.length, len], 'int32'),
      attentionMask: tf.tensor2d(mask, [idx.length, len], 'float32'),
    };
    const emb = tf.tidy(() => encoder.encode(batch));
    disposeBatch(batch);
    // dataSync outside tidy: returning a typed array from tidy makes it walk every element.
    const data = emb.dataSync() as Float32Array;
    emb.dispose();
    idx.forEach((row, k) => out.set(data.subarray(k * dim, (k + 1) * dim), row * dim));
    s = e;
    yield;
  }
  return out;
}

/** Inference embeddings (no dropout, no tape) for evaluation and export. */
import * as tf from '@tensorflow/tfjs-core';
import { runSync, type Work } from './cooperative';
import type { Encoder } from './model/types';
import { disposeBatch, tokenize, type BatchTokenizer } from './textBatch';

/** Texts per forward pass when the trainer embeds its eval set. */
export const EVAL_BATCH = 128;

export interface EmbedOptions {
  maxSeqLength: number;
  batchSize: number;
}

/**
 * Embeddings [texts.length, encoder.dim], row-major. Texts are embedded in order of length so that
 * each batch pads to little more than its own longest text (attention cost grows with the square).
 */
export function embedTexts(encoder: Encoder, tokenizer: BatchTokenizer, texts: string[], o: EmbedOptions): Float32Array {
  return runSync(embedTextsWork(encoder, tokenizer, texts, o));
}

/** embedTexts as cooperative work (./cooperative.ts): yields after every batch. */
export function* embedTextsWork(encoder: Encoder, tokenizer: BatchTokenizer, texts: string[], o: EmbedOptions): Work<Float32Array> {
  const dim = encoder.dim;
  const out = new Float32Array(texts.length * dim);
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
  for (let s = 0; s < order.length; s += o.batchSize) {
    const idx = order.slice(s, s + o.batchSize);
    const batch = tokenize(tokenizer, idx.map((i) => texts[i]), o.maxSeqLength);
    const emb = tf.tidy(() => encoder.encode(batch));
    disposeBatch(batch);
    // dataSync outside tidy: returning a typed array from tidy makes it walk every element.
    const data = emb.dataSync() as Float32Array;
    emb.dispose();
    idx.forEach((row, k) => out.set(data.subarray(k * dim, (k + 1) * dim), row * dim));
    yield;
  }
  return out;
}

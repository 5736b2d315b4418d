/** Tokenised texts as tensors, and a RowEmbedder over them for GradCache. */
import * as tf from '@tensorflow/tfjs-core';
import type { RowEmbedder } from './gradCache';
import type { DropoutContext, Encoder, TokenBatch } from '../model/types';

/** What the trainer needs of a tokenizer (WordPieceTokenizer has it). */
export interface BatchTokenizer {
  encodeBatch(texts: string[], maxLength: number): { ids: Int32Array; mask: Float32Array; length: number };
}

export function tokenize(tokenizer: BatchTokenizer, texts: string[], maxLength: number): TokenBatch {
  const { ids, mask, length } = tokenizer.encodeBatch(texts, maxLength);
  return {
    inputIds: tf.tensor2d(ids, [texts.length, length], 'int32'),
    attentionMask: tf.tensor2d(mask, [texts.length, length], 'float32'),
  };
}

export function sliceRows(batch: TokenBatch, start: number, end: number): TokenBatch {
  const len = batch.inputIds.shape[1];
  return {
    inputIds: tf.slice(batch.inputIds, [start, 0], [end - start, len]),
    attentionMask: tf.slice(batch.attentionMask, [start, 0], [end - start, len]),
  };
}

/**
 * Rows of one tokenised batch embedded by `encoder`. With `dropoutSeed` set, training passes apply
 * dropout keyed by (seed, row index), so any chunking of the rows draws the same masks.
 */
export function encoderRows(encoder: Encoder, batch: TokenBatch, dropoutSeed: number | null): RowEmbedder {
  return {
    variables: encoder.variables,
    embed(start: number, end: number, training: boolean): tf.Tensor2D {
      return tf.tidy(() => {
        const rows = start === 0 && end === batch.inputIds.shape[0] ? batch : sliceRows(batch, start, end);
        let dropout: DropoutContext | undefined;
        if (training && dropoutSeed !== null) {
          const rowIds = new Int32Array(end - start);
          for (let i = 0; i < rowIds.length; i++) rowIds[i] = start + i;
          dropout = { seed: dropoutSeed, rowIds };
        }
        return encoder.encode(rows, dropout);
      });
    },
  };
}

export function disposeBatch(batch: TokenBatch): void {
  batch.inputIds.dispose();
  batch.attentionMask.dispose();
}

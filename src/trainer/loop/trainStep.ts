/**
 * One optimizer step on a batch of texts: tokenise every column into one padded batch, get the loss
 * and parameter gradients (GradCache when the loss is a cached one), clip, AdamW.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lossAndGrads, type LossExtras, type StepResult } from './gradCache';
import type { EmbeddingLoss } from '../losses/types';
import type { Encoder } from '../model/types';
import type { AdamW } from './optimizer';
import { disposeBatch, encoderRows, tokenize, type BatchTokenizer } from './textBatch';
import { mixSeed } from '../../common/random';
import { assertPlainStepFits, type BlockShape } from '../runtime/memoryBudget';
import type { DataParallelPool } from '../runtime/parallel/pool';

export interface TrainBatch {
  /** Per loss column, B texts each. */
  columns: string[][];
  labels?: number[];
}

export interface StepOutput {
  loss: number;
  /** Unweighted loss at each Matryoshka dim (empty without MatryoshkaLoss). */
  byDim: Record<string, number>;
  gradNorm: number;
}

export interface GuideModel {
  encoder: Encoder;
  tokenizer: BatchTokenizer;
  maxSeqLength: number;
}

export interface StepRunnerOptions {
  encoder: Encoder;
  tokenizer: BatchTokenizer;
  maxSeqLength: number;
  loss: EmbeddingLoss;
  optimizer: AdamW;
  guide?: GuideModel;
  seed: number;
  /** Rows per no-grad guide forward. */
  guideBatchSize?: number;
  /** Worker threads sharing each step (data-parallel GradCache); absent = this thread alone. */
  pool?: DataParallelPool;
}

export class StepRunner {
  constructor(private readonly o: StepRunnerOptions) {
    if (o.loss.needsGuide && !o.guide) throw new Error(`${o.loss.name} needs a guide model`);
  }

  step(batch: TrainBatch, stepIndex: number): StepOutput {
    const { optimizer } = this.o;
    const result = this.lossAndGrads(batch, stepIndex);
    let gradNorm: number;
    try {
      gradNorm = optimizer.apply(result.grads);
    } finally {
      for (const g of result.grads.values()) g.dispose();
      this.o.pool?.weightsChanged();
    }
    return { loss: result.loss, byDim: result.sideValues, gradNorm };
  }

  /**
   * The step without the optimizer (the weights stay as they are): its wall time in seconds. What the
   * run's estimate is measured with; the caller keeps the loss's random state (checkpoint.ts) apart.
   */
  timeWithoutUpdate(batch: TrainBatch, stepIndex: number): number {
    const t0 = performance.now();
    const result = this.lossAndGrads(batch, stepIndex);
    for (const g of result.grads.values()) g.dispose();
    return (performance.now() - t0) / 1000;
  }

  /** Tokenise every column into one padded batch; the loss and the parameter gradients (the caller owns them). */
  private lossAndGrads(batch: TrainBatch, stepIndex: number): StepResult {
    const { loss, encoder, tokenizer, maxSeqLength } = this.o;
    const nColumns = batch.columns.length;
    const batchSize = batch.columns[0]?.length ?? 0;
    if (batch.columns.some((c) => c.length !== batchSize)) throw new Error('every column of a batch must have the same length');
    if (loss.needsLabels && (!batch.labels || batch.labels.length !== batchSize)) {
      throw new Error(`${loss.name} needs one score per pair`);
    }
    const texts = batch.columns.flat();
    const pool = this.o.pool;
    const extras: LossExtras = {};
    const seed = mixSeed(this.o.seed, stepIndex);
    // The pool takes host arrays (it copies them to shared memory); a single thread takes tensors.
    const host = pool ? tokenizer.encodeBatch(texts, maxSeqLength) : null;
    const tokens = host ? null : tokenize(tokenizer, texts, maxSeqLength);
    try {
      if (loss.needsLabels) extras.labels = tf.tensor1d(batch.labels!, 'float32');
      if (loss.needsGuide) extras.guide = this.guideColumns(batch.columns);
      const shape = (encoder as Partial<{ spec: BlockShape }>).spec;
      const seqLen = host ? host.length : tokens!.inputIds.shape[1];
      if (loss.miniBatchSize === undefined && shape) {
        const perThread = Math.ceil(texts.length / (pool?.threads ?? 1));
        // The main thread's heap also holds the weights, their gradients and AdamW's m and v.
        const paramBytes = encoder.variables.reduce((a, v) => a + v.size, 0) * 4;
        assertPlainStepFits(shape, perThread, seqLen, tf.getBackend(), 4 * paramBytes);
      }
      return host
        ? pool!.lossAndGrads(
            { ids: host.ids, mask: host.mask, rows: texts.length, len: host.length },
            nColumns,
            batchSize,
            loss,
            extras,
            seed,
          )
        : lossAndGrads(encoderRows(encoder, tokens!, seed), nColumns, batchSize, loss, extras);
    } finally {
      if (tokens) disposeBatch(tokens);
      extras.labels?.dispose();
      extras.guide?.forEach((t) => t.dispose());
    }
  }

  /** The frozen guide's embeddings of every column, chunked so memory stays flat. */
  private guideColumns(columns: string[][]): tf.Tensor2D[] {
    const g = this.o.guide!;
    const chunk = this.o.guideBatchSize ?? this.o.loss.miniBatchSize ?? 64;
    return columns.map((texts) => {
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < texts.length; s += chunk) {
        const tokens = tokenize(g.tokenizer, texts.slice(s, s + chunk), g.maxSeqLength);
        parts.push(tf.tidy(() => g.encoder.encode(tokens)));
        disposeBatch(tokens);
      }
      const out = tf.concat(parts, 0) as tf.Tensor2D;
      parts.forEach((p) => p.dispose());
      return out;
    });
  }
}

/**
 * The `realSizes` section of `npm run bench` (issue 24): the encoders people fine-tune, with random
 * weights, sequence length 64 — MiniLM-L6 (H 384, 6 layers, 12 heads, FFN 1536, vocab 30522) and
 * BERT-base (H 768, 12 layers, FFN 3072) — a few steps each (forward, loss, backward, AdamW) on every
 * core (main thread + workers), in a child process of its own so that its peak RSS is the step's:
 *   msPerStep, pairsPerSec, peakRssMB (the process's VmHWM), heapMB (each thread's wasm heap, main first),
 *   estimate (the trainer's own, runtime/memoryBudget.ts, per heap and in total) and its error;
 * `refused` when the trainer's estimate would refuse the step (what a user would be told instead).
 * The PyTorch peer (bench/torch_reference.py with the same shapes) runs the same step with its peak RSS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../src/trainer/model/encoder';
import { resolveLoss } from '../src/config/lossConfig';
import { createLoss } from '../src/trainer/losses/registry';
import { AdamW } from '../src/trainer/loop/optimizer';
import { DataParallelPool } from '../src/trainer/runtime/parallel/pool';
import { lossAndGrads } from '../src/trainer/loop/gradCache';
import { encoderRows } from '../src/trainer/loop/textBatch';
import { estimateStepMemory, peakRssBytes, stepDoesNotFit, type StepShape } from '../src/trainer/runtime/memoryBudget';
import { Rng } from '../src/common/random';
import type { LossConfig } from '../src/protocol/runConfig';

const base = {
  vocabSize: 30522,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling: 'mean',
  layerNorm: 'post',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
} as const;
export const REAL_MODELS: Record<string, EncoderSpec> = {
  miniLmL6: { ...base, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536 },
  bertBase: { ...base, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072 },
};
export const REAL_SEQ_LEN = 64;

export interface RealCase {
  model: keyof typeof REAL_MODELS;
  batch: number;
  /** Plain MNRL, or MatryoshkaLoss over CachedMNRL with this mini-batch. */
  miniBatchSize?: number;
  workers: number;
  warmup: number;
  steps: number;
}

export interface RealResult {
  msPerStep: number | null;
  pairsPerSec: number | null;
  steps: number[];
  peakRssMB: number;
  heapMB: number[];
  estimate: { heapMB: number[]; totalMB: number };
  /** |estimate − measured| / measured, per heap (main first) and for the process. */
  estimateError: { heaps: number[]; total: number } | null;
  refused?: string;
}

const MiB = 2 ** 20;

function lossConfig(c: RealCase, dim: number): LossConfig {
  if (c.miniBatchSize === undefined) return { type: 'MultipleNegativesRankingLoss', scale: 20 } as LossConfig;
  return {
    type: 'MatryoshkaLoss',
    loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: c.miniBatchSize },
    matryoshkaDims: [dim, dim / 2, dim / 4, dim / 8],
  } as LossConfig;
}

export function realStepShape(c: RealCase): StepShape {
  const spec = REAL_MODELS[c.model];
  const H = spec.hiddenSize;
  const I = spec.intermediateSize;
  const params =
    spec.vocabSize * H +
    spec.maxPositions * H +
    spec.typeVocabSize * H +
    2 * H +
    spec.numLayers * (4 * (H * H + H) + 2 * H * I + I + H + 4 * H);
  return {
    block: spec,
    params,
    largestParam: spec.vocabSize * H,
    batchRows: c.batch,
    nColumns: 2,
    seqLen: REAL_SEQ_LEN,
    dim: H,
    miniBatchSize: c.miniBatchSize,
    workers: c.workers,
  };
}

/** One case, in this (child) process: the trainer's estimate first, then the steps. */
export async function runRealCase(c: RealCase): Promise<RealResult> {
  const shape = realStepShape(c);
  const est = estimateStepMemory(shape);
  const estimate = {
    heapMB: [est.main.total, ...Array.from({ length: c.workers }, () => est.worker!.total)].map((b) => b / MiB),
    totalMB: est.total / MiB,
  };
  const refused = stepDoesNotFit(shape, 'wasm', (await import('node:os')).totalmem(), c.workers + 1);
  await initBackend('wasm');
  const spec = REAL_MODELS[c.model];
  const encoder = new BertEncoder(spec, { seed: 1 });
  const loss = createLoss(resolveLoss(lossConfig(c, spec.hiddenSize), { embeddingDim: spec.hiddenSize }), 1);
  const optimizer = new AdamW(encoder.params, { learningRate: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  const rows = 2 * c.batch;
  const pool = c.workers
    ? await DataParallelPool.start({ encoder, backend: 'wasm', workers: c.workers, maxRows: rows, maxLen: REAL_SEQ_LEN })
    : null;
  const rng = new Rng(7);
  const times: number[] = [];
  try {
    for (let i = 0; i < c.warmup + c.steps; i++) {
      const ids = new Int32Array(rows * REAL_SEQ_LEN);
      for (let r = 0; r < rows; r++) {
        ids[r * REAL_SEQ_LEN] = 101;
        for (let t = 1; t < REAL_SEQ_LEN - 1; t++) ids[r * REAL_SEQ_LEN + t] = 1000 + rng.int(spec.vocabSize - 1000);
        ids[r * REAL_SEQ_LEN + REAL_SEQ_LEN - 1] = 102;
      }
      const mask = new Float32Array(rows * REAL_SEQ_LEN).fill(1);
      const t0 = performance.now();
      let result;
      if (pool) result = pool.lossAndGrads({ ids, mask, rows, len: REAL_SEQ_LEN }, 2, c.batch, loss, {}, i);
      else {
        const batch = { inputIds: tf.tensor2d(ids, [rows, REAL_SEQ_LEN], 'int32'), attentionMask: tf.tensor2d(mask, [rows, REAL_SEQ_LEN]) };
        result = lossAndGrads(encoderRows(encoder, batch, i), 2, c.batch, loss);
        tf.dispose([batch.inputIds, batch.attentionMask]);
      }
      optimizer.apply(result.grads);
      for (const g of result.grads.values()) g.dispose();
      pool?.weightsChanged();
      if (i >= c.warmup) times.push(performance.now() - t0);
      process.stderr.write(`  ${c.model} batch ${c.batch}: step ${i} ${(performance.now() - t0).toFixed(0)} ms\n`);
    }
    const heaps = (pool ? pool.heapBytes() : [(tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength]).map(
      (b) => b / MiB,
    );
    const peak = peakRssBytes() / MiB;
    const ms = times.length ? [...times].sort((a, b) => a - b)[times.length >> 1] : null;
    return {
      msPerStep: ms,
      pairsPerSec: ms ? (1000 * c.batch) / ms : null,
      steps: times,
      peakRssMB: peak,
      heapMB: heaps,
      estimate,
      estimateError: {
        heaps: heaps.map((h, i) => Math.abs(estimate.heapMB[i] - h) / h),
        total: Math.abs(estimate.totalMB - peak) / peak,
      },
      ...(refused ? { refused } : {}),
    };
  } finally {
    await pool?.close();
  }
}

export interface RealSizesSection {
  cases: Record<string, RealResult | { error: string }>;
  torch?: Record<string, Record<string, unknown>>;
}

/** The cases of the section, by key: the two MNRL steps of the table, and the cached BERT-base peaks. */
export function realSizeCases(threads: number, quick: boolean, cached512 = !quick): Record<string, RealCase> {
  const workers = Math.max(0, threads - 1);
  const cases: Record<string, RealCase> = {
    miniLmL6Batch32: { model: 'miniLmL6', batch: 32, workers, warmup: 1, steps: quick ? 1 : 2 },
    bertBaseBatch8: { model: 'bertBase', batch: 8, workers, warmup: 1, steps: quick ? 1 : 2 },
    // MatryoshkaLoss over CachedMNRL, mini-batch 4 (the row): the peak should not grow with the batch.
    bertBaseCachedBatch8: { model: 'bertBase', batch: 8, miniBatchSize: 4, workers, warmup: 1, steps: 1 },
    bertBaseCachedBatch32: { model: 'bertBase', batch: 32, miniBatchSize: 4, workers, warmup: 0, steps: 1 },
  };
  // One step of 1,024 sequences through BERT-base: minutes (a full run; --no-cached512 skips it).
  if (cached512) cases.bertBaseCachedBatch512 = { model: 'bertBase', batch: 512, miniBatchSize: 4, workers, warmup: 0, steps: 1 };
  return cases;
}

/** The PyTorch peer's flags for a case (bench/torch_reference.py), on `threads` threads like ours. */
export function torchFlags(c: RealCase, threads: number): string[] {
  const s = REAL_MODELS[c.model];
  return [
    ...['--batch', c.batch, '--threads', threads, '--warmup', c.warmup, '--steps', c.steps],
    ...['--vocab', s.vocabSize, '--hidden', s.hiddenSize, '--layers', s.numLayers, '--heads', s.numHeads, '--ffn', s.intermediateSize],
    ...['--seq', REAL_SEQ_LEN],
  ].map(String);
}

/** The summary keys of the section (null where a side is missing). */
export function summarizeRealSizes(section: RealSizesSection | undefined): Record<string, number | null> {
  const ours = (k: string) => section?.cases[k] as RealResult | undefined;
  const theirs = (k: string) => section?.torch?.[k] as { samplesPerSec?: number; peakRssMB?: number } | undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? a / b : null);
  const errors = Object.values(section?.cases ?? {})
    .map((r) => (r as RealResult).estimateError)
    .filter((e): e is NonNullable<RealResult['estimateError']> => !!e)
    .flatMap((e) => [...e.heaps, e.total]);
  return {
    miniLmOverTorch: ratio(ours('miniLmL6Batch32')?.pairsPerSec, theirs('miniLmL6Batch32')?.samplesPerSec),
    bertBaseOverTorch: ratio(ours('bertBaseBatch8')?.pairsPerSec, theirs('bertBaseBatch8')?.samplesPerSec),
    miniLmPeakRssOverTorch: ratio(ours('miniLmL6Batch32')?.peakRssMB, theirs('miniLmL6Batch32')?.peakRssMB),
    bertBasePeakRssOverTorch: ratio(ours('bertBaseBatch8')?.peakRssMB, theirs('bertBaseBatch8')?.peakRssMB),
    memEstimateError: errors.length ? Math.max(...errors) : null,
    bertBaseCachedPeak512Over32: ratio(ours('bertBaseCachedBatch512')?.peakRssMB, ours('bertBaseCachedBatch32')?.peakRssMB),
  };
}

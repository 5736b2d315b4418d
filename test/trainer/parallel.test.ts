// Data-parallel GradCache over worker threads gives the single-thread gradients (so the parallel
// trainer learns the same model), for cached and plain losses, with dropout on, on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../../src/trainer/model/encoder';
import { resolveLoss } from '../../src/config/lossConfig';
import { createLoss } from '../../src/trainer/losses/registry';
import { lossAndGrads } from '../../src/trainer/loop/gradCache';
import { encoderRows } from '../../src/trainer/loop/textBatch';
import { DataParallelPool, splitRows } from '../../src/trainer/runtime/parallel/pool';
import { Rng } from '../../src/common/random';
import type { LossConfig } from '../../src/protocol/runConfig';

const SPEC: EncoderSpec = {
  vocabSize: 50,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 32,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling: 'mean',
  layerNorm: 'post',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
};

test('splitRows covers every row once, main thread first', () => {
  assert.deepEqual(splitRows(10, 3), [
    [0, 4],
    [4, 7],
    [7, 10],
  ]);
  assert.deepEqual(splitRows(2, 3), [
    [0, 1],
    [1, 2],
    [2, 2],
  ]);
});

// Two workers too: the weights reach every worker through worker 0's gradient buffer, and the workers'
// gradients are summed in place there (parallel/shared.ts), so a race between the two would show here.
for (const workers of [1, 2])
  test(`${workers} worker thread(s) give the single-thread loss and gradients (wasm, dropout on)`, async () => {
    await initBackend('wasm');
    const encoder = new BertEncoder(SPEC, { seed: 3 });
    const rng = new Rng(5);
    const rows = 24,
      len = 9;
    const ids = new Int32Array(rows * len),
      mask = new Float32Array(rows * len);
    for (let r = 0; r < rows; r++) {
      const real = 3 + rng.int(len - 2);
      for (let t = 0; t < real; t++) {
        ids[r * len + t] = 5 + rng.int(45);
        mask[r * len + t] = 1;
      }
    }
    const pool = await DataParallelPool.start({ encoder, backend: 'wasm', workers, maxRows: 32, maxLen: 16 });
    try {
      const configs: LossConfig[] = [
        {
          type: 'MatryoshkaLoss',
          loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 5 },
          matryoshkaDims: [16, 8, 4],
          matryoshkaWeights: [1, 0.5, 0.25],
          nDimsPerStep: -1,
        } as LossConfig,
        { type: 'MultipleNegativesSymmetricRankingLoss', scale: 20 },
      ];
      for (const config of configs) {
        for (const step of [0, 1, 2]) {
          const loss = createLoss(resolveLoss(config, { embeddingDim: 16 }), 1);
          const batch = { inputIds: tf.tensor2d(ids, [rows, len], 'int32'), attentionMask: tf.tensor2d(mask, [rows, len]) };
          const single = lossAndGrads(encoderRows(encoder, batch, 77 + step), 2, rows / 2, loss, {});
          const parallel = pool.lossAndGrads(
            { ids, mask, rows, len },
            2,
            rows / 2,
            createLoss(resolveLoss(config, { embeddingDim: 16 }), 1),
            {},
            77 + step,
          );
          assert.ok(Math.abs(single.loss - parallel.loss) < 1e-5, `loss ${single.loss} vs ${parallel.loss}`);
          assert.deepEqual(Object.keys(parallel.sideValues).sort(), Object.keys(single.sideValues).sort());
          let worst = 0,
            largest = 0;
          for (const [v, g] of single.grads) {
            const h = parallel.grads.get(v);
            assert.ok(h, `missing gradient for ${v.name}`);
            worst = Math.max(
              worst,
              tf.tidy(() => tf.max(tf.abs(tf.sub(g, h))).dataSync()[0]),
            );
            largest = Math.max(
              largest,
              tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
            );
          }
          assert.ok(largest > 1e-3);
          assert.ok(
            worst <= 1e-5 * Math.max(1, largest),
            `${config instanceof Array ? 'sum' : (config as { type: string }).type}: max |Δgrad| ${worst} (max |grad| ${largest})`,
          );
          for (const g of [...single.grads.values(), ...parallel.grads.values()]) g.dispose();
          batch.inputIds.dispose();
          batch.attentionMask.dispose();
          // Every thread's heap is reported, the main thread's first (it never shrinks: > 0 once used).
          const heaps = pool.heapBytes();
          assert.equal(heaps.length, workers + 1);
          assert.ok(
            heaps.every((b) => b > 0),
            String(heaps),
          );
          // The weights move between steps: the worker must pick up the new ones.
          for (const v of encoder.variables) v.assign(tf.tidy(() => tf.mul(v, 1.01)));
          pool.weightsChanged();
        }
      }
    } finally {
      await pool.close();
      encoder.dispose();
    }
  });

test('a loss that throws mid-step releases the workers: the error surfaces and the pool keeps working', async () => {
  await initBackend('wasm');
  const encoder = new BertEncoder(SPEC, { seed: 4 });
  const rows = 8,
    len = 6;
  const ids = new Int32Array(rows * len).fill(7),
    mask = new Float32Array(rows * len).fill(1);
  const pool = await DataParallelPool.start({ encoder, backend: 'wasm', workers: 1, maxRows: 8, maxLen: 8 });
  try {
    const broken = {
      name: 'Broken',
      needsGuide: false,
      needsLabels: false,
      columnRange: [2, 2] as const,
      compute: () => {
        throw new Error('loss exploded');
      },
    };
    for (const miniBatchSize of [undefined, 2]) {
      assert.throws(() => pool.lossAndGrads({ ids, mask, rows, len }, 2, 4, { ...broken, miniBatchSize }, {}, 1), /loss exploded/);
    }
    const mnrl = () => createLoss(resolveLoss({ type: 'MultipleNegativesRankingLoss', scale: 20 }, { embeddingDim: 16 }), 1);
    const ok = pool.lossAndGrads({ ids, mask, rows, len }, 2, 4, mnrl(), {}, 2);
    // Still working means still right: the single-thread loss and gradients of the same step.
    const batch = { inputIds: tf.tensor2d(ids, [rows, len], 'int32'), attentionMask: tf.tensor2d(mask, [rows, len]) };
    const single = lossAndGrads(encoderRows(encoder, batch, 2), 2, 4, mnrl(), {});
    assert.ok(Number.isFinite(single.loss));
    assert.ok(Math.abs(single.loss - ok.loss) < 1e-5, `loss ${single.loss} vs ${ok.loss}`);
    assert.equal(ok.grads.size, single.grads.size);
    let worst = 0,
      largest = 0;
    for (const [v, g] of single.grads) {
      const h = ok.grads.get(v);
      assert.ok(h, `missing gradient for ${v.name}`);
      worst = Math.max(
        worst,
        tf.tidy(() => tf.max(tf.abs(tf.sub(g, h))).dataSync()[0]),
      );
      largest = Math.max(
        largest,
        tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
      );
    }
    assert.ok(largest > 0);
    assert.ok(worst <= 1e-5 * Math.max(1, largest), `max |Δgrad| ${worst} (max |grad| ${largest})`);
    for (const g of [...single.grads.values(), ...ok.grads.values()]) g.dispose();
    batch.inputIds.dispose();
    batch.attentionMask.dispose();
  } finally {
    await pool.close();
    encoder.dispose();
  }
});

test('close() returns when a worker already died mid-run (it does not wait for an exit that happened before)', async () => {
  await initBackend('wasm');
  const encoder = new BertEncoder(SPEC, { seed: 5 });
  const pool = await DataParallelPool.start({ encoder, backend: 'wasm', workers: 1, maxRows: 8, maxLen: 8 });
  try {
    // A worker lost to an out-of-memory abort or a native crash: gone before anyone closes the pool.
    const worker = (pool as unknown as { workers: import('node:worker_threads').Worker[] }).workers[0];
    await worker.terminate();
    // A generous deadline, only to tell a hang from a return.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      pool.close().then(() => 'closed'),
      new Promise((r) => (timer = setTimeout(() => r('hung'), 120_000))),
    ]);
    clearTimeout(timer);
    assert.equal(closed, 'closed');
  } finally {
    encoder.dispose();
  }
});

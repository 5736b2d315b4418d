// MatryoshkaLoss over cached losses through the real GradCache path equals MatryoshkaLoss over the
// un-cached loss (value, parameter gradients, per-dim side values), for mini-batch sizes that do and do
// not divide the batch, with the encoder run twice on every chunk but the last (once on that one); and
// nDimsPerStep's seeded sampling.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { lossAndGrads, lossAndGradsPlain, type RowEmbedder } from '../../src/trainer/loop/gradCache';
import { resolveLoss } from '../../src/config/lossConfig';
import { createLoss } from '../../src/trainer/losses/registry';
import { MatryoshkaLoss, shrink } from '../../src/trainer/losses/MatryoshkaLoss';
import { MultipleNegativesRankingLoss } from '../../src/trainer/losses/MultipleNegativesRankingLoss';
import type { EmbeddingLoss, LossSink } from '../../src/trainer/losses/types';
import type { BaseLossConfig, LossConfig } from '../../src/protocol/runConfig';
import { maxAbsDiff, useCpu, values } from './cpuBackend';

before(useCpu);

const B = 5;
const IN = 6;
const D = 16;

/** A linear encoder (rows of fixed inputs X times a trainable W) that counts the rows it embeds. */
function linearEmbedder(nColumns: number, seed: number): RowEmbedder & { rowsEmbedded: number; dispose(): void } {
  const x = tf.randomNormal([nColumns * B, IN], 0, 1, 'float32', seed) as tf.Tensor2D;
  const w = tf.variable(tf.randomNormal([IN, D], 0, 1, 'float32', seed + 1), true, `w_${seed}_${Math.random()}`);
  const e = {
    variables: [w] as tf.Variable[],
    rowsEmbedded: 0,
    embed(start: number, end: number): tf.Tensor2D {
      e.rowsEmbedded += end - start;
      return tf.matMul(tf.slice(x, [start, 0], [end - start, IN]), w);
    },
    dispose() {
      x.dispose();
      w.dispose();
    },
  };
  return e;
}

const gistParams = {
  guide: 'self',
  temperature: 0.05,
  marginStrategy: 'absolute',
  margin: 0.05,
  contrastAnchors: true,
  contrastPositives: true,
} as const;
const matry = (loss: BaseLossConfig, nDimsPerStep = -1): LossConfig => ({
  type: 'MatryoshkaLoss',
  loss,
  matryoshkaDims: [4, 16, 8],
  matryoshkaWeights: [0.25, 1, 0.5],
  nDimsPerStep,
});

const CASES: Array<{ name: string; cols: number; uncached: BaseLossConfig; cached: (mb: number) => BaseLossConfig }> = [
  {
    name: 'MNRL triplets',
    cols: 3,
    uncached: { type: 'MultipleNegativesRankingLoss', scale: 20 },
    cached: (mb) => ({ type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: mb }),
  },
  {
    name: 'MNSRL pairs',
    cols: 2,
    uncached: { type: 'MultipleNegativesSymmetricRankingLoss', scale: 20 },
    cached: (mb) => ({ type: 'CachedMultipleNegativesSymmetricRankingLoss', scale: 20, miniBatchSize: mb }),
  },
  {
    name: 'GIST triplets',
    cols: 3,
    uncached: { type: 'GISTEmbedLoss', ...gistParams },
    cached: (mb) => ({ type: 'CachedGISTEmbedLoss', ...gistParams, miniBatchSize: mb }),
  },
];

function run(config: LossConfig, cols: number, seed: number) {
  const loss = createLoss(resolveLoss(config, { embeddingDim: D }), 3);
  const embedder = linearEmbedder(cols, seed);
  const guide = Array.from({ length: cols }, (_, c) => tf.randomNormal([B, 12], 0, 1, 'float32', 100 + c) as tf.Tensor2D);
  try {
    const r = lossAndGrads(embedder, cols, B, loss, { guide: loss.needsGuide ? guide : undefined });
    const grad = values(r.grads.get(embedder.variables[0])!);
    r.grads.forEach((g) => g.dispose());
    return { loss: r.loss, grad, side: r.sideValues, rows: embedder.rowsEmbedded, cached: loss.miniBatchSize };
  } finally {
    embedder.dispose();
    guide.forEach((g) => g.dispose());
  }
}

/** Rows in the last GradCache chunk of `rows` rows cut into mini-batches of `mb`. */
function lastChunkRows(rows: number, mb: number): number {
  return rows % mb === 0 ? mb : rows % mb;
}

for (const c of CASES) {
  // mb 5 divides the batch (B = 5), 2 and 4 do not; the GradCache chunks run over the C·B stacked rows.
  for (const mb of [2, 4, 5]) {
    test(`Matryoshka(cached ${c.name}, mb ${mb}) = Matryoshka(${c.name}) in value, grads and per-dim losses`, () => {
      const ref = run(matry(c.uncached), c.cols, 11);
      const got = run(matry(c.cached(mb)), c.cols, 11);
      assert.equal(ref.cached, undefined);
      assert.equal(got.cached, mb, 'MatryoshkaLoss inherits the inner miniBatchSize');
      assert.ok(Math.abs(got.loss - ref.loss) <= 1e-5, `loss ${got.loss} vs ${ref.loss}`);
      assert.ok(maxAbsDiff(got.grad, ref.grad) <= 1e-5, `grad diff ${maxAbsDiff(got.grad, ref.grad)}`);
      assert.ok(
        ref.grad.some((g) => Math.abs(g) > 1e-3),
        'the gradient is not trivially zero',
      );
      assert.deepEqual(Object.keys(got.side).sort(), ['16', '4', '8']);
      for (const k of Object.keys(ref.side)) assert.ok(Math.abs(got.side[k] - ref.side[k]) <= 1e-5, `dim ${k}`);
      // Weighted sum of the per-dim losses is the loss.
      assert.ok(Math.abs(ref.side['16'] + 0.5 * ref.side['8'] + 0.25 * ref.side['4'] - ref.loss) <= 1e-5);
      // The encoder runs twice on every chunk but the last and once on that one, whatever the number of
      // dims (once when plain).
      assert.equal(got.rows, 2 * c.cols * B - lastChunkRows(c.cols * B, mb));
      assert.equal(ref.rows, c.cols * B);
    });
  }
}

function recordingSink(into: string[][]): LossSink {
  const keys: string[] = [];
  into.push(keys);
  return { record: (k) => keys.push(k) };
}

test('nDimsPerStep samples that many distinct dims per call, deterministically from the seed', () => {
  const make = (seed: number) =>
    new MatryoshkaLoss(new MultipleNegativesRankingLoss(), { dims: [2, 16, 4, 8], weights: [4, 1, 3, 2], nDimsPerStep: 2, seed });
  const a = tf.randomNormal([4, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
  const p = tf.randomNormal([4, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
  const draws = (loss: MatryoshkaLoss, n: number) => {
    const calls: string[][] = [];
    for (let i = 0; i < n; i++) tf.dispose(loss.compute({ columns: [a, p] }, recordingSink(calls)));
    return calls;
  };
  const first = draws(make(42), 20);
  for (const keys of first) {
    assert.equal(keys.length, 2);
    assert.equal(new Set(keys).size, 2);
    // Selected dims keep the largest-first order.
    assert.ok(Number(keys[0]) > Number(keys[1]), keys.join(','));
  }
  assert.deepEqual(draws(make(42), 20), first, 'same seed, same draws');
  assert.notDeepEqual(draws(make(7), 20), first, 'another seed, other draws');
  assert.deepEqual([...new Set(first.flat())].sort(), ['16', '2', '4', '8'], 'every dim gets drawn');

  // The value is the weighted sum over the drawn dims only; the RNG state can be saved and restored.
  const loss = make(5);
  const state = loss.getRngState();
  const calls: string[][] = [];
  const value = loss.compute({ columns: [a, p] }, recordingSink(calls)).dataSync()[0];
  const weightOf: Record<string, number> = { '16': 1, '8': 2, '4': 3, '2': 4 };
  const inner = new MultipleNegativesRankingLoss();
  const expected = calls[0].reduce(
    (s, k) => s + weightOf[k] * inner.compute({ columns: [shrink(a, Number(k)), shrink(p, Number(k))] }).dataSync()[0],
    0,
  );
  assert.ok(Math.abs(value - expected) <= 1e-5, `${value} vs ${expected}`);
  loss.setRngState(state);
  const again: string[][] = [];
  tf.dispose(loss.compute({ columns: [a, p] }, recordingSink(again)));
  assert.deepEqual(again, calls);
  // nDimsPerStep ≥ the number of dims (or −1) uses every dim.
  const all: string[][] = [];
  tf.dispose(new MatryoshkaLoss(inner, { dims: [8, 4], nDimsPerStep: 5 }).compute({ columns: [a, p] }, recordingSink(all)));
  assert.deepEqual(all, [['8', '4']]);
  tf.dispose([a, p]);
});

test('nDimsPerStep is honoured for cached losses, through GradCache, and matches the un-cached draw', () => {
  const cached = matry({ type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 2 }, 1);
  const plain = matry({ type: 'MultipleNegativesRankingLoss', scale: 20 }, 1);
  const seen = new Set<string>();
  for (let step = 0; step < 6; step++) {
    // A fresh loss per step with a step-dependent seed: both draw the same dim.
    const lossC = createLoss(resolveLoss(cached, { embeddingDim: D }), step);
    const lossP = createLoss(resolveLoss(plain, { embeddingDim: D }), step);
    assert.equal(lossC.miniBatchSize, 2);
    const eC = linearEmbedder(3, 21);
    const eP = linearEmbedder(3, 21);
    const rC = lossAndGrads(eC, 3, B, lossC, {});
    const rP = lossAndGradsPlain(eP, 3, B, lossP, {});
    const keys = Object.keys(rC.sideValues);
    assert.equal(keys.length, 1, `one dim per step, got ${keys}`);
    assert.deepEqual(Object.keys(rP.sideValues), keys);
    seen.add(keys[0]);
    const weight = { '16': 1, '8': 0.5, '4': 0.25 }[keys[0]]!;
    assert.ok(Math.abs(rC.loss - weight * rC.sideValues[keys[0]]) <= 1e-5);
    assert.ok(Math.abs(rC.loss - rP.loss) <= 1e-5);
    assert.ok(maxAbsDiff(values(rC.grads.get(eC.variables[0])!), values(rP.grads.get(eP.variables[0])!)) <= 1e-5);
    assert.equal(eC.rowsEmbedded, 2 * 3 * B - lastChunkRows(3 * B, 2));
    [...rC.grads.values(), ...rP.grads.values()].forEach((g) => g.dispose());
    eC.dispose();
    eP.dispose();
  }
  assert.ok(seen.size >= 2, `seeds should not all draw the same dim: ${[...seen]}`);
});

test('Matryoshka passes labels through and never truncates the guide', () => {
  const seenShapes: number[][] = [];
  const spy: EmbeddingLoss = {
    name: 'Spy',
    needsGuide: true,
    needsLabels: true,
    columnRange: [2, 2],
    miniBatchSize: 3,
    compute: ({ columns, labels, guide }) => {
      seenShapes.push([columns[0].shape[1], guide![0].shape[1], labels!.shape[0]]);
      // Columns arrive renormalised at the truncated width.
      const norms = values(tf.sqrt(tf.sum(tf.square(columns[0]), 1)));
      norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-5));
      return tf.sum(columns[0]);
    },
  };
  const m = new MatryoshkaLoss(spy, { dims: [8, 16] });
  assert.equal(m.miniBatchSize, 3);
  assert.equal(m.needsGuide && m.needsLabels, true);
  const col = tf.randomNormal([3, 16], 0, 1, 'float32', 9) as tf.Tensor2D;
  const g = tf.randomNormal([3, 12], 0, 1, 'float32', 10) as tf.Tensor2D;
  tf.dispose(m.compute({ columns: [col, col], guide: [g, g], labels: tf.tensor1d([1, 2, 3]) }));
  assert.deepEqual(seenShapes, [
    [16, 12, 3],
    [8, 12, 3],
  ]);
});

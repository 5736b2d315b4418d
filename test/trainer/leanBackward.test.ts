// The backward pass that frees as it goes (src/trainer/runtime/leanBackward.ts) gives tfjs' own
// gradients bit for bit, holds far less memory at its peak, and survives gradient functions that hand
// back a tensor they were given (the aliasing a freeing walk must not break).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { withStockBackward } from '../../src/trainer/runtime/leanBackward';
import { BertEncoder, type EncoderSpec } from '../../src/trainer/model/encoder';
import { MultipleNegativesRankingLoss } from '../../src/trainer/losses/MultipleNegativesRankingLoss';
import { lossAndGrads } from '../../src/trainer/loop/gradCache';
import { encoderRows } from '../../src/trainer/loop/textBatch';
import { Rng } from '../../src/common/random';

const SPEC: EncoderSpec = {
  vocabSize: 300,
  hiddenSize: 32,
  numLayers: 3,
  numHeads: 4,
  intermediateSize: 64,
  maxPositions: 32,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling: 'mean',
  layerNorm: 'post',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
};

function tokens(rows: number, len: number) {
  const rng = new Rng(9);
  const ids = new Int32Array(rows * len).map(() => 5 + rng.int(SPEC.vocabSize - 5));
  return { inputIds: tf.tensor2d(ids, [rows, len], 'int32'), attentionMask: tf.ones([rows, len]) as tf.Tensor2D };
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: the freeing walk gives tfjs' own gradients exactly, with a lower peak`, async () => {
    await initBackend(backend);
    const encoder = new BertEncoder(SPEC, { seed: 4 });
    const batch = tokens(16, 24);
    const loss = new MultipleNegativesRankingLoss({ scale: 20 });
    const run = () => lossAndGrads(encoderRows(encoder, batch, 3), 2, 8, loss);
    try {
      let stock!: ReturnType<typeof run>;
      // tf.profile hands back the same object each time: take the number before the next profile.
      const stockPeak = (await withStockBackward(() => tf.profile(() => void (stock = run())))).peakBytes;
      let lean!: ReturnType<typeof run>;
      const before = tf.memory().numTensors;
      const leanPeak = (await tf.profile(() => void (lean = run()))).peakBytes;
      assert.equal(lean.loss, stock.loss);
      assert.equal(lean.grads.size, encoder.variables.length);
      for (const [v, g] of stock.grads) {
        const h = lean.grads.get(v);
        assert.ok(h, `a gradient for ${v.name}`);
        assert.deepEqual(h.dataSync(), g.dataSync(), `${v.name}: the same values, bit for bit`);
      }
      // What the step leaves behind: its gradients, nothing else.
      assert.equal(tf.memory().numTensors - before, lean.grads.size);
      // The stock walk's gradients are still alive during the second profile (peaks are absolute): on top of them.
      assert.ok(leanPeak < 0.75 * stockPeak, `peak ${(leanPeak / 1e6).toFixed(2)} MB vs tfjs' walk ${(stockPeak / 1e6).toFixed(2)} MB`);
      for (const g of [...stock.grads.values(), ...lean.grads.values()]) g.dispose();
    } finally {
      tf.dispose([batch.inputIds, batch.attentionMask]);
      encoder.dispose();
    }
  });
}

test('gradient functions that return the tensor they were given, or one tensor for two inputs, keep working', async () => {
  await initBackend('cpu');
  // dy passed straight through (the gradient of an identity), and one gradient object for both inputs.
  const passThrough = tf.customGrad((...args: unknown[]) => {
    const [x] = args as [tf.Tensor];
    return { value: tf.mul(x, 1), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [dy as tf.Tensor] };
  }) as (x: tf.Tensor) => tf.Tensor;
  const sameForBoth = tf.customGrad((...args: unknown[]) => {
    const [a, b] = args as [tf.Tensor, tf.Tensor];
    return {
      value: tf.add(a, b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const g = tf.mul(dy as tf.Tensor, 2);
        return [g, g];
      },
    };
  }) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  const x = tf.variable(tf.tensor1d([1, 2, 3]));
  const y = tf.variable(tf.tensor1d([4, 5, 6]));
  const f = () => tf.sum(tf.mul(sameForBoth(passThrough(x), tf.mul(y, 3)), tf.tensor1d([1, 10, 100]))) as tf.Scalar;
  const lean = tf.variableGrads(f, [x, y]);
  const stock = withStockBackward(() => tf.variableGrads(f, [x, y]));
  assert.deepEqual([...lean.grads[x.name].dataSync()], [2, 20, 200]);
  assert.deepEqual([...lean.grads[y.name].dataSync()], [6, 60, 600]);
  assert.deepEqual([...lean.grads[y.name].dataSync()], [...stock.grads[y.name].dataSync()]);
  // One tensor as the gradient of two parameters, then more added to one of them: the other keeps its value
  // (on wasm the walk adds into a parameter's gradient in place, only where nothing else holds it).
  await initBackend('wasm');
  const a = tf.variable(tf.tensor1d([1, 2]));
  const b = tf.variable(tf.tensor1d([3, 4]));
  const g2 = tf.variableGrads(() => tf.sum(tf.add(sameForBoth(a, b), tf.mul(a, 5))) as tf.Scalar, [a, b]);
  assert.deepEqual([...g2.grads[a.name].dataSync()], [7, 7]);
  assert.deepEqual([...g2.grads[b.name].dataSync()], [2, 2]);
  tf.dispose([a, b, g2.value, ...Object.values(g2.grads)]);
  await initBackend('cpu');
  // A caller's dy is the caller's: never disposed by the walk.
  const dy = tf.scalar(2);
  const { grads } = tf.engine().gradients(f, [x], dy);
  assert.deepEqual([...grads[0].dataSync()], [4, 40, 400]);
  assert.equal(dy.isDisposed, false);
  tf.dispose([x, y, dy, lean.value, stock.value, ...Object.values(lean.grads), ...Object.values(stock.grads), ...grads]);
});

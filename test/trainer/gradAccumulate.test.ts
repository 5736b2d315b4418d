/**
 * GradCache's gradient accumulator (accumulateGrads): on wasm with our kernels the sum goes into the
 * accumulator's own buffer, and only when nothing else shares that buffer; the sums equal tfjs' adds.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { accumulateGrads } from '../../src/trainer/loop/gradCache';
import { ownWasmKernelsActive, wasmAddInPlace } from '../../src/trainer/runtime/kernels/wasmKernels';

describe('gradient accumulation', () => {
  before(async () => {
    await initBackend('wasm');
  });

  test('sums chunk gradients in place into the accumulator it owns, equal to tf.add', () => {
    assert.ok(ownWasmKernelsActive(), 'our wasm kernels serve the wasm backend');
    const w = tf.variable(tf.zeros([3, 5]), true, 'acc-test/w');
    const b = tf.variable(tf.zeros([7]), true, 'acc-test/b');
    const chunks = [1, 2, 3].map((k) => ({
      [w.name]: tf.tensor2d(
        Array.from({ length: 15 }, (_, i) => k * (i + 1) * 0.5),
        [3, 5],
      ),
      [b.name]: tf.tensor1d(Array.from({ length: 7 }, (_, i) => k - i * 0.25)),
    }));
    const expectW = tf.tidy(() =>
      tf
        .addN(chunks.map((c) => c[w.name]))
        .dataSync()
        .slice(),
    );
    const expectB = tf.tidy(() =>
      tf
        .addN(chunks.map((c) => c[b.name]))
        .dataSync()
        .slice(),
    );
    const acc = new Map<tf.Variable, tf.Tensor>();
    const before = tf.memory().numTensors;
    accumulateGrads(acc, [w, b], chunks[0]);
    const firstW = acc.get(w)!;
    accumulateGrads(acc, [w, b], chunks[1]);
    accumulateGrads(acc, [w, b], chunks[2]);
    // The accumulator is still the first chunk's tensor (written in place); the later chunks are disposed.
    assert.equal(acc.get(w), firstW);
    assert.ok(chunks[1][w.name].isDisposed && chunks[2][b.name].isDisposed);
    assert.equal(tf.memory().numTensors, before - 4);
    assert.deepEqual(acc.get(w)!.dataSync(), expectW);
    assert.deepEqual(acc.get(b)!.dataSync(), expectB);
    tf.dispose([...acc.values(), w, b]);
  });

  test('never writes into a buffer another tensor shares: it adds into a new tensor instead', () => {
    const g0 = tf.tensor1d([1, 2, 3, 4, 5]);
    const view = tf.reshape(g0, [5, 1]); // shares g0's buffer
    const ones = tf.ones([5]);
    assert.equal(wasmAddInPlace(g0, ones), false);
    ones.dispose();
    const v = tf.variable(tf.zeros([5]), true, 'acc-test/v');
    const acc = new Map<tf.Variable, tf.Tensor>([[v, g0]]);
    accumulateGrads(acc, [v], { [v.name]: tf.tensor1d([10, 20, 30, 40, 50]) });
    assert.notEqual(acc.get(v), g0);
    assert.deepEqual(Array.from(acc.get(v)!.dataSync()), [11, 22, 33, 44, 55]);
    assert.deepEqual(Array.from(view.dataSync()), [1, 2, 3, 4, 5]);
    tf.dispose([...acc.values(), view, v]);
  });
});

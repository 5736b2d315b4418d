import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkKernels,
  collectKernelNames,
  findWasmDir,
  initBackend,
  preflightKernels,
  TENSORFLOW_INSTALL_HINT,
} from '../../src/trainer/runtime/backend';

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
const tfNodeInstalled = resolvable('@tensorflow/tfjs-node-gpu') || resolvable('@tensorflow/tfjs-node');

test('findWasmDir locates the SIMD binary', () => {
  const dir = findWasmDir();
  assert.ok(existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm')), dir);
});

test('wasm: initialises with SIMD, and a second call reuses it (no new backend) and is identical', async () => {
  const a = await initBackend('wasm');
  assert.equal(a.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(a.reason, /SIMD/);
  assert.doesNotMatch(a.reason, /no SIMD/);
  const instance = tf.backend();
  const b = await initBackend('wasm');
  assert.equal(b, a, 'the cached choice itself: nothing was initialised again');
  assert.equal(tf.backend(), instance, 'the same backend instance, not a re-created one');
  const sum = tf.tidy(() => tf.sum(tf.tensor([1, 2, 3])).dataSync()[0]);
  assert.equal(sum, 6);
});

test('cpu, then back to wasm', async () => {
  assert.equal((await initBackend('cpu')).name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await initBackend('wasm')).name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('auto picks wasm and says why when tfjs-node is not installed', { skip: tfNodeInstalled }, async () => {
  const c = await initBackend('auto');
  assert.equal(c.name, 'wasm');
  assert.match(c.reason, /tfjs-node/);
  assert.match(c.reason, /neither .* is installed/);
});

test('tensorflow without tfjs-node fails with install instructions', { skip: tfNodeInstalled }, async () => {
  await assert.rejects(initBackend('tensorflow'), (e: Error) => {
    assert.ok(e.message.includes('npm install @tensorflow/tfjs-node-gpu'), e.message);
    assert.ok(e.message.includes('@tensorflow/tfjs-node'), e.message);
    assert.ok(e.message.includes(TENSORFLOW_INSTALL_HINT));
    return true;
  });
});

test('unknown backend is rejected', async () => {
  await assert.rejects(initBackend('webgl' as never), /unknown backend/);
});

test('checkKernels names missing and forbidden kernels', async () => {
  await initBackend('wasm');
  checkKernels(['Add', 'BatchMatMul', 'ScatterNd', 'GatherV2']);
  assert.throws(() => checkKernels(['Add', 'NoSuchKernel', 'AlsoMissing']), /NoSuchKernel, AlsoMissing|AlsoMissing, NoSuchKernel/);
  // Not registered on wasm at all (docs/performance.md #5).
  assert.throws(() => checkKernels(['UnsortedSegmentSum']), /not registered for backend "wasm": UnsortedSegmentSum/);
  // Registered on cpu, but a slow fallback that training must never hit.
  assert.throws(() => checkKernels(['UnsortedSegmentSum'], 'cpu'), /forbidden.*UnsortedSegmentSum/);
  checkKernels(['Add', 'UnsortedSegmentSum'], 'cpu', []);
});

test('collectKernelNames sees forward and backward kernels', async () => {
  await initBackend('wasm');
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const names = await collectKernelNames(() => tf.grad((v: tf.Tensor) => tf.sum(tf.exp(v)))(x));
  assert.ok(names.includes('Exp'), names.join(','));
  assert.ok(names.includes('Sum'), names.join(','));
  // Exp's gradient multiplies dy by the saved output.
  assert.ok(names.includes('Multiply'), names.join(','));
  x.dispose();
});

test('preflightKernels passes a gather-with-scatter step and rejects the stock gather gradient on cpu', async () => {
  await initBackend('cpu');
  const table = tf.variable(
    tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]),
  );
  const ids = tf.tensor1d([0, 2, 2], 'int32');
  const { embeddingLookup } = await import('../../src/trainer/runtime/kernels/embeddingGrad');
  const ok = await preflightKernels(() => tf.variableGrads(() => tf.sum(embeddingLookup(table, ids))).grads);
  assert.ok(ok.includes('ScatterNd'));
  // tf.gather's own gradient is UnsortedSegmentSum: the slow cpu loop of docs/performance.md #5.
  await assert.rejects(
    preflightKernels(() => tf.variableGrads(() => tf.sum(tf.gather(table, ids))).grads),
    /forbidden.*UnsortedSegmentSum/,
  );
  tf.dispose([table, ids]);
  await initBackend('wasm');
});

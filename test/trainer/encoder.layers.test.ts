// The encoder's custom-gradient layers (linear, LayerNorm, GELU) against autodiff through their plain
// formulations, on cpu and wasm.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { gelu, layerNorm, linear, residualLayerNorm } from '../../src/trainer/model/layers';
import { geluReference, layerNormReference, linearReference } from './references';

function values(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 2 * scale;
  });
  return tf.tensor(v, shape);
}

function compare(f: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], tol: number): void {
  tf.tidy(() => {
    const r = values(ref(...inputs).shape, 99);
    const loss =
      (g: (...xs: tf.Tensor[]) => tf.Tensor) =>
      (...xs: tf.Tensor[]) =>
        tf.sum(tf.mul(g(...xs), r));
    const y = f(...inputs).dataSync();
    const yRef = ref(...inputs).dataSync();
    const got = tf.grads(loss(f))(inputs);
    const want = tf.grads(loss(ref))(inputs);
    let dy = 0;
    for (let i = 0; i < y.length; i++) dy = Math.max(dy, Math.abs(y[i] - yRef[i]));
    assert.ok(dy <= tol, `value max diff ${dy}`);
    got.forEach((g, k) => {
      assert.deepEqual(g.shape, inputs[k].shape);
      const a = g.dataSync();
      const b = want[k].dataSync();
      let d = 0;
      let mag = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        mag = Math.max(mag, Math.abs(b[i]));
      }
      assert.ok(mag > 1e-3, `input ${k}: reference gradient is ~0, test would be vacuous`);
      assert.ok(d <= tol, `input ${k}: gradient max diff ${d}`);
    });
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`encoder layers on ${backend}`, () => {
    before(async () => {
      await initBackend(backend);
    });
    test('linear', () => {
      const inputs = [values([6, 5], 1), values([5, 7], 2), values([7], 3)];
      compare(
        (x, w, b) => linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
        (x, w, b) => linearReference(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
        inputs,
        1e-5,
      );
      tf.dispose(inputs);
    });
    test('layerNorm', () => {
      const inputs = [values([6, 8], 4, 3), tf.add(values([8], 5, 0.5), 1), values([8], 6)];
      for (const eps of [1e-12, 1e-5]) {
        compare(
          (x, g, b) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, eps),
          (x, g, b) => layerNormReference(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, eps),
          inputs,
          1e-5,
        );
      }
      tf.dispose(inputs);
      // A width that is not a multiple of 4: the wasm kernel's scalar tail.
      const odd = [values([5, 7], 14, 3), tf.add(values([7], 15, 0.5), 1), values([7], 16)];
      compare(
        (x, g, b) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
        (x, g, b) => layerNormReference(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
        odd,
        1e-5,
      );
      tf.dispose(odd);
    });
    test('residualLayerNorm = layerNorm(x + residual), gradients into both terms', () => {
      for (const H of [8, 7]) {
        const inputs = [values([6, H], 20 + H, 3), values([6, H], 30 + H, 2), tf.add(values([H], 5, 0.5), 1), values([H], 6)];
        compare(
          (x, r, g, b) => residualLayerNorm(x as tf.Tensor2D, r as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
          (x, r, g, b) => layerNormReference(tf.add(x, r) as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
          inputs,
          1e-5,
        );
        tf.dispose(inputs);
      }
    });
    test('gelu (exact erf form)', () => {
      const inputs = [values([4, 9], 7, 4)];
      compare(
        (x) => gelu(x),
        (x) => geluReference(x),
        inputs,
        1e-5,
      );
      // Known values: GELU(1) = Φ(1) = 0.841344746, GELU(-1) = -0.158655254.
      const y = tf.tidy(() =>
        gelu(tf.tensor1d([1, -1, 0]))
          .dataSync()
          .slice(),
      );
      assert.ok(Math.abs(y[0] - 0.841344746) < 1e-6 && Math.abs(y[1] + 0.158655254) < 1e-6 && y[2] === 0);
      tf.dispose(inputs);
    });
  });
}

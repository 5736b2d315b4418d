import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW, decays } from '../../src/trainer/loop/optimizer';

/** torch.optim.AdamW's update written out in scalars, for one parameter vector. */
function referenceAdamW(p: number[], grads: number[][], lr: number, wd: number, maxNorm: number, decay: boolean) {
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  const m = p.map(() => 0),
    v = p.map(() => 0);
  p = [...p];
  grads.forEach((g0, k) => {
    const t = k + 1;
    const norm = Math.sqrt(g0.reduce((s, x) => s + x * x, 0));
    const c = maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
    const g = g0.map((x) => x * c);
    for (let i = 0; i < p.length; i++) {
      if (decay) p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mh = m[i] / (1 - b1 ** t),
        vh = v[i] / (1 - b2 ** t);
      p[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return p;
}

test('AdamW matches the torch update, with clipping and decoupled decay', async () => {
  await tf.setBackend('cpu');
  const p0 = [0.5, -1.25, 2, 0.1];
  const grads = [
    [0.3, -0.2, 4, 0.05],
    [-1, 0.5, 0.25, 2],
    [0.01, 0.02, -0.03, 0.04],
  ];
  for (const [name, decay] of [
    ['layer.0.dense.weight', true],
    ['layer.0.dense.bias', false],
  ] as const) {
    const w = tf.variable(tf.tensor1d(p0));
    const opt = new AdamW(new Map([[name, w]]), { learningRate: 0.05, weightDecay: 0.1, maxGradNorm: 1 });
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.apply(new Map([[w, gt]]));
      gt.dispose();
    }
    const want = referenceAdamW(p0, grads, 0.05, 0.1, 1, decay);
    const got = Array.from(w.dataSync());
    got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6, `${name}[${i}]: ${x} vs ${want[i]}`));
    assert.equal(opt.step, 3);
    opt.dispose();
    w.dispose();
  }
});

test('AdamW state restores into a fresh optimizer and continues identically', async () => {
  await tf.setBackend('cpu');
  const mk = () => tf.variable(tf.tensor1d([1, 2, 3]));
  const a = mk(),
    b = mk();
  const oa = new AdamW(new Map([['w', a]]), { learningRate: 0.1, weightDecay: 0.01 });
  const g1 = tf.tensor1d([0.5, -0.5, 1]),
    g2 = tf.tensor1d([1, 1, -2]);
  oa.apply(new Map([[a, g1]]));
  const ob = new AdamW(new Map([['w', b]]), { learningRate: 0.1, weightDecay: 0.01 });
  b.assign(a);
  ob.setState(oa.getState());
  oa.apply(new Map([[a, g2]]));
  ob.apply(new Map([[b, g2]]));
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.throws(() => ob.setState({ step: 1, tensors: new Map() }), /no tensor 'm:w'/);
  [a, b, g1, g2].forEach((t) => t.dispose());
});

test('AdamW refuses a non-finite gradient instead of corrupting the weights', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 2]));
  const opt = new AdamW(new Map([['w', w]]), { learningRate: 0.1, weightDecay: 0 });
  const g = tf.tensor1d([NaN, 1]);
  assert.throws(() => opt.apply(new Map([[w, g]])), /gradient norm is NaN/);
  assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
});

test('no decay on biases and LayerNorm parameters', () => {
  assert.equal(decays('encoder.layer.0.attention.self.query.weight'), true);
  assert.equal(decays('encoder.layer.0.attention.self.query.bias'), false);
  assert.equal(decays('embeddings.LayerNorm.weight'), false);
  assert.equal(decays('encoder.final_layer_norm.weight'), false);
});

test('AdamW on wasm (one fused kernel per tensor) equals the tfjs-ops update on cpu', async () => {
  const { initBackend } = await import('../../src/trainer/runtime/backend');
  const { ownWasmKernelsActive } = await import('../../src/trainer/runtime/kernels/wasmKernels');
  // Sizes with and without a 4-float tail; a decayed weight and an undecayed bias; clipping active.
  const shapes: Record<string, number[]> = { 'layer.0.dense.weight': [7, 9], 'layer.0.dense.bias': [9], 'layer.0.LayerNorm.weight': [8] };
  const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const run = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    const params = new Map(
      // In a tidy, as the encoder makes them: a variable then holds the only reference to its buffer.
      Object.entries(shapes).map(([name, shape], k) => [
        name,
        tf.tidy(() => tf.variable(tf.tensor(values(tf.util.sizeFromShape(shape), k + 1), shape))),
      ]),
    );
    const opt = new AdamW(params, { learningRate: 0.01, weightDecay: 0.1, maxGradNorm: 0.5 });
    const norms: number[] = [];
    // On wasm the update is written into the variables' own buffers: no new tensor, the same buffer.
    const buffers = [...params.values()].map((v) => v.dataId);
    const tensors = tf.memory().numTensors;
    for (let step = 0; step < 4; step++) {
      const grads = new Map([...params.values()].map((v, k) => [v, tf.tensor(values(v.size, 10 * step + k + 5), v.shape)] as const));
      norms.push(opt.apply(grads));
      for (const g of grads.values()) g.dispose();
    }
    const out = {
      norms,
      params: [...params.values()].map((v) => v.dataSync().slice()),
      fused: backend === 'wasm' && ownWasmKernelsActive(),
      inPlace: [...params.values()].every((v, k) => v.dataId === buffers[k]),
      tensorsAdded: tf.memory().numTensors - tensors,
    };
    opt.dispose();
    for (const v of params.values()) v.dispose();
    return out;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  assert.ok(wasm.fused, 'the fused AdamW kernel is active on wasm');
  assert.ok(wasm.inPlace, 'updated in place on wasm');
  assert.equal(wasm.tensorsAdded, 0);
  assert.equal(cpu.tensorsAdded, 0);
  for (let i = 0; i < cpu.norms.length; i++) assert.ok(Math.abs(cpu.norms[i] - wasm.norms[i]) <= 1e-5 * cpu.norms[i], `norm ${i}`);
  for (let k = 0; k < cpu.params.length; k++) {
    for (let i = 0; i < cpu.params[k].length; i++) {
      assert.ok(Math.abs(cpu.params[k][i] - wasm.params[k][i]) <= 1e-6, `param ${k}[${i}]: ${cpu.params[k][i]} vs ${wasm.params[k][i]}`);
    }
  }
});

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { checkKernels, initBackend, kernelNamesOf } from '../../src/trainer/runtime/backend';
import { BertEncoder } from '../../src/trainer/model/encoder';
import { attentionDropoutMultipliers, dropoutMultipliers } from '../../src/trainer/model/dropout';
import type { DropoutContext } from '../../src/trainer/model/types';
import type { EncoderSpec } from '../../src/trainer/model/encoder';
import type { TokenBatch } from '../../src/trainer/model/types';
import { transposedMatMulIsFast } from '../../src/trainer/runtime/kernels/wasmKernels';

function tinySpec(over: Partial<EncoderSpec> = {}): EncoderSpec {
  return {
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
    hiddenDropout: 0.2,
    attentionDropout: 0.2,
    ...over,
  };
}

/** Deterministic token rows: row n has length lens[n] (ids in 1..vocab-1), then padding id 0. */
function makeRows(lens: number[], vocab: number, seed = 1): number[][] {
  let s = seed >>> 0;
  return lens.map((len) =>
    Array.from({ length: len }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return 1 + (s % (vocab - 1));
    }),
  );
}

/** Pads rows to length L (≥ the longest row). */
function toBatch(rows: number[][], L: number): TokenBatch {
  const N = rows.length;
  const ids = new Int32Array(N * L);
  const mask = new Float32Array(N * L);
  rows.forEach((r, n) => {
    r.forEach((id, l) => {
      ids[n * L + l] = id;
      mask[n * L + l] = 1;
    });
  });
  return { inputIds: tf.tensor2d(ids, [N, L], 'int32'), attentionMask: tf.tensor2d(mask, [N, L], 'float32') };
}

function disposeBatch(b: TokenBatch): void {
  tf.dispose([b.inputIds, b.attentionMask]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const LENS16 = [3, 8, 5, 1, 7, 8, 2, 6, 4, 8, 5, 3, 7, 2, 6, 8];
const rowIds = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

function encodeValues(enc: BertEncoder, rows: number[][], L: number, dropout?: DropoutContext): Float32Array {
  const b = toBatch(rows, L);
  const out = tf.tidy(() => enc.encode(b, dropout).dataSync().slice() as Float32Array);
  disposeBatch(b);
  return out;
}

describe('BertEncoder parameters', () => {
  before(async () => {
    await initBackend('wasm');
  });

  test('HF names, [in,out] Linear weights, no pooler', () => {
    const enc = new BertEncoder(tinySpec({ numLayers: 1 }), { seed: 1 });
    const shapes = Object.fromEntries([...enc.params].map(([k, v]) => [k, v.shape]));
    const p = 'encoder.layer.0';
    assert.deepEqual(shapes, {
      'embeddings.word_embeddings.weight': [50, 16],
      'embeddings.position_embeddings.weight': [16, 16],
      'embeddings.token_type_embeddings.weight': [2, 16],
      'embeddings.LayerNorm.weight': [16],
      'embeddings.LayerNorm.bias': [16],
      [`${p}.attention.self.query.weight`]: [16, 16],
      [`${p}.attention.self.query.bias`]: [16],
      [`${p}.attention.self.key.weight`]: [16, 16],
      [`${p}.attention.self.key.bias`]: [16],
      [`${p}.attention.self.value.weight`]: [16, 16],
      [`${p}.attention.self.value.bias`]: [16],
      [`${p}.attention.output.dense.weight`]: [16, 16],
      [`${p}.attention.output.dense.bias`]: [16],
      [`${p}.attention.output.LayerNorm.weight`]: [16],
      [`${p}.attention.output.LayerNorm.bias`]: [16],
      [`${p}.intermediate.dense.weight`]: [16, 32],
      [`${p}.intermediate.dense.bias`]: [32],
      [`${p}.output.dense.weight`]: [32, 16],
      [`${p}.output.dense.bias`]: [16],
      [`${p}.output.LayerNorm.weight`]: [16],
      [`${p}.output.LayerNorm.bias`]: [16],
    });
    assert.equal(enc.variables.length, enc.params.size);
    assert.equal(enc.dim, 16);
    enc.dispose();
  });

  test('pre-LN adds encoder.final_layer_norm; outputDim adds a projection', () => {
    const pre = new BertEncoder(tinySpec({ layerNorm: 'pre', outputDim: 8 }), { seed: 1 });
    assert.deepEqual(pre.params.get('encoder.final_layer_norm.weight')?.shape, [16]);
    assert.deepEqual(pre.params.get('encoder.final_layer_norm.bias')?.shape, [16]);
    assert.deepEqual(pre.params.get('projection.weight')?.shape, [16, 8]);
    assert.deepEqual(pre.params.get('projection.bias')?.shape, [8]);
    assert.equal(pre.dim, 8);
    const rows = makeRows([3, 5], 50);
    assert.equal(encodeValues(pre, rows, 5).length, 2 * 8);
    pre.dispose();
    const same = new BertEncoder(tinySpec({ outputDim: 16 }), { seed: 1 });
    assert.equal(same.params.has('projection.weight'), false);
    assert.equal(same.params.has('encoder.final_layer_norm.weight'), false);
    same.dispose();
  });

  test('seeded init: deterministic, std 0.02 truncated, zero biases, unit gains', () => {
    const a = new BertEncoder(tinySpec(), { seed: 7 });
    const b = new BertEncoder(tinySpec(), { seed: 7 });
    const c = new BertEncoder(tinySpec(), { seed: 8 });
    const name = 'embeddings.word_embeddings.weight';
    const va = a.params.get(name)!.dataSync();
    assert.equal(maxAbsDiff(va, b.params.get(name)!.dataSync()), 0);
    assert.ok(maxAbsDiff(va, c.params.get(name)!.dataSync()) > 1e-3);
    let ss = 0;
    for (const x of va) {
      assert.ok(Math.abs(x) <= 0.04 + 1e-7);
      ss += x * x;
    }
    const std = Math.sqrt(ss / va.length);
    assert.ok(std > 0.014 && std < 0.02, `std ${std}`); // 2σ truncation shrinks std to ~0.88·0.02
    assert.ok(
      a.params
        .get('encoder.layer.1.output.dense.bias')!
        .dataSync()
        .every((x) => x === 0),
    );
    assert.ok(
      a.params
        .get('encoder.layer.1.output.LayerNorm.weight')!
        .dataSync()
        .every((x) => x === 1),
    );
    [a, b, c].forEach((e) => e.dispose());
  });

  test('two encoders can coexist (unique tfjs variable names)', () => {
    const a = new BertEncoder(tinySpec(), { seed: 1 });
    const b = new BertEncoder(tinySpec(), { seed: 1 });
    assert.notEqual(a.variables[0].name, b.variables[0].name);
    a.dispose();
    b.dispose();
  });
});

for (const layerNorm of ['post', 'pre'] as const) {
  for (const pooling of ['mean', 'cls'] as const) {
    describe(`BertEncoder forward (${layerNorm}-LN, ${pooling} pooling, wasm)`, () => {
      let enc: BertEncoder;
      const rows = makeRows(LENS16, 50, 3);
      before(async () => {
        await initBackend('wasm');
        enc = new BertEncoder(tinySpec({ layerNorm, pooling }), { seed: 11 });
      });

      test('no dropout: deterministic, finite, not normalised', () => {
        const a = encodeValues(enc, rows, 8);
        const b = encodeValues(enc, rows, 8);
        assert.equal(a.length, 16 * 16);
        assert.equal(maxAbsDiff(a, b), 0);
        assert.ok(a.every(Number.isFinite));
        const norm0 = Math.hypot(...a.slice(0, 16));
        assert.ok(Math.abs(norm0 - 1) > 1e-3, `norm ${norm0}`);
      });

      test('dropout masks do not depend on chunking (GradCache)', () => {
        const seed = 1234;
        const full = encodeValues(enc, rows, 8, { seed, rowIds: rowIds(0, 16) });
        const lo = encodeValues(enc, rows.slice(0, 7), 8, { seed, rowIds: rowIds(0, 7) });
        const hi = encodeValues(enc, rows.slice(7), 8, { seed, rowIds: rowIds(7, 16) });
        const chunked = new Float32Array([...lo, ...hi]);
        assert.ok(maxAbsDiff(full, chunked) <= 1e-6, `max diff ${maxAbsDiff(full, chunked)}`);
        // Rows 7..15 encoded alone but padded to their own (same) max length and in another order.
        const rev = encodeValues(enc, rows.slice(7).reverse(), 8, { seed, rowIds: rowIds(7, 16).reverse() });
        for (let r = 0; r < 9; r++) {
          const got = rev.slice((8 - r) * 16, (9 - r) * 16);
          const want = full.slice((7 + r) * 16, (8 + r) * 16);
          assert.ok(maxAbsDiff(got, want) <= 1e-6, `row ${7 + r}`);
        }
      });

      test('dropout is on, and differs by seed', () => {
        const none = encodeValues(enc, rows, 8);
        const s1 = encodeValues(enc, rows, 8, { seed: 1, rowIds: rowIds(0, 16) });
        const s1b = encodeValues(enc, rows, 8, { seed: 1, rowIds: rowIds(0, 16) });
        const s2 = encodeValues(enc, rows, 8, { seed: 2, rowIds: rowIds(0, 16) });
        assert.equal(maxAbsDiff(s1, s1b), 0);
        assert.ok(maxAbsDiff(s1, s2) > 1e-3);
        assert.ok(maxAbsDiff(s1, none) > 1e-3);
        // p = 0 means no dropout even when a context is given.
        const off = new BertEncoder(tinySpec({ layerNorm, pooling, hiddenDropout: 0, attentionDropout: 0 }), { seed: 11 });
        assert.equal(maxAbsDiff(encodeValues(off, rows, 8, { seed: 1, rowIds: rowIds(0, 16) }), none), 0);
        off.dispose();
      });

      test('extra padding does not change the embeddings (with and without dropout)', () => {
        const ctx = { seed: 5, rowIds: rowIds(0, 16) };
        for (const d of [undefined, ctx]) {
          const tight = encodeValues(enc, rows, 8, d);
          const padded = encodeValues(enc, rows, 13, d);
          assert.ok(maxAbsDiff(tight, padded) <= 1e-5, `max diff ${maxAbsDiff(tight, padded)}`);
        }
      });
    });
  }
}

describe('dropout masks', () => {
  test('attention layout holds the same multipliers as the row-major layout', () => {
    const [N, heads, L, p] = [3, 2, 5, 0.3];
    const ctx = { seed: 77, rowIds: Int32Array.from([4, 9, 1]) };
    const rowMajor = dropoutMultipliers(ctx, 2, N, heads * L, L, p, L); // [N, heads, L, L]
    const attn = attentionDropoutMultipliers(ctx, 2, N, heads, L, p); // [L, N, heads, L]
    for (let n = 0; n < N; n++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < L; i++)
          for (let j = 0; j < L; j++) {
            assert.equal(attn[((i * N + n) * heads + h) * L + j], rowMajor[((n * heads + h) * L + i) * L + j]);
          }
  });

  test('keep rate ≈ 1-p, kept values scaled by 1/(1-p), rows differ', () => {
    const p = 0.25;
    const m = dropoutMultipliers({ seed: 3, rowIds: Int32Array.from([0, 1]) }, 0, 2, 100, 100, p);
    let kept = 0;
    for (const v of m) {
      assert.ok(v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6);
      if (v !== 0) kept++;
    }
    assert.ok(Math.abs(kept / m.length - (1 - p)) < 0.01, `keep rate ${kept / m.length}`);
    assert.ok(maxAbsDiff(m.subarray(0, 10000), m.subarray(10000)) > 0);
  });
});

describe('BertEncoder training step', () => {
  before(async () => {
    await initBackend('wasm');
  });

  test('forward+backward on wasm uses only registered kernels, no slow fallbacks', async () => {
    const enc = new BertEncoder(tinySpec({ outputDim: 8 }), { seed: 3 });
    const b = toBatch(makeRows([4, 7, 2], 50), 7);
    const r = tf.randomNormal([3, 8], 0, 1, 'float32', 1);
    const info = await tf.profile(() => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(enc.encode(b, { seed: 1, rowIds: rowIds(0, 3) }), r)) as tf.Scalar,
          enc.variables,
        );
        assert.equal(Object.keys(grads).length, enc.variables.length);
      });
    });
    const names = kernelNamesOf(info);
    checkKernels(names, 'wasm');
    assert.ok(!names.includes('UnsortedSegmentSum'));
    assert.ok(names.includes('ScatterNd'));
    // Our GEMM serves the matmuls and reads transposed operands in place: the linear layers' backward
    // runs no rank-2 Transpose, and no transpose is of rank 5 (~100x slower on wasm, docs/performance.md #3).
    assert.ok(transposedMatMulIsFast(), 'the wasm GEMM is installed');
    for (const k of info.kernels) {
      if (k.name === 'Transpose') {
        assert.ok(k.inputShapes[0].length <= 4, `rank-${k.inputShapes[0].length} transpose`);
        assert.ok(k.inputShapes[0].length > 2, `rank-2 transpose ${JSON.stringify(k.inputShapes[0])}`);
      }
    }
    enc.dispose();
    disposeBatch(b);
    r.dispose();
  });

  test('numTensors is stable across training steps', () => {
    const enc = new BertEncoder(tinySpec(), { seed: 3 });
    const b = toBatch(makeRows([4, 7, 2, 5], 50), 7);
    const r = tf.randomNormal([4, 16], 0, 1, 'float32', 1);
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(enc.encode(b, { seed: step, rowIds: rowIds(0, 4) }), r)) as tf.Scalar,
          enc.variables,
        );
        for (const v of enc.variables) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
      });
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, [counts[0], counts[0], counts[0], counts[0]]);
    enc.dispose();
    disposeBatch(b);
    r.dispose();
  });

  test('gradients agree between cpu and wasm (≤ 1e-4)', async () => {
    const grads = async (backend: 'cpu' | 'wasm') => {
      await initBackend(backend);
      const enc = new BertEncoder(tinySpec({ layerNorm: 'post', outputDim: 12 }), { seed: 21 });
      const b = toBatch(makeRows([5, 8, 3, 6], 50, 9), 8);
      const r = tf.tensor2d(
        Float32Array.from({ length: 4 * 12 }, (_, i) => Math.sin(i + 1)),
        [4, 12],
      );
      const out = tf.tidy(() => {
        const { grads: g } = tf.variableGrads(
          () => tf.sum(tf.mul(enc.encode(b, { seed: 3, rowIds: rowIds(0, 4) }), r)) as tf.Scalar,
          enc.variables,
        );
        return [...enc.params].map(([name, v]) => [name, g[v.name].dataSync().slice()] as const);
      });
      enc.dispose();
      disposeBatch(b);
      r.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    for (let i = 0; i < cpu.length; i++) {
      assert.equal(cpu[i][0], wasm[i][0]);
      const d = maxAbsDiff(cpu[i][1], wasm[i][1]);
      assert.ok(d <= 1e-4, `${cpu[i][0]}: max diff ${d}`);
    }
    // Every parameter gets a non-zero gradient except the key biases: q·(k+b) shifts a query's scores
    // by a constant, which softmax ignores, so their gradient is exactly zero in exact arithmetic.
    for (const [name, g] of cpu) {
      const big = g.some((x) => Math.abs(x) > 1e-6);
      if (name.endsWith('attention.self.key.bias')) assert.ok(!big, `${name} should have ~0 gradient`);
      else assert.ok(big, `${name} has an all-zero gradient`);
    }
  });
});

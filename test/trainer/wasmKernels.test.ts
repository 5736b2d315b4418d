/**
 * Our wasm GEMM (src/trainer/runtime/kernels/assembly/gemm.ts), both builds, against a float64 reference: every
 * transpose combination, edge tiles (M, N not multiples of 4 / 8), K across the 256-wide blocks, bias,
 * and strided blocks inside larger arrays (lda / ldb / ldc larger than the row). Then the kernels it
 * serves: tf.matMul and tf.fused.matMul on wasm equal the cpu backend's.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { activeWasmKernels, createWasmKernels, heapOffset, type KernelVariant } from '../../src/trainer/runtime/kernels/wasmKernels';
import { headMatMul, type HeadLayout, type HeadMatMulAttrs } from '../../src/trainer/runtime/kernels/headMatMul';
import { gelu } from '../../src/trainer/model/layers';
import { geluReference } from './references';
import { applyDropout, dropoutMultipliers } from '../../src/trainer/model/dropout';

function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  pad: number;
  accumulate: boolean;
}

/**
 * op(A)·op(B) (+ bias), or C0 + op(A)·op(B) when accumulating, in float64; A stored [M, lda] or [K, lda],
 * B [K, ldb] or [N, ldb], C0 [M, ldc].
 */
function reference(
  c: Case,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  bias: Float32Array | null,
  C0: Float32Array,
  ldc: number,
): Float64Array {
  const out = new Float64Array(c.M * c.N);
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      let acc = c.accumulate ? C0[i * ldc + j] : bias ? bias[j] : 0;
      for (let p = 0; p < c.K; p++) {
        const a = c.transA ? A[p * lda + i] : A[i * lda + p];
        const b = c.transB ? B[j * ldb + p] : B[p * ldb + j];
        acc += a * b;
      }
      out[i * c.N + j] = acc;
    }
  }
  return out;
}

const cases: Case[] = [];
// Row counts cover each way a block splits into 6- and 4-row panels (32 = 6·4 + 4 + 4, 13 = 6 + 6 + 1,
// 65 = 6·10 + 5, 200 = 96 + 96 + 4 + 4), K both KC blocks (513 = 512 + 1), and a single row times a
// plain B through 32-, 4- and 1-column steps (45 = 32 + 4·3 + 1).
for (const [M, N, K] of [
  [1, 1, 1],
  [4, 8, 16],
  [5, 9, 3],
  [3, 7, 300],
  [64, 64, 256],
  [65, 17, 257],
  [130, 24, 513],
  [2, 600, 40],
  [37, 8, 0],
  [32, 16, 33],
  [13, 9, 7],
  [200, 8, 20],
  [1, 45, 70],
]) {
  for (const [transA, transB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    cases.push({
      M,
      N,
      K,
      transA,
      transB,
      bias: (M + N + K) % 2 === 0,
      pad: (M + K) % 3,
      accumulate: (M + N + K + (transA ? 1 : 0)) % 3 === 0,
    });
  }
}

describe('wasm GEMM (AssemblyScript)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  test('the trainer runs its own GEMM on wasm', () => {
    // A build missing from dist/ would silently fall back to the stock kernels: fail loudly instead.
    assert.ok(activeWasmKernels(), 'no GEMM build found: run `npm run build`');
  });

  for (const variant of ['simd', 'relaxed-simd'] as KernelVariant[]) {
    test(`${variant}: equals the float64 reference (${cases.length} shapes, transposes, bias, strides, accumulate)`, () => {
      const gemm = createWasmKernels(variant);
      assert.ok(gemm, `${variant} build unavailable`);
      for (const [n, c] of cases.entries()) {
        // Strided storage: each row is `pad` floats longer than it needs; the result goes into a block
        // of a wider C whose other columns must stay untouched.
        const aRows = c.transA ? c.K : c.M;
        const aCols = (c.transA ? c.M : c.K) + c.pad;
        const bRows = c.transB ? c.N : c.K;
        const bCols = (c.transB ? c.K : c.N) + c.pad;
        const ldc = c.N + c.pad;
        const A = rand(Math.max(1, aRows * aCols), 10 + n);
        const B = rand(Math.max(1, bRows * bCols), 20 + n);
        const bias = c.bias ? rand(c.N, 30 + n) : null;
        const C0 = rand(c.M * ldc, 40 + n);
        const ta = tf.tensor1d(A);
        const tb = tf.tensor1d(B);
        const tbias = bias ? tf.tensor1d(bias) : null;
        const tc = tf.tensor1d(C0);
        gemm.run({
          a: heapOffset(ta),
          b: heapOffset(tb),
          c: heapOffset(tc),
          bias: tbias ? heapOffset(tbias) : 0,
          M: c.M,
          N: c.N,
          K: c.K,
          lda: aCols,
          ldb: bCols,
          ldc,
          transA: c.transA,
          transB: c.transB,
          accumulate: c.accumulate,
        });
        // The GEMM wrote into tc's buffer behind tfjs' back: read it straight from the heap.
        const got = tc.dataSync();
        const want = reference(c, A, aCols, B, bCols, bias, C0, ldc);
        let worst = 0;
        for (let i = 0; i < c.M; i++) {
          for (let j = 0; j < ldc; j++) {
            const v = got[i * ldc + j];
            if (j >= c.N) assert.equal(v, C0[i * ldc + j], `${JSON.stringify(c)}: column ${j} past N was written`);
            else worst = Math.max(worst, Math.abs(v - want[i * c.N + j]) / (1 + Math.abs(want[i * c.N + j])));
          }
        }
        assert.ok(worst < 1e-5 * Math.max(1, Math.sqrt(c.K)), `${JSON.stringify(c)}: max rel error ${worst}`);
        tf.dispose([ta, tb, tc, ...(tbias ? [tbias] : [])]);
      }
    });
  }

  test('tf.matMul / tf.fused.matMul on wasm equal the cpu backend (batched, broadcast, transposed)', async () => {
    const shapes: Array<[number[], number[], boolean, boolean]> = [
      [[70, 33], [33, 130], false, false],
      [[33, 70], [130, 33], true, true],
      [[3, 9, 17], [3, 17, 5], false, false],
      [[3, 17, 9], [17, 5], true, false],
      [[9, 17], [4, 5, 17], false, true],
    ];
    const run = (backend: 'cpu' | 'wasm') => {
      tf.setBackend(backend);
      return shapes.map(([sa, sb, ta, tb], i) => {
        const a = tf.tensor(rand(tf.util.sizeFromShape(sa), 50 + i), sa);
        const b = tf.tensor(rand(tf.util.sizeFromShape(sb), 60 + i), sb);
        const n = tb ? sb[sb.length - 2] : sb[sb.length - 1];
        const bias = tf.tensor1d(rand(n, 70 + i));
        const p = tf.matMul(a, b, ta, tb);
        const f =
          sa.length === 2 && sb.length === 2
            ? tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: ta, transposeB: tb, bias })
            : null;
        const out = { plain: p.dataSync() as Float32Array, fused: f ? (f.dataSync() as Float32Array) : null };
        tf.dispose([a, b, bias, p, ...(f ? [f] : [])]);
        return out;
      });
    };
    const onCpu = run('cpu');
    const onWasm = run('wasm');
    for (let i = 0; i < shapes.length; i++) {
      for (const k of ['plain', 'fused'] as const) {
        const x = onWasm[i][k];
        const y = onCpu[i][k];
        if (!x || !y) continue;
        assert.equal(x.length, y.length);
        let worst = 0;
        for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j] - y[j]));
        assert.ok(worst < 1e-4, `${k} ${JSON.stringify(shapes[i])}: max diff ${worst}`);
      }
    }
  });

  test('headMatMul: the in-place wasm kernel equals the transpose + batched matMul reference (cpu)', () => {
    // The four products of the attention and its gradients, on odd sizes: N = 3 sequences, 2 heads,
    // L = 5 tokens, 3 dims per head.
    const n = 3;
    const heads = 2;
    const L = 5;
    const d = 3;
    const shapeOf = (layout: HeadLayout, r: number, c: number) => (layout === 'blocks' ? [n, heads, r, c] : [n * r, heads * c]);
    const combos: Array<[boolean, boolean, HeadLayout, [number, number], HeadLayout, [number, number], HeadLayout]> = [
      [false, true, 'heads', [L, d], 'heads', [L, d], 'blocks'], // scores = Q·Kᵀ
      [false, false, 'blocks', [L, L], 'heads', [L, d], 'heads'], // context = P·V, dQ = dS·K
      [true, false, 'blocks', [L, L], 'heads', [L, d], 'heads'], // dV = Pᵀ·dC, dK = dSᵀ·Q
      [false, true, 'heads', [L, d], 'heads', [L, d], 'blocks'], // dP = dC·Vᵀ
    ];
    for (const [i, [transA, transB, aLayout, [ar, ac], bLayout, [br, bc], outLayout]] of combos.entries()) {
      const sa = shapeOf(aLayout, ar, ac);
      const sb = shapeOf(bLayout, br, bc);
      const A = rand(tf.util.sizeFromShape(sa), 80 + i);
      const B = rand(tf.util.sizeFromShape(sb), 90 + i);
      const at: HeadMatMulAttrs = { n, heads, transA, transB, aLayout, bLayout, outLayout };
      const run = (backend: 'cpu' | 'wasm') => {
        tf.setBackend(backend);
        const a = tf.tensor(A, sa);
        const b = tf.tensor(B, sb);
        const c = headMatMul(a, b, at);
        const out = { shape: c.shape, values: c.dataSync() as Float32Array };
        tf.dispose([a, b, c]);
        return out;
      };
      const ref = run('cpu');
      const got = run('wasm');
      assert.deepEqual(got.shape, ref.shape);
      let worst = 0;
      for (let j = 0; j < ref.values.length; j++) worst = Math.max(worst, Math.abs(got.values[j] - ref.values[j]));
      assert.ok(worst < 1e-5, `${JSON.stringify(at)}: max diff ${worst}`);
    }
  });

  test('GELU kernel: known Φ values (positive in the far negative tail) and gradients equal the reference', () => {
    tf.setBackend('wasm');
    // Φ(x) = GELU(x) / x, from tables of the normal distribution.
    const known: Array<[number, number]> = [
      [-8, 6.22096057427178e-16],
      [-4, 3.16712418331199e-5],
      [-1, 0.158655253931457],
      [0.5, 0.691462461274013],
      [3, 0.99865010196837],
    ];
    const y = tf.tidy(() =>
      gelu(tf.tensor1d(known.map(([x]) => x)))
        .dataSync()
        .slice(),
    );
    for (const [i, [x, phi]] of known.entries()) {
      const got = y[i] / x;
      // A&S 7.1.26 bounds the absolute error (1.5e-7 on erf; y = x·Φ is float32); in its erfc form Φ stays positive.
      assert.ok(Math.abs(got - phi) <= 2e-7 * Math.max(1, Math.abs(x)) && got > 0, `Φ(${x}) = ${got}, want ${phi}`);
    }
    // 1003 values over [-12, 12] (not a multiple of 4: the tail path too): value and gradient against the
    // erf/exp formulation, on cpu.
    const xs = Float32Array.from({ length: 1003 }, (_, i) => -12 + (24 * i) / 1002);
    const dy = rand(xs.length, 7);
    const run = (backend: 'cpu' | 'wasm', f: (x: tf.Tensor) => tf.Tensor) => {
      tf.setBackend(backend);
      const x = tf.tensor1d(xs);
      const g = tf.tensor1d(dy);
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(f(t), g)))(x);
      const out = { grad: grad.dataSync() as Float32Array, y: f(x).dataSync() as Float32Array };
      tf.dispose([x, g, value, grad]);
      return out;
    };
    const want = run('cpu', geluReference);
    const got = run('wasm', gelu);
    for (let i = 0; i < xs.length; i++) {
      assert.ok(Math.abs(got.y[i] - want.y[i]) <= 1e-6 * (1 + Math.abs(xs[i])), `GELU(${xs[i]}): ${got.y[i]} vs ${want.y[i]}`);
      assert.ok(Math.abs(got.grad[i] - want.grad[i]) <= 1e-6 * (1 + Math.abs(xs[i])), `GELU'(${xs[i]}): ${got.grad[i]} vs ${want.grad[i]}`);
    }
  });

  test('dropout on the wasm kernel: x ⊙ the JS-hashed multipliers bit for bit, and its gradient dy ⊙ the same', () => {
    tf.setBackend('wasm');
    const ctx = { seed: 12345, rowIds: Int32Array.from([7, 3, 99, 0, 41]) };
    // Lengths with and without the 8-wide SIMD body, odd ones for the scalar tail; blocked groups too.
    for (const [rows, groups, len, p, perBlock] of [
      [5, 3, 128, 0.1, 3],
      [4, 6, 32, 0.5, 2],
      [2, 3, 13, 0.1, 3],
      [3, 2, 7, 0.9, 1],
      [5, 1, 1, 0.3, 1],
    ]) {
      const m = dropoutMultipliers(ctx, 4, rows, groups, len, p, perBlock);
      const xs = rand(m.length, 17 + len);
      const dys = rand(m.length, 29 + len);
      const x = tf.tensor3d(xs, [rows, groups, len]);
      const dy = tf.tensor3d(dys, [rows, groups, len]);
      const [values, grad] = tf.tidy(() => {
        const y = applyDropout(x, ctx, 4, rows, groups, len, p, perBlock);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyDropout(t, ctx, 4, rows, groups, len, p, perBlock), dy)))(x);
        return [y.dataSync(), g.dataSync()];
      });
      for (let i = 0; i < m.length; i++) {
        assert.equal(values[i], Math.fround(xs[i] * m[i]), `[${rows},${groups},${len}] p=${p}: element ${i}`);
        assert.equal(grad[i], Math.fround(dys[i] * m[i]), `[${rows},${groups},${len}] p=${p}: gradient ${i}`);
      }
      let kept = 0;
      for (const v of m) if (v !== 0) kept++;
      assert.ok((kept > 0 && kept < m.length) || m.length < 8, `[${rows},${groups},${len}]: some kept, some dropped`);
      tf.dispose([x, dy]);
    }
  });
});

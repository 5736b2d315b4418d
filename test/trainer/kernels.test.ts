// Gradient overrides (src/trainer/kernels) against float64 references computed in plain JS, on the cpu
// and the wasm backend. The overrides are installed by initBackend; that they are active (not the stock
// gradients) is checked through the kernels the backward runs.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { collectKernelNames, initBackend } from '../../src/trainer/runtime/backend';
import { embeddingLookup } from '../../src/trainer/runtime/kernels/embeddingGrad';
import { groupedMatMul } from '../../src/trainer/runtime/kernels/groupedMatMul';
import { transposedMatMulIsFast } from '../../src/trainer/runtime/kernels/wasmKernels';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
function rand(shape: number[], seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: sizeOf(shape) }, r);
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    out.push(Math.max(da, db));
  }
  return out;
}
/** Flat index into `shape` (right-aligned, broadcast dims of size 1) of the output multi-index. */
function srcIndex(outIdx: number[], shape: number[]): number {
  const st = strides(shape);
  const off = outIdx.length - shape.length;
  let f = 0;
  for (let i = 0; i < shape.length; i++) f += (shape[i] === 1 ? 0 : outIdx[off + i]) * st[i];
  return f;
}
function unravel(flat: number, shape: number[]): number[] {
  const idx: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(flat % shape[i]);
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

/** d/da, d/db of sum(R ∘ op(a, b)) for op in add/sub/mul, with numpy broadcasting, in float64. */
function binaryRef(op: 'add' | 'sub' | 'mul', a: Float32Array, as: number[], b: Float32Array, bs: number[], R: Float32Array) {
  const out = broadcastShape(as, bs);
  const ga = new Float64Array(a.length);
  const gb = new Float64Array(b.length);
  for (let o = 0; o < sizeOf(out); o++) {
    const idx = unravel(o, out);
    const ia = srcIndex(idx, as);
    const ib = srcIndex(idx, bs);
    ga[ia] += R[o] * (op === 'mul' ? b[ib] : 1);
    gb[ib] += R[o] * (op === 'mul' ? a[ia] : op === 'sub' ? -1 : 1);
  }
  return { out, ga, gb };
}

/** Gradients of sum(R ∘ (opA(A) · opB(B))) with broadcast batch dims, in float64. */
function matMulRef(A: Float32Array, as: number[], B: Float32Array, bs: number[], tA: boolean, tB: boolean, R: Float32Array) {
  const m = tA ? as[as.length - 1] : as[as.length - 2];
  const k = tA ? as[as.length - 2] : as[as.length - 1];
  const n = tB ? bs[bs.length - 2] : bs[bs.length - 1];
  const batchA = as.slice(0, -2);
  const batchB = bs.slice(0, -2);
  const batchOut = broadcastShape(batchA, batchB);
  const ga = new Float64Array(A.length);
  const gb = new Float64Array(B.length);
  const aAt = (ba: number, i: number, kk: number) => ba * m * k + (tA ? kk * m + i : i * k + kk);
  const bAt = (bb: number, kk: number, j: number) => bb * k * n + (tB ? j * k + kk : kk * n + j);
  for (let ob = 0; ob < sizeOf(batchOut); ob++) {
    const idx = unravel(ob, batchOut);
    const ba = batchA.length ? srcIndex(idx, batchA) : 0;
    const bb = batchB.length ? srcIndex(idx, batchB) : 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const r = R[(ob * m + i) * n + j];
        for (let kk = 0; kk < k; kk++) {
          ga[aAt(ba, i, kk)] += r * B[bAt(bb, kk, j)];
          gb[bAt(bb, kk, j)] += r * A[aAt(ba, i, kk)];
        }
      }
  }
  return { outShape: [...batchOut, m, n], ga, gb };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradient overrides on ${backend}`, () => {
    before(async () => {
      await initBackend(backend);
    });

    const mmCases: { as: number[]; bs: number[] }[] = [
      { as: [3, 4], bs: [4, 5] },
      { as: [2, 3, 4], bs: [2, 4, 5] },
      { as: [2, 2, 3, 4], bs: [2, 2, 4, 5] },
      { as: [3, 4], bs: [2, 4, 5] },
      { as: [2, 3, 4], bs: [4, 5] },
      { as: [1, 3, 4], bs: [2, 4, 5] },
      { as: [2, 2, 3, 4], bs: [1, 1, 4, 5] },
      // Not covered: partial batch broadcasting such as [2,1,…] x [2,3,…]; tfjs' BatchMatMul forward
      // flattens batch dims and only broadcasts a whole side of batch size 1.
    ];
    for (const { as, bs } of mmCases) {
      for (const [tA, tB] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        test(`BatchMatMul grad ${JSON.stringify(as)} x ${JSON.stringify(bs)} tA=${tA} tB=${tB}`, () => {
          const sa = tA ? [...as.slice(0, -2), as[as.length - 1], as[as.length - 2]] : as;
          const sb = tB ? [...bs.slice(0, -2), bs[bs.length - 1], bs[bs.length - 2]] : bs;
          const A = rand(sa, 1);
          const B = rand(sb, 2);
          const ref = matMulRef(A, sa, B, sb, tA, tB, new Float32Array(0).fill(0));
          const R = rand(ref.outShape, 3);
          const want = matMulRef(A, sa, B, sb, tA, tB, R);
          const [ga, gb] = tf.tidy(() => {
            const a = tf.tensor(A, sa);
            const b = tf.tensor(B, sb);
            const r = tf.tensor(R, want.outShape);
            const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), r)));
            return g([a, b]).map((t) => t.dataSync().slice());
          });
          assert.ok(maxAbsDiff(ga, want.ga) <= 1e-5, `dA max diff ${maxAbsDiff(ga, want.ga)}`);
          assert.ok(maxAbsDiff(gb, want.gb) <= 1e-5, `dB max diff ${maxAbsDiff(gb, want.gb)}`);
        });
      }
    }

    test(`BatchMatMul backward ${backend === 'wasm' ? 'reads transposed operands in place (our GEMM)' : 'uses explicit Transpose (override active)'}`, async () => {
      const a = tf.tensor(rand([6, 4], 4), [6, 4]);
      const b = tf.tensor(rand([4, 3], 5), [4, 3]);
      const names = await collectKernelNames(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]));
      if (backend === 'wasm') {
        // Our GEMM serves wasm's matmuls, transposed operands included: no Transpose kernels at all.
        assert.ok(transposedMatMulIsFast(), 'the wasm GEMM is installed');
        assert.ok(!names.includes('Transpose'), `kernels: ${names.join(',')}`);
      } else {
        // The stock gradient computes both with transposed matmuls and never runs Transpose.
        assert.ok(names.includes('Transpose'), `kernels: ${names.join(',')}`);
      }
      tf.dispose([a, b]);
    });

    const bcCases: [number[], number[]][] = [
      [[4, 3], [3]],
      [
        [4, 3],
        [4, 3],
      ],
      [
        [2, 3, 4],
        [3, 4],
      ],
      [[2, 3, 4], [4]],
      [
        [2, 3, 4],
        [1, 3, 1],
      ],
      [
        [2, 3, 4],
        [2, 1, 4],
      ],
      [
        [3, 1],
        [1, 4],
      ],
      [[2, 3], []],
      [
        [5, 1],
        [5, 6],
      ],
      [
        [1, 1, 4],
        [2, 3, 4],
      ],
    ];
    for (const op of ['add', 'sub', 'mul'] as const) {
      for (const [as, bs] of bcCases) {
        test(`${op} grad ${JSON.stringify(as)} ⊕ ${JSON.stringify(bs)}`, () => {
          const A = rand(as, 11);
          const B = rand(bs, 12);
          const out = broadcastShape(as, bs);
          const R = rand(out, 13);
          const want = binaryRef(op, A, as, B, bs, R);
          const [ga, gb] = tf.tidy(() => {
            const a = tf.tensor(A, as);
            const b = tf.tensor(B, bs);
            const r = tf.tensor(R, out);
            const f = op === 'add' ? tf.add : op === 'sub' ? tf.sub : tf.mul;
            const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), r)));
            const res = g([a, b]);
            assert.deepEqual(res[0].shape, as);
            assert.deepEqual(res[1].shape, bs);
            return res.map((t) => t.dataSync().slice());
          });
          assert.ok(maxAbsDiff(ga, want.ga) <= 1e-5, `da max diff ${maxAbsDiff(ga, want.ga)}`);
          assert.ok(maxAbsDiff(gb, want.gb) <= 1e-5, `db max diff ${maxAbsDiff(gb, want.gb)}`);
        });
      }
    }

    test('same tensor on both sides of add (x + x) accumulates correctly', () => {
      const g = tf.tidy(() => {
        const x = tf.tensor([1, 2, 3]);
        return tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(tf.add(v, v), v)))(x)
          .dataSync()
          .slice();
      });
      // d/dx sum(2x²) = 4x
      assert.deepEqual(Array.from(g), [4, 8, 12]);
    });

    test('groupedMatMul (depthwise-conv batched matmul): value and gradients vs matMul', async () => {
      const [G, m, k, n] = [6, 3, 5, 4];
      const A = rand([G, m, k], 31);
      const B = rand([G, k, n], 32);
      const R = rand([G, m, n], 33);
      const want = matMulRef(A, [G, m, k], B, [G, k, n], false, false, R);
      const out = tf.tidy(() => {
        const a = tf.tensor3d(A, [G, m, k]);
        const b = tf.tensor3d(B, [G, k, n]);
        const r = tf.tensor3d(R, [G, m, n]);
        // groupedMatMul's layouts: a [m,k,G], b [k,G,n] -> [m,G,n].
        const f = (x: tf.Tensor, y: tf.Tensor) => {
          const c = groupedMatMul(tf.transpose(x, [1, 2, 0]) as tf.Tensor3D, tf.transpose(y, [1, 0, 2]) as tf.Tensor3D);
          return tf.transpose(c, [1, 0, 2]);
        };
        const value = f(a, b).dataSync().slice();
        const ref = tf.matMul(a, b).dataSync().slice();
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), r)))([a, b]);
        return { value, ref, ga: ga.dataSync().slice(), gb: gb.dataSync().slice() };
      });
      assert.ok(maxAbsDiff(out.value, out.ref) <= 1e-5, `value max diff ${maxAbsDiff(out.value, out.ref)}`);
      assert.ok(maxAbsDiff(out.ga, want.ga) <= 1e-5, `dA max diff ${maxAbsDiff(out.ga, want.ga)}`);
      assert.ok(maxAbsDiff(out.gb, want.gb) <= 1e-5, `dB max diff ${maxAbsDiff(out.gb, want.gb)}`);
      const a = tf.randomNormal([3, 5, 6]) as tf.Tensor3D;
      const b = tf.randomNormal([5, 6, 4]) as tf.Tensor3D;
      const names = await collectKernelNames(() =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(groupedMatMul(x as tf.Tensor3D, y as tf.Tensor3D)))([a, b]),
      );
      assert.ok(names.includes('DepthwiseConv2dNative'), names.join(','));
      assert.ok(!names.includes('BatchMatMul'), names.join(','));
      tf.dispose([a, b]);
    });

    test('embedding lookup: gather forward, scatter-add backward with repeated ids', async () => {
      const V = 6;
      const H = 3;
      const table = rand([V, H], 21);
      const ids = [0, 2, 2, 5, 0, 2];
      const R = rand([ids.length, H], 22);
      const want = new Float64Array(V * H);
      for (let n = 0; n < ids.length; n++) for (let h = 0; h < H; h++) want[ids[n] * H + h] += R[n * H + h];
      const t = tf.tensor2d(table, [V, H]);
      const idt = tf.tensor1d(ids, 'int32');
      const r = tf.tensor2d(R, [ids.length, H]);
      const value = tf.tidy(() => embeddingLookup(t, idt).dataSync().slice());
      for (let n = 0; n < ids.length; n++) {
        for (let h = 0; h < H; h++) assert.equal(value[n * H + h], table[ids[n] * H + h]);
      }
      let g: Float32Array = new Float32Array(0);
      const names = await collectKernelNames(() => {
        const gt = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(x as tf.Tensor2D, idt), r)))(t);
        g = gt.dataSync().slice() as Float32Array;
        return gt;
      });
      assert.ok(maxAbsDiff(g, want) <= 1e-6, `max diff ${maxAbsDiff(g, want)}`);
      assert.ok(names.includes('ScatterNd'), names.join(','));
      assert.ok(!names.includes('UnsortedSegmentSum'), names.join(','));
      tf.dispose([t, idt, r]);
    });
  });
}

describe('wasm Identity shares buffers', () => {
  test('clone shares the buffer, survives disposal of the source, and frees it at the end', async () => {
    await initBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.clone(x);
    assert.equal(y.dataId, x.dataId);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    // A variable built from it and then re-assigned leaves the clone's values alone.
    const v = tf.variable(y);
    const nines = tf.tensor2d([
      [9, 9],
      [9, 9],
    ]);
    v.assign(nines);
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(v.dataSync()), [9, 9, 9, 9]);
    tf.dispose([y, v, nines]);
    assert.equal(tf.memory().numBytes, bytes0);
  });
});

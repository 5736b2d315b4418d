/**
 * The attention's per-(sequence, head) matmuls straight on the [T, H] activations, without a transpose.
 *
 * Two layouts of a stack of N·heads small matrices:
 *   'heads'  — a [N·L, heads·c] tensor (T = N·L tokens, H = heads·c) where the matrix of (sequence n, head h)
 *              is rows n·L … n·L+L−1, columns h·c … h·c+c−1: how Q, K, V and the context come out of and
 *              go into the linear layers;
 *   'blocks' — a [N, heads, r, c] tensor, one contiguous r × c matrix per (n, h): scores and probabilities.
 * On wasm with our GEMM (wasmKernels.ts) each of the N·heads products is one GEMM call that addresses its
 * blocks in place through leading dimensions, so the attention needs no transposes at all (the stock path
 * needed six rank-3/4 transposes per layer forward and more backward). Elsewhere (cpu, tensorflow, or wasm
 * without the GEMM) the same op is reshapes, transposes and a batched tf.matMul: the reference.
 *
 *   attentionScores(q, k)   S[n,h] = Q[n,h] · K[n,h]ᵀ     q, k 'heads' → S 'blocks' [N, heads, L, L]
 *   attentionContext(p, v)  C[n,h] = P[n,h] · V[n,h]      p 'blocks', v 'heads' → C 'heads' [T, H]
 * with their gradients written with the same op (dQ = dS·K, dK = dSᵀ·Q, dP = dC·Vᵀ, dV = Pᵀ·dC).
 */
import * as tf from '@tensorflow/tfjs-core';
import { offsetOf, registerWasmKernel, type WasmBackend } from './wasmBackend';
import type { WasmKernels } from './wasmKernels';

export type HeadLayout = 'heads' | 'blocks';

export interface HeadMatMulAttrs {
  /** Sequences and heads: the stack holds N·heads matrices. */
  n: number;
  heads: number;
  transA: boolean;
  transB: boolean;
  aLayout: HeadLayout;
  bLayout: HeadLayout;
  outLayout: HeadLayout;
}

export const HEAD_MAT_MUL = 'MatryoshkaHeadMatMul';

/** Rows × columns of one stored matrix of x in the given layout. */
function blockShape(x: { shape: number[] }, layout: HeadLayout, n: number, heads: number): [number, number] {
  if (layout === 'blocks') return [x.shape[2], x.shape[3]];
  return [x.shape[0] / n, x.shape[1] / heads];
}

/** M, K, N of the products and the output's shape. */
function plan(
  a: { shape: number[] },
  b: { shape: number[] },
  at: HeadMatMulAttrs,
): { M: number; K: number; N: number; outShape: number[] } {
  const [ar, ac] = blockShape(a, at.aLayout, at.n, at.heads);
  const [br, bc] = blockShape(b, at.bLayout, at.n, at.heads);
  const M = at.transA ? ac : ar;
  const K = at.transA ? ar : ac;
  const Kb = at.transB ? bc : br;
  const N = at.transB ? br : bc;
  if (K !== Kb) throw new Error(`headMatMul: inner sizes ${K} and ${Kb} differ (a ${a.shape}, b ${b.shape})`);
  const outShape = at.outLayout === 'blocks' ? [at.n, at.heads, M, N] : [at.n * M, at.heads * N];
  return { M, K, N, outShape };
}

/** [N·L, heads·c] → [N, heads, L, c] (the reference path only). */
function toBlocks(x: tf.Tensor, n: number, heads: number): tf.Tensor4D {
  const [T, H] = x.shape;
  return tf.transpose(tf.reshape(x, [n, T / n, heads, H / heads]), [0, 2, 1, 3]);
}

function reference(a: tf.Tensor, b: tf.Tensor, at: HeadMatMulAttrs): tf.Tensor {
  const { outShape } = plan(a, b, at);
  const as3 = (x: tf.Tensor, layout: HeadLayout) => {
    const blocks = layout === 'blocks' ? x : toBlocks(x, at.n, at.heads);
    return tf.reshape(blocks, [at.n * at.heads, blocks.shape[2]!, blocks.shape[3]!]) as tf.Tensor3D;
  };
  const c = tf.matMul(as3(a, at.aLayout), as3(b, at.bLayout), at.transA, at.transB);
  if (at.outLayout === 'blocks') return tf.reshape(c, outShape);
  const [, M, N] = c.shape;
  return tf.reshape(tf.transpose(tf.reshape(c, [at.n, at.heads, M, N]), [0, 2, 1, 3]), outShape);
}

/** Registers the wasm kernel of headMatMul on top of `gemm` (called by installWasmKernels). */
export function registerHeadMatMulKernel(gemm: WasmKernels): void {
  registerWasmKernel(HEAD_MAT_MUL, ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const at = attrs as unknown as HeadMatMulAttrs;
    const be = backend as unknown as WasmBackend;
    const { M, K, N, outShape } = plan(a, b, at);
    const out = be.makeOutput(outShape, 'float32');
    // Byte offset and leading dimension of block (n, h) of a tensor stored r × c per block.
    const locate = (t: tf.TensorInfo, layout: HeadLayout, r: number, c: number) => {
      const p = offsetOf(be, t);
      return layout === 'blocks'
        ? { ld: c, at: (s: number, h: number) => p + (s * at.heads + h) * r * c * 4 }
        : { ld: at.heads * c, at: (s: number, h: number) => p + (s * r * at.heads * c + h * c) * 4 };
    };
    const [ar, ac] = blockShape(a, at.aLayout, at.n, at.heads);
    const [br, bc] = blockShape(b, at.bLayout, at.n, at.heads);
    const A = locate(a, at.aLayout, ar, ac);
    const B = locate(b, at.bLayout, br, bc);
    const C = locate(out, at.outLayout, M, N);
    for (let s = 0; s < at.n; s++) {
      for (let h = 0; h < at.heads; h++) {
        gemm.run({
          a: A.at(s, h),
          b: B.at(s, h),
          c: C.at(s, h),
          M,
          N,
          K,
          lda: A.ld,
          ldb: B.ld,
          ldc: C.ld,
          transA: at.transA,
          transB: at.transB,
        });
      }
    }
    return out;
  });
}

/** The product of every (sequence, head) pair of a and b, in the given layouts (see the header). */
export function headMatMul(a: tf.Tensor, b: tf.Tensor, at: HeadMatMulAttrs): tf.Tensor {
  if (tf.getBackend() === 'wasm' && tf.getKernel(HEAD_MAT_MUL, 'wasm')) {
    return tf.engine().runKernel(HEAD_MAT_MUL, { a, b }, at as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return reference(a, b, at);
}

function makeScoresOp(n: number, heads: number) {
  const at = (transA: boolean, aL: HeadLayout, bL: HeadLayout, oL: HeadLayout, transB = false): HeadMatMulAttrs => ({
    n,
    heads,
    transA,
    transB,
    aLayout: aL,
    bLayout: bL,
    outLayout: oL,
  });
  return tf.customGrad((...args: unknown[]) => {
    const [q, k, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([q, k]);
    return {
      value: headMatMul(q, k, at(false, 'heads', 'heads', 'blocks', true)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const dS = dy as tf.Tensor;
        const [sq, sk] = saved;
        return [headMatMul(dS, sk, at(false, 'blocks', 'heads', 'heads')), headMatMul(dS, sq, at(true, 'blocks', 'heads', 'heads'))];
      },
    };
  });
}

/** One custom-gradient op per (N, heads): customGrad passes tensors only, so the sizes live in the closure. */
const scoresOps = new Map<string, ReturnType<typeof makeScoresOp>>();

const contextOp = tf.customGrad((...args: unknown[]) => {
  const [p, v, save] = args as [tf.Tensor4D, tf.Tensor2D, tf.GradSaveFunc];
  const [n, heads] = p.shape;
  save([p, v]);
  const at = (transA: boolean, transB: boolean, aL: HeadLayout, bL: HeadLayout, oL: HeadLayout): HeadMatMulAttrs => ({
    n,
    heads,
    transA,
    transB,
    aLayout: aL,
    bLayout: bL,
    outLayout: oL,
  });
  return {
    value: headMatMul(p, v, at(false, false, 'blocks', 'heads', 'heads')),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const dC = dy as tf.Tensor;
      const [sp, sv] = saved;
      return [
        headMatMul(dC, sv, at(false, true, 'heads', 'heads', 'blocks')),
        headMatMul(sp, dC, at(true, false, 'blocks', 'heads', 'heads')),
      ];
    },
  };
});

/** Scores Q·Kᵀ of every (sequence, head): q, k [N·L, H] → [N, heads, L, L]. */
export function attentionScores(q: tf.Tensor2D, k: tf.Tensor2D, n: number, heads: number): tf.Tensor4D {
  const key = `${n}x${heads}`;
  let op = scoresOps.get(key);
  if (!op) {
    op = makeScoresOp(n, heads);
    scoresOps.set(key, op);
  }
  return op(q, k) as tf.Tensor4D;
}

/** Context P·V of every (sequence, head): p [N, heads, L, L], v [N·L, H] → [N·L, H]. */
export function attentionContext(p: tf.Tensor4D, v: tf.Tensor2D): tf.Tensor2D {
  return contextOp(p, v) as tf.Tensor2D;
}

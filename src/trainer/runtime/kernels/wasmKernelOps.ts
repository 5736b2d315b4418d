/**
 * The tfjs kernels of the wasm backend that our module serves (wasmKernels.ts loads it): the GEMM as
 * BatchMatMul and _FusedMatMul, a linear layer's backward, the attention's per-head products
 * (headMatMul.ts), GELU, LayerNorm and its gradient, dropout and AdamW. Each reads its operands and writes
 * its outputs in place on the tfjs-wasm heap; the names are what the layers pass to runKernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerHeadMatMulKernel } from './headMatMul';
import { offsetOf, registerWasmKernel, type WasmBackend } from './wasmBackend';
import type { WasmKernels } from './wasmKernels';

export const LINEAR_GRAD = 'MatryoshkaLinearGrad';

/**
 * `MatryoshkaLinearGrad` (dy [T, out], x [T, in], w [in, out]) → [dx = dy·wᵀ, dW = xᵀ·dy, db = 1ᵀ·dy]: the
 * whole backward of x·W + b in one kernel, the transposed operands read where they lie. Three tfjs
 * kernels and a ones vector would each pay tfjs' per-kernel bookkeeping, which is a fair part of a
 * small GradCache chunk's backward.
 */
function registerLinearGradKernel(k: WasmKernels): void {
  registerWasmKernel(LINEAR_GRAD, ({ inputs, backend }) => {
    const { dy, x, w } = inputs as Record<'dy' | 'x' | 'w', tf.TensorInfo>;
    const [T, inDim] = x.shape;
    const outDim = w.shape[1];
    const ok =
      [dy, x, w].every((t) => t.dtype === 'float32' && t.shape.length === 2) &&
      w.shape[0] === inDim &&
      dy.shape[0] === T &&
      dy.shape[1] === outDim;
    if (!ok) throw new Error(`linear gradient: dy ${dy.shape}, x ${x.shape}, w ${w.shape} do not fit x·w`);
    const be = backend as unknown as WasmBackend;
    const dx = be.makeOutput([T, inDim], 'float32');
    const dW = be.makeOutput([inDim, outDim], 'float32');
    const db = be.makeOutput([outDim], 'float32');
    const [pdy, px, pw] = [dy, x, w].map((t) => offsetOf(be, t));
    if (T * inDim > 0)
      k.run({
        a: pdy,
        b: pw,
        c: offsetOf(be, dx),
        M: T,
        N: inDim,
        K: outDim,
        lda: outDim,
        ldb: outDim,
        ldc: inDim,
        transA: false,
        transB: true,
      });
    if (inDim * outDim > 0)
      k.run({
        a: px,
        b: pdy,
        c: offsetOf(be, dW),
        M: inDim,
        N: outDim,
        K: T,
        lda: inDim,
        ldb: outDim,
        ldc: outDim,
        transA: true,
        transB: false,
      });
    if (outDim > 0) k.columnSums(pdy, T, outDim, offsetOf(be, db));
    return [dx, dW, db];
  });
}

export const GELU = 'MatryoshkaGelu';

/** GELU on wasm: `MatryoshkaGelu` x; { slope } → [y] or, with slope, [y, Φ(x) + x·φ(x)] for the backward. */
function registerGeluKernel(k: WasmKernels): void {
  registerWasmKernel(GELU, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { slope } = attrs as unknown as { slope: boolean };
    if (x.dtype !== 'float32') throw new Error(`GELU takes float32, got ${x.dtype}`);
    const be = backend as unknown as WasmBackend;
    const y = be.makeOutput(x.shape, 'float32');
    const s = slope ? be.makeOutput(x.shape, 'float32') : undefined;
    const n = tf.util.sizeFromShape(x.shape);
    if (n > 0) k.geluForward(offsetOf(be, x), offsetOf(be, y), s ? offsetOf(be, s) : 0, n);
    return s ? [y, s] : [y];
  });
}

export const ADAMW = 'MatryoshkaAdamW';

export interface AdamWKernelAttrs {
  clip: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  epsHat: number;
  decay: number;
}

/** `MatryoshkaAdamW` (theta, grad, m, v) → [theta', m', v'] (assembly/adamw.ts). */
function registerAdamWKernel(k: WasmKernels): void {
  registerWasmKernel(ADAMW, ({ inputs, backend, attrs }) => {
    const { theta, grad, m, v } = inputs as Record<'theta' | 'grad' | 'm' | 'v', tf.TensorInfo>;
    const a = attrs as unknown as AdamWKernelAttrs;
    const be = backend as unknown as WasmBackend;
    const n = tf.util.sizeFromShape(theta.shape);
    for (const t of [grad, m, v]) {
      if (tf.util.sizeFromShape(t.shape) !== n || t.dtype !== 'float32')
        throw new Error(`AdamW: operand shape ${t.shape} ≠ parameter shape ${theta.shape}`);
    }
    const outs = [theta, m, v].map((t) => be.makeOutput(t.shape, 'float32'));
    if (n > 0) {
      k.adamw(
        offsetOf(be, theta),
        offsetOf(be, grad),
        offsetOf(be, m),
        offsetOf(be, v),
        offsetOf(be, outs[0]),
        offsetOf(be, outs[1]),
        offsetOf(be, outs[2]),
        n,
        a.clip,
        a.beta1,
        a.beta2,
        a.stepSize,
        a.epsHat,
        a.decay,
      );
    }
    return outs;
  });
}

export const DROPOUT = 'MatryoshkaDropout';

/**
 * `MatryoshkaDropout` (keys [groups] int32, x [groups·len] float32; len, threshold, scale) → x ⊙ m, the
 * multipliers hashed from the keys as the product is formed (assembly/dropout.ts).
 */
function registerDropoutKernel(k: WasmKernels): void {
  registerWasmKernel(DROPOUT, ({ inputs, backend, attrs }) => {
    const { keys, x } = inputs as { keys: tf.TensorInfo; x: tf.TensorInfo };
    const { len, threshold, scale } = attrs as unknown as { len: number; threshold: number; scale: number };
    if (keys.dtype !== 'int32') throw new Error(`dropout keys must be int32, got ${keys.dtype}`);
    if (x.dtype !== 'float32') throw new Error(`dropout takes float32, got ${x.dtype}`);
    const groups = tf.util.sizeFromShape(keys.shape);
    if (tf.util.sizeFromShape(x.shape) !== groups * len) throw new Error(`dropout: ${x.shape} is not ${groups} groups of ${len}`);
    const be = backend as unknown as WasmBackend;
    const out = be.makeOutput(x.shape, 'float32');
    if (groups * len > 0) k.dropout(offsetOf(be, keys), groups, len, threshold, scale, offsetOf(be, x), offsetOf(be, out));
    return out;
  });
}

export const LAYER_NORM = 'MatryoshkaLayerNorm';
export const LAYER_NORM_GRAD = 'MatryoshkaLayerNormGrad';

/**
 * `MatryoshkaLayerNorm` (x [T, H], optional residual [T, H] added to x, γ, β; eps) → [y, x̂, rstd [T]] and `MatryoshkaLayerNormGrad`
 * (dy, x̂, rstd, γ) → [dx, dγ, dβ] (assembly/layerNorm.ts).
 */
function registerLayerNormKernels(k: WasmKernels): void {
  const rowsOf = (x: tf.TensorInfo) => {
    const H = x.shape[x.shape.length - 1];
    return { T: H ? tf.util.sizeFromShape(x.shape) / H : 0, H };
  };
  registerWasmKernel(LAYER_NORM, ({ inputs, backend, attrs }) => {
    const { x, residual, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo> & { residual?: tf.TensorInfo };
    if (residual && tf.util.sizeFromShape(residual.shape) !== tf.util.sizeFromShape(x.shape)) {
      throw new Error(`LayerNorm: residual shape ${residual.shape} ≠ input shape ${x.shape}`);
    }
    const { eps } = attrs as unknown as { eps: number };
    const be = backend as unknown as WasmBackend;
    const { T, H } = rowsOf(x);
    const y = be.makeOutput(x.shape, 'float32');
    const xhat = be.makeOutput(x.shape, 'float32');
    const rstd = be.makeOutput([T], 'float32');
    if (T * H > 0)
      k.layerNormForward(
        offsetOf(be, x),
        residual ? offsetOf(be, residual) : 0,
        offsetOf(be, gamma),
        offsetOf(be, beta),
        offsetOf(be, y),
        offsetOf(be, xhat),
        offsetOf(be, rstd),
        T,
        H,
        eps,
      );
    return [y, xhat, rstd];
  });
  registerWasmKernel(LAYER_NORM_GRAD, ({ inputs, backend }) => {
    const { dy, xhat, rstd, gamma } = inputs as Record<'dy' | 'xhat' | 'rstd' | 'gamma', tf.TensorInfo>;
    const be = backend as unknown as WasmBackend;
    const { T, H } = rowsOf(xhat);
    const dx = be.makeOutput(xhat.shape, 'float32');
    const dgamma = be.makeOutput([H], 'float32');
    const dbeta = be.makeOutput([H], 'float32');
    if (H > 0) {
      k.layerNormBackward(
        offsetOf(be, dy),
        offsetOf(be, xhat),
        offsetOf(be, rstd),
        offsetOf(be, gamma),
        offsetOf(be, dx),
        offsetOf(be, dgamma),
        offsetOf(be, dbeta),
        T,
        H,
      );
    }
    return [dx, dgamma, dbeta];
  });
}

/**
 * a [..., M, K] (or [..., K, M] transposed) · b [..., K, N] (or [..., N, K]) with optional bias [N]; batch
 * dims equal, or one side's all 1 (broadcast). Returns undefined where the stock kernel must serve.
 */
function matMul(
  gemm: WasmKernels,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transA: boolean,
  transB: boolean,
  bias?: tf.TensorInfo,
): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return undefined; // the stock kernel raises tfjs' own message
  if (bias && !(bias.shape.length === 1 && bias.shape[0] === N)) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (tf.util.sizeFromShape(outer) !== batch) return undefined;
  const out = backend.makeOutput([...outer, M, N], 'float32');
  if (M * N === 0) return out;
  const pa = offsetOf(backend, a);
  const pb = offsetOf(backend, b);
  const pc = offsetOf(backend, out);
  const pbias = bias ? offsetOf(backend, bias) : 0;
  for (let i = 0; i < batch; i++) {
    gemm.run({
      a: pa + (batchA > 1 ? i * M * K * 4 : 0),
      b: pb + (batchB > 1 ? i * K * N * 4 : 0),
      c: pc + i * M * N * 4,
      bias: pbias,
      M,
      N,
      K,
      lda: transA ? M : K,
      ldb: transB ? K : N,
      ldc: N,
      transA,
      transB,
    });
  }
  return out;
}

/**
 * Registers every kernel above on the wasm backend, BatchMatMul and _FusedMatMul falling back to tfjs' own
 * for what the GEMM does not cover. False (and nothing registered) where tfjs' own matmuls are missing.
 */
export function registerWasmKernelOps(gemm: WasmKernels): boolean {
  const stockBmm = tf.getKernel(tf.BatchMatMul, 'wasm');
  const stockFused = tf.getKernel(tf._FusedMatMul, 'wasm');
  if (!stockBmm || !stockFused) return false;
  registerWasmKernel(tf.BatchMatMul, (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    return matMul(gemm, args.backend as unknown as WasmBackend, a, b, transposeA, transposeB) ?? stockBmm.kernelFunc(args);
  });
  registerWasmKernel(tf._FusedMatMul, (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = args.attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
      activation?: string;
    };
    const plain = (activation === undefined || activation === 'linear') && !preluActivationWeights;
    const out = plain ? matMul(gemm, args.backend as unknown as WasmBackend, a!, b!, transposeA, transposeB, bias) : undefined;
    return out ?? stockFused.kernelFunc(args);
  });
  registerHeadMatMulKernel(gemm);
  registerLinearGradKernel(gemm);
  registerGeluKernel(gemm);
  registerAdamWKernel(gemm);
  registerDropoutKernel(gemm);
  registerLayerNormKernels(gemm);
  return true;
}

import * as tf from '@tensorflow/tfjs-core';
import { reduceToShape } from './reduceToShape';
import { transposedMatMulIsFast } from './wasmKernels';

/** Swaps the last two axes with an explicit Transpose (any rank ≥ 2). */
export function swapLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/**
 * Plain matMul of rank ≥ 2 tensors whose batch dims may broadcast, never asking the kernel to
 * transpose: wasm's BatchMatMul leaves XNNPACK whenever transposeA/transposeB is set (docs/performance.md #1:
 * 18.7 ms vs 226–267 ms for [2048,128]x[128,512]); an explicit Transpose costs a few ms.
 */
function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
}

interface MatMulAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * BatchMatMul gradient with explicit transposes. C = opA(A) · opB(B):
 *   (F,F) dA = dC·Bᵀ        dB = Aᵀ·dC
 *   (F,T) dA = dC·B         dB = dCᵀ·A
 *   (T,F) dA = B·dCᵀ        dB = A·dC
 *   (T,T) dA = Bᵀ·dCᵀ       dB = dCᵀ·Aᵀ
 * Each result has the broadcast batch shape of dC; reduceToShape sums broadcast batch axes away (the
 * stock gradient does not, and fails for e.g. a rank-2 A times a rank-3 B).
 */
function batchMatMulGrad(dy: tf.Tensor, saved: tf.Tensor[], attrs: unknown): Record<string, () => tf.Tensor> {
  const [a, b] = saved;
  const { transposeA = false, transposeB = false } = (attrs ?? {}) as MatMulAttrs;
  let da: () => tf.Tensor;
  let db: () => tf.Tensor;
  const batch = dy.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  if (batch > 1 || transposedMatMulIsFast()) {
    // Our wasm GEMM reads transposed operands in place; and stock wasm runs every matmul with a batch > 1
    // on its generic loop, transposed or not (docs/performance.md #7). Either way explicit Transposes would only add
    // kernels: use the transposed-operand forms.
    const t = (x: tf.Tensor, y: tf.Tensor, ta: boolean, tb: boolean) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb);
    if (!transposeA && !transposeB) {
      da = () => t(dy, b, false, true);
      db = () => t(a, dy, true, false);
    } else if (!transposeA && transposeB) {
      da = () => t(dy, b, false, false);
      db = () => t(dy, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => t(b, dy, false, true);
      db = () => t(a, dy, false, false);
    } else {
      da = () => t(b, dy, true, true);
      db = () => t(dy, a, true, true);
    }
  } else if (!transposeA && !transposeB) {
    da = () => mm(dy, swapLast2(b));
    db = () => mm(swapLast2(a), dy);
  } else if (!transposeA && transposeB) {
    da = () => mm(dy, b);
    db = () => mm(swapLast2(dy), a);
  } else if (transposeA && !transposeB) {
    da = () => mm(b, swapLast2(dy));
    db = () => mm(a, dy);
  } else {
    da = () => mm(swapLast2(b), swapLast2(dy));
    db = () => mm(swapLast2(dy), swapLast2(a));
  }
  return {
    a: () => reduceToShape(da(), a.shape),
    b: () => reduceToShape(db(), b.shape),
  };
}

export function registerBatchMatMulGradient(): void {
  tf.registerGradient({ kernelName: tf.BatchMatMul, inputsToSave: ['a', 'b'], gradFunc: batchMatMulGrad as never });
}

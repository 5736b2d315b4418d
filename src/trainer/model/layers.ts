/**
 * Building blocks of the encoder's forward, each with a closed-form backward, written for wasm speed
 * (docs/performance.md #1–#7). On wasm with our kernels (../runtime/kernels/wasmKernels.ts) each is one or two of them: the GEMM
 * with the bias fused and transposed operands read in place, one pass for GELU, one for LayerNorm. On
 * other backends (or stock wasm) they are tfjs ops chosen to stay on the fast paths: plain matMul + add
 * (never tf.fused.matMul, whose gradient transposes), exact erf GELU without pow, LayerNorm from
 * primitives whose gradients avoid leading-axis Sums (with the overrides in ../runtime/kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ownWasmKernelsActive, transposedMatMulIsFast } from '../runtime/kernels/wasmKernels';
import { GELU, LAYER_NORM, LAYER_NORM_GRAD, LINEAR_GRAD } from '../runtime/kernels/wasmKernelOps';

/**
 * x [T, in] @ W [in, out] + b [out], with a custom backward:
 *   dx = dy · Wᵀ,  dW = xᵀ · dy,  db = 1ᵀ · dy
 * With our wasm GEMM (kernels/wasmKernels.ts) the transposed operands are read in place, the bias is
 * added inside the forward matmul, and the backward is one kernel (MatryoshkaLinearGrad). Stock wasm
 * leaves XNNPACK for transposed operands (docs/performance.md #1), so there the transposes are explicit and one
 * matmul yields dW and db: [xᵀ; 1ᵀ] · dy packs dy, the big fresh operand, once instead of twice.
 */
const linearOp = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    // The kernel itself, not tf.fused.matMul: that op reshapes its operands to rank 3 and back and wraps
    // them in a gradient scope of its own, five kernels of bookkeeping per linear that ours does not need.
    value: transposedMatMulIsFast()
      ? (tf
          .engine()
          .runKernel(
            tf._FusedMatMul,
            { a: x, b: w, bias: b },
            { transposeA: false, transposeB: false, activation: 'linear' },
          ) as tf.Tensor2D)
      : tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const [sx, sw] = saved as tf.Tensor2D[];
      if (transposedMatMulIsFast()) return tf.engine().runKernel(LINEAR_GRAD, { dy: g, x: sx, w: sw }) as tf.Tensor[];
      const [T, inDim] = sx.shape;
      const outDim = sw.shape[1];
      const dx = tf.matMul(g, tf.transpose(sw));
      const xtOnes = tf.concat([tf.transpose(sx), tf.ones([1, T])], 0);
      const dWb = tf.matMul(xtOnes, g);
      const dW = tf.slice(dWb, [0, 0], [inDim, outDim]);
      const db = tf.reshape(tf.slice(dWb, [inDim, 0], [1, outDim]), [outDim]);
      return [dx, dW, db];
    },
  };
});

/** x [T, in] @ W [in, out] + b [out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return linearOp(x, w, b) as tf.Tensor2D;
}

/**
 * LayerNorm on our wasm kernels (kernels/assembly/layerNorm.ts), forward and backward each one pass, row
 * by row; `residual`, when given, is added to x as the kernel reads it. The gradient is [dx, dγ, dβ].
 */
function wasmLayerNorm(
  inputs: { x: tf.Tensor; residual?: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor },
  eps: number,
  save: tf.GradSaveFunc,
): { value: tf.Tensor; gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] } {
  const [y, xhat, rstd] = tf.engine().runKernel(LAYER_NORM, inputs as tf.NamedTensorMap, { eps }) as tf.Tensor[];
  save([xhat, rstd, inputs.gamma]);
  return {
    value: y,
    gradFunc: (dy, [sxhat, srstd, sgamma]) =>
      tf.engine().runKernel(LAYER_NORM_GRAD, { dy: dy as tf.Tensor, xhat: sxhat, rstd: srstd, gamma: sgamma }) as tf.Tensor[],
  };
}

/**
 * LayerNorm over the last axis of x [T, H] (biased variance, like torch), with the closed-form
 * backward  dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)),  ĝ = dy · γ.
 * Autodiff through the primitives runs ~25 kernels (and a pow for rsqrt); this runs ~12, and on wasm
 * with our kernels one each way. Elsewhere the gain and bias gradients come from one matmul:
 * [1ᵀ 0; 0 1ᵀ] · [dy·x̂; dy] packs one operand instead of two.
 */
function makeLayerNorm(eps: number) {
  return tf.customGrad((...args: unknown[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    if (ownWasmKernelsActive()) return wasmLayerNorm({ x, gamma, beta }, eps, save);
    const [xhat, rstd] = tf.tidy(() => {
      const centred = tf.sub(x, tf.mean(x, -1, true));
      const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
      return [tf.mul(centred, r), r];
    });
    save([xhat, rstd, gamma]);
    return {
      value: tf.add(tf.mul(xhat, gamma), beta),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const [sxhat, srstd, sgamma] = saved;
        const [T, H] = sxhat.shape;
        const dxhat = tf.mul(g, sgamma);
        const m1 = tf.mean(dxhat, -1, true);
        const m2 = tf.mean(tf.mul(dxhat, sxhat), -1, true);
        const dx = tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(sxhat, m2)), srstd);
        const selector = new Float32Array(4 * T);
        selector.fill(1, 0, T);
        selector.fill(1, 3 * T, 4 * T);
        const sums = tf.matMul(tf.tensor2d(selector, [2, 2 * T]), tf.concat([tf.mul(g, sxhat), g], 0));
        const dGamma = tf.reshape(tf.slice(sums, [0, 0], [1, H]), [H]);
        const dBeta = tf.reshape(tf.slice(sums, [1, 0], [1, H]), [H]);
        return [dx, dGamma, dBeta];
      },
    };
  });
}

/**
 * LayerNorm(x + residual) on our wasm kernel, the sum formed as the kernel reads its operands (post-LN's
 * residual connection), so it never goes to memory; the gradient of the sum is dx for both terms.
 */
function makeResidualLayerNorm(eps: number) {
  return tf.customGrad((...args: unknown[]) => {
    const [x, residual, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const { value, gradFunc } = wasmLayerNorm({ x, residual, gamma, beta }, eps, save);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [dx, dGamma, dBeta] = gradFunc(dy, saved);
        // Two tensors, not one twice: the tape disposes each input's gradient on its own.
        return [dx, tf.clone(dx), dGamma, dBeta];
      },
    };
  });
}

/** One op per eps (a model has one): make(eps) on first use, then the same op. */
function perEps<Op>(make: (eps: number) => Op): (eps: number) => Op {
  const ops = new Map<number, Op>();
  return (eps) => {
    let op = ops.get(eps);
    if (!op) {
      op = make(eps);
      ops.set(eps, op);
    }
    return op;
  };
}

const layerNormOp = perEps(makeLayerNorm);
const residualLayerNormOp = perEps(makeResidualLayerNorm);

/** LayerNorm(x + residual) over the last axis (post-LN's residual connection). */
export function residualLayerNorm(x: tf.Tensor2D, residual: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  if (!ownWasmKernelsActive()) return layerNorm(tf.add(x, residual), gamma, beta, eps);
  return residualLayerNormOp(eps)(x, residual, gamma, beta) as tf.Tensor2D;
}

/** LayerNorm over the last axis of x [T, H] (biased variance, like torch). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return layerNormOp(eps)(x, gamma, beta) as tf.Tensor2D;
}

/**
 * Whether a gradient tape is recording (tf.grad, variableGrads): only then is anything saved for a
 * backward pass. tfjs does not expose this; its engine counts open gradient scopes. Where that count is
 * missing (another tfjs), assume a tape, which only costs the backward-only outputs.
 */
function tapeIsRecording(): boolean {
  const depth = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state?.gradientDepth;
  return typeof depth !== 'number' || depth > 0;
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU 0.5·x·(1 + erf(x/√2)), as in BERT checkpoints. A custom gradient
 * Φ(x) + x·φ(x) reuses the forward's erf and costs one exp, fewer kernels than autodiff through
 * erf (whose stock gradient rebuilds x/√2, squares and scales it again).
 */
export const gelu = tf.customGrad((...args: unknown[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  if (ownWasmKernelsActive()) {
    // One SIMD pass (kernels/assembly/gelu.ts; wasm's Erf and Exp are scalar loops). Under a tape it also
    // writes the slope Φ(x) + x·φ(x), so the backward is one product and keeps one tensor.
    const recording = tapeIsRecording();
    const [y, slope] = tf.engine().runKernel(GELU, { x }, { slope: recording }) as tf.Tensor[];
    if (recording) save([slope]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(dy as tf.Tensor, saved[0])],
    };
  }
  const cdf = tf.tidy(() => tf.mul(tf.add(tf.erf(tf.mul(x, INV_SQRT2)), 1), 0.5));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, scdf] = saved;
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy as tf.Tensor, tf.add(scdf, tf.mul(sx, pdf)))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

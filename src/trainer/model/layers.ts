/**
 * Building blocks of the encoder's forward, written for wasm speed (PERF.md): plain matMul + add (never
 * tf.fused.matMul or transposed matmuls in training), exact erf GELU without pow, LayerNorm from
 * primitive ops whose gradients avoid leading-axis Sums (with the overrides in ../kernels).
 */
import * as tf from '@tensorflow/tfjs-core';

/** x [T, in] @ W [in, out] + b [out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b);
}

/** LayerNorm over the last axis of x [T, H] (biased variance, like torch). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centred), -1, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta);
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

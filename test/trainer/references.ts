// Plain-autodiff references for the encoder's layers (src/trainer/model/layers.ts): the custom backwards
// of linear, LayerNorm and GELU are tested against the gradients tfjs derives for these.
import * as tf from '@tensorflow/tfjs-core';

/** Plain x @ W + b; the reference the custom backward of `linear` is tested against. */
export function linearReference(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b);
}

/** LayerNorm forward from primitives; the reference the custom backward is tested against. */
export function layerNormReference(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centred), -1, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta);
}

/** 0.5·x·(1 + erf(x/√2)) through autodiff; the reference for `gelu`'s custom backward. */
export function geluReference(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

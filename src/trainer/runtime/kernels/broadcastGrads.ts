import * as tf from '@tensorflow/tfjs-core';
import { reduceToShape } from './reduceToShape';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;

const addGrad: GradFunc = (dy, saved) => {
  const [a, b] = saved;
  return {
    a: () => reduceToShape(dy, a.shape),
    b: () => reduceToShape(dy, b.shape),
  };
};

const subGrad: GradFunc = (dy, saved) => {
  const [a, b] = saved;
  return {
    a: () => reduceToShape(dy, a.shape),
    b: () => tf.neg(reduceToShape(dy, b.shape)),
  };
};

const mulGrad: GradFunc = (dy, saved) => {
  const [a, b] = saved;
  return {
    a: () => reduceToShape(tf.mul(dy, tf.cast(b, 'float32')), a.shape),
    b: () => reduceToShape(tf.mul(dy, tf.cast(a, 'float32')), b.shape),
  };
};

/**
 * Re-registers the Add / Sub / Multiply gradients so that broadcast leading axes (bias, LayerNorm gain,
 * position embeddings) reduce through a ones-row matmul instead of a Sum that transposes on wasm.
 * Results equal the stock gradients for every broadcast pattern (other patterns use the stock Sum).
 */
export function registerBroadcastGradients(): void {
  tf.registerGradient({ kernelName: tf.Add, inputsToSave: ['a', 'b'], gradFunc: addGrad as never });
  tf.registerGradient({ kernelName: tf.Sub, inputsToSave: ['a', 'b'], gradFunc: subGrad as never });
  tf.registerGradient({ kernelName: tf.Multiply, inputsToSave: ['a', 'b'], gradFunc: mulGrad as never });
}

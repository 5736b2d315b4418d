import * as tf from '@tensorflow/tfjs-core';

/**
 * Axes of `outShape` that were broadcast to produce it from `inShape` (numpy rules, right-aligned).
 * Same contract as tfjs-core's internal broadcast_util.getReductionAxes, which is not exported.
 */
export function broadcastReductionAxes(inShape: readonly number[], outShape: readonly number[]): number[] {
  const axes: number[] = [];
  const offset = outShape.length - inShape.length;
  for (let ax = 0; ax < outShape.length; ax++) {
    const inDim = ax < offset ? undefined : inShape[ax - offset];
    if (inDim === undefined || (inDim === 1 && outShape[ax] > 1)) axes.push(ax);
  }
  return axes;
}

/**
 * Sums a gradient `dy` (of the broadcast output shape) back down to `targetShape`.
 *
 * On wasm a Sum over a leading axis transposes the whole tensor first (docs/performance.md #4: 2.06 ms vs 0.20 ms
 * for [1024,128]), while ones[1,R] @ dy[R,C] runs on XNNPACK. That trick is only exact when the
 * reduced axes form a contiguous leading block and nothing else is reduced, so every other pattern takes
 * the stock path (Sum over the axes, then reshape), which is what tfjs-core's own gradients do.
 */
export function reduceToShape(dy: tf.Tensor, targetShape: readonly number[]): tf.Tensor {
  const outShape = dy.shape;
  const axes = broadcastReductionAxes(targetShape, outShape);
  if (axes.length === 0) {
    // Always a fresh handle: the tape may dispose one input's gradient while accumulating, so two
    // inputs must never share the very same tensor object (the stock gradients reshape for this too).
    return tf.reshape(dy, targetShape as number[]);
  }
  const k = axes.length;
  const leadingBlock = axes.every((ax, i) => ax === i);
  let rows = 1;
  for (let i = 0; i < k; i++) rows *= outShape[i];
  let cols = 1;
  for (let i = k; i < outShape.length; i++) cols *= outShape[i];
  if (leadingBlock && cols > 1 && rows > 1 && dy.dtype === 'float32') {
    return tf.tidy(() => {
      const ones = tf.ones([1, rows], 'float32');
      const summed = tf.matMul(ones, tf.reshape(dy, [rows, cols]));
      return tf.reshape(summed, targetShape as number[]);
    });
  }
  return tf.tidy(() => tf.reshape(tf.sum(dy, axes), targetShape as number[]));
}

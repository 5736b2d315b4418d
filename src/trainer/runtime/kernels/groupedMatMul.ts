import * as tf from '@tensorflow/tfjs-core';

/**
 * Many small independent matmuls, C[g] = A[g] · B[g] for g < G, run as ONE depthwise convolution.
 *
 * Why: wasm runs BatchMatMul with a batch > 1 on a scalar generic loop (~1 GFLOP/s, docs/performance.md #7: the
 * attention matmuls were ~22% of a step), while DepthwiseConv2dNative goes to XNNPACK. With A laid
 * out as an image [1, m, k, G] (rows × width × channels) and B as a depthwise filter [1, k, G, n]
 * (filter width k, channel multiplier n), a 'valid' convolution gives out[0, i, 0, g·n + j] =
 * Σ_kk A[g,i,kk] · B[g,kk,j] = C[g,i,j]. Measured for G=256, 32×32×32: 1.8 ms vs 9.5 ms.
 *
 * Layouts (chosen so callers can produce them with one rank-4 transpose):
 *   a: [m, k, G]   (A[g] is a[:, :, g])
 *   b: [k, G, n]   (B[g] is b[:, g, :])
 *   →  [m, G, n]   (C[g] is out[:, g, :])
 * The gradient is written with the same trick (wasm has no depthwise backprop kernels):
 *   dA[g] = dC[g] · B[g]ᵀ,  dB[g] = A[g]ᵀ · dC[g].
 */
function raw(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [m, k, G] = a.shape;
  const n = b.shape[2];
  if (b.shape[0] !== k || b.shape[1] !== G) {
    throw new Error(`groupedMatMul: a [m,k,G]=${a.shape} does not match b [k,G,n]=${b.shape}`);
  }
  const out = tf.depthwiseConv2d(tf.reshape(a, [1, m, k, G]) as tf.Tensor4D, tf.reshape(b, [1, k, G, n]) as tf.Tensor4D, 1, 'valid');
  return tf.reshape(out, [m, G, n]);
}

const op = tf.customGrad((...args: unknown[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: raw(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const dc = dy as tf.Tensor3D; // [m, G, n]
      const [sa, sb] = saved as tf.Tensor3D[];
      // dA: x = dC as [m, n, G], filter = Bᵀ as [n, G, k] → [m, G, k] → [m, k, G].
      const da = tf.transpose(raw(tf.transpose(dc, [0, 2, 1]), tf.transpose(sb, [2, 1, 0])), [0, 2, 1]);
      // dB: x = Aᵀ as [k, m, G], filter = dC as [m, G, n] → [k, G, n], already b's layout.
      const db = raw(tf.transpose(sa, [1, 0, 2]), dc);
      return [da, db];
    },
  };
});

export function groupedMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return op(a, b) as tf.Tensor3D;
}

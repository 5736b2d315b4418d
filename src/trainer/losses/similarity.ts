/**
 * Similarity and cross-entropy building blocks shared by the losses (sentence-transformers'
 * `util/similarity.py`, `util/tensor.py` and `nn.CrossEntropyLoss`).
 *
 *   n̂(x)                 = x / max(‖x‖₂, eps)                  per row (F.normalize; eps 1e-12)
 *   cosSim(X, Y)         = n̂(X) · n̂(Y)ᵀ                        [B, M]
 *   pairwiseCosSim(x, y) = Σ_k n̂(x)_k n̂(y)_k                   [B]
 *   pairwiseAngleSim(x, y), x = [a | b], y = [c | d] (halves)
 *                        = | Σ(a∘c + b∘d) + Σ(b∘c − a∘d) | / (‖x‖ ‖y‖)        [B]
 *   crossEntropyMean(S, y) = mean_i ( logsumexp(S_i) − S_{i, y_i} )           (CE with mean reduction)
 *
 * Every function here is differentiable with tf's tape; none keeps tensors alive beyond its result.
 */
import * as tf from '@tensorflow/tfjs-core';

/** F.normalize's default eps: rows with a smaller norm are divided by eps instead (never by zero). */
export const NORMALIZE_EPS = 1e-12;

/**
 * A finite stand-in for −∞ in masked score matrices. exp(NEG − max) underflows to exactly 0 in float32,
 * so softmax / logsumexp equal the −∞ version, and (unlike −∞) 0·NEG is 0, not NaN, when a one-hot
 * pick multiplies the row.
 */
export const MASKED_SCORE = -1e9;

/** Row-wise L2 normalisation, x / max(‖x‖, eps). */
export function normalizeRows(x: tf.Tensor2D, eps = NORMALIZE_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), 1, true));
    return tf.div(x, tf.maximum(norm, eps)) as tf.Tensor2D;
  });
}

/** cos_sim(X, Y): every row of X against every row of Y, [B, M]. */
export function cosSim(x: tf.Tensor2D, y: tf.Tensor2D, eps = NORMALIZE_EPS): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(normalizeRows(x, eps), normalizeRows(y, eps), false, true));
}

/** pairwise_cos_sim(x, y): row i of x against row i of y, [B]. */
export function pairwiseCosSim(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(normalizeRows(x), normalizeRows(y)), 1) as tf.Tensor1D);
}

/**
 * |v| whose gradient at exactly 0 is 0 (torch's sign(0) = 0). tf.abs's gradient there is −1, which
 * would push a tied pair away from zero in a direction torch never takes.
 */
export function absZeroGrad<T extends tf.Tensor>(v: T): T {
  // d(v·sign(v))/dv = sign(v) because tf.sign's own gradient is zero.
  return tf.tidy(() => tf.mul(v, tf.sign(v)) as T);
}

/**
 * pairwise_angle_sim (AnglE): split x and y in halves, x = [a | b], y = [c | d]; the complex quotient
 * (a + ib) / (c + id) rescaled to unit modulus gives re = (ac + bd), im = (bc − ad) over ‖x‖‖y‖, and the
 * score is |Σ re + Σ im| — a sum over all components, then an absolute value, as in sentence-transformers.
 * D must be even (torch.chunk(·, 2) would give unequal halves otherwise).
 */
export function pairwiseAngleSim(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  const [rows, dim] = x.shape;
  if (dim % 2 !== 0) {
    throw new Error(`AnglE's angle similarity splits each embedding in two halves: the dim must be even, got ${dim}`);
  }
  return tf.tidy(() => {
    const h = dim / 2;
    const a = tf.slice(x, [0, 0], [rows, h]);
    const b = tf.slice(x, [0, h], [rows, h]);
    const c = tf.slice(y, [0, 0], [rows, h]);
    const d = tf.slice(y, [0, h], [rows, h]);
    const re = tf.add(tf.mul(a, c), tf.mul(b, d));
    const im = tf.sub(tf.mul(b, c), tf.mul(a, d));
    // No eps: sentence-transformers divides by the plain norms too.
    const normX = tf.sqrt(tf.sum(tf.square(x), 1));
    const normY = tf.sqrt(tf.sum(tf.square(y), 1));
    const total = tf.div(tf.sum(tf.add(re, im), 1), tf.mul(normX, normY));
    return absZeroGrad(total) as tf.Tensor1D;
  });
}

/**
 * nn.CrossEntropyLoss()(scores, labels): the mean over rows of logsumexp(S_i) − S_{i, y_i}, written as
 * −mean(logSoftmax(S) picked at y) because tf.logSoftmax has a stable custom gradient (softmax − onehot).
 */
export function crossEntropyMean(scores: tf.Tensor2D, labels: number[]): tf.Scalar {
  return tf.tidy(() => {
    const [rows, cols] = scores.shape;
    if (labels.length !== rows) throw new Error(`crossEntropyMean: ${labels.length} labels for ${rows} rows`);
    const pick = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), cols), 'float32');
    return tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(scores), pick)), rows)) as tf.Scalar;
  });
}

/** [0, 1, …, n−1] (the "label i for row i" target of the in-batch losses). */
export function arange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

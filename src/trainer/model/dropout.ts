/**
 * Chunking-invariant dropout masks: one hash key per (row, group) built here, the per-element hashing
 * in JS, or on wasm in our SIMD kernel (kernels/assembly/dropout.ts, bit for bit the same, fused with
 * the product).
 *
 * Every keep/drop decision is a pure function of (ctx.seed, rowId, site, group, index): a counter-based
 * hash, no sequential state. So a row gets the same mask whether it is encoded alone, in a chunk, or in
 * the whole batch (GradCache), and whatever the padded length: groups and indices are token / head /
 * query positions, never offsets that depend on the batch's padded length L.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DropoutContext } from './types';
import { fmix32 } from './init';
import { ownWasmKernelsActive } from '../runtime/kernels/wasmKernels';
import { DROPOUT } from '../runtime/kernels/wasmKernelOps';

/** Dropout sites in order of the forward pass; then 3 per layer. */
export const SITE_EMBEDDINGS = 0;
export type LayerSiteKind = 'attentionProbs' | 'attentionOutput' | 'ffnOutput';
const LAYER_SITE_OFFSET: Record<LayerSiteKind, number> = { attentionProbs: 0, attentionOutput: 1, ffnOutput: 2 };
export function layerSite(layer: number, kind: LayerSiteKind): number {
  return 1 + 3 * layer + LAYER_SITE_OFFSET[kind];
}

const GOLDEN = 0x9e3779b9;
/** Larger than any sequence length, so (block, index) pairs map to distinct group keys. */
const BLOCK_KEY_STRIDE = 1 << 20;

function groupKey(seed: number, rowId: number, site: number, group: number): number {
  let h = fmix32((seed >>> 0) ^ GOLDEN);
  h = fmix32(h ^ Math.imul(rowId + 1, 0x85ebca6b));
  h = fmix32(h ^ Math.imul(site + 1, 0xc2b2ae35));
  return fmix32(h ^ Math.imul(group + 1, 0x27d4eb2f));
}

/**
 * Inverted-dropout multipliers (0 or 1/(1-p)) for `rows` rows of `groups × len` elements each; row r uses
 * ctx.rowIds[r]. Layout: row-major [rows, groups, len]. `groupsPerBlock` splits groups into blocks
 * (attention probs: blocks = heads, groups per block = query positions).
 */
export function dropoutMultipliers(
  ctx: DropoutContext,
  site: number,
  rows: number,
  groups: number,
  len: number,
  p: number,
  groupsPerBlock = groups,
): Float32Array {
  const keys = dropoutKeys(ctx, site, rows, groups, groupsPerBlock);
  const out = new Float32Array(rows * groups * len);
  const threshold = threshold16(p);
  const scale = keepScale(threshold);
  for (let k = 0; k < keys.length; k++) fillMultipliers(out, k * len, keys[k], len, threshold, scale);
  return out;
}

/**
 * The hash key of every (row, group), in [rows, groups] order; row r uses ctx.rowIds[r]. Groups come in
 * blocks (e.g. heads × query positions): the key uses (block, index in block) so that it does not depend
 * on the block size (the padded length L).
 */
export function dropoutKeys(ctx: DropoutContext, site: number, rows: number, groups: number, groupsPerBlock = groups): Int32Array {
  if (ctx.rowIds.length < rows) {
    throw new Error(`dropout: ${rows} rows but only ${ctx.rowIds.length} rowIds`);
  }
  const keys = new Int32Array(rows * groups);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const rowId = ctx.rowIds[r];
    for (let g = 0; g < groups; g++) {
      keys[k++] = groupKey(ctx.seed, rowId, site, Math.floor(g / groupsPerBlock) * BLOCK_KEY_STRIDE + (g % groupsPerBlock));
    }
  }
  return keys;
}

/** Scale by the keep probability actually used (p rounded to 2^-16), so the expectation is exact. */
function keepScale(threshold: number): number {
  return 65536 / (65536 - threshold);
}

/**
 * out[o + j] for j < len: the keep/drop multipliers of one group. Each 32-bit hash of (key, j >> 1)
 * decides two elements (its low and high 16 bits), halving the hashing work; p is thereby rounded to a
 * multiple of 2^-16 (0.1 → 0.100006).
 */
function fillMultipliers(out: Float32Array, o: number, key: number, len: number, t16: number, scale: number): void {
  for (let j = 0; j < len; j += 2) {
    let h = (key + Math.imul(j >>> 1, GOLDEN)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[o + j] = (h & 0xffff) >= t16 ? scale : 0;
    if (j + 1 < len) out[o + j + 1] = h >>> 16 >= t16 ? scale : 0;
  }
}

/** p as a 16-bit threshold: an element is kept when its 16 hash bits are ≥ this. */
function threshold16(p: number): number {
  return Math.min(Math.round(p * 65536), 65536);
}

/**
 * Attention-probability multipliers in the layout the encoder's attention uses, [L(query), N, heads,
 * L(key)], with exactly the values dropoutMultipliers(ctx, site, N, heads·L, L, p, L) gives in
 * [N, heads, L, L] order: the key of (row, head, query) is the same, only the memory order differs.
 */
export function attentionDropoutMultipliers(
  ctx: DropoutContext,
  site: number,
  n: number,
  heads: number,
  len: number,
  p: number,
): Float32Array {
  if (ctx.rowIds.length < n) throw new Error(`dropout: ${n} rows but only ${ctx.rowIds.length} rowIds`);
  const out = new Float32Array(len * n * heads * len);
  const threshold = threshold16(p);
  const scale = keepScale(threshold);
  for (let i = 0; i < len; i++) {
    for (let r = 0; r < n; r++) {
      const rowId = ctx.rowIds[r];
      for (let h = 0; h < heads; h++) {
        const key = groupKey(ctx.seed, rowId, site, h * BLOCK_KEY_STRIDE + i);
        fillMultipliers(out, ((i * n + r) * heads + h) * len, key, len, threshold, scale);
      }
    }
  }
  return out;
}

/**
 * x ⊙ m on our wasm kernel (kernels/assembly/dropout.ts): the per-element hashing and the product in one
 * pass, each way. The keys (a few per row) are all the backward keeps; it hashes the same multipliers
 * again for dx = dy ⊙ m, so no mask tensor is ever stored.
 */
function hashedDropout(attrs: { len: number; threshold: number; scale: number }): (x: tf.Tensor, keys: tf.Tensor) => tf.Tensor {
  const apply = (t: tf.Tensor, keys: tf.Tensor) => tf.engine().runKernel(DROPOUT, { keys, x: t }, attrs) as tf.Tensor;
  return tf.customGrad((...args: unknown[]) => {
    const [x, keys, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([keys]);
    return {
      value: apply(x, keys),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [apply(dy as tf.Tensor, saved[0]), tf.zerosLike(saved[0])],
    };
  }) as (x: tf.Tensor, keys: tf.Tensor) => tf.Tensor;
}

/**
 * x * mask for x of shape [rows, groups, len] (any shape whose size matches; the mask takes x's shape).
 * Identity when p = 0 or ctx is undefined.
 */
export function applyDropout(
  x: tf.Tensor,
  ctx: DropoutContext | undefined,
  site: number,
  rows: number,
  groups: number,
  len: number,
  p: number,
  groupsPerBlock = groups,
): tf.Tensor {
  if (!ctx || p <= 0) return x;
  if (p >= 1) return tf.zerosLike(x);
  if (ownWasmKernelsActive()) {
    const threshold = threshold16(p);
    const keys = tf.tensor1d(dropoutKeys(ctx, site, rows, groups, groupsPerBlock), 'int32');
    const y = hashedDropout({ len, threshold, scale: keepScale(threshold) })(x, keys);
    keys.dispose();
    return y;
  }
  const m = dropoutMultipliers(ctx, site, rows, groups, len, p, groupsPerBlock);
  return tf.mul(x, tf.tensor(m, x.shape, 'float32'));
}

/** Attention-probs dropout for probs laid out [L, N, heads, L]; identity when p = 0 or ctx is undefined. */
export function applyAttentionDropout(
  probs: tf.Tensor,
  ctx: DropoutContext | undefined,
  site: number,
  n: number,
  heads: number,
  len: number,
  p: number,
): tf.Tensor {
  if (!ctx || p <= 0) return probs;
  if (p >= 1) return tf.zerosLike(probs);
  return tf.mul(probs, tf.tensor(attentionDropoutMultipliers(ctx, site, n, heads, len, p), probs.shape, 'float32'));
}

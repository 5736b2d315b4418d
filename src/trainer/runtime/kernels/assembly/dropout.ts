/**
 * Inverted dropout y = x ⊙ m with the multipliers m (0 or scale) drawn from per-group hash keys, bit for
 * bit what model/dropout.ts's fillMultipliers computes in JS, four hashes (eight elements) at a time.
 *
 * Each 32-bit hash of (key, j >> 1) decides two elements: element j keeps when its low 16 bits are
 * ≥ threshold, element j + 1 when its high 16 bits are. The caller computes one key per group (cheap:
 * one per token or per head and query) in JS; the per-element hashing runs here, fused with the
 * product, so no mask tensor exists: the backward, dx = dy ⊙ m, runs this same kernel on dy with the
 * same keys.
 */

const GOLDEN: i32 = 0x9e3779b9;

// @ts-ignore: decorator
@inline function mix(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

// @ts-ignore: decorator
@inline function mixScalar(h: i32): i32 {
  h ^= <i32>(<u32>h >>> 16);
  h = h * 0x85ebca6b;
  h ^= <i32>(<u32>h >>> 13);
  h = h * 0xc2b2ae35;
  return h ^ <i32>(<u32>h >>> 16);
}

/** out = x ⊙ m over groups × len floats (row-major [groups, len]); keys [groups] (i32). out may be x. */
export function dropout(keys: usize, groups: i32, len: i32, threshold: i32, scale: f32, x: usize, out: usize): void {
  const t = i32x4.splat(threshold - 1);
  const s = f32x4.splat(scale);
  const pairStep = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(GOLDEN));
  const fourPairs = i32x4.splat(4 * GOLDEN);
  const full = len & ~7;
  for (let g = 0; g < groups; g++) {
    const key = load<i32>(keys + (<usize>g << 2));
    const row = <usize>g * len << 2;
    const xr = x + row;
    const o = out + row;
    let h0 = i32x4.add(i32x4.splat(key), pairStep);
    for (let j = 0; j < full; j += 8) {
      const h = mix(h0);
      // Kept when (bits ≥ threshold), i.e. (bits > threshold − 1); both halves are 16-bit, so signed compares are exact.
      const lo = i32x4.gt_s(v128.and(h, i32x4.splat(0xffff)), t);
      const hi = i32x4.gt_s(i32x4.shr_u(h, 16), t);
      const at = <usize>j << 2;
      v128.store(o + at, f32x4.mul(v128.load(xr + at), v128.and(i32x4.shuffle(lo, hi, 0, 4, 1, 5), s)));
      v128.store(o + at, f32x4.mul(v128.load(xr + at, 16), v128.and(i32x4.shuffle(lo, hi, 2, 6, 3, 7), s)), 16);
      h0 = i32x4.add(h0, fourPairs);
    }
    for (let j = full; j < len; j += 2) {
      const h = mixScalar(key + (j >>> 1) * GOLDEN);
      const at = <usize>j << 2;
      store<f32>(o + at, load<f32>(xr + at) * ((h & 0xffff) >= threshold ? scale : 0));
      if (j + 1 < len) store<f32>(o + at + 4, load<f32>(xr + at + 4) * (<i32>(<u32>h >>> 16) >= threshold ? scale : 0));
    }
  }
}

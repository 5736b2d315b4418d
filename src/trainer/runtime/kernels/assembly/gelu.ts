/**
 * Exact GELU, y = x·Φ(x), and (when a backward will need it) its slope Φ(x) + x·φ(x), four lanes at a
 * time. The slope comes from the forward's own Φ and e^(−x²/2), so the backward is one product dy·slope
 * and keeps one tensor, not x and Φ.
 *
 * Why: tfjs-wasm's Erf and Exp are scalar loops (~15–20 ns an element, docs/performance.md #6); on the FFN's
 * [tokens, 4·hidden] activations they cost more than the FFN's matmuls after those moved to our GEMM.
 *
 * Φ(x) = ½·erfc(−x/√2) uses Abramowitz & Stegun 7.1.26, erfc(z) ≈ t·P(t)·e^(−z²) with t = 1/(1 + p·z)
 * for z ≥ 0 (absolute error ≤ 1.5e-7, the approximation tfjs' own Erf uses), evaluated in its erfc form
 * on the negative side, so that Φ of large negative x is a small positive number rather than the
 * rounding noise of 1 − erf. e^x is Cody–Waite range reduction plus a degree-5 minimax polynomial (≈1 ulp), with the
 * power of two put into the exponent bits.
 *
 * Cost: a forward element is ~30 vector operations, so this is arithmetic-bound, not memory-bound. The
 * polynomials go through madd (one fused multiply-add in the relaxed-SIMD build), and the exponent's
 * integer n comes from adding 1.5·2²³ (the float's low mantissa bits then hold n) instead of
 * f32x4.nearest + i32x4.trunc_sat_f32x4_s, which V8 expands to a dozen instructions on x64.
 */

/** a·b + c: one rounding with relaxed SIMD's fused multiply-add, two without. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer held in the low mantissa bits. */
const ROUNDER: f32 = 12582912.0;
const ROUNDER_BITS: i32 = 0x4b400000;

/** e^x for x ≤ 0 (flushes to ~2^-126 below −87, where every use here is already negligible). */
// @ts-ignore: decorator
@inline function expNonPositive(x: v128): v128 {
  // pmax (b < a ? a : b) is one maxps; f32x4.max's NaN and ±0 rules cost V8 seven instructions.
  x = f32x4.pmax(x, splat(-87.0));
  // n = round(x·log₂e), kept both as a float and (in the bits of t) as an integer.
  const t = madd(x, splat(1.44269504088896341), splat(ROUNDER));
  const n = f32x4.sub(t, splat(ROUNDER));
  let r = madd(n, splat(-0.693359375), x);
  r = madd(n, splat(2.12194440e-4), r);
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  const er = f32x4.add(madd(f32x4.mul(p, r), r, r), splat(1.0));
  // 2ⁿ: n + 127 in the exponent field.
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - ROUNDER_BITS)), 23);
  return f32x4.mul(er, pow2);
}

const SQRT1_2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

/** Φ(x), given e^(−x²/2) (the Gaussian density without its 1/√(2π)). */
// @ts-ignore: decorator
@inline function cdf(x: v128, gauss: v128): v128 {
  const z = f32x4.abs(f32x4.mul(x, splat(SQRT1_2)));
  const t = f32x4.div(splat(1.0), madd(z, splat(0.3275911), splat(1.0)));
  // A&S 7.1.26's coefficients, halved: q·t·e^(−z²) is then ½·erfc(z) directly.
  let q = splat(0.5307027145);
  q = madd(q, t, splat(-0.7265760135));
  q = madd(q, t, splat(0.7107068705));
  q = madd(q, t, splat(-0.142248368));
  q = madd(q, t, splat(0.127414796));
  // ½·erfc(|x|/√2); e^(−z²) = e^(−x²/2) = gauss.
  const half = f32x4.mul(f32x4.mul(q, t), gauss);
  const negative = f32x4.lt(x, splat(0.0));
  return v128.bitselect(half, f32x4.sub(splat(1.0), half), negative);
}

// @ts-ignore: decorator
@inline function gaussOf(x: v128): v128 {
  return expNonPositive(f32x4.mul(f32x4.mul(x, x), splat(-0.5)));
}

/** Copies the last n % 4 elements (n > 0) into scratch, zero-padded: the tail is computed like the rest. */
// @ts-ignore: decorator
@inline function tailLoad(src: usize, count: i32, scratch: usize): v128 {
  v128.store(scratch, f32x4.splat(0));
  memory.copy(scratch, src, <usize>count << 2);
  return v128.load(scratch);
}

// @ts-ignore: decorator
@inline function tailStore(dst: usize, v: v128, count: i32, scratch: usize): void {
  v128.store(scratch, v);
  memory.copy(dst, scratch, <usize>count << 2);
}

/** y = x·Φ(x), and slope = Φ(x) + x·φ(x) unless slope is 0 (no backward). work: 16 bytes of scratch. */
export function geluForward(x: usize, y: usize, slope: usize, n: i32, work: usize): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const g = gaussOf(v);
    const c = cdf(v, g);
    v128.store(y + o, f32x4.mul(v, c));
    if (slope) v128.store(slope + o, madd(f32x4.mul(v, g), splat(INV_SQRT_2PI), c));
  }
  const rest = n - full;
  if (rest) {
    const o = <usize>full << 2;
    const v = tailLoad(x + o, rest, work);
    const g = gaussOf(v);
    const c = cdf(v, g);
    tailStore(y + o, f32x4.mul(v, c), rest, work);
    if (slope) tailStore(slope + o, madd(f32x4.mul(v, g), splat(INV_SQRT_2PI), c), rest, work);
  }
}

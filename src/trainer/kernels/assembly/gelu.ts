/**
 * Exact GELU, y = x·Φ(x), and its gradient Φ(x) + x·φ(x), four lanes at a time.
 *
 * Why: tfjs-wasm's Erf and Exp are scalar loops (~15–20 ns an element, PERF.md #6); on the FFN's
 * [tokens, 4·hidden] activations they cost more than the FFN's matmuls after those moved to our GEMM.
 *
 * Φ(x) = ½·erfc(−x/√2) uses Abramowitz & Stegun 7.1.26, erfc(z) ≈ t·P(t)·e^(−z²) with t = 1/(1 + p·z)
 * for z ≥ 0 (absolute error ≤ 1.5e-7, the approximation tfjs' own Erf uses), evaluated in its erfc form
 * on the negative side, so that Φ of large negative x is a small positive number rather than the
 * rounding noise of 1 − erf. e^x is Cody–Waite range reduction plus a degree-5 minimax polynomial (≈1 ulp), with the
 * power of two put into the exponent bits.
 */

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** e^x for x ≤ 0 (flushes to ~2^-126 below −87, where every use here is already negligible). */
// @ts-ignore: decorator
@inline function expNonPositive(x: v128): v128 {
  x = f32x4.max(x, splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(x, splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  let p = splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), splat(5.0000001201e-1));
  const er = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), splat(1.0));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(er, pow2);
}

const SQRT1_2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

/** Φ(x) and e^(−x²/2) (the Gaussian density without its 1/√(2π)). */
// @ts-ignore: decorator
@inline function cdf(x: v128, gauss: v128): v128 {
  const z = f32x4.abs(f32x4.mul(x, splat(SQRT1_2)));
  const t = f32x4.div(splat(1.0), f32x4.add(splat(1.0), f32x4.mul(z, splat(0.3275911))));
  let q = splat(1.061405429);
  q = f32x4.add(f32x4.mul(q, t), splat(-1.453152027));
  q = f32x4.add(f32x4.mul(q, t), splat(1.421413741));
  q = f32x4.add(f32x4.mul(q, t), splat(-0.284496736));
  q = f32x4.add(f32x4.mul(q, t), splat(0.254829592));
  // ½·erfc(|x|/√2); e^(−z²) = e^(−x²/2) = gauss.
  const half = f32x4.mul(f32x4.mul(f32x4.mul(q, t), gauss), splat(0.5));
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

/** y = x·Φ(x) and cdf = Φ(x) for n floats (the backward reuses cdf). work: 16 bytes of scratch. */
export function geluForward(x: usize, y: usize, cdfOut: usize, n: i32, work: usize): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const c = cdf(v, gaussOf(v));
    v128.store(cdfOut + o, c);
    v128.store(y + o, f32x4.mul(v, c));
  }
  const rest = n - full;
  if (rest) {
    const o = <usize>full << 2;
    const v = tailLoad(x + o, rest, work);
    const c = cdf(v, gaussOf(v));
    tailStore(cdfOut + o, c, rest, work);
    tailStore(y + o, f32x4.mul(v, c), rest, work);
  }
}

/** dx = dy·(Φ(x) + x·φ(x)) for n floats, Φ from the forward. work: 16 bytes of scratch. */
export function geluBackward(x: usize, cdfIn: usize, dy: usize, dx: usize, n: i32, work: usize): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const slope = f32x4.add(v128.load(cdfIn + o), f32x4.mul(f32x4.mul(v, gaussOf(v)), splat(INV_SQRT_2PI)));
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), slope));
  }
  const rest = n - full;
  if (rest) {
    const o = <usize>full << 2;
    const v = tailLoad(x + o, rest, work);
    const c = tailLoad(cdfIn + o, rest, work);
    const g = tailLoad(dy + o, rest, work);
    const slope = f32x4.add(c, f32x4.mul(f32x4.mul(v, gaussOf(v)), splat(INV_SQRT_2PI)));
    tailStore(dx + o, f32x4.mul(g, slope), rest, work);
  }
}

/**
 * The AdamW update of one parameter tensor in a single pass, and the squared norm of a gradient.
 *
 * Why: the update as tfjs ops is about a dozen kernels per parameter tensor (forty tensors in the
 * reference model), each a full pass over memory; here it is one pass that reads θ, g, m, v and writes
 * θ', m', v' (new buffers: tfjs tensors are immutable, the caller assigns them to the variables).
 *
 *   g ← clip·g
 *   m' = β₁·m + (1 − β₁)·g
 *   v' = β₂·v + (1 − β₂)·g²
 *   θ' = decay·θ − stepSize · m' / (√v' + ε̂)
 * with decay = 1 − lr·λ (or 1), stepSize = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) and ε̂ = ε·√(1 − β₂ᵗ): the bias
 * corrections folded into two scalars (optimizer.ts computes them).
 */

/** Σ x² over n floats, in four float32 lanes per block of 1024, blocks summed in float64. */
export function sumSquares(x: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + 1024);
    let acc = f32x4.splat(0);
    for (; i < end; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    total += v * v;
  }
  return total;
}

// @ts-ignore: decorator
@inline function update(
  t: f32, g: f32, m: f32, v: f32,
  clip: f32, beta1: f32, beta2: f32, stepSize: f32, epsHat: f32, decay: f32,
  out: usize, mOut: usize, vOut: usize,
): void {
  const gc = g * clip;
  const m2 = beta1 * m + (1 - beta1) * gc;
  const v2 = beta2 * v + (1 - beta2) * gc * gc;
  store<f32>(mOut, m2);
  store<f32>(vOut, v2);
  store<f32>(out, decay * t - stepSize * (m2 / (Mathf.sqrt(v2) + epsHat)));
}

export function adamw(
  theta: usize, grad: usize, m: usize, v: usize,
  thetaOut: usize, mOut: usize, vOut: usize, n: i32,
  clip: f32, beta1: f32, beta2: f32, stepSize: f32, epsHat: f32, decay: f32,
): void {
  const full = n & ~3;
  const c = f32x4.splat(clip);
  const b1 = f32x4.splat(beta1);
  const b1c = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2);
  const b2c = f32x4.splat(1 - beta2);
  const s = f32x4.splat(stepSize);
  const e = f32x4.splat(epsHat);
  const d = f32x4.splat(decay);
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i << 2;
    const g = f32x4.mul(v128.load(grad + o), c);
    const m2 = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(b1c, g));
    const v2 = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(f32x4.mul(b2c, g), g));
    v128.store(mOut + o, m2);
    v128.store(vOut + o, v2);
    const step = f32x4.div(m2, f32x4.add(f32x4.sqrt(v2), e));
    v128.store(thetaOut + o, f32x4.sub(f32x4.mul(d, v128.load(theta + o)), f32x4.mul(s, step)));
  }
  for (let i = full; i < n; i++) {
    const o = <usize>i << 2;
    update(load<f32>(theta + o), load<f32>(grad + o), load<f32>(m + o), load<f32>(v + o), clip, beta1, beta2, stepSize, epsHat, decay, thetaOut + o, mOut + o, vOut + o);
  }
}

/**
 * LayerNorm over the last axis of x [T, H] (biased variance, like torch) and its backward, one row at a
 * time with the row in L1, instead of ~8 tfjs kernels forward and ~12 backward, each a pass over memory.
 *
 *   forward   μ = mean(x),  r = 1/√(mean((x − μ)²) + ε),  x̂ = (x − μ)·r,  y = x̂·γ + β     (keeps x̂ and r)
 *             where x may be a sum a + b read on the fly (post-LN's LayerNorm(h + sublayer(h)): the
 *             residual sum never goes to memory, and its gradient is dx for both terms)
 *   backward  ĝ = dy·γ,  dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  dγ = Σ_rows dy·x̂,  dβ = Σ_rows dy
 * Rows are processed four floats at a time with a scalar tail when H is not a multiple of 4.
 */

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** x[o..o+4) (+ res[o..o+4) when res ≠ 0). */
// @ts-ignore: decorator
@inline function input4(x: usize, res: usize, o: usize): v128 {
  const v = v128.load(x + o);
  return res ? f32x4.add(v, v128.load(res + o)) : v;
}

// @ts-ignore: decorator
@inline function input1(x: usize, res: usize, o: usize): f32 {
  const v = load<f32>(x + o);
  return res ? v + load<f32>(res + o) : v;
}

/** LayerNorm of x (+ res, when res ≠ 0: the residual sum, computed as it is read). */
export function layerNormForward(
  x: usize, res: usize, gamma: usize, beta: usize, y: usize, xhat: usize, rstd: usize, T: i32, H: i32, eps: f32,
): void {
  const full = H & ~3;
  const invH: f32 = 1 / <f32>H;
  for (let t = 0; t < T; t++) {
    const row = <usize>t * H << 2;
    let acc = f32x4.splat(0);
    for (let j = 0; j < full; j += 4) acc = f32x4.add(acc, input4(x, res, row + (<usize>j << 2)));
    let s = hsum(acc);
    for (let j = full; j < H; j++) s += input1(x, res, row + (<usize>j << 2));
    const mean = s * invH;
    const mv = f32x4.splat(mean);
    acc = f32x4.splat(0);
    for (let j = 0; j < full; j += 4) {
      const c = f32x4.sub(input4(x, res, row + (<usize>j << 2)), mv);
      acc = f32x4.add(acc, f32x4.mul(c, c));
    }
    let ss = hsum(acc);
    for (let j = full; j < H; j++) {
      const c = input1(x, res, row + (<usize>j << 2)) - mean;
      ss += c * c;
    }
    const r: f32 = 1 / Mathf.sqrt(ss * invH + eps);
    store<f32>(rstd + (<usize>t << 2), r);
    const rv = f32x4.splat(r);
    for (let j = 0; j < full; j += 4) {
      const o = row + (<usize>j << 2);
      const xh = f32x4.mul(f32x4.sub(input4(x, res, o), mv), rv);
      v128.store(xhat + o, xh);
      v128.store(y + o, f32x4.add(f32x4.mul(xh, v128.load(gamma + (<usize>j << 2))), v128.load(beta + (<usize>j << 2))));
    }
    for (let j = full; j < H; j++) {
      const o = row + (<usize>j << 2);
      const xh = (input1(x, res, o) - mean) * r;
      store<f32>(xhat + o, xh);
      store<f32>(y + o, xh * load<f32>(gamma + (<usize>j << 2)) + load<f32>(beta + (<usize>j << 2)));
    }
  }
}

export function layerNormBackward(
  dy: usize, xhat: usize, rstd: usize, gamma: usize, dx: usize, dgamma: usize, dbeta: usize, T: i32, H: i32,
): void {
  const full = H & ~3;
  const invH: f32 = 1 / <f32>H;
  memory.fill(dgamma, 0, <usize>H << 2);
  memory.fill(dbeta, 0, <usize>H << 2);
  for (let t = 0; t < T; t++) {
    const row = <usize>t * H << 2;
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    for (let j = 0; j < full; j += 4) {
      const o = row + (<usize>j << 2);
      const g = v128.load(dy + o);
      const xh = v128.load(xhat + o);
      const gh = f32x4.mul(g, v128.load(gamma + (<usize>j << 2)));
      a1 = f32x4.add(a1, gh);
      a2 = f32x4.add(a2, f32x4.mul(gh, xh));
      const jo = <usize>j << 2;
      v128.store(dgamma + jo, f32x4.add(v128.load(dgamma + jo), f32x4.mul(g, xh)));
      v128.store(dbeta + jo, f32x4.add(v128.load(dbeta + jo), g));
    }
    let s1 = hsum(a1);
    let s2 = hsum(a2);
    for (let j = full; j < H; j++) {
      const o = row + (<usize>j << 2);
      const g = load<f32>(dy + o);
      const xh = load<f32>(xhat + o);
      const gh = g * load<f32>(gamma + (<usize>j << 2));
      s1 += gh;
      s2 += gh * xh;
      const jo = <usize>j << 2;
      store<f32>(dgamma + jo, load<f32>(dgamma + jo) + g * xh);
      store<f32>(dbeta + jo, load<f32>(dbeta + jo) + g);
    }
    const m1 = f32x4.splat(s1 * invH);
    const m2 = f32x4.splat(s2 * invH);
    const r: f32 = load<f32>(rstd + (<usize>t << 2));
    const rv = f32x4.splat(r);
    for (let j = 0; j < full; j += 4) {
      const o = row + (<usize>j << 2);
      const gh = f32x4.mul(v128.load(dy + o), v128.load(gamma + (<usize>j << 2)));
      const v = f32x4.sub(f32x4.sub(gh, m1), f32x4.mul(v128.load(xhat + o), m2));
      v128.store(dx + o, f32x4.mul(v, rv));
    }
    for (let j = full; j < H; j++) {
      const o = row + (<usize>j << 2);
      const gh = load<f32>(dy + o) * load<f32>(gamma + (<usize>j << 2));
      store<f32>(dx + o, (gh - s1 * invH - load<f32>(xhat + o) * s2 * invH) * r);
    }
  }
}

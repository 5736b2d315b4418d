/**
 * Single-precision GEMM for the wasm backend, in AssemblyScript (compiled at build time by esbuild.mjs,
 * twice: with WebAssembly SIMD, and with relaxed SIMD whose f32x4.relaxed_madd becomes one fused
 * multiply-add on x86 with FMA and on ARM).
 *
 *   C[M, N] = op(A)[M, K] · op(B)[K, N]  (+ bias[N])     op(X) = X or Xᵀ
 *
 * Why our own: tfjs-wasm's matmul (XNNPACK, SIMD without FMA) reaches ~20 GFLOP/s on the reference step's
 * shapes and falls to ~1 GFLOP/s as soon as an operand is transposed, which every backward pass wants
 * (docs/performance.md #1). This kernel reads transposed operands where they lie, and with FMA reaches ~40 GFLOP/s.
 *
 * Layout: row-major with leading dimensions (lda, ldb, ldc, in elements), so a caller can address a
 * block inside a larger tensor (one head of the attention) without copying it. All pointers are byte
 * offsets into the tfjs-wasm heap, which this module imports as its memory; `work` is scratch space of
 * at least workBytes() that the caller owns.
 *
 * Blocking (Goto's scheme): B is packed by KC × NR panels and A by MC × KC blocks of row panels, so the
 * inner loop streams both contiguously (transposed operands are packed through 4 × 4 register
 * transposes, so they cost what plain ones do). Packing zero-pads partial panels, and partial tiles of C
 * go through a small tile, so nothing reads or writes past a tensor.
 *
 * Register tile: 6 × 8 in the relaxed-SIMD build. V8 lowers wasm SIMD to 128-bit xmm registers (16 on
 * x86, one kept as scratch): 12 accumulators + 2 B vectors + 1 broadcast A fill the other 15, and keep 12
 * FMA chains in flight (the 4 × 8 tile had 8, below FMA latency × 2 pipes) with 8 loads per 12 FMAs
 * instead of 6 per 8. A block's last rows take 4-row panels where that wastes nothing (panelWidth: 32
 * rows = 6·4 + 4 + 4, the attention's head size). The SIMD build (multiply, then add) needs a register
 * per product, so its 6-row tile would spill: it keeps 4 × 8. KC 512 makes K = 512 one pass over C;
 * MC 96 (a 192 KB A block, in L2) and NC 512 measured flat from 48 to 192 and 256 to 1024.
 * On a 2-vCPU AMD EPYC (Node 20, relaxed SIMD; bench/gemmBench.ts, medians of ratios within rounds) this
 * gained 7-11% over 4 × 8 / KC 256 / MC 64 on the training step's shapes (T = 2048), whose best samples
 * went from 39-43 to 42-46 GFLOP/s, about what the two FMA pipes allow at 128 bits (medians are lower
 * on a shared machine), and 4-14% on the attention's 32 × 32 blocks; the SIMD build is unchanged.
 *
 * Small problems: with M ≤ MC a plain B is read where it lies (its few reuses do not repay a copy), and
 * a single row times a plain B (bias gradients as ones · dy) streams B with no packing at all (~4× on
 * [1, 2048] × [2048, 128]).
 */

const MR: i32 = 6;
const MR4: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 512;
const MC: i32 = 96;
const NC: i32 = 512;

// Scratch layout (floats): packed B [KC·NC] | packed A [(MC + MR)·KC] | C tile [MR·NR] | bias tile [NR].
const PACKED_B: usize = 0;
const PACKED_A: usize = PACKED_B + (<usize>(KC * NC) << 2);
const C_TILE: usize = PACKED_A + (<usize>((MC + MR) * KC) << 2);
const BIAS_TILE: usize = C_TILE + (<usize>(MR * NR) << 2);
const WORK_BYTES: usize = BIAS_TILE + (<usize>NR << 2);

export function workBytes(): usize {
  return WORK_BYTES;
}

/**
 * Width of the A panel at `rem` rows from the end of a block: MR (6) while that leaves no remainder
 * the 4-row tile cannot take; 4 for the last 4 or 8 rows and for a remainder of 1 to 3 rows; a
 * remainder of 5 rows is a zero-padded 6-row panel.
 */
// @ts-ignore: decorator
@inline function panelWidth(rem: i32): i32 {
  // Without a fused multiply-add each product needs a register of its own, and the 6-row tile's 12
  // accumulators + 2 B + 1 A + 1 product would spill (x86 has 16, V8 keeps one): 4 rows only.
  if (!ASC_FEATURE_RELAXED_SIMD) return MR4;
  return (rem >= MR && rem != 2 * MR4) || rem == 5 ? MR : MR4;
}

/** a·b + c: one rounding with relaxed SIMD's fused multiply-add, two without. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function transpose4(dst: usize, step: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs op(A)[i0 .. i0+mc, p0 .. p0+kc) as panels of panelWidth rows, each kc steps of that many floats
 * (zero-padded); the panel at row ir starts at float ir·kc.
 */
function packA(a: usize, lda: i32, transA: bool, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ) {
    const w = panelWidth(mc - ir);
    const rows = min(w, mc - ir);
    const i = i0 + ir;
    const step = <usize>w << 2;
    ir += w;
    if (rows == w && transA) {
      // Aᵀ: the panel's rows lie side by side in each stored row.
      let src = a + ((<usize>p0 * lda + i) << 2);
      const rs = <usize>lda << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        if (w == MR) store<u64>(dst, load<u64>(src, 16), 16);
        src += rs;
        dst += step;
      }
      continue;
    }
    if (rows == w) {
      // Rows 0-3 through 4 × 4 transposes, rows 4-5 (of a 6-row panel) interleaved in pairs, four
      // steps of p at a time.
      const r0 = a + ((<usize>i * lda + p0) << 2);
      const rs = <usize>lda << 2;
      const r4 = r0 + 4 * rs;
      const k4 = kc & ~3;
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        transpose4(dst, step, v128.load(r0 + o), v128.load(r0 + rs + o), v128.load(r0 + 2 * rs + o), v128.load(r0 + 3 * rs + o));
        if (w == MR) {
          const x4 = v128.load(r4 + o);
          const x5 = v128.load(r4 + rs + o);
          const lo = i32x4.shuffle(x4, x5, 0, 4, 1, 5);
          const hi = i32x4.shuffle(x4, x5, 2, 6, 3, 7);
          v128.store64_lane(dst + 16, lo, 0);
          v128.store64_lane(dst + 16 + step, lo, 1);
          v128.store64_lane(dst + 16 + 2 * step, hi, 0);
          v128.store64_lane(dst + 16 + 3 * step, hi, 1);
        }
        dst += 4 * step;
      }
      for (let p = k4; p < kc; p++) {
        for (let r = 0; r < w; r++) store<f32>(dst + (<usize>r << 2), load<f32>(r0 + <usize>r * rs + (<usize>p << 2)));
        dst += step;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < w; r++) {
        let v: f32 = 0;
        if (r < rows) v = transA ? load<f32>(a + ((<usize>(p0 + p) * lda + i + r) << 2)) : load<f32>(a + ((<usize>(i + r) * lda + p0 + p) << 2));
        store<f32>(dst, v);
        dst += 4;
      }
    }
  }
}

/** Packs op(B)[p0 .. p0+kc, j0 .. j0+nc) as NR-column panels, each kc rows of NR floats, zero-padded. */
function packB(b: usize, ldb: i32, transB: bool, j0: i32, nc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    if (transB && jr + NR <= nc) {
      // Bᵀ: rows j .. j+7 of the stored [N, K] array, four steps of p at a time through 4×4 transposes.
      const rs = <usize>ldb << 2;
      const r0 = b + ((<usize>(j0 + jr) * ldb + p0) << 2);
      const r4 = r0 + 4 * rs;
      const k4 = kc & ~3;
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        transpose4(dst, 32, v128.load(r0 + o), v128.load(r0 + rs + o), v128.load(r0 + 2 * rs + o), v128.load(r0 + 3 * rs + o));
        transpose4(dst + 16, 32, v128.load(r4 + o), v128.load(r4 + rs + o), v128.load(r4 + 2 * rs + o), v128.load(r4 + 3 * rs + o));
        dst += 128;
      }
      for (let p = k4; p < kc; p++) {
        for (let q = 0; q < NR; q++) store<f32>(dst + (<usize>q << 2), load<f32>(r0 + <usize>q * rs + (<usize>p << 2)));
        dst += 32;
      }
      continue;
    }
    if (!transB && jr + NR <= nc) {
      let src = b + ((<usize>p0 * ldb + j0 + jr) << 2);
      const step = <usize>ldb << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let q = 0; q < NR; q++) {
        const j = j0 + jr + q;
        let v: f32 = 0;
        if (jr + q < nc) {
          v = transB ? load<f32>(b + ((<usize>j * ldb + p0 + p) << 2)) : load<f32>(b + ((<usize>(p0 + p) * ldb + j) << 2));
        }
        store<f32>(dst, v);
        dst += 4;
      }
    }
  }
}

/**
 * One 4 × NR tile over kc: A and B packed panels (4 and NR floats per step of p). C starts
 * from the bias row (or zero) when `init`, else from what C holds (the previous KC block's sum).
 */
function tile4x8(kc: i32, pa: usize, pb: usize, bs: usize, c: usize, ldc: i32, init: bool, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  const row = <usize>ldc << 2;
  if (init) {
    if (bias) {
      c00 = v128.load(bias);
      c01 = v128.load(bias, 16);
    } else {
      c00 = f32x4.splat(0);
      c01 = c00;
    }
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
  } else {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + row); c11 = v128.load(c + row, 16);
    c20 = v128.load(c + 2 * row); c21 = v128.load(c + 2 * row, 16);
    c30 = v128.load(c + 3 * row); c31 = v128.load(c + 3 * row, 16);
  }
  const end = pb + <usize>kc * bs;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    pa += 16;
    pb += bs;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + row, c10); v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20); v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30); v128.store(c + 3 * row, c31, 16);
}

/**
 * The same for a 6 × NR tile (A panels of 6 floats per step of p). A twin of tile4x8 on purpose: the
 * accumulators stay in registers only as named locals (an array of them, or a loop over rows, goes
 * through memory), and the build without FMA needs the 4-row body (the 6-row one spills there).
 */
function tile6x8(kc: i32, pa: usize, pb: usize, bs: usize, c: usize, ldc: i32, init: bool, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  let c40: v128, c41: v128, c50: v128, c51: v128;
  const row = <usize>ldc << 2;
  if (init) {
    if (bias) {
      c00 = v128.load(bias);
      c01 = v128.load(bias, 16);
    } else {
      c00 = f32x4.splat(0);
      c01 = c00;
    }
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
    c40 = c00; c41 = c01; c50 = c00; c51 = c01;
  } else {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + row); c11 = v128.load(c + row, 16);
    c20 = v128.load(c + 2 * row); c21 = v128.load(c + 2 * row, 16);
    c30 = v128.load(c + 3 * row); c31 = v128.load(c + 3 * row, 16);
    c40 = v128.load(c + 4 * row); c41 = v128.load(c + 4 * row, 16);
    c50 = v128.load(c + 5 * row); c51 = v128.load(c + 5 * row, 16);
  }
  const end = pb + <usize>kc * bs;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    x = v128.load32_splat(pa, 20);
    c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    pa += 24;
    pb += bs;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + row, c10); v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20); v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30); v128.store(c + 3 * row, c31, 16);
  v128.store(c + 4 * row, c40); v128.store(c + 4 * row, c41, 16);
  v128.store(c + 5 * row, c50); v128.store(c + 5 * row, c51, 16);
}

/** The tile of `rows` (MR or 4) rows that panelWidth chose. */
// @ts-ignore: decorator
@inline function tile(rows: i32, kc: i32, pa: usize, pb: usize, bs: usize, c: usize, ldc: i32, init: bool, bias: usize): void {
  if (rows == MR) tile6x8(kc, pa, pb, bs, c, ldc, init, bias);
  else tile4x8(kc, pa, pb, bs, c, ldc, init, bias);
}

// @ts-ignore: decorator
@inline function start(from: usize, j: i32): v128 {
  return from ? v128.load(from + (<usize>j << 2)) : f32x4.splat(0);
}

/**
 * One row of C: c[j] = (bias[j] or c[j] or 0) + Σ_p a[p·aStep]·B[p, j] for a plain B. A row times a
 * matrix (a bias gradient as ones · dy) gains nothing from packing, which would copy all of B to
 * use it once: B's rows stream through 8, then 1 vector accumulators.
 */
function rowTimesB(a: usize, aStep: usize, b: usize, ldb: i32, c: usize, bias: usize, N: i32, K: i32, accumulate: bool): void {
  const rs = <usize>ldb << 2;
  const as = aStep << 2;
  // Where the sums start: C itself, the bias row, or zero (0).
  const from: usize = accumulate ? c : bias;
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    let s0 = start(from, j), s1 = start(from, j + 4), s2 = start(from, j + 8), s3 = start(from, j + 12);
    let s4 = start(from, j + 16), s5 = start(from, j + 20), s6 = start(from, j + 24), s7 = start(from, j + 28);
    let pa = a;
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < K; p++) {
      const x = v128.load32_splat(pa);
      s0 = madd(x, v128.load(pb), s0); s1 = madd(x, v128.load(pb, 16), s1);
      s2 = madd(x, v128.load(pb, 32), s2); s3 = madd(x, v128.load(pb, 48), s3);
      s4 = madd(x, v128.load(pb, 64), s4); s5 = madd(x, v128.load(pb, 80), s5);
      s6 = madd(x, v128.load(pb, 96), s6); s7 = madd(x, v128.load(pb, 112), s7);
      pa += as;
      pb += rs;
    }
    const o = c + (<usize>j << 2);
    v128.store(o, s0); v128.store(o, s1, 16); v128.store(o, s2, 32); v128.store(o, s3, 48);
    v128.store(o, s4, 64); v128.store(o, s5, 80); v128.store(o, s6, 96); v128.store(o, s7, 112);
  }
  for (; j + 4 <= N; j += 4) {
    let s0 = start(from, j);
    let pa = a;
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < K; p++) {
      s0 = madd(v128.load32_splat(pa), v128.load(pb), s0);
      pa += as;
      pb += rs;
    }
    v128.store(c + (<usize>j << 2), s0);
  }
  for (; j < N; j++) {
    let s: f32 = from ? load<f32>(from + (<usize>j << 2)) : 0;
    let pa = a;
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < K; p++) {
      s = f32x4.extract_lane(madd(f32x4.splat(load<f32>(pa)), f32x4.splat(load<f32>(pb)), f32x4.splat(s)), 0);
      pa += as;
      pb += rs;
    }
    store<f32>(c + (<usize>j << 2), s);
  }
}

/**
 * C = op(A) · op(B) (+ bias), or C += op(A) · op(B) when `accumulate` (bias ignored). a, b, c, bias, work:
 * byte offsets (bias 0 = none). lda / ldb / ldc: row strides in floats of the arrays as stored (A is
 * [M, K] or, transposed, [K, M]; B is [K, N] or [N, K]).
 */
export function gemm(
  a: usize, b: usize, c: usize, bias: usize,
  M: i32, N: i32, K: i32,
  lda: i32, ldb: i32, ldc: i32,
  transA: bool, transB: bool,
  accumulate: bool,
  work: usize,
): void {
  const packedB = work + PACKED_B;
  const packedA = work + PACKED_A;
  const cTile = work + C_TILE;
  const biasTile = work + BIAS_TILE;
  if (K == 0) {
    if (accumulate) return;
    // An empty sum: C is the bias (or zero).
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      store<f32>(c + ((<usize>i * ldc + j) << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
    }
    return;
  }
  if (M == 1 && !transB) {
    rowTimesB(a, transA ? <usize>lda : 1, b, ldb, c, bias, N, K, accumulate);
    return;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    for (let p0 = 0; p0 < K; p0 += KC) {
      const kc = min(KC, K - p0);
      const init = p0 == 0 && !accumulate;
      // A small plain B is read where it lies: packing it would cost more than its few reuses gain.
      const direct = !transB && M <= MC;
      if (!direct) packB(b, ldb, transB, j0, nc, p0, kc, packedB);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packA(a, lda, transA, i0, mc, p0, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          let biasRow: usize = 0;
          if (init && bias) {
            if (nr == NR) biasRow = bias + (<usize>(j0 + jr) << 2);
            else {
              for (let q = 0; q < NR; q++) {
                store<f32>(biasTile + (<usize>q << 2), q < nr ? load<f32>(bias + (<usize>(j0 + jr + q) << 2)) : 0);
              }
              biasRow = biasTile;
            }
          }
          let panel = packedB + (<usize>(jr * kc) << 2);
          let bs: usize = NR << 2;
          if (direct) {
            if (nr == NR) {
              panel = b + ((<usize>p0 * ldb + j0 + jr) << 2);
              bs = <usize>ldb << 2;
            } else {
              packB(b, ldb, transB, j0 + jr, nr, p0, kc, packedB);
              panel = packedB;
            }
          }
          for (let ir = 0; ir < mc; ) {
            const w = panelWidth(mc - ir);
            const mr = min(w, mc - ir);
            const cp = c + ((<usize>(i0 + ir) * ldc + j0 + jr) << 2);
            const ap = packedA + (<usize>(ir * kc) << 2);
            ir += w;
            if (mr == w && nr == NR) {
              tile(w, kc, ap, panel, bs, cp, ldc, init, biasRow);
              continue;
            }
            // A partial tile: through the C tile, so that nothing outside C is read or written.
            if (!init) {
              for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) {
                store<f32>(cTile + (<usize>(r * NR + q) << 2), load<f32>(cp + ((<usize>r * ldc + q) << 2)));
              }
            }
            tile(w, kc, ap, panel, bs, cTile, NR, init, biasRow);
            for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) {
              store<f32>(cp + ((<usize>r * ldc + q) << 2), load<f32>(cTile + (<usize>(r * NR + q) << 2)));
            }
          }
        }
      }
    }
  }
}

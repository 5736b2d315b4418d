/**
 * Single-precision GEMM for the wasm backend, in AssemblyScript (compiled at build time by esbuild.mjs,
 * twice: with WebAssembly SIMD, and with relaxed SIMD whose f32x4.relaxed_madd becomes one fused
 * multiply-add on x86 with FMA and on ARM).
 *
 *   C[M, N] = op(A)[M, K] · op(B)[K, N]  (+ bias[N])     op(X) = X or Xᵀ
 *
 * Why our own: tfjs-wasm's matmul (XNNPACK, SIMD without FMA) reaches ~20 GFLOP/s on the reference step's
 * shapes and falls to ~1 GFLOP/s as soon as an operand is transposed, which every backward pass wants
 * (PERF.md #1). This kernel reads transposed operands where they lie, and with FMA reaches ~35 GFLOP/s.
 *
 * Layout: row-major with leading dimensions (lda, ldb, ldc, in elements), so a caller can address a
 * block inside a larger tensor (one head of the attention) without copying it. All pointers are byte
 * offsets into the tfjs-wasm heap, which this module imports as its memory; `work` is scratch space of
 * at least workBytes() that the caller owns.
 *
 * Blocking (Goto's scheme): B is packed by KC × NR panels so the inner loop streams it contiguously from
 * L1; A is read in place (row-major: consecutive floats; transposed: rows of four lie side by side), four
 * rows at a time; a 4 × 8 tile of C lives in eight v128 registers for the whole KC loop. Partial tiles at
 * the edges go through a small zero-padded tile so that nothing reads or writes past a tensor.
 */

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;

// Scratch layout (floats): packed B [KC·NC] | padded A rows [MR·KC] | C tile [MR·NR] | bias tile [NR].
const PACKED_B: usize = 0;
const PADDED_A: usize = PACKED_B + (<usize>(KC * NC) << 2);
const C_TILE: usize = PADDED_A + (<usize>(MR * KC) << 2);
const BIAS_TILE: usize = C_TILE + (<usize>(MR * NR) << 2);
const WORK_BYTES: usize = BIAS_TILE + (<usize>NR << 2);

export function workBytes(): usize {
  return WORK_BYTES;
}

/** a·b + c: one rounding with relaxed SIMD's fused multiply-add, two without. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Packs op(B)[p0 .. p0+kc, j0 .. j0+nc) as NR-column panels, each kc rows of NR floats, zero-padded. */
function packB(b: usize, ldb: i32, transB: bool, j0: i32, nc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
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
 * One MR × NR tile over kc: A's element (r, p) at a + p·sP + r·sR (bytes), B a packed panel. C starts
 * from the bias row (or zero) when `init`, else from what C holds (the previous KC block's sum).
 */
function tile4x8(kc: i32, a: usize, sP: usize, sR: usize, pb: usize, c: usize, ldc: i32, init: bool, bias: usize): void {
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
  const a0 = a;
  const a1 = a + sR;
  const a2 = a + 2 * sR;
  const a3 = a + 3 * sR;
  const end = pb + (<usize>kc << 5);
  let off: usize = 0;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(a0 + off);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a1 + off);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a2 + off);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a3 + off);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    off += sP;
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + row, c10); v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20); v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30); v128.store(c + 3 * row, c31, 16);
}

/**
 * C = op(A) · op(B) (+ bias). a, b, c, bias, work: byte offsets (bias 0 = none). lda / ldb / ldc: row
 * strides in floats of the arrays as stored (A is [M, K] or, transposed, [K, M]; B is [K, N] or [N, K]).
 */
export function gemm(
  a: usize, b: usize, c: usize, bias: usize,
  M: i32, N: i32, K: i32,
  lda: i32, ldb: i32, ldc: i32,
  transA: bool, transB: bool,
  work: usize,
): void {
  const sP: usize = transA ? <usize>lda << 2 : 4;
  const sR: usize = transA ? 4 : <usize>lda << 2;
  const packedB = work + PACKED_B;
  const paddedA = work + PADDED_A;
  const cTile = work + C_TILE;
  const biasTile = work + BIAS_TILE;
  if (K == 0) {
    // An empty sum: C is the bias (or zero).
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      store<f32>(c + ((<usize>i * ldc + j) << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
    }
    return;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    for (let p0 = 0; p0 < K; p0 += KC) {
      const kc = min(KC, K - p0);
      const init = p0 == 0;
      packB(b, ldb, transB, j0, nc, p0, kc, packedB);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        const tailRows = mc % MR;
        if (tailRows) {
          // The block's last, partial row tile: a zero-padded copy (sP = 4, sR = kc floats), made once
          // for all its column panels.
          const ap = a + <usize>p0 * sP + <usize>(i0 + mc - tailRows) * sR;
          for (let r = 0; r < MR; r++) for (let p = 0; p < kc; p++) {
            store<f32>(paddedA + (<usize>(r * kc + p) << 2), r < tailRows ? load<f32>(ap + <usize>p * sP + <usize>r * sR) : 0);
          }
        }
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
          const panel = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const i = i0 + ir;
            const cp = c + ((<usize>i * ldc + j0 + jr) << 2);
            const ap = a + <usize>p0 * sP + <usize>i * sR;
            if (mr == MR && nr == NR) {
              tile4x8(kc, ap, sP, sR, panel, cp, ldc, init, biasRow);
              continue;
            }
            if (!init) {
              for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) {
                store<f32>(cTile + (<usize>(r * NR + q) << 2), load<f32>(cp + ((<usize>r * ldc + q) << 2)));
              }
            }
            if (mr == MR) {
              tile4x8(kc, ap, sP, sR, panel, cTile, NR, init, biasRow);
            } else {
              tile4x8(kc, paddedA, 4, <usize>kc << 2, panel, cTile, NR, init, biasRow);
            }
            for (let r = 0; r < mr; r++) for (let q = 0; q < nr; q++) {
              store<f32>(cp + ((<usize>r * ldc + q) << 2), load<f32>(cTile + (<usize>(r * NR + q) << 2)));
            }
          }
        }
      }
    }
  }
}

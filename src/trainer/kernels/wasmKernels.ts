/**
 * Our own wasm kernels (assembly/, compiled to WebAssembly at build time), registered as tfjs kernels of
 * the wasm backend: the GEMM as BatchMatMul and _FusedMatMul, a linear layer's backward and the
 * attention's headMatMul; GELU, LayerNorm (with its gradient), dropout and AdamW; GradCache's in-place
 * gradient sums; and the evaluation's prefix scorer.
 *
 * The module imports the tfjs-wasm heap as its memory, so it reads the operands and writes the result
 * where tfjs keeps them: no copies. It is built twice; relaxed SIMD (a fused multiply-add) is used when
 * the engine validates it — V8 ships it from Node 22 / Electron 25 on, and Node 20 has it behind a flag
 * that is turned on here before compiling. Shapes the GEMM does not cover (non-float32, general batch
 * broadcasting, fused activations) go to the stock kernels.
 *
 * `MATRYOSHKA_LAB_GEMM=stock|simd|relaxed-simd` pins the choice (benchmarks compare them in one run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { registerHeadMatMulKernel } from './headMatMul';
import { offsetOf, registerWasmKernel, type WasmBackend } from './wasmBackend';
import type { PrefixScorer } from '../eval/metrics';

export type KernelVariant = 'relaxed-simd' | 'simd';
export const KERNEL_FILES: Record<KernelVariant, string> = {
  'relaxed-simd': 'matryoshka-kernels-relaxed-simd.wasm',
  simd: 'matryoshka-kernels-simd.wasm',
};

interface KernelExports {
  gemm(
    a: number, b: number, c: number, bias: number,
    M: number, N: number, K: number,
    lda: number, ldb: number, ldc: number,
    transA: boolean, transB: boolean,
    accumulate: boolean,
    work: number,
  ): void;
  workBytes(): number;
  geluForward(x: number, y: number, slope: number, n: number, work: number): void;
  sumSquares(x: number, n: number): number;
  addInto(dst: number, src: number, n: number): void;
  columnSums(src: number, rows: number, cols: number, out: number): void;
  dropout(keys: number, groups: number, len: number, threshold: number, scale: number, x: number, out: number): void;
  layerNormForward(x: number, res: number, gamma: number, beta: number, y: number, xhat: number, rstd: number, T: number, H: number, eps: number): void;
  layerNormBackward(dy: number, xhat: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, T: number, H: number): void;
  adamw(
    theta: number, grad: number, m: number, v: number, thetaOut: number, mOut: number, vOut: number, n: number,
    clip: number, beta1: number, beta2: number, stepSize: number, epsHat: number, decay: number,
  ): void;
}

/** The kernels that need no scratch are called as exported (heap offsets, element counts; see assembly/). */
type DirectKernels = Pick<KernelExports, 'sumSquares' | 'addInto' | 'columnSums' | 'dropout' | 'layerNormForward' | 'layerNormBackward' | 'adamw'>;

/** One instance of our kernel module on a wasm backend's heap, with its scratch space bound. */
export interface WasmKernels extends DirectKernels {
  variant: KernelVariant;
  /** C = op(A)·op(B) (+ bias) on heap offsets; see assembly/gemm.ts. */
  run(args: {
    a: number; b: number; c: number; bias?: number;
    M: number; N: number; K: number;
    lda: number; ldb: number; ldc: number;
    transA: boolean; transB: boolean;
    /** C += op(A)·op(B) instead of C = op(A)·op(B) (+ bias). */
    accumulate?: boolean;
  }): void;
  /** y = x·Φ(x), and slope = Φ(x) + x·φ(x) unless slope is 0. Heap offsets, n floats. */
  geluForward(x: number, y: number, slope: number, n: number): void;
}

let installedFor: object | undefined;
let active: WasmKernels | undefined;

/** Our kernels serving the wasm backend now, if any (undefined: the stock kernels). */
export function activeWasmKernels(): WasmKernels | undefined {
  return active;
}

/**
 * Whether matmuls with transposeA / transposeB run as fast as plain ones on the active backend: with our
 * GEMM on wasm they do (it reads the operand where it lies); stock wasm leaves XNNPACK for them (PERF.md #1).
 */
export function transposedMatMulIsFast(): boolean {
  return ownWasmKernelsActive();
}

/** Whether our wasm kernels (GEMM, GELU, LayerNorm, dropout, AdamW) serve the active backend. */
export function ownWasmKernelsActive(): boolean {
  return active !== undefined && tf.getBackend() === 'wasm';
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  return WebAssembly.validate(bytes);
}

/**
 * Folders that may hold the kernel builds: beside tfjs' binaries (the bundle's dist/), beside this module
 * when bundled, and the repository's dist/ when running from sources (tests, tsx).
 */
function kernelDirs(wasmDir: string): string[] {
  return [wasmDir, __dirname, resolve(__dirname, '..', '..', '..', 'dist'), resolve(process.cwd(), 'dist')];
}

/** Which build this engine runs: relaxed SIMD where it validates (after enabling V8's flag), else SIMD. */
function pickVariant(dirs: string[], wanted: string | undefined): { variant: KernelVariant; bytes: Uint8Array<ArrayBuffer> } | undefined {
  const read = (v: KernelVariant) => {
    const dir = dirs.find((d) => existsSync(join(d, KERNEL_FILES[v])));
    return dir ? new Uint8Array(readFileSync(join(dir, KERNEL_FILES[v]))) as Uint8Array<ArrayBuffer> : undefined;
  };
  if (wanted !== 'simd') {
    const relaxed = read('relaxed-simd');
    if (relaxed) {
      if (!validates(relaxed)) setFlagsFromString('--experimental-wasm-relaxed-simd');
      if (validates(relaxed)) return { variant: 'relaxed-simd', bytes: relaxed };
    }
    if (wanted === 'relaxed-simd') return undefined;
  }
  const simd = read('simd');
  return simd && validates(simd) ? { variant: 'simd', bytes: simd } : undefined;
}

const CACHE_LINE = 64;

function alignUp(offset: number, to: number): number {
  return Math.ceil(offset / to) * to;
}

function instantiateKernels(backend: WasmBackend, variant: KernelVariant, bytes: Uint8Array<ArrayBuffer>): WasmKernels {
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory: backend.wasm.asm.memory } });
  const ex = instance.exports as unknown as KernelExports;
  // tfjs-wasm's malloc aligns to 8 bytes only; the GEMM streams its packed panels from here with 16-byte
  // loads, so start them on a cache line.
  const work = alignUp(backend.wasm._malloc(ex.workBytes() + CACHE_LINE), CACHE_LINE);
  return {
    variant,
    run: (o) => ex.gemm(o.a, o.b, o.c, o.bias ?? 0, o.M, o.N, o.K, o.lda, o.ldb, o.ldc, o.transA, o.transB, o.accumulate ?? false, work),
    geluForward: (x, y, slope, n) => ex.geluForward(x, y, slope, n, work),
    sumSquares: ex.sumSquares,
    addInto: ex.addInto,
    columnSums: ex.columnSums,
    dropout: ex.dropout,
    layerNormForward: ex.layerNormForward,
    layerNormBackward: ex.layerNormBackward,
    adamw: ex.adamw,
  };
}

export const LINEAR_GRAD = 'MatryoshkaLinearGrad';

/**
 * `MatryoshkaLinearGrad` (dy [T, out], x [T, in], w [in, out]) → [dx = dy·wᵀ, dW = xᵀ·dy, db = 1ᵀ·dy]: the
 * whole backward of x·W + b in one kernel, the transposed operands read where they lie. Three tfjs
 * kernels and a ones vector would each pay tfjs' per-kernel bookkeeping, which is a fair part of a
 * small GradCache chunk's backward.
 */
function registerLinearGradKernel(k: WasmKernels): void {
  registerWasmKernel(LINEAR_GRAD, ({ inputs, backend }) => {
    const { dy, x, w } = inputs as Record<'dy' | 'x' | 'w', tf.TensorInfo>;
    const [T, inDim] = x.shape;
    const outDim = w.shape[1];
    const ok = [dy, x, w].every((t) => t.dtype === 'float32' && t.shape.length === 2) && w.shape[0] === inDim && dy.shape[0] === T && dy.shape[1] === outDim;
    if (!ok) throw new Error(`linear gradient: dy ${dy.shape}, x ${x.shape}, w ${w.shape} do not fit x·w`);
    const be = backend as unknown as WasmBackend;
    const dx = be.makeOutput([T, inDim], 'float32');
    const dW = be.makeOutput([inDim, outDim], 'float32');
    const db = be.makeOutput([outDim], 'float32');
    const [pdy, px, pw] = [dy, x, w].map((t) => offsetOf(be, t));
    if (T * inDim > 0) k.run({ a: pdy, b: pw, c: offsetOf(be, dx), M: T, N: inDim, K: outDim, lda: outDim, ldb: outDim, ldc: inDim, transA: false, transB: true });
    if (inDim * outDim > 0) k.run({ a: px, b: pdy, c: offsetOf(be, dW), M: inDim, N: outDim, K: T, lda: inDim, ldb: outDim, ldc: outDim, transA: true, transB: false });
    if (outDim > 0) k.columnSums(pdy, T, outDim, offsetOf(be, db));
    return [dx, dW, db];
  });
}

export const GELU = 'MatryoshkaGelu';

/** GELU on wasm: `MatryoshkaGelu` x; { slope } → [y] or, with slope, [y, Φ(x) + x·φ(x)] for the backward. */
function registerGeluKernel(k: WasmKernels): void {
  registerWasmKernel(GELU, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { slope } = attrs as unknown as { slope: boolean };
    if (x.dtype !== 'float32') throw new Error(`GELU takes float32, got ${x.dtype}`);
    const be = backend as unknown as WasmBackend;
    const y = be.makeOutput(x.shape, 'float32');
    const s = slope ? be.makeOutput(x.shape, 'float32') : undefined;
    const n = tf.util.sizeFromShape(x.shape);
    if (n > 0) k.geluForward(offsetOf(be, x), offsetOf(be, y), s ? offsetOf(be, s) : 0, n);
    return s ? [y, s] : [y];
  });
}

export const ADAMW = 'MatryoshkaAdamW';

export interface AdamWKernelAttrs {
  clip: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  epsHat: number;
  decay: number;
}

/** `MatryoshkaAdamW` (theta, grad, m, v) → [theta', m', v'] (assembly/adamw.ts). */
function registerAdamWKernel(k: WasmKernels): void {
  registerWasmKernel(ADAMW, ({ inputs, backend, attrs }) => {
    const { theta, grad, m, v } = inputs as Record<'theta' | 'grad' | 'm' | 'v', tf.TensorInfo>;
    const a = attrs as unknown as AdamWKernelAttrs;
    const be = backend as unknown as WasmBackend;
    const n = tf.util.sizeFromShape(theta.shape);
    for (const t of [grad, m, v]) {
      if (tf.util.sizeFromShape(t.shape) !== n || t.dtype !== 'float32') throw new Error(`AdamW: operand shape ${t.shape} ≠ parameter shape ${theta.shape}`);
    }
    const outs = [theta, m, v].map((t) => be.makeOutput(t.shape, 'float32'));
    if (n > 0) {
      k.adamw(
        offsetOf(be, theta), offsetOf(be, grad), offsetOf(be, m), offsetOf(be, v),
        offsetOf(be, outs[0]), offsetOf(be, outs[1]), offsetOf(be, outs[2]), n,
        a.clip, a.beta1, a.beta2, a.stepSize, a.epsHat, a.decay,
      );
    }
    return outs;
  });
}

export const DROPOUT = 'MatryoshkaDropout';

/**
 * `MatryoshkaDropout` (keys [groups] int32, x [groups·len] float32; len, threshold, scale) → x ⊙ m, the
 * multipliers hashed from the keys as the product is formed (assembly/dropout.ts).
 */
function registerDropoutKernel(k: WasmKernels): void {
  registerWasmKernel(DROPOUT, ({ inputs, backend, attrs }) => {
    const { keys, x } = inputs as { keys: tf.TensorInfo; x: tf.TensorInfo };
    const { len, threshold, scale } = attrs as unknown as { len: number; threshold: number; scale: number };
    if (keys.dtype !== 'int32') throw new Error(`dropout keys must be int32, got ${keys.dtype}`);
    if (x.dtype !== 'float32') throw new Error(`dropout takes float32, got ${x.dtype}`);
    const groups = tf.util.sizeFromShape(keys.shape);
    if (tf.util.sizeFromShape(x.shape) !== groups * len) throw new Error(`dropout: ${x.shape} is not ${groups} groups of ${len}`);
    const be = backend as unknown as WasmBackend;
    const out = be.makeOutput(x.shape, 'float32');
    if (groups * len > 0) k.dropout(offsetOf(be, keys), groups, len, threshold, scale, offsetOf(be, x), offsetOf(be, out));
    return out;
  });
}

export const LAYER_NORM = 'MatryoshkaLayerNorm';
export const LAYER_NORM_GRAD = 'MatryoshkaLayerNormGrad';

/**
 * `MatryoshkaLayerNorm` (x [T, H], optional residual [T, H] added to x, γ, β; eps) → [y, x̂, rstd [T]] and `MatryoshkaLayerNormGrad`
 * (dy, x̂, rstd, γ) → [dx, dγ, dβ] (assembly/layerNorm.ts).
 */
function registerLayerNormKernels(k: WasmKernels): void {
  const rowsOf = (x: tf.TensorInfo) => {
    const H = x.shape[x.shape.length - 1];
    return { T: H ? tf.util.sizeFromShape(x.shape) / H : 0, H };
  };
  registerWasmKernel(LAYER_NORM, ({ inputs, backend, attrs }) => {
    const { x, residual, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo> & { residual?: tf.TensorInfo };
    if (residual && tf.util.sizeFromShape(residual.shape) !== tf.util.sizeFromShape(x.shape)) {
      throw new Error(`LayerNorm: residual shape ${residual.shape} ≠ input shape ${x.shape}`);
    }
    const { eps } = attrs as unknown as { eps: number };
    const be = backend as unknown as WasmBackend;
    const { T, H } = rowsOf(x);
    const y = be.makeOutput(x.shape, 'float32');
    const xhat = be.makeOutput(x.shape, 'float32');
    const rstd = be.makeOutput([T], 'float32');
    if (T * H > 0) k.layerNormForward(offsetOf(be, x), residual ? offsetOf(be, residual) : 0, offsetOf(be, gamma), offsetOf(be, beta), offsetOf(be, y), offsetOf(be, xhat), offsetOf(be, rstd), T, H, eps);
    return [y, xhat, rstd];
  });
  registerWasmKernel(LAYER_NORM_GRAD, ({ inputs, backend }) => {
    const { dy, xhat, rstd, gamma } = inputs as Record<'dy' | 'xhat' | 'rstd' | 'gamma', tf.TensorInfo>;
    const be = backend as unknown as WasmBackend;
    const { T, H } = rowsOf(xhat);
    const dx = be.makeOutput(xhat.shape, 'float32');
    const dgamma = be.makeOutput([H], 'float32');
    const dbeta = be.makeOutput([H], 'float32');
    if (H > 0) {
      k.layerNormBackward(offsetOf(be, dy), offsetOf(be, xhat), offsetOf(be, rstd), offsetOf(be, gamma), offsetOf(be, dx), offsetOf(be, dgamma), offsetOf(be, dbeta), T, H);
    }
    return [dx, dgamma, dbeta];
  });
}

/**
 * Raw prefix dot products for the evaluation (eval/metrics.ts's PrefixScorer) on the GEMM: the corpus
 * [nc, width] goes into the wasm heap once; each block of queries is one GEMM per dim step, accumulating
 * (the dot product at dims[t + 1] goes on from the one at dims[t]), read out after each. Undefined when
 * our kernels are not serving (the evaluation then scores in JS).
 */
export function wasmPrefixScorer(c: Float32Array, nc: number, width: number): PrefixScorer | undefined {
  if (!ownWasmKernelsActive() || !active) return undefined;
  const gemm = active;
  const corpus = tf.tensor2d(c.subarray(0, nc * width), [nc, width]);
  return {
    dots: (q, from, rows, dims, out) => {
      const block = tf.tensor2d(q.subarray(from * width, (from + rows) * width), [rows, width]);
      const scores = tf.zeros([rows, nc]);
      try {
        const be = tf.backend() as unknown as WasmBackend;
        const [pq, pc, ps] = [block, corpus, scores].map((t) => offsetOf(be, t));
        let prev = 0;
        dims.forEach((d, t) => {
          gemm.run({ a: pq + prev * 4, b: pc + prev * 4, c: ps, M: rows, N: nc, K: d - prev, lda: width, ldb: width, ldc: nc, transA: false, transB: true, accumulate: true });
          out[t].set(be.wasm.HEAPF32.subarray(ps / 4, ps / 4 + rows * nc));
          prev = d;
        });
      } finally {
        tf.dispose([block, scores]);
      }
    },
    dispose: () => corpus.dispose(),
  };
}

/** Σ of every element squared over `tensors` (float32 wasm tensors), or undefined off our kernels. */
export function wasmSumSquares(tensors: Iterable<tf.Tensor>): number | undefined {
  if (!ownWasmKernelsActive() || !active) return undefined;
  const be = tf.backend() as unknown as WasmBackend;
  let total = 0;
  for (const t of tensors) {
    // A tensor whose data lives on another backend (created before a switch) takes the tfjs path.
    const data = be.dataIdMap.get(t.dataId);
    if (t.dtype !== 'float32' || !data) return undefined;
    total += active.sumSquares(data.memoryOffset, t.size);
  }
  return total;
}

/**
 * acc += g, written into acc's buffer, when our kernels serve and nothing else holds that buffer (the
 * backend counts one reference: no clone, reshape or variable shares it). Returns false where it did
 * nothing; the caller then adds with tfjs. tfjs tensors are otherwise immutable, so only the owner of a
 * sum it alone holds (GradCache's gradient accumulator) may call this.
 */
export function wasmAddInPlace(acc: tf.Tensor, g: tf.Tensor): boolean {
  if (!ownWasmKernelsActive() || !active) return false;
  if (acc.dtype !== 'float32' || g.dtype !== 'float32' || acc.size !== g.size || acc.isDisposed || g.isDisposed) return false;
  const be = tf.backend() as unknown as WasmBackend;
  const dst = be.dataIdMap.get(acc.dataId);
  const src = be.dataIdMap.get(g.dataId);
  if (!dst || !src || be.refCount(acc.dataId) !== 1) return false;
  if (acc.size > 0) active.addInto(dst.memoryOffset, src.memoryOffset, acc.size);
  return true;
}

/**
 * A GEMM of the given build on the active wasm backend's heap, without registering any kernel (tests and
 * benchmarks compare the builds). Undefined where that build is missing or does not validate here.
 */
export function createWasmKernels(variant: KernelVariant): WasmKernels | undefined {
  const backend = tf.findBackend('wasm') as unknown as WasmBackend | null;
  if (!backend) throw new Error('createWasmKernels: the wasm backend is not initialised');
  const picked = pickVariant(kernelDirs(__dirname), variant);
  return picked && picked.variant === variant ? instantiateKernels(backend, variant, picked.bytes) : undefined;
}

/** Byte offset of a wasm tensor's data in the heap the GEMM addresses. */
export function heapOffset(t: tf.TensorInfo): number {
  return offsetOf(tf.findBackend('wasm') as unknown as WasmBackend, t);
}

/**
 * a [..., M, K] (or [..., K, M] transposed) · b [..., K, N] (or [..., N, K]) with optional bias [N]; batch
 * dims equal, or one side's all 1 (broadcast). Returns undefined where the stock kernel must serve.
 */
function matMul(
  gemm: WasmKernels, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, transA: boolean, transB: boolean, bias?: tf.TensorInfo,
): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return undefined; // the stock kernel raises tfjs' own message
  if (bias && !(bias.shape.length === 1 && bias.shape[0] === N)) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (tf.util.sizeFromShape(outer) !== batch) return undefined;
  const out = backend.makeOutput([...outer, M, N], 'float32');
  if (M * N === 0) return out;
  const pa = offsetOf(backend, a);
  const pb = offsetOf(backend, b);
  const pc = offsetOf(backend, out);
  const pbias = bias ? offsetOf(backend, bias) : 0;
  for (let i = 0; i < batch; i++) {
    gemm.run({
      a: pa + (batchA > 1 ? i * M * K * 4 : 0),
      b: pb + (batchB > 1 ? i * K * N * 4 : 0),
      c: pc + i * M * N * 4,
      bias: pbias,
      M, N, K,
      lda: transA ? M : K,
      ldb: transB ? K : N,
      ldc: N,
      transA, transB,
    });
  }
  return out;
}

/**
 * Registers our kernels on the wasm backend (BatchMatMul and _FusedMatMul fall back to tfjs' own for what
 * the GEMM does not cover), once per backend instance (worker threads each have theirs). Returns which
 * kernels serve, for the backend's reason in run.json.
 */
export function installWasmKernels(dir: string): string {
  const backend = tf.findBackend('wasm') as unknown as WasmBackend | null;
  if (!backend) return "tfjs' own wasm kernels (no wasm backend)";
  if (installedFor === backend) return active ? `own wasm kernels (${active.variant})` : "tfjs' own wasm kernels";
  installedFor = backend;
  const wanted = process.env.MATRYOSHKA_LAB_GEMM;
  if (wanted === 'stock') return "tfjs' own wasm kernels (MATRYOSHKA_LAB_GEMM=stock)";
  const dirs = kernelDirs(dir);
  const picked = pickVariant(dirs, wanted);
  if (!picked) return `tfjs' own wasm kernels (no usable ${KERNEL_FILES.simd} in ${dirs.join(', ')})`;
  const gemm = instantiateKernels(backend, picked.variant, picked.bytes);
  const stockBmm = tf.getKernel(tf.BatchMatMul, 'wasm');
  const stockFused = tf.getKernel(tf._FusedMatMul, 'wasm');
  if (!stockBmm || !stockFused) return "tfjs' own wasm kernels (BatchMatMul not registered)";
  registerWasmKernel(tf.BatchMatMul, (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    return matMul(gemm, args.backend as unknown as WasmBackend, a, b, transposeA, transposeB) ?? stockBmm.kernelFunc(args);
  });
  registerWasmKernel(tf._FusedMatMul, (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
    const plain = (activation === undefined || activation === 'linear') && !preluActivationWeights;
    const out = plain ? matMul(gemm, args.backend as unknown as WasmBackend, a!, b!, transposeA, transposeB, bias) : undefined;
    return out ?? stockFused.kernelFunc(args);
  });
  registerHeadMatMulKernel(gemm);
  registerLinearGradKernel(gemm);
  registerGeluKernel(gemm);
  registerAdamWKernel(gemm);
  registerDropoutKernel(gemm);
  registerLayerNormKernels(gemm);
  active = gemm;
  return `own wasm kernels (${gemm.variant})`;
}

/**
 * Our own wasm kernels (assembly/, compiled to WebAssembly at build time): which build loads, its
 * instance on the tfjs-wasm heap, and what calls it directly (GradCache's in-place gradient sums, the
 * clipping norm, the evaluation's prefix scorer). wasmKernelOps.ts registers the rest as tfjs kernels.
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
import { offsetOf, type WasmBackend } from './wasmBackend';
import { registerWasmKernelOps } from './wasmKernelOps';
import type { PrefixScorer } from '../../eval/metrics';

export type KernelVariant = 'relaxed-simd' | 'simd';
export const KERNEL_FILES: Record<KernelVariant, string> = {
  'relaxed-simd': 'matryoshka-kernels-relaxed-simd.wasm',
  simd: 'matryoshka-kernels-simd.wasm',
};

interface KernelExports {
  gemm(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    N: number,
    K: number,
    lda: number,
    ldb: number,
    ldc: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
    work: number,
  ): void;
  workBytes(): number;
  geluForward(x: number, y: number, slope: number, n: number, work: number): void;
  sumSquares(x: number, n: number): number;
  addInto(dst: number, src: number, n: number): void;
  columnSums(src: number, rows: number, cols: number, out: number): void;
  dropout(keys: number, groups: number, len: number, threshold: number, scale: number, x: number, out: number): void;
  layerNormForward(
    x: number,
    res: number,
    gamma: number,
    beta: number,
    y: number,
    xhat: number,
    rstd: number,
    T: number,
    H: number,
    eps: number,
  ): void;
  layerNormBackward(
    dy: number,
    xhat: number,
    rstd: number,
    gamma: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    T: number,
    H: number,
  ): void;
  adamw(
    theta: number,
    grad: number,
    m: number,
    v: number,
    thetaOut: number,
    mOut: number,
    vOut: number,
    n: number,
    clip: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    epsHat: number,
    decay: number,
  ): void;
}

/** The kernels that need no scratch are called as exported (heap offsets, element counts; see assembly/). */
type DirectKernels = Pick<
  KernelExports,
  'sumSquares' | 'addInto' | 'columnSums' | 'dropout' | 'layerNormForward' | 'layerNormBackward' | 'adamw'
>;

/** One instance of our kernel module on a wasm backend's heap, with its scratch space bound. */
export interface WasmKernels extends DirectKernels {
  variant: KernelVariant;
  /** C = op(A)·op(B) (+ bias) on heap offsets; see assembly/gemm.ts. */
  run(args: {
    a: number;
    b: number;
    c: number;
    bias?: number;
    M: number;
    N: number;
    K: number;
    lda: number;
    ldb: number;
    ldc: number;
    transA: boolean;
    transB: boolean;
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
 * GEMM on wasm they do (it reads the operand where it lies); stock wasm leaves XNNPACK for them (docs/performance.md #1).
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
  return [wasmDir, __dirname, resolve(__dirname, '..', '..', '..', '..', 'dist'), resolve(process.cwd(), 'dist')];
}

/** Which build this engine runs: relaxed SIMD where it validates (after enabling V8's flag), else SIMD. */
function pickVariant(dirs: string[], wanted: string | undefined): { variant: KernelVariant; bytes: Uint8Array<ArrayBuffer> } | undefined {
  const read = (v: KernelVariant) => {
    const dir = dirs.find((d) => existsSync(join(d, KERNEL_FILES[v])));
    return dir ? (new Uint8Array(readFileSync(join(dir, KERNEL_FILES[v]))) as Uint8Array<ArrayBuffer>) : undefined;
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
          gemm.run({
            a: pq + prev * 4,
            b: pc + prev * 4,
            c: ps,
            M: rows,
            N: nc,
            K: d - prev,
            lda: width,
            ldb: width,
            ldc: nc,
            transA: false,
            transB: true,
            accumulate: true,
          });
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
 * One AdamW update written into θ's, m's and v's own buffers (the kernel reads and writes element by
 * element, so in place is exact), when our kernels serve and each buffer has no other holder (a variable
 * alone: no clone, tape or reshape shares it). Returns false where it did nothing; the caller then makes
 * new tensors and assigns them. In place, the update needs no copy of the largest parameter (the word
 * embeddings: 94 MB ×3 on a BERT-base) at the top of a heap the backward has just fragmented.
 */
export function wasmAdamWInPlace(
  theta: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  a: { clip: number; beta1: number; beta2: number; stepSize: number; epsHat: number; decay: number },
): boolean {
  if (!ownWasmKernelsActive() || !active) return false;
  const be = tf.backend() as unknown as WasmBackend;
  const ts = [theta, grad, m, v];
  if (ts.some((t) => t.dtype !== 'float32' || t.size !== theta.size || t.isDisposed || !be.dataIdMap.get(t.dataId))) return false;
  if ([theta, m, v].some((t) => be.refCount(t.dataId) !== 1)) return false;
  const [pt, pg, pm, pv] = ts.map((t) => be.dataIdMap.get(t.dataId)!.memoryOffset);
  if (theta.size > 0) active.adamw(pt, pg, pm, pv, pt, pm, pv, theta.size, a.clip, a.beta1, a.beta2, a.stepSize, a.epsHat, a.decay);
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
  if (!registerWasmKernelOps(gemm)) return "tfjs' own wasm kernels (BatchMatMul not registered)";
  active = gemm;
  return `own wasm kernels (${gemm.variant})`;
}

/**
 * Micro-benchmark of our wasm GEMM (src/trainer/runtime/kernels/assembly/gemm.ts) on the training step's shapes
 * (T = 2048 tokens: a 64-sequence step; hidden 128, FFN 512, 4 heads of 32), the attention's per-head
 * blocks and the evaluation's scoring. Each build given is instantiated on one shared memory, the
 * builds run interleaved in one process (round r times every build on every shape before round r + 1),
 * and the median GFLOP/s over the rounds (also the best, and the median ratio to the first build within
 * a round) is printed as JSON, from this process's CPU time (steadier than
 * wall time on a shared machine). Builds whose results differ from the first's by more than float
 * rounding are flagged (maxRelDiff).
 *   npx tsx bench/gemmBench.ts [--wasm label=path ...] [--rounds 21] [--ms 10] [--T 2048] [--only substring]
 *                               [--shape MxNxK[tA][tB] ...]
 * Without --wasm: dist/matryoshka-kernels-simd.wasm and dist/matryoshka-kernels-relaxed-simd.wasm.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

interface Gemm {
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
}

/** One case: `calls` GEMMs of M×N×K at successive block offsets (the attention runs one per head). */
interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  bias?: boolean;
  accumulate?: boolean;
  /** The attention: which operands (a, b, c) are heads of [.., 128] rows (else [32, 32] blocks). */
  heads?: [boolean, boolean, boolean];
  calls?: number;
}

function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === `--${name}` && i + 1 < process.argv.length) out.push(process.argv[i + 1]);
  });
  return out;
}
const arg = (name: string, def: string) => args(name)[0] ?? def;

function shapes(T: number): Shape[] {
  return [
    { name: `fwd [${T},128]x[128,128]+b`, M: T, N: 128, K: 128, transA: false, transB: false, bias: true },
    { name: `fwd [${T},128]x[128,128]`, M: T, N: 128, K: 128, transA: false, transB: false },
    { name: `fwd [${T},128]x[128,512]+b`, M: T, N: 512, K: 128, transA: false, transB: false, bias: true },
    { name: `fwd [${T},512]x[512,128]+b`, M: T, N: 128, K: 512, transA: false, transB: false, bias: true },
    { name: `dx [${T},128]x[128,128]T`, M: T, N: 128, K: 128, transA: false, transB: true },
    { name: `dx [${T},512]x[128,512]T`, M: T, N: 128, K: 512, transA: false, transB: true },
    { name: `dx [${T},128]x[512,128]T`, M: T, N: 512, K: 128, transA: false, transB: true },
    { name: `dW [${T},128]Tx[${T},128]`, M: 128, N: 128, K: T, transA: true, transB: false },
    { name: `dW [${T},128]Tx[${T},512]`, M: 128, N: 512, K: T, transA: true, transB: false },
    { name: `dW [${T},512]Tx[${T},128]`, M: 512, N: 128, K: T, transA: true, transB: false },
    // One chunk's attention (headMatMul): 32 sequences × 4 heads of [32, 32] blocks, each operand a head
    // inside [.., 128] rows or a block of its own. Forward Q·Kᵀ (and dP = dC·Vᵀ); P·V (and dQ = dS·K);
    // backward Pᵀ·dC (and dK = dSᵀ·Q).
    { name: 'att QKT x128', M: 32, N: 32, K: 32, transA: false, transB: true, heads: [true, true, false], calls: 128 },
    { name: 'att PV x128', M: 32, N: 32, K: 32, transA: false, transB: false, heads: [false, true, true], calls: 128 },
    { name: 'att PTdC x128', M: 32, N: 32, K: 32, transA: true, transB: false, heads: [false, true, true], calls: 128 },
    // Bias gradients as ones · dy (a single row).
    { name: `bias [1,${T}]x[${T},128]`, M: 1, N: 128, K: T, transA: false, transB: false },
    { name: 'eval [256,64]x[5000,64]T acc', M: 256, N: 5000, K: 64, transA: false, transB: true, accumulate: true },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const specs = args('wasm');
  const builds = (
    specs.length ? specs : ['simd=dist/matryoshka-kernels-simd.wasm', 'relaxed=dist/matryoshka-kernels-relaxed-simd.wasm']
  ).map((s) => {
    const [label, path] = s.includes('=') ? s.split('=', 2) : [s, s];
    return { label, bytes: new Uint8Array(readFileSync(path)) };
  });
  if (builds.some((b) => !WebAssembly.validate(b.bytes))) setFlagsFromString('--experimental-wasm-relaxed-simd');
  const T = Number(arg('T', '2048'));
  const rounds = Number(arg('rounds', '21'));
  const targetMs = Number(arg('ms', '10'));
  const only = arg('only', '');
  // --shape MxNxK[tA][tB]: an extra case, e.g. 96x512x256 or 128x128x2048tA.
  const extra = args('shape').map((x): Shape => {
    const m = /^(\d+)x(\d+)x(\d+)(tA)?(tB)?$/.exec(x);
    if (!m) throw new Error(`--shape ${x}: expected MxNxK, optionally followed by tA and/or tB`);
    return { name: x, M: +m[1], N: +m[2], K: +m[3], transA: !!m[4], transB: !!m[5] };
  });
  const cases = [...shapes(T), ...extra].filter((s) => s.name.includes(only));
  if (!cases.length) throw new Error(`--only ${only}: no shape's name contains it`);

  // One memory for every build: operands at fixed offsets, each build's scratch after them.
  const maxFloats = Math.max(...cases.map((s) => Math.max(s.M, s.K) * Math.max(s.K, s.N) * (s.calls ?? 1)));
  const cFloats = Math.max(...cases.map((s) => s.M * s.N * (s.calls ?? 1)));
  const base = 1 << 20;
  const A = base;
  const B = A + maxFloats * 4;
  const C = B + maxFloats * 4;
  const bias = C + cFloats * 4;
  let end = bias + 8192 * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((end + builds.length * (4 << 20)) / 65536) + 1 });
  const instances = builds.map((b) => {
    const ex = new WebAssembly.Instance(new WebAssembly.Module(b.bytes), { env: { memory } }).exports as unknown as Gemm;
    const work = end;
    end += ex.workBytes() + 64;
    return { label: b.label, ex, work };
  });
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const f32 = new Float32Array(memory.buffer);
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  for (let i = A / 4; i < C / 4; i++) f32[i] = rand();
  for (let i = 0; i < 8192; i++) f32[bias / 4 + i] = rand();

  const runCase = (g: (typeof instances)[number], s: Shape) => {
    const calls = s.calls ?? 1;
    if (!s.heads) {
      g.ex.gemm(
        A,
        B,
        C,
        s.bias ? bias : 0,
        s.M,
        s.N,
        s.K,
        s.transA ? s.M : s.K,
        s.transB ? s.K : s.N,
        s.N,
        s.transA,
        s.transB,
        s.accumulate ?? false,
        g.work,
      );
      return;
    }
    // Block h: head h % 4 of sequence h / 4 in [.., 128] rows, or the h-th [32, 32] block.
    const at = (heads: boolean, h: number) => 4 * (heads ? Math.floor(h / 4) * 32 * 128 + (h % 4) * 32 : h * 32 * 32);
    const [ha, hb, hc] = s.heads;
    for (let h = 0; h < calls; h++) {
      g.ex.gemm(
        A + at(ha, h),
        B + at(hb, h),
        C + at(hc, h),
        0,
        s.M,
        s.N,
        s.K,
        ha ? 128 : 32,
        hb ? 128 : 32,
        hc ? 128 : 32,
        s.transA,
        s.transB,
        false,
        g.work,
      );
    }
  };
  const cSize = (s: Shape) => s.M * s.N * (s.calls ?? 1);

  const results: Record<
    string,
    Record<string, { gflops: number; best: number; cpuMsPerCall: number; speedup?: number; maxRelDiff?: number }>
  > = {};
  for (const s of cases) {
    const flops = 2 * s.M * s.N * s.K * (s.calls ?? 1);
    // Correctness against the first build (accumulating cases start from zero C).
    let ref: Float32Array | undefined;
    const diffs = instances.map((g) => {
      f32.fill(0, C / 4, C / 4 + cSize(s));
      runCase(g, s);
      const out = f32.slice(C / 4, C / 4 + cSize(s));
      if (!ref) {
        ref = out;
        return 0;
      }
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < out.length; i++) {
        worst = Math.max(worst, Math.abs(out[i] - ref[i]));
        scale = Math.max(scale, Math.abs(ref[i]));
      }
      return worst / (scale || 1);
    });
    // Calls per sample: about targetMs of work at 30 GFLOP/s.
    const reps = Math.max(1, Math.round((targetMs * 1e-3 * 30e9) / flops));
    const samples = instances.map(() => [] as number[]);
    for (let r = 0; r < rounds + 1; r++) {
      // Alternate the order (ABBA) so that a drift in the machine's load favours no build.
      const order = instances.map((_, gi) => gi);
      if (r % 2) order.reverse();
      order.forEach((gi) => {
        const g = instances[gi];
        const c0 = process.cpuUsage();
        for (let k = 0; k < reps; k++) runCase(g, s);
        const c = process.cpuUsage(c0);
        if (r > 0) samples[gi].push((c.user + c.system) / 1000 / reps); // round 0 warms up
      });
    }
    results[s.name] = {};
    instances.forEach((g, gi) => {
      const ms = median(samples[gi]);
      const gflops = (t: number) => +(flops / (t * 1e6)).toFixed(1);
      // Speed-up over the first build: the median of the ratios within a round, whose samples ran
      // back to back and so under much the same load from other processes.
      const speedup = gi ? median(samples[gi].map((t, r) => samples[0][r] / t)) : 1;
      results[s.name][g.label] = {
        gflops: gflops(ms),
        best: gflops(Math.min(...samples[gi])),
        cpuMsPerCall: +ms.toFixed(3),
        ...(gi ? { speedup: +speedup.toFixed(3), maxRelDiff: +diffs[gi].toExponential(1) } : {}),
      };
    });
    const line = (l: string) =>
      `${l} ${results[s.name][l].gflops} (best ${results[s.name][l].best}${results[s.name][l].speedup ? `, x${results[s.name][l].speedup}` : ''}${(results[s.name][l].maxRelDiff ?? 0) > 1e-5 ? `, DIFFERS ${results[s.name][l].maxRelDiff}` : ''})`;
    console.error(`${s.name}: ${instances.map((g) => line(g.label)).join('  ')}`);
  }
  console.log(JSON.stringify({ T, rounds, results }, null, 1));
}

main();

/**
 * `npm run bench -- [--out bench.json] [--quick]`: training speed and GradCache memory on the reference
 * model of docs/performance.md#the-reference-model (vocab 8000, hidden 128, 2 layers, 4 heads, FFN 512, seq len 32, mean pooling,
 * MNRL scale 20, AdamW), plus the panel's render timings. Every case runs in its own child process,
 * because the wasm heap never shrinks: RSS and peaks stay the figures of that case alone (GradCache and
 * its plain step share one, alternating, so that their ratio is measured under the same load).
 * Prints and writes JSON:
 *   {"summary": {bestWasm, torchSamplesPerSec, bestWasmOverTorch, ownKernelsSpeedup, gradCacheOverhead32, gradCacheOverhead128,
 *                gradCacheOverheadCpu32/128, torchGradCacheOverhead32/128,   (CPU-time ratio; PyTorch's own)
 *                gradCacheReforwardFloor32, gradCacheReforwardFloor128,   (step 1's forward over the plain step)
 *                cachedPeak512Over32, evalPer100QueriesOverTrainStep,   (the targets of issue 11, from this run)
 *                evalPrecisionsOverFloat32, evalPrecisionsOverFloat32Cpu,   (issue 20: the quick start's evaluation with the
 *                default precisions over float32 only, wall and CPU time, target ≤ 1.5)
 *                overlay50RunsMs,   (issue 21: fifty runs of 3,000 steps overlaid in the panel, replays posted → the
 *                charts in view drawn; from "panel", null without it)
 *                referenceOverTorch, miniLmOverTorch, bertBaseOverTorch, miniLmPeakRssOverTorch, bertBasePeakRssOverTorch,
 *                memEstimateError, bertBaseCachedPeak512Over32, gradCacheOverFloorPoints32/128, cachedOverTorchCached32/128},
 *                (issue 24: bench/realSizes.ts, and GradCache re-based on its floor and on PyTorch's cached step)
 *    "trainStep": {"wasm" | "wasm-<n>threads" | "wasm-stockKernels" | "cpu": {"msPerStep", "samplesPerSec", ...}},
 *    "gradCache": {"<batch>": {"cachedMsPerStep", "plainMsPerStep"|null, "reforwardMsPerStep", "cachedPeakMB", "plainPeakMB"|null,
 *                              "rssMB", "overhead", "overheadFloor"}},
 *    "realSizes": {"cases": {"miniLmL6Batch32" | "bertBaseBatch8" | "bertBaseCachedBatch8/32/512": {"msPerStep", "pairsPerSec",
 *                  "peakRssMB", "heapMB", "estimate", "estimateError", "refused"?}}, "torch": {...}},   (bench/realSizes.ts)
 *    "peers": {"torch": {"msPerStep", "samplesPerSec", ...},
 *              "torchGradCache": {"32" | "128": {"cachedMsPerStep", "plainMsPerStep", "overhead"}}},   (with gradCache)
 *    "eval": {"totalMs", "embedMs", "dimsMs", "funnelMs", "msPer100Queries", "per100QueriesOverTrainStep",
 *             "queries", "corpus", "texts", "dims", "funnel", ...},   (bench/evalBench.ts: the trainer's
 *             evaluation, 1,000 queries, every dim + funnel; the ratio is over "trainStepMs", the wasm case's
 *             training step timed between the evaluations in the same process, target ≤ 1;
 *             "precisions": {"defaultMs", "float32Ms", "ratio", ...}: bench/evalBench.ts runPrecisionsBench)
 *    "panel": {...},
 *    "workspace": {...}}   (bench/workspaceBench.ts: 500 generated runs — listing, summaries, tree, overlay of 50;
 *                          cells500: issue 21's workspace, panel opened → every cell right, also
 *                          summary.workspace500CellsCompleteMs)
 * A sample is one training pair. `--no-panel` / `--no-workspace` / `--no-torch` skip those parts;
 * `--only eval,gradCache,...` runs only the sections named (trainStep, gradCache, torch, realSizes, eval, panel,
 * workspace), plus the wasm training step that `torch` is compared with; `--no-cached512` skips realSizes' longest case.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendRequest } from '../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../src/trainer/model/encoder';
import { MultipleNegativesRankingLoss } from '../src/trainer/losses/MultipleNegativesRankingLoss';
import { AdamW } from '../src/trainer/loop/optimizer';
import { chunkBounds, embedWithoutTape, lossAndGrads } from '../src/trainer/loop/gradCache';
import { encoderRows, disposeBatch } from '../src/trainer/loop/textBatch';
import { PlainBatchTooLargeError, assertPlainStepFits } from '../src/trainer/runtime/memoryBudget';
import type { TokenBatch } from '../src/trainer/model/types';
import { Rng } from '../src/common/random';
import { DataParallelPool } from '../src/trainer/runtime/parallel/pool';
import { runEvalBench, runPrecisionsBench, type EvalBenchResult, type PrecisionsBenchResult } from './evalBench';
import {
  realSizeCases,
  runRealCase,
  summarizeRealSizes,
  torchFlags,
  type RealCase,
  type RealResult,
  type RealSizesSection,
} from './realSizes';

export const REFERENCE_SPEC: EncoderSpec = {
  vocabSize: 8000,
  hiddenSize: 128,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 512,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling: 'mean',
  layerNorm: 'post',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
};
const SEQ_LEN = 32;
/** GradCache's mini-batch in the gradCache section. */
const MINI_BATCH = 32;

interface Case {
  backend: BackendRequest;
  batch: number;
  miniBatchSize: number | null;
  warmup: number;
  steps: number;
  workers?: number;
  /** Extra environment of the child (MATRYOSHKA_LAB_GEMM=stock: tfjs' own wasm kernels, the baseline). */
  env?: Record<string, string>;
}
interface CaseResult {
  msPerStep: number | null;
  samplesPerSec: number | null;
  peakMB: number | null;
  rssMB: number;
  error?: string;
  steps: number[];
  /** Data-parallel steps: median ms of each phase of the pool's step (pool.lastTimings), plus the optimizer. */
  phases?: Record<string, number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function randomTokens(rng: Rng, rows: number): TokenBatch {
  const ids = new Int32Array(rows * SEQ_LEN);
  for (let r = 0; r < rows; r++) {
    ids[r * SEQ_LEN] = 2; // [CLS]
    for (let t = 1; t < SEQ_LEN - 1; t++) ids[r * SEQ_LEN + t] = 5 + rng.int(REFERENCE_SPEC.vocabSize - 5);
    ids[r * SEQ_LEN + SEQ_LEN - 1] = 3; // [SEP]
  }
  return { inputIds: tf.tensor2d(ids, [rows, SEQ_LEN], 'int32'), attentionMask: tf.ones([rows, SEQ_LEN]) as tf.Tensor2D };
}

async function runCase(c: Case): Promise<CaseResult> {
  await initBackend(c.backend);
  const encoder = new BertEncoder(REFERENCE_SPEC, { seed: 1 });
  const loss = new MultipleNegativesRankingLoss({ scale: 20, miniBatchSize: c.miniBatchSize ?? undefined });
  const optimizer = new AdamW(encoder.params, { learningRate: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  const rng = new Rng(7);
  const pool = c.workers
    ? await DataParallelPool.start({ encoder, backend: c.backend, workers: c.workers, maxRows: 2 * c.batch, maxLen: SEQ_LEN })
    : null;
  const phaseTimes: Record<string, number[]> = {};
  const step = (i: number): void => {
    const tokens = randomTokens(rng, 2 * c.batch);
    try {
      const tStep = performance.now();
      const result = pool
        ? pool.lossAndGrads(
            {
              ids: tokens.inputIds.dataSync() as Int32Array,
              mask: tokens.attentionMask.dataSync() as Float32Array,
              rows: 2 * c.batch,
              len: SEQ_LEN,
            },
            2,
            c.batch,
            loss,
            {},
            i,
          )
        : lossAndGrads(encoderRows(encoder, tokens, i), 2, c.batch, loss);
      const t0 = performance.now();
      optimizer.apply(result.grads);
      for (const g of result.grads.values()) g.dispose();
      pool?.weightsChanged();
      if (pool && i >= c.warmup) {
        for (const [k, v] of Object.entries({ ...pool.lastTimings, lossAndGrads: t0 - tStep, optimizer: performance.now() - t0 }))
          (phaseTimes[k] ??= []).push(v);
      }
    } finally {
      disposeBatch(tokens);
    }
  };
  const times: number[] = [];
  try {
    if (c.miniBatchSize === null)
      assertPlainStepFits(REFERENCE_SPEC, Math.ceil((2 * c.batch) / (1 + (c.workers ?? 0))), SEQ_LEN, tf.getBackend());
    for (let i = 0; i < c.warmup + c.steps; i++) {
      const t0 = performance.now();
      step(i);
      if (i >= c.warmup) times.push(performance.now() - t0);
    }
    // Peak tensor bytes of one more step (profiling only records; it does not time kernels).
    const info = await tf.profile(() => step(c.warmup + c.steps));
    const ms = median(times);
    await pool?.close();
    const phases = pool ? Object.fromEntries(Object.entries(phaseTimes).map(([k, v]) => [k, median(v)])) : undefined;
    return {
      msPerStep: ms,
      samplesPerSec: (1000 * c.batch) / ms,
      peakMB: info.peakBytes / 2 ** 20,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      steps: times,
      ...(phases ? { phases } : {}),
    };
  } catch (e) {
    if (e instanceof PlainBatchTooLargeError) {
      return {
        msPerStep: null,
        samplesPerSec: null,
        peakMB: null,
        rssMB: process.memoryUsage().rss / 2 ** 20,
        error: e.message,
        steps: [],
      };
    }
    throw e;
  }
}

/** One single-threaded training step on fresh random tokens (dropout seed i): wall and CPU ms. */
function timedStep(
  encoder: BertEncoder,
  optimizer: AdamW,
  loss: MultipleNegativesRankingLoss,
  rng: Rng,
  batch: number,
  i: number,
): { ms: number; cpuMs: number } {
  const tokens = randomTokens(rng, 2 * batch);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = lossAndGrads(encoderRows(encoder, tokens, i), 2, batch, loss);
    optimizer.apply(result.grads);
    for (const g of result.grads.values()) g.dispose();
  } finally {
    disposeBatch(tokens);
  }
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

interface PairResult {
  cachedMsPerStep: number;
  plainMsPerStep: number | null;
  /**
   * GradCache step 1 alone: the tape-free forward of every chunk but the last, timed in the same
   * alternation. Over the plain step it is the overhead's floor: what re-forwarding costs before any
   * per-pass bookkeeping of the smaller passes.
   */
  reforwardMsPerStep: number;
  overheadFloor: number | null;
  cachedPeakMB: number;
  plainPeakMB: number | null;
  /** The process after the cached steps alone (before any plain step grew the wasm heap). */
  rssMB: number;
  overhead: number | null;
  /**
   * The same ratio from this process's CPU time per step: on a VM whose hypervisor steals a share of
   * the core (a third of it at times here), wall time counts the stolen time and CPU time does not.
   */
  cachedCpuMsPerStep: number;
  plainCpuMsPerStep: number | null;
  overheadCpu: number | null;
  plainSkipped?: string;
}

/**
 * GradCache (mini-batch 32) against the plain step at one batch size, in one process with the steps
 * alternating (cached, plain, plain, cached, …): on a shared machine, load that comes and goes then
 * weighs on both alike, so their ratio holds even when the absolute times do not. Each alternation also
 * times GradCache's step 1 alone (the re-forwarded chunks, no tape): over the plain step, the floor of
 * the overhead. Peaks are each mode's own (tf.profile of one step); RSS is taken before the first plain
 * step.
 */
async function runGradCachePair(batch: number, steps: number): Promise<PairResult> {
  await initBackend('wasm');
  const encoder = new BertEncoder(REFERENCE_SPEC, { seed: 1 });
  const cachedLoss = new MultipleNegativesRankingLoss({ scale: 20, miniBatchSize: MINI_BATCH });
  const plainLoss = new MultipleNegativesRankingLoss({ scale: 20 });
  const optimizer = new AdamW(encoder.params, { learningRate: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  const rng = new Rng(7);
  const step = (loss: MultipleNegativesRankingLoss, i: number) => timedStep(encoder, optimizer, loss, rng, batch, i);
  step(cachedLoss, 0);
  const cachedPeak = (await tf.profile(() => step(cachedLoss, 1))).peakBytes;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  let plainSkipped: string | undefined;
  try {
    assertPlainStepFits(REFERENCE_SPEC, 2 * batch, SEQ_LEN, tf.getBackend());
  } catch (e) {
    if (!(e instanceof PlainBatchTooLargeError)) throw e;
    plainSkipped = e.message;
  }
  let plainPeak: number | null = null;
  if (!plainSkipped) {
    step(plainLoss, 2);
    plainPeak = (await tf.profile(() => step(plainLoss, 3))).peakBytes;
  }
  const reforward = (i: number): number => {
    const tokens = randomTokens(rng, 2 * batch);
    const lastStart = chunkBounds(0, 2 * batch, MINI_BATCH).at(-1)![0];
    const t0 = performance.now();
    try {
      if (lastStart > 0) embedWithoutTape(encoderRows(encoder, tokens, i), 0, lastStart, MINI_BATCH).dispose();
    } finally {
      disposeBatch(tokens);
    }
    return performance.now() - t0;
  };
  const cached: number[] = [];
  const plain: number[] = [];
  const cachedCpu: number[] = [];
  const plainCpu: number[] = [];
  const forward: number[] = [];
  for (let i = 0; i < steps; i++) {
    const order = plainSkipped ? [cachedLoss] : i % 2 ? [plainLoss, cachedLoss] : [cachedLoss, plainLoss];
    for (const loss of order) {
      const isCached = loss === cachedLoss;
      const t = step(loss, 4 + 2 * i + (isCached ? 0 : 1));
      (isCached ? cached : plain).push(t.ms);
      (isCached ? cachedCpu : plainCpu).push(t.cpuMs);
    }
    forward.push(reforward(4 + 2 * i));
  }
  const cachedMs = median(cached);
  const plainMs = plain.length ? median(plain) : null;
  const cachedCpuMs = median(cachedCpu);
  const plainCpuMs = plainCpu.length ? median(plainCpu) : null;
  const forwardMs = median(forward);
  return {
    cachedMsPerStep: cachedMs,
    plainMsPerStep: plainMs,
    reforwardMsPerStep: forwardMs,
    overheadFloor: plainMs ? forwardMs / plainMs : null,
    cachedPeakMB: cachedPeak / 2 ** 20,
    plainPeakMB: plainPeak === null ? null : plainPeak / 2 ** 20,
    rssMB,
    overhead: plainMs ? cachedMs / plainMs - 1 : null,
    cachedCpuMsPerStep: cachedCpuMs,
    plainCpuMsPerStep: plainCpuMs,
    overheadCpu: plainCpuMs ? cachedCpuMs / plainCpuMs - 1 : null,
    ...(plainSkipped ? { plainSkipped } : {}),
  };
}

interface EvalCaseResult extends EvalBenchResult {
  /** Median of the training steps (trainStep.wasm's setup) run between the evaluations. */
  trainStepMs: number;
  per100QueriesOverTrainStep: number;
}

/**
 * The evaluation (bench/evalBench.ts) alternating with training steps of the `wasm` case (one thread,
 * batch 32, plain MNRL + AdamW) in one process: the ratio of the two then holds on a machine whose speed
 * drifts between the bench's sections (by a quarter within minutes here).
 */
async function runEvalCase(o: { runs: number; warmup: number }): Promise<EvalCaseResult> {
  await initBackend('wasm');
  const encoder = new BertEncoder(REFERENCE_SPEC, { seed: 1 });
  const loss = new MultipleNegativesRankingLoss({ scale: 20 });
  const optimizer = new AdamW(encoder.params, { learningRate: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  const rng = new Rng(7);
  let i = 0;
  const trainSteps = (): number[] => Array.from({ length: 3 }, () => timedStep(encoder, optimizer, loss, rng, 32, i++).ms);
  try {
    const { between, ...r } = await runEvalBench(REFERENCE_SPEC, SEQ_LEN, o, trainSteps);
    const stepMs = median(between);
    return { ...r, trainStepMs: stepMs, per100QueriesOverTrainStep: r.msPer100Queries / stepMs };
  } finally {
    encoder.dispose();
  }
}

const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

/**
 * bench/torch_reference.py on Debian's python3-torch: OpenBLAS single-threaded per op (torch's own threads on
 * top would oversubscribe the cores: docs/performance.md#the-reference-model). Its JSON line, or why not.
 */
function torchRun(...flags: string[]): Record<string, unknown> {
  const r = spawnSync('/usr/bin/python3', [join('bench', 'torch_reference.py'), ...flags], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}) },
  });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    return { skipped: (r.stderr || 'no output').trim().split('\n').pop() };
  }
}

const torchAvailable = (args: string[]) => !args.includes('--no-torch') && existsSync('/usr/bin/python3');

/** Runs this script again with `flag json` and parses the last line it prints; undefined plus why on a crash. */
function spawnChild<T>(flag: string, arg: unknown, env: Record<string, string> = {}): { value?: T; error?: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], flag, JSON.stringify(arg)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...env },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { value: JSON.parse(line) as T };
  } catch {
    // A crash of the child (e.g. the wasm heap) is a figure too: never take the whole bench down.
    return { error: `child failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  }
}

function child(c: Case): CaseResult {
  const r = spawnChild<CaseResult>('--case', c, c.env);
  return r.value ?? { msPerStep: null, samplesPerSec: null, peakMB: null, rssMB: 0, error: r.error, steps: [] };
}

/**
 * The figures the speed targets are stated in (issue 11), from this run alone: the best wasm setup's
 * pairs/s over PyTorch's, GradCache's overhead at 32 and 128, the cached peak at 512 over that at 32, and
 * the evaluation's cost per 100 queries in training steps.
 */
function summarize(
  trainStep: Record<string, unknown>,
  gradCache: Record<string, unknown>,
  peers: Record<string, unknown> | undefined,
  evaluation: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const wasm = Object.entries(trainStep)
    .filter(([key, r]) => key.startsWith('wasm') && key !== 'wasm-stockKernels' && (r as CaseResult).samplesPerSec)
    .sort((a, b) => (b[1] as CaseResult).samplesPerSec! - (a[1] as CaseResult).samplesPerSec!);
  const best = wasm[0] as [string, CaseResult] | undefined;
  const torch = (peers?.torch as { samplesPerSec?: number } | undefined)?.samplesPerSec;
  const pair = (b: string) => gradCache[b] as PairResult | undefined;
  const torchPair = (b: string) => (peers?.torchGradCache as Record<string, { overhead?: number }> | undefined)?.[b]?.overhead ?? null;
  const stock = trainStep['wasm-stockKernels'] as CaseResult | undefined;
  const one = trainStep.wasm as CaseResult | undefined;
  const overFloor = (p: PairResult | undefined) =>
    p && p.overhead !== null && p.overheadFloor !== null ? 100 * (p.overhead - p.overheadFloor) : null;
  const cachedOverTorch = (b: string) => {
    const t = (peers?.torchGradCache as Record<string, { cachedMsPerStep?: number }> | undefined)?.[b]?.cachedMsPerStep;
    const ours = pair(b)?.cachedMsPerStep;
    return t && ours ? ours / t : null;
  };
  return {
    bestWasm: best ? { setup: best[0], samplesPerSec: best[1].samplesPerSec } : null,
    torchSamplesPerSec: torch ?? null,
    bestWasmOverTorch: best && torch ? best[1].samplesPerSec! / torch : null,
    ownKernelsSpeedup: one?.msPerStep && stock?.msPerStep ? stock.msPerStep / one.msPerStep : null,
    gradCacheOverhead32: pair('32')?.overhead ?? null,
    gradCacheOverhead128: pair('128')?.overhead ?? null,
    gradCacheOverheadCpu32: pair('32')?.overheadCpu ?? null,
    gradCacheOverheadCpu128: pair('128')?.overheadCpu ?? null,
    torchGradCacheOverhead32: torchPair('32'),
    torchGradCacheOverhead128: torchPair('128'),
    gradCacheReforwardFloor32: pair('32')?.overheadFloor ?? null,
    gradCacheReforwardFloor128: pair('128')?.overheadFloor ?? null,
    cachedPeak512Over32:
      pair('512')?.cachedPeakMB && pair('32')?.cachedPeakMB ? pair('512')!.cachedPeakMB / pair('32')!.cachedPeakMB : null,
    referenceOverTorch: best && torch ? best[1].samplesPerSec! / torch : null,
    // GradCache re-based (issue 24): its overhead over the measured floor, in points, and its step over PyTorch's.
    gradCacheOverFloorPoints32: overFloor(pair('32')),
    gradCacheOverFloorPoints128: overFloor(pair('128')),
    cachedOverTorchCached32: cachedOverTorch('32'),
    cachedOverTorchCached128: cachedOverTorch('128'),
    evalPer100QueriesOverTrainStep: (evaluation?.per100QueriesOverTrainStep as number | undefined) ?? null,
    evalPrecisionsOverFloat32: ((evaluation?.precisions as PrecisionsBenchResult | undefined)?.ratio as number | undefined) ?? null,
    evalPrecisionsOverFloat32Cpu: ((evaluation?.precisions as PrecisionsBenchResult | undefined)?.cpuRatio as number | undefined) ?? null,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const caseArg = args.indexOf('--case');
  if (caseArg >= 0) {
    console.log(JSON.stringify(await runCase(JSON.parse(args[caseArg + 1]) as Case)));
    return;
  }
  const evalArg = args.indexOf('--eval-case');
  if (evalArg >= 0) {
    console.log(JSON.stringify(await runEvalCase(JSON.parse(args[evalArg + 1]) as { runs: number; warmup: number })));
    return;
  }
  const precisionsArg = args.indexOf('--precisions-case');
  if (precisionsArg >= 0) {
    console.log(JSON.stringify(await runPrecisionsBench(JSON.parse(args[precisionsArg + 1]) as { runs: number; warmup: number })));
    return;
  }
  const realArg = args.indexOf('--real-case');
  if (realArg >= 0) {
    console.log(JSON.stringify(await runRealCase(JSON.parse(args[realArg + 1]) as RealCase)));
    return;
  }
  const pairArg = args.indexOf('--pair');
  if (pairArg >= 0) {
    const { batch, steps } = JSON.parse(args[pairArg + 1]) as { batch: number; steps: number };
    console.log(JSON.stringify(await runGradCachePair(batch, steps)));
    return;
  }
  const quick = args.includes('--quick');
  const outArg = args.indexOf('--out');
  const out = outArg >= 0 ? args[outArg + 1] : null;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const steps = quick ? 3 : 7;
  const onlyArg = args.indexOf('--only');
  const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
  const runs = (section: string) => !only || only.has(section);

  const trainStep: Record<string, unknown> = {};
  const threads = Math.max(1, (await import('node:os')).cpus().length);
  const stepCases: Array<[string, Case]> = [
    ['wasm', { backend: 'wasm', batch: 32, miniBatchSize: null, warmup: 2, steps }],
    ['cpu', { backend: 'cpu', batch: 32, miniBatchSize: null, warmup: 1, steps: quick ? 1 : 3 }],
  ];
  // Every core: the data-parallel trainer (worker threads, one wasm instance each).
  if (threads > 1)
    stepCases.splice(1, 0, [
      `wasm-${threads}threads`,
      { backend: 'wasm', batch: 32, miniBatchSize: null, warmup: 2, steps, workers: threads - 1 },
    ]);
  // The baseline in the same run: tfjs-wasm's own kernels (XNNPACK matmul, scalar Erf/Exp, op-by-op AdamW).
  stepCases.push([
    'wasm-stockKernels',
    { backend: 'wasm', batch: 32, miniBatchSize: null, warmup: 2, steps, env: { MATRYOSHKA_LAB_GEMM: 'stock' } },
  ]);
  for (const [key, c] of stepCases) {
    // The wasm step is what the torch peer is measured against: it runs whenever the peer does.
    if (!runs('trainStep') && !(key === 'wasm' && runs('torch'))) continue;
    log(`trainStep ${key} batch 32 …`);
    const r = child(c);
    trainStep[key] = {
      msPerStep: r.msPerStep,
      samplesPerSec: r.samplesPerSec,
      peakMB: r.peakMB,
      rssMB: r.rssMB,
      ...(r.phases ? { phases: r.phases } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  }

  // The PyTorch peer on the same CPU, when Debian's python3-torch is installed (apt-get install
  // python3-torch libopenblas0-pthread): the same model, loss and optimizer, OpenBLAS single-threaded
  // per op (torch's own 2 threads on top would oversubscribe the 2 cores: docs/performance.md#the-reference-model).
  let peers: Record<string, unknown> | undefined;
  if (runs('torch') && torchAvailable(args)) {
    log('torch peer …');
    const torch = torchRun('--batch', '32', '--steps', String(steps));
    const wasm = trainStep.wasm as { msPerStep: number | null };
    const torchMs = torch.msPerStep as number | undefined;
    peers = {
      torch: torchMs
        ? {
            ...torch,
            blas: existsSync(OPENBLAS) ? 'openblas-pthread' : 'default',
            wasmOverTorch: wasm.msPerStep ? wasm.msPerStep / torchMs : null,
          }
        : torch,
    };
    if (runs('gradCache')) {
      // sentence-transformers' GradCache (every mini-batch re-forwarded) on the same CPU, one thread like
      // the gradCache pair below: what the reference implementation's overhead is here.
      log('torch GradCache peer …');
      peers.torchGradCache = Object.fromEntries(
        [32, 128].map((b) => [
          String(b),
          torchRun(
            '--batch',
            String(b),
            '--threads',
            '1',
            '--gradcache',
            String(MINI_BATCH),
            '--steps',
            String(quick ? steps : b === 32 ? 21 : 11),
          ),
        ]),
      );
    }
  }

  const gradCache: Record<string, unknown> = {};
  for (const batch of runs('gradCache') ? [32, 128, 512] : []) {
    // More alternations where a step is short, so that the ratio's median settles on a noisy machine.
    const n = quick ? steps : (({ 32: 21, 128: 11 } as Record<number, number>)[batch] ?? Math.max(2, steps - 4));
    log(`gradCache batch ${batch}: cached and plain, alternating …`);
    const r = spawnChild<PairResult>('--pair', { batch, steps: n });
    gradCache[String(batch)] = r.value ?? { error: r.error };
  }

  // The encoders people fine-tune (bench/realSizes.ts): each case in its own process, so that its peak
  // RSS is the step's; the PyTorch peer on the same shapes and threads.
  let realSizes: RealSizesSection | undefined;
  if (runs('realSizes')) {
    realSizes = { cases: {} };
    for (const [key, c] of Object.entries(realSizeCases(threads, quick, !quick && !args.includes('--no-cached512')))) {
      log(`realSizes ${key} …`);
      const r = spawnChild<RealResult>('--real-case', c);
      realSizes.cases[key] = r.value ?? { error: r.error! };
    }
    if (torchAvailable(args)) {
      realSizes.torch = {};
      for (const key of ['miniLmL6Batch32', 'bertBaseBatch8']) {
        log(`realSizes torch peer ${key} …`);
        realSizes.torch[key] = torchRun(...torchFlags(realSizeCases(threads, quick)[key], threads));
      }
    }
  }

  let evaluation: Record<string, unknown> | undefined;
  if (runs('eval')) {
    log(`eval (1,000 queries, every dim, funnel) …`);
    const r = spawnChild<EvalCaseResult>('--eval-case', { runs: quick ? 1 : 5, warmup: 1 });
    evaluation = r.value ? { ...r.value } : { error: r.error };
    log(`eval precisions (the quick start's evaluation: default precisions vs float32 only, alternating) …`);
    const p = spawnChild<PrecisionsBenchResult>('--precisions-case', { runs: quick ? 3 : 9, warmup: 1 });
    evaluation.precisions = p.value ?? { error: p.error };
  }

  const result: Record<string, unknown> = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    summary: { ...summarize(trainStep, gradCache, peers, evaluation), ...summarizeRealSizes(realSizes) },
    trainStep,
    ...(runs('gradCache') ? { gradCache } : {}),
    ...(realSizes ? { realSizes } : {}),
    ...(peers ? { peers } : {}),
    ...(evaluation ? { eval: evaluation } : {}),
  };
  const panelBench = join(process.cwd(), 'bench', 'panelBench.ts');
  if (runs('panel') && !args.includes('--no-panel') && existsSync(panelBench)) {
    log('panel …');
    const r = spawnSync(process.execPath, ['--import', 'tsx', panelBench], { encoding: 'utf8', maxBuffer: 1 << 24 });
    try {
      // The panel bench prints one (pretty-printed) JSON object.
      result.panel = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    } catch {
      result.panel = { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') };
    }
    // Issue 21: fifty runs overlaid, their replays posted → the charts in view drawn (bench/panelBench.ts).
    (result.summary as Record<string, unknown>).overlay50RunsMs = (result.panel as { overlay50RunsMs?: number }).overlay50RunsMs ?? null;
  }
  const workspaceBench = join(process.cwd(), 'bench', 'workspaceBench.ts');
  if (runs('workspace') && !args.includes('--no-workspace') && existsSync(workspaceBench)) {
    log('workspace (500 runs) …');
    const r = spawnSync(process.execPath, ['--import', 'tsx', workspaceBench], { encoding: 'utf8', maxBuffer: 1 << 24 });
    try {
      result.workspace = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    } catch {
      result.workspace = { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') };
    }
    // Issue 21's figure: the panel opened on the reported 500 runs → every metric cell right.
    const cells = (result.workspace as { cells500?: { completeMs?: number | null } }).cells500;
    (result.summary as Record<string, unknown>).workspace500CellsCompleteMs = cells?.completeMs ?? null;
  }
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  if (out) writeFileSync(out, `${json}\n`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

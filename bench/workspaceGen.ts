/**
 * A generated workspace of many finished runs, written as the trainer writes them (run.json, config.json,
 * metrics.jsonl with train events per dim and eval events per dim with funnel values, log.txt,
 * checkpoints/): what `npm run bench` ("workspace") and the scale tests open. Deterministic for a seed.
 * The default is the reported case: 500 runs, about 14 MB of run folders.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsEvent, RunInfo, RunStatus, SweepRef } from '../src/protocol/runFolder';
import { mulberry32 } from '../src/common/random';

export interface WorkspaceSpec {
  /** Runs in all (default 500). */
  runs?: number;
  /** Sweeps among them: each takes `sweepSize` runs (default 0: the reported workspace had none). */
  sweeps?: number;
  sweepSize?: number;
  /** Share of runs stopped / failed (the rest completed); default 0 / 0. */
  stopped?: number;
  failed?: number;
  /** Steps per run (train event every 10 steps, eval every 100): 600 makes ~28 KB of metrics.jsonl. */
  steps?: number;
  seed?: number;
  /** The newest run started at this time (ms); runs go back one hour each. */
  newest?: number;
}

export interface GeneratedRun {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: string;
  sweep?: SweepRef;
  metricsBytes: number;
}

export interface GeneratedWorkspace {
  runsDir: string;
  /** Newest first (the order readers list them in). */
  runs: GeneratedRun[];
  /** Bytes of every file written. */
  bytes: number;
  sweeps: { id: string; name: string; runIds: string[] }[];
}

export const DIMS = [64, 32, 16, 8];
export const METRICS = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];

/**
 * The workspace of issue 21's report: 500 runs, 10 sweeps of 20 and 300 loose runs, 4,000 steps each (41
 * evaluations and 400 train lines per completed run), about 82 MB of metrics. What the bench's
 * `cells500` case and the end-to-end scale test open.
 */
export const REPORTED_WORKSPACE: WorkspaceSpec = { runs: 500, sweeps: 10, sweepSize: 20, steps: 4000, stopped: 0.06, failed: 0.03 };

/** The quick start's config as the trainer resolves it into config.json. */
function config(name: string, lr: number, miniBatchSize: number, steps: number): Record<string, unknown> {
  return {
    name,
    seed: 42,
    backend: 'wasm',
    model: {
      scratch: {
        vocabSize: 4000,
        hiddenSize: 64,
        numLayers: 2,
        numHeads: 4,
        intermediateSize: 128,
        maxSeqLength: 32,
        pooling: 'mean',
        hiddenDropout: 0.05,
        attentionDropout: 0,
        layerNorm: 'pre',
      },
    },
    data: { train: { source: 'builtin:wordnet', columns: ['anchor', 'positive'] }, evalFraction: 0.05 },
    loss: {
      type: 'MatryoshkaLoss',
      loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize },
      matryoshkaDims: DIMS,
      matryoshkaWeights: null,
      nDimsPerStep: -1,
    },
    training: {
      maxSteps: steps,
      batchSize: 64,
      learningRate: lr,
      warmupSteps: 20,
      scheduler: 'linear',
      weightDecay: 0.01,
      maxGradNorm: 1,
      logEvery: 10,
      evalEvery: 100,
      checkpointEvery: 100,
      epochs: 1,
    },
    evaluation: { metrics: METRICS, funnel: { shortlistDim: 16, rerankDim: 64, shortlistSize: 50 }, maxQueries: 500, dims: DIMS },
  };
}

function stamp(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** One run's metrics.jsonl text: what src/trainer/loop/train.ts appends (train: loss, lr, gradNorm + per-dim
 *  loss; eval: per-dim metrics + funnel values), with curves shaped by the learning rate. */
export function metricsText(rand: () => number, lr: number, steps: number, lastStep: number, t0: number): string {
  const out: string[] = [];
  const quality = 0.5 + 0.3 * Math.tanh(lr * 300) + 0.05 * rand();
  const evalAt = (step: number, time: number) => {
    const byDim: Record<string, Record<string, number>> = {};
    const progress = 1 - Math.exp(-step / 150);
    for (const d of DIMS) {
      const m: Record<string, number> = {};
      const scale = quality * progress * (0.55 + (0.45 * Math.log2(d)) / Math.log2(DIMS[0]));
      for (const [i, k] of METRICS.entries()) m[k] = Math.min(1, scale * (1 - i * 0.08) + 0.01 * rand());
      byDim[String(d)] = m;
    }
    const values: Record<string, number> = {};
    for (const k of METRICS) values[`funnel:${k}`] = byDim['64'][k] * (0.97 + 0.02 * rand());
    values['funnel:macsSaved'] = 0.703125;
    values['funnel:shortlistDim'] = 16;
    values['funnel:rerankDim'] = 64;
    const e: MetricsEvent = { step, epoch: step / 900, time, wallTime: t0 + time * 1000, split: 'eval', values, byDim };
    out.push(JSON.stringify(e));
  };
  const perStep = 0.4 + 0.2 * rand();
  evalAt(0, 0.05);
  for (let step = 10; step <= lastStep; step += 10) {
    const time = step * perStep;
    const loss = 4.5 * Math.exp(-step / (200 + 1e-3 / lr)) + 0.8 + 0.1 * rand();
    const byDim: Record<string, Record<string, number>> = {};
    for (const d of DIMS) byDim[String(d)] = { loss: (loss / DIMS.length) * (1 + (DIMS[0] / d - 1) * 0.05) + 0.01 * rand() };
    const warm = Math.min(1, step / 20);
    const e: MetricsEvent = {
      step,
      epoch: step / 900,
      time,
      wallTime: t0 + time * 1000,
      split: 'train',
      values: { loss, lr: lr * warm * (1 - step / steps), gradNorm: 1 + 5 * rand() },
      byDim,
    };
    out.push(JSON.stringify(e));
    if (step % 100 === 0 || step === steps) evalAt(step, time + 0.8);
  }
  return out.join('\n') + '\n';
}

/** Write the workspace's runs under `<root>/.mrl/runs`. */
export function generateWorkspace(root: string, spec: WorkspaceSpec = {}): GeneratedWorkspace {
  const n = spec.runs ?? 500;
  const steps = spec.steps ?? 600;
  const sweepSize = spec.sweepSize ?? 12;
  const nSweeps = Math.min(spec.sweeps ?? 0, Math.floor(n / sweepSize));
  const rand = mulberry32(spec.seed ?? 1);
  const newest = spec.newest ?? Date.parse('2026-11-01T12:00:00Z');
  const runsDir = join(root, '.mrl', 'runs');
  mkdirSync(runsDir, { recursive: true });
  const runs: GeneratedRun[] = [];
  const sweeps: GeneratedWorkspace['sweeps'] = [];
  let bytes = 0;
  const write = (file: string, text: string) => {
    writeFileSync(file, text);
    bytes += Buffer.byteLength(text);
  };
  // Sweeps take runs in contiguous blocks of start times (a sweep's runs go one after another).
  const sweepOf = (i: number): { k: number; index: number } | undefined => {
    const k = Math.floor(i / sweepSize);
    return k < nSweeps ? { k, index: sweepSize - 1 - (i % sweepSize) } : undefined;
  };
  for (let i = 0; i < n; i++) {
    const started = newest - i * 3_600_000;
    const sw = sweepOf(i);
    const lrs = [5e-4, 1e-3, 2e-3, 4e-3];
    const mbs = [8, 16, 32];
    let name = 'quickstart';
    let lr = lrs[Math.floor(rand() * lrs.length)];
    let mb = mbs[Math.floor(rand() * mbs.length)];
    let sweep: SweepRef | undefined;
    if (sw) {
      name = `lr-grid-${sw.k + 1}`;
      lr = lrs[sw.index % lrs.length];
      mb = mbs[Math.floor(sw.index / lrs.length) % mbs.length];
      const id = `${stamp(newest - (sw.k + 1) * sweepSize * 3_600_000)}-${name}`;
      sweep = { id, index: sw.index, params: { 'training.learningRate': lr, 'loss.loss.miniBatchSize': mb } };
      if (!sweeps.some((x) => x.id === id)) sweeps.push({ id, name, runIds: [] });
    }
    const r = rand();
    const status: RunStatus = r < (spec.failed ?? 0) ? 'failed' : r < (spec.failed ?? 0) + (spec.stopped ?? 0) ? 'stopped' : 'completed';
    const lastStep = status === 'completed' ? steps : Math.max(10, Math.floor((steps * (0.2 + 0.6 * rand())) / 10) * 10);
    const id = `${stamp(started)}-${name}-${Math.floor(rand() * 0x10000)
      .toString(16)
      .padStart(4, '0')}`;
    const dir = join(runsDir, id);
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    const startedAt = new Date(started).toISOString();
    const metrics = metricsText(rand, lr, steps, lastStep, started);
    const info: RunInfo = {
      id,
      name,
      status,
      pid: null,
      startedAt,
      endedAt: new Date(started + lastStep * 500).toISOString(),
      backend: 'wasm',
      backendReason: 'requested "wasm" (SIMD)',
      step: lastStep,
      totalSteps: steps,
      ...(status === 'failed' ? { error: 'out of memory' } : {}),
      ...(sweep ? { sweep } : {}),
    };
    write(join(dir, 'config.json'), JSON.stringify(config(name, lr, mb, steps), null, 2) + '\n');
    write(join(dir, 'run.json'), JSON.stringify(info, null, 2) + '\n');
    write(join(dir, 'metrics.jsonl'), metrics);
    write(join(dir, 'log.txt'), `${startedAt} started ${id}\n${info.endedAt} ${status} at step ${lastStep}\n`);
    if (status !== 'completed' && lastStep >= 100) {
      // A resumable run: its last checkpoint (only the small state file; the weights do not matter here).
      const ck = join(dir, 'checkpoints', `step-${Math.floor(lastStep / 100) * 100}`);
      mkdirSync(ck, { recursive: true });
      write(join(ck, 'state.json'), JSON.stringify({ step: Math.floor(lastStep / 100) * 100 }) + '\n');
    }
    runs.push({ id, name, status, startedAt, sweep, metricsBytes: Buffer.byteLength(metrics) });
    if (sweep) sweeps.find((s) => s.id === sweep.id)?.runIds.push(id);
  }
  return { runsDir, runs, bytes, sweeps };
}

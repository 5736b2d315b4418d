// The training loop on a tiny config: same config + seed + backend → same metrics; stop at a step and
// resume → the same curve as an uninterrupted run, no duplicated steps; a crash → status "failed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRunConfig } from '../../src/config/validate';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import type { MetricsLine, RunInfo } from '../../src/protocol/runFolder';
import { latestCheckpoint, listCheckpoints } from '../../src/trainer/loop/checkpoint';
import type { ProgressLine, ProgressSink } from '../../src/trainer/loop/report';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';
import { loadWordnet } from '../../src/data/wordnet';

const dir = mkdtempSync(join(tmpdir(), 'mrl-train-'));
// A small real data file (WordNet pairs) so the runs are quick and independent of the builtin's size.
const rows = loadWordnet()
  .rows.filter((_, i) => i % 300 === 0)
  .slice(0, 400);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

export const TINY = {
  name: 'tiny',
  seed: 7,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: {
    type: 'MatryoshkaLoss',
    loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 8 },
    matryoshkaDims: [16, 8, 4],
    nDimsPerStep: 2,
  },
  training: { maxSteps: 12, batchSize: 16, learningRate: 0.003, warmupSteps: 2, logEvery: 2, evalEvery: 4, checkpointEvery: 4 },
  evaluation: { maxQueries: 40, funnel: { shortlistDim: 4, rerankDim: 16, shortlistSize: 10 } },
};

function config(over: Record<string, unknown> = {}): ResolvedRunConfig {
  const r = validateRunConfig({ ...TINY, ...over }, join(dir, 'tiny.mrl.json'));
  assert.deepEqual(r.errors, []);
  return r.resolved!;
}

function readLines(runDir: string): MetricsLine[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsLine);
}

/** The reader's rule: a resume event drops the earlier events with step > fromStep. */
function effective(lines: MetricsLine[]): MetricsLine[] {
  const out: MetricsLine[] = [];
  for (const l of lines) {
    if ('type' in l && l.type === 'resume') {
      const from = l.fromStep;
      for (let i = out.length - 1; i >= 0; i--) if ((out[i] as { step: number }).step > from) out.splice(i, 1);
    } else out.push(l);
  }
  return out;
}

/** Events without the clock fields (time, wallTime) and the process' measurements (sys), for comparing two runs. */
function comparable(lines: MetricsLine[]): unknown[] {
  return lines.map((l) => {
    const { time: _t, wallTime: _w, sys: _s, ...rest } = l as unknown as Record<string, unknown>;
    return rest;
  });
}

function stopAt(step: number, stop: { requested: boolean }, extra?: (s: number) => void): ProgressSink {
  return {
    update: (p: ProgressLine) => {
      extra?.(p.step);
      if (p.step === step) stop.requested = true;
    },
    message: () => {},
    done: () => {},
  };
}

const quiet = () => {};

test('two runs of the same config and seed give the same metrics, event for event', async () => {
  const c = config();
  const a = join(dir, 'repro-a');
  const b = join(dir, 'repro-b');
  const pa = await prepareRun(c);
  const ra = await runTraining(pa, { runDir: a, progress: null, print: quiet });
  const rb = await runTraining(await prepareRun(c), { runDir: b, progress: null, print: quiet });
  assert.equal(ra.status, 'completed');
  assert.equal(rb.status, 'completed');
  const la = readLines(a);
  assert.deepEqual(comparable(readLines(b)), comparable(la));
  // Steps 0, 4, 8 and the end are evaluated at every dim; train events every 2 steps with per-dim losses.
  const evals = la.filter((l) => 'split' in l && l.split === 'eval') as {
    step: number;
    byDim: Record<string, Record<string, number>>;
    values: Record<string, number>;
  }[];
  assert.deepEqual(
    evals.map((e) => e.step),
    [0, 4, 8, 12],
  );
  // Funnel (shortlist 10 at dim 4, re-rank at 16): nc·4 + 10·16 multiply-adds per query instead of nc·16.
  const nc = pa.evalSet.corpus.length;
  assert.ok(nc > 10, `a corpus of ${nc}`);
  const saved = 1 - 4 / 16 - 10 / nc;
  for (const e of evals) {
    assert.deepEqual(Object.keys(e.byDim).sort(), ['16', '4', '8']);
    assert.ok(e.byDim['16']['ndcg@10'] > 0 && e.byDim['16']['ndcg@10'] <= 1);
    assert.ok(
      Math.abs(e.values['funnel:macsSaved'] - saved) < 1e-12,
      `step ${e.step}: funnel:macsSaved ${e.values['funnel:macsSaved']}, expected ${saved}`,
    );
  }
  const trains = la.filter((l) => 'split' in l && l.split === 'train') as {
    step: number;
    values: Record<string, number>;
    byDim: Record<string, Record<string, number>>;
  }[];
  assert.deepEqual(
    trains.map((e) => e.step),
    [2, 4, 6, 8, 10, 12],
  );
  assert.ok(trains.every((e) => Number.isFinite(e.values.loss) && Object.keys(e.byDim).length >= 2));
  // Each train event carries the process' CPU (% of one core) and resident memory (MiB); eval events do not.
  for (const e of trains as { sys?: Record<string, number> }[]) {
    assert.deepEqual(Object.keys(e.sys ?? {}), ['cpu', 'rssMB']);
    assert.ok(e.sys!.cpu >= 0 && e.sys!.rssMB > 0, JSON.stringify(e.sys));
  }
  assert.ok(evals.every((e) => !('sys' in e)));
  const info = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'completed');
  // Where its data came from: the file as the config names it, the hash of its bytes, its rows. No config
  // file was given (prepared in-process), so no git.
  const bytes = readFileSync(join(dir, 'pairs.jsonl'));
  assert.deepEqual(info.data, [
    {
      split: 'train',
      path: 'pairs.jsonl',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      rows: bytes.toString().trim().split('\n').length,
    },
  ]);
  assert.equal('git' in info, false);
  assert.equal(info.pid, null);
  assert.equal(info.step, 12);
  // Before the first step, a timed warm-up (which left the metrics above as they would be without it):
  // its estimate in run.json and log.txt; as the run went, its pace and training time.
  assert.ok(info.estimate && info.estimate.secondsPerStep > 0 && info.estimate.memoryBytes > 0, JSON.stringify(info.estimate));
  assert.equal(info.estimate.steps, 12);
  assert.equal(info.estimate.estimatedBytes, pa.memory.total);
  assert.match(
    readFileSync(join(a, 'log.txt'), 'utf8'),
    /estimate: ≈ [\d.]+ s\/step, ≈ [\d.]+ (s|min) for 12 steps, ≈ \d+ MB \(a warm-up step on 1 thread/,
  );
  const { secondsPerStep, elapsedSeconds, progressAt } = info as Required<
    Pick<RunInfo, 'secondsPerStep' | 'elapsedSeconds' | 'progressAt'>
  >;
  assert.ok(secondsPerStep > 0 && elapsedSeconds > 0 && progressAt <= Date.now(), JSON.stringify(info));
  assert.ok(existsSync(join(a, 'model', 'model.safetensors')) && existsSync(join(a, 'model', 'tokenizer.json')));
  assert.deepEqual(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')), c.config, 'config.json is the resolved config');
  // A different seed is a different run (the comparison above is not vacuous).
  const c2 = join(dir, 'repro-c');
  await runTraining(await prepareRun(config({ seed: 8 })), { runDir: c2, progress: null, print: quiet });
  assert.notDeepEqual(comparable(readLines(c2)), comparable(la));
});

test('stop at a step (between log points), resume: the curve continues with the same metrics and no duplicated steps', async () => {
  const c = config();
  const full = join(dir, 'full');
  await runTraining(await prepareRun(c), { runDir: full, progress: null, print: quiet });

  const part = join(dir, 'part');
  const stop = { requested: false };
  const r1 = await runTraining(await prepareRun(c), { runDir: part, progress: stopAt(5, stop), stop, print: quiet });
  assert.equal(r1.status, 'stopped');
  assert.equal(r1.step, 5);
  const info = JSON.parse(readFileSync(join(part, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'stopped');
  assert.equal(info.pid, null);
  assert.deepEqual(listCheckpoints(part), [4, 5]);

  const ckpt = latestCheckpoint(part)!;
  assert.equal(ckpt.state.step, 5);
  const r2 = await runTraining(await prepareRun(c, { resumeFrom: ckpt }), { runDir: part, resumeFrom: ckpt, progress: null, print: quiet });
  assert.equal(r2.status, 'completed');
  const lines = readLines(part);
  assert.deepEqual(
    lines.filter((l) => 'type' in l && l.type === 'resume').map((l) => (l as { fromStep: number }).fromStep),
    [5],
  );
  const eff = effective(lines);
  for (const split of ['train', 'eval']) {
    const steps = eff.filter((l) => (l as { split?: string }).split === split).map((l) => (l as { step: number }).step);
    assert.deepEqual(
      steps,
      [...new Set(steps)].sort((x, y) => x - y),
      `${split} steps increase, no duplicates`,
    );
  }
  assert.deepEqual(comparable(eff), comparable(readLines(full)));
  assert.equal((JSON.parse(readFileSync(join(part, 'run.json'), 'utf8')) as RunInfo).status, 'completed');
});

test('a failure inside the run (the checkpoint folder cannot be written) ends with status "failed" and the error', async () => {
  const runDir = join(dir, 'crash');
  const breakDisk = (step: number) => {
    if (step === 3) {
      rmSync(join(runDir, 'checkpoints'), { recursive: true, force: true });
      writeFileSync(join(runDir, 'checkpoints'), 'not a folder');
    }
  };
  const stop = { requested: false };
  const r = await runTraining(await prepareRun(config()), { runDir, progress: stopAt(-1, stop, breakDisk), stop, print: quiet });
  assert.equal(r.status, 'failed');
  assert.equal(r.step, 4);
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'failed');
  assert.match(String(info.error), /ENOTDIR|EEXIST|not a directory/i);
  assert.ok(info.endedAt);
  assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /failed/);
});

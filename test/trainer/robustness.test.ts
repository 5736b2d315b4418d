// Issue 8, trainer side: nothing a user does can wedge a run. Worker bundle missing → 0 workers and a
// warning; a failure after the run folder exists → "failed"; the folder appears whole or not at all and
// is locked; checkpoints that do not read back are skipped; a torn metrics line is ended before appending;
// the step count is arithmetic; memory and UTF-8 are checked before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRunConfig } from '../../src/config/validate';
import { parseMetricsJsonl } from '../../src/protocol/runFolder';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import type { RunInfo } from '../../src/protocol/runFolder';
import { latestCheckpoint, latestReadableCheckpoint, listCheckpoints } from '../../src/trainer/loop/checkpoint';
import { epochBatchCount, epochBatches } from '../../src/data/batches';
import { loadFile } from '../../src/data/files';
import { DataError } from '../../src/data/types';
import { loadWordnet } from '../../src/data/wordnet';
import type { ProgressLine, ProgressSink } from '../../src/trainer/loop/report';
import { acquireRunLock, releaseRunLock, RunLockedError, RunWriter } from '../../src/runs/runWriter';
import { liveLockHolder } from '../../src/runs/trainerProcess';
import { prepareRun, RunInputError } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';
import { runAsync, WorkAbandoned } from '../../src/common/cooperative';
import { embedTextsWork } from '../../src/trainer/eval/embed';
import { evaluateWork } from '../../src/trainer/eval/evaluator';
import { buildEvalSet } from '../../src/data/evalSet';
import { topK } from '../../src/trainer/eval/metrics';

const dir = mkdtempSync(join(tmpdir(), 'mrl-robust-'));
const rows = loadWordnet()
  .rows.filter((_, i) => i % 300 === 0)
  .slice(0, 400);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

const TINY = {
  name: 'tiny',
  seed: 7,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 8 }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 8, batchSize: 16, learningRate: 0.003, logEvery: 2, evalEvery: 4, checkpointEvery: 2 },
  evaluation: { maxQueries: 20 },
};

function resolved(over: Record<string, unknown> = {}): ResolvedRunConfig {
  const r = validateRunConfig({ ...TINY, ...over }, join(dir, 'tiny.mrl.json'));
  assert.deepEqual(r.errors, []);
  return r.resolved!;
}

function config(over: Record<string, unknown> = {}): RunConfig {
  return resolved(over).config;
}

const quiet = () => {};
const info = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;

function stopAt(step: number, stop: { requested: boolean }): ProgressSink {
  return { update: (p: ProgressLine) => void (p.step === step && (stop.requested = true)), message: () => {}, done: () => {} };
}

test('epochBatchCount = epochBatches().length for every n, batch size, with and without distinct texts', () => {
  for (const distinctTexts of [false, true]) {
    for (const n of [0, 1, 2, 3, 7, 16, 17, 18, 33, 100, 257]) {
      // Repeated texts force the deferral path of distinctTexts.
      const texts = [Array.from({ length: n }, (_, i) => `a${i % 5}`), Array.from({ length: n }, (_, i) => `p${i % 3}`)];
      for (const batchSize of [2, 3, 4, 8, 16, 64]) {
        for (const epoch of [0, 3]) {
          const got = epochBatches(texts, epoch, { batchSize, seed: 1, distinctTexts }).length;
          assert.equal(epochBatchCount(n, batchSize), got, `n=${n} bs=${batchSize} distinct=${distinctTexts}`);
        }
      }
    }
  }
});

test('a huge epoch count does not stall the start: totalSteps is computed, the run folder appears at once', async () => {
  const p = await prepareRun(resolved({ training: { ...TINY.training, maxSteps: -1, epochs: 100000 } }));
  const runDir = join(dir, 'many-epochs');
  const stop = { requested: true }; // stop right away: only the start matters here
  const r = await runTraining(p, { runDir, progress: null, print: quiet, stop });
  // The run started (its folder, with the arithmetic step count) and honoured the stop before any step.
  assert.equal(r.status, 'stopped');
  assert.equal(r.totalSteps, epochBatchCount(p.train.texts[0].length, 16) * 100000);
  assert.equal(info(runDir).status, 'stopped');
  assert.equal(info(runDir).totalSteps, r.totalSteps);
  assert.equal(info(runDir).step, 0, 'no step trained');
});

test('worker bundle missing: the run completes on this thread alone, with a warning in log.txt and on stderr', async () => {
  const runDir = join(dir, 'no-worker');
  const p = await prepareRun(resolved());
  const messages: string[] = [];
  const progress: ProgressSink = { update: () => {}, message: (s) => void messages.push(s), done: () => {} };
  const r = await runTraining(p, { runDir, progress, print: quiet, workers: 2, workerScript: join(dir, 'missing', 'trainerWorker.js') });
  assert.equal(r.status, 'completed', r.error?.message);
  const log = readFileSync(join(runDir, 'log.txt'), 'utf8');
  assert.match(log, /warning: the 2 worker thread\(s\) did not start \(.*missing.*\); training on this thread alone/);
  assert.ok(messages.some((m) => /warning: the 2 worker thread/.test(m)));
  assert.equal((info(runDir) as RunInfo & { workers?: number }).workers, 0);
});

test('a failure after the run folder exists (a checkpoint of another model) ends "failed", never "running"', async () => {
  const a = join(dir, 'shape-a');
  const stop = { requested: false };
  const r1 = await runTraining(await prepareRun(resolved()), { runDir: a, progress: stopAt(2, stop), stop, print: quiet });
  assert.equal(r1.status, 'stopped');
  const ckpt = latestCheckpoint(a)!;
  // A config whose encoder has other shapes: restoring the checkpoint throws inside runTraining.
  const other = resolved({ model: { scratch: { ...TINY.model.scratch, intermediateSize: 24 } } });
  const r2 = await runTraining(await prepareRun(other, { resumeFrom: ckpt }), {
    runDir: a,
    resumeFrom: ckpt,
    progress: null,
    print: quiet,
  });
  assert.equal(r2.status, 'failed');
  const i = info(a);
  assert.equal(i.status, 'failed');
  assert.match(String(i.error), /shape/);
  assert.equal(i.pid, null);
  assert.equal(liveLockHolder(a), undefined);
  assert.equal(existsSync(join(a, '.lock')), false, 'the lock is released');
});

test('run folder: built under a dot-name and renamed (whole or absent), with a lock; an occupied folder is refused', () => {
  const runs = join(dir, 'runs');
  const runDir = join(runs, 'r1');
  // What a trainer killed while building its folder leaves (a dead pid): cleaned by the next creation.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(join(runs, `.r0.creating-${dead}`, 'checkpoints'), { recursive: true });
  const w = RunWriter.create(
    runDir,
    {
      id: 'r1',
      name: 'x',
      status: 'running',
      pid: process.pid,
      startedAt: '',
      endedAt: null,
      backend: 'cpu',
      step: 0,
      totalSteps: 1,
    } as RunInfo,
    config(),
  );
  assert.deepEqual(readdirSync(runs), ['r1'], 'no temporary folder left beside it');
  assert.deepEqual(readdirSync(runDir).sort(), ['.lock', 'checkpoints', 'config.json', 'run.json']);
  assert.equal(JSON.parse(readFileSync(join(runDir, '.lock'), 'utf8')).pid, process.pid);
  w.log('hello');
  assert.throws(() => RunWriter.create(runDir, info(runDir), config()), /already holds a run/);
  const busy = join(runs, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  assert.throws(() => RunWriter.create(busy, info(runDir), config()), /not an empty folder/);
  assert.deepEqual(readdirSync(busy), ['notes.txt']);
  assert.ok(!readdirSync(runs).some((n) => n.includes('.creating-')));
});

test('lock: a live trainer holds it (RunLockedError), a dead or reused pid is stale and taken over', async () => {
  const runDir = join(dir, 'locked');
  mkdirSync(runDir);
  // A live process holding the lock, with its real command line.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r)); // exec'd: /proc holds its command line
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replace(/\0$/, '');
    writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid: child.pid, cmdline, since: '' }));
    assert.equal(liveLockHolder(runDir), child.pid);
    assert.throws(
      () => acquireRunLock(runDir),
      (e: unknown) => e instanceof RunLockedError && /pid \d+/.test(e.message),
    );
    // The same pid running another program (pid reuse) does not hold the lock.
    writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid: child.pid, cmdline: 'node\0dist/trainer.js\0--config\0x', since: '' }));
    assert.equal(liveLockHolder(runDir), undefined);
    acquireRunLock(runDir);
    assert.equal(JSON.parse(readFileSync(join(runDir, '.lock'), 'utf8')).pid, process.pid);
    releaseRunLock(runDir);
    assert.equal(existsSync(join(runDir, '.lock')), false);
  } finally {
    child.kill('SIGKILL');
  }
  // A dead pid: stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid: dead, cmdline: 'x', since: '' }));
  acquireRunLock(runDir);
  assert.equal(JSON.parse(readFileSync(join(runDir, '.lock'), 'utf8')).pid, process.pid);
  releaseRunLock(runDir);
  // A torn (empty) lock: stale.
  writeFileSync(join(runDir, '.lock'), '');
  acquireRunLock(runDir);
  releaseRunLock(runDir);
});

test('resume: an unreadable latest checkpoint falls back to the previous one (logged); temp folders are ignored and removed', async () => {
  const runDir = join(dir, 'corrupt');
  const stop = { requested: false };
  await runTraining(await prepareRun(resolved()), { runDir, progress: stopAt(5, stop), stop, print: quiet });
  assert.deepEqual(listCheckpoints(runDir), [4, 5]);
  // A truncated model file in the latest checkpoint; a cut-short temp folder beside it.
  const latest = join(runDir, 'checkpoints', 'step-5');
  writeFileSync(join(latest, 'model.safetensors'), readFileSync(join(latest, 'model.safetensors')).subarray(0, 100));
  mkdirSync(join(runDir, 'checkpoints', 'step-6.tmp-999999'));
  writeFileSync(join(runDir, 'checkpoints', 'step-6.tmp-999999', 'state.json'), '{"step": 6');
  assert.deepEqual(listCheckpoints(runDir), [4, 5]);
  const logged: string[] = [];
  const ckpt = latestReadableCheckpoint(runDir, (s) => void logged.push(s))!;
  assert.equal(ckpt.state.step, 4);
  assert.match(logged.join('\n'), /step-5 is unreadable .*falling back to step 4/);
  const r = await runTraining(await prepareRun(resolved(), { resumeFrom: ckpt }), {
    runDir,
    resumeFrom: ckpt,
    progress: null,
    print: quiet,
  });
  assert.equal(r.status, 'completed', r.error?.message);
  assert.ok(!readdirSync(join(runDir, 'checkpoints')).some((n) => n.includes('.tmp-')), 'temp folders cleaned at resume start');
  assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /removed 1 unfinished checkpoint folder\(s\): step-6\.tmp-999999/);
  // A corrupt state.json is skipped the same way.
  const other = join(dir, 'corrupt-state');
  const stop2 = { requested: false };
  await runTraining(await prepareRun(resolved()), { runDir: other, progress: stopAt(5, stop2), stop: stop2, print: quiet });
  writeFileSync(join(other, 'checkpoints', 'step-5', 'state.json'), '{"step": 5, "epo');
  assert.equal(latestReadableCheckpoint(other)!.state.step, 4);
});

test('resume after a torn last metrics line: the line is ended first, the resume marker parses on a line of its own', async () => {
  const runDir = join(dir, 'torn');
  const stop = { requested: false };
  await runTraining(await prepareRun(resolved()), { runDir, progress: stopAt(4, stop), stop, print: quiet });
  // What a kill -9 in the middle of an append leaves.
  appendFileSync(join(runDir, 'metrics.jsonl'), '{"step": 5, "epoch": 0.3, "split": "tr');
  const ckpt = latestReadableCheckpoint(runDir)!;
  const r = await runTraining(await prepareRun(resolved(), { resumeFrom: ckpt }), {
    runDir,
    resumeFrom: ckpt,
    progress: null,
    print: quiet,
  });
  assert.equal(r.status, 'completed');
  const parsed = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.equal(parsed.invalid, 1, 'only the torn fragment is invalid');
  const resumes = parsed.lines.filter((l) => 'type' in l && l.type === 'resume');
  assert.deepEqual(
    resumes.map((l) => (l as { fromStep: number }).fromStep),
    [4],
  );
});

test('memory: a batch that cannot fit is refused before anything slow, naming /training/batchSize and what fits', async () => {
  // "Before anything slow": before the data is even read, so a data file that does not exist is not what is reported.
  const valid = resolved({ loss: { type: 'MultipleNegativesRankingLoss' }, training: { ...TINY.training, batchSize: 65536 } });
  const missing: RunConfig = {
    ...valid.config,
    data: { ...valid.config.data, train: { ...valid.config.data.train, source: 'no-such-file.jsonl' } },
  };
  const c: ResolvedRunConfig = { ...valid, config: missing };
  await assert.rejects(prepareRun(c), (e: unknown) => {
    assert.ok(e instanceof RunInputError, String(e));
    assert.equal(e.path, '/training/batchSize');
    assert.match(e.message, /a step of 65536 rows needs about [\d.]+ GB .*A batchSize of at most \d+ fits/);
    return true;
  });
  // The same config with a batch that fits gets as far as the data: the missing file is what stops it then.
  await assert.rejects(
    prepareRun({ ...c, config: { ...c.config, training: { ...c.config.training, batchSize: 16 } } }),
    (e: unknown) => e instanceof DataError,
    'the data is read after the memory check',
  );
  // The schema's own limit: 1e6 rows is a typo.
  const v = validateRunConfig({ ...TINY, training: { ...TINY.training, batchSize: 1_000_000 } }, join(dir, 'x.mrl.json'));
  assert.ok(v.errors.some((e) => e.path === '/training/batchSize'));
  const ep = validateRunConfig({ ...TINY, training: { ...TINY.training, epochs: 1e9 } }, join(dir, 'x.mrl.json'));
  assert.ok(ep.errors.some((e) => e.path === '/training/epochs'));
});

test('invalid UTF-8 in a data file: a DataError naming the file and line (JSONL, CSV, TSV)', () => {
  const bad = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + Latin-1 é
  const cases: [string, Buffer][] = [
    [
      'latin1.jsonl',
      Buffer.concat([
        Buffer.from('{"anchor":"a","positive":"b"}\n{"anchor":"c","positive":"d"}\n{"anchor":"'),
        bad,
        Buffer.from('","positive":"e"}\n'),
      ]),
    ],
    ['latin1.csv', Buffer.concat([Buffer.from('anchor,positive\na,b\n'), bad, Buffer.from(',x\n')])],
    ['latin1.tsv', Buffer.concat([Buffer.from('anchor\tpositive\na\tb\n'), bad, Buffer.from('\tx\n')])],
  ];
  for (const [name, bytes] of cases) {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    assert.throws(
      () => loadFile(f),
      (e: unknown) =>
        e instanceof DataError && e.issues[0].file === f && e.issues[0].line === 3 && /invalid UTF-8/.test(e.issues[0].message),
      name,
    );
  }
});

test('topK keeps the full sort order (score desc, then index) with and without candidates', () => {
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let t = 0; t < 200; t++) {
    const n = 1 + Math.floor(rnd() * 300);
    const s = new Float32Array(n).map(() => Math.round(rnd() * 10) / 10); // many ties
    const k = Math.floor(rnd() * 120);
    const all = Array.from({ length: n }, (_, j) => j);
    const cand = all.filter(() => rnd() < 0.5);
    const bySort = (pool: number[]) =>
      pool
        .slice()
        .sort((a, b) => s[b] - s[a] || a - b)
        .slice(0, k);
    assert.deepEqual(topK(s, 0, n, k), bySort(all));
    assert.deepEqual(topK(s, 0, n, k, cand), bySort(cand));
  }
});

test('an evaluation of tens of thousands of texts yields to the event loop and is abandoned midway when asked', async () => {
  const p = await prepareRun(resolved());
  const wn = loadWordnet().rows.slice(0, 30000);
  const set = buildEvalSet(
    {
      columns: ['anchor', 'positive'],
      texts: [wn.map((r) => r.anchor as string), wn.map((r) => r.positive as string)],
      origins: [],
      groups: [],
    },
    30000,
  );
  const stop = { requested: false };
  // The stop is requested from another event-loop task (as a signal handler is): it runs only if the
  // evaluation yields, and the next yield must abandon it — no batch embedded after the request.
  let batchesAtRequest = -1;
  setImmediate(() => {
    stop.requested = true;
    batchesAtRequest = batches;
  });
  let batches = 0;
  const embed = function* (texts: string[]) {
    const w = embedTextsWork(p.encoder, p.tokenizer, texts, { maxSeqLength: 12, batchSize: 128 });
    for (;;) {
      const r = w.next();
      if (r.done) return r.value;
      batches++;
      yield;
    }
  };
  const total = Math.ceil((set.queries.length + set.corpus.length) / 128);
  await assert.rejects(
    runAsync(evaluateWork(set, embed, p.encoder.dim, { dims: [16, 8], metrics: ['ndcg@10'], funnel: null }), {
      abort: () => stop.requested,
      what: 'the evaluation',
    }),
    WorkAbandoned,
  );
  assert.ok(batchesAtRequest >= 1, 'the evaluation yielded to the event loop while under way');
  assert.ok(batchesAtRequest < total, `the request came midway (after ${batchesAtRequest} of ${total} embedding batches)`);
  assert.equal(batches, batchesAtRequest, 'abandoned at the next yield: no batch embedded after the request');
});

// The CLI under the signals and mistakes of issue 8: SIGTERM while preparing exits during the preparation
// writing nothing; SIGTERM during an evaluation mid-run abandons it ("stopped", checkpoint); a huge epoch
// count starts; --resume of a live run is refused; an impossible batch is refused with its JSON pointer
// before the data is read; a missing worker bundle means one thread and a warning, never a dead run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunInfo } from '../../src/protocol/runFolder';
import { loadWordnet } from '../../src/data/wordnet';

const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'mrl-clistop-'));
writeFileSync(join(dir, 'package.json'), '{}');
const rows = loadWordnet()
  .rows.filter((_, i) => i % 200 === 0)
  .slice(0, 600);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

// builtin:wordnet (~160k rows), a vocabulary to learn, an epoch count that is a typo, a large eval.
const BIG = {
  name: 'big',
  seed: 3,
  backend: 'wasm',
  model: { scratch: { vocabSize: 8000, hiddenSize: 32, numLayers: 1, numHeads: 2, intermediateSize: 64, maxSeqLength: 32 } },
  data: { train: { source: 'builtin:wordnet' }, evalFraction: 0.25 },
  loss: { type: 'MultipleNegativesRankingLoss' },
  training: { epochs: 100000, batchSize: 16, logEvery: 1, evalEvery: 0, checkpointEvery: 0 },
  evaluation: { maxQueries: 30000 },
};
const SMALL = {
  name: 'small',
  seed: 3,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
  loss: { type: 'MultipleNegativesRankingLoss' },
  training: { maxSteps: 6, batchSize: 16, logEvery: 1, evalEvery: 0, checkpointEvery: 0 },
  evaluation: { maxQueries: 20 },
};

function writeConfig(name: string, json: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(json, null, 2));
  return p;
}

function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; stderr: () => string; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stderr: () => err, exit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('SIGTERM while preparing (loading builtin:wordnet): exit 143 before the preparation ends, no run folder', async () => {
  const f = writeConfig('prep.mrl.json', BIG);
  const run = startCli(['--config', f]);
  try {
    await waitFor(() => /backend: /.test(run.stderr()), 'the backend line (data loading starts)');
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    assert.equal(code, 143, run.stderr());
    assert.match(run.stderr(), /SIGTERM: stopped before the run started/);
    // Honoured during the preparation (its long phases yield), not after it: its last lines never came.
    assert.doesNotMatch(run.stderr(), /^eval: |^run folder: /m, 'the preparation did not run to its end');
    const runs = join(dir, '.mrl', 'runs');
    assert.ok(!existsSync(runs) || readdirSync(runs).length === 0, 'nothing written');
  } finally {
    run.child.kill('SIGKILL');
  }
});

test('epochs 100000 on builtin:wordnet: the run starts; --resume of it is refused (exit 2); SIGTERM mid-evaluation abandons it, "stopped"', async () => {
  const f = writeConfig('huge.mrl.json', BIG);
  const runDir = join(dir, 'huge-run');
  const run = startCli(['--config', f, '--out', runDir, '--workers', '0']);
  try {
    await waitFor(() => existsSync(join(runDir, 'run.json')), 'the run folder');
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.status, 'running');
    assert.ok(info.totalSteps! > 1e8, `totalSteps ${info.totalSteps}`);
    // Another trainer may not write this run.
    const again = spawnSync(process.execPath, ['--import', TSX, CLI, '--resume', runDir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /is still running \(pid \d+ holds its lock\); stop it first/);
    // The initial evaluation (tens of thousands of texts) is under way: a stop abandons it.
    assert.ok(
      !readFileSync(join(runDir, 'metrics.jsonl'), { encoding: 'utf8', flag: 'a+' }).includes('"eval"'),
      'still in the first evaluation',
    );
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    const done = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(done.status, 'stopped');
    assert.ok(existsSync(join(runDir, 'checkpoints', `step-${done.step}`, 'state.json')));
    assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /the evaluation at step 0 abandoned on request/);
    assert.equal(existsSync(join(runDir, '.lock')), false);
  } finally {
    run.child.kill('SIGKILL');
  }
});

test('an impossible batch: exit 2 before the data is read, with file: /training/batchSize: and what fits, no run folder', () => {
  const f = writeConfig('mem.mrl.json', { ...SMALL, training: { ...SMALL.training, batchSize: 65536 } });
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, '--config', f, '--out', join(dir, 'mem-run')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /mem\.mrl\.json: \/training\/batchSize: a step of 65536 rows needs about [\d.]+ GB.*A batchSize of at most \d+ fits/,
  );
  assert.match(r.stderr, /^backend: /m);
  assert.doesNotMatch(r.stderr, /^data: /m, 'refused before the data was loaded');
  assert.equal(existsSync(join(dir, 'mem-run')), false);
});

test('worker bundle missing (MRL_TRAINER_WORKER → nothing): the run completes on one thread with a warning', () => {
  const f = writeConfig('noworker.mrl.json', SMALL);
  const runDir = join(dir, 'noworker-run');
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, '--config', f, '--out', runDir, '--workers', '1'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, MRL_TRAINER_WORKER: join(dir, 'dist', 'trainerWorker.js') },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: the 1 worker thread\(s\) did not start/);
  assert.match(readFileSync(join(runDir, 'log.txt'), 'utf8'), /warning: the 1 worker thread\(s\) did not start/);
  assert.equal((JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo).status, 'completed');
});

test('--out naming a folder that holds other files: exit 2, the folder untouched', () => {
  const out = join(dir, 'occupied');
  mkdirSync(out);
  writeFileSync(join(out, 'mine.txt'), 'keep');
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, '--config', writeConfig('occ.mrl.json', SMALL), '--out', out], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /exists and is not an empty folder/);
  assert.deepEqual(readdirSync(out), ['mine.txt']);
});

test('SIGHUP (the terminal closed) or a second SIGTERM mid-run: exits at once, the run is marked stopped, never left running', async () => {
  const f = writeConfig('hup.mrl.json', { ...SMALL, training: { ...SMALL.training, maxSteps: 100000, checkpointEvery: 5 } });
  for (const signals of [['SIGHUP'], ['SIGTERM', 'SIGTERM']] as const) {
    const runDir = join(dir, `hup-run-${signals.length}`);
    const run = startCli(['--config', f, '--out', runDir, '--workers', '0']);
    try {
      await waitFor(() => existsSync(join(runDir, 'checkpoints', 'step-5')), 'the first checkpoint');
      for (const s of signals) run.child.kill(s);
      const { code } = await run.exit;
      assert.ok(signals.length === 1 ? code === 129 : code === 143 || code === 0, `exit ${code}: ${run.stderr()}`);
      const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
      assert.equal(info.status, 'stopped');
      assert.equal(info.pid, null);
      assert.equal(existsSync(join(runDir, '.lock')), false, 'the lock is released');
    } finally {
      run.child.kill('SIGKILL');
    }
  }
});

test('training data too small for one batch: exit 2 naming /data/train, no run folder', () => {
  writeFileSync(join(dir, 'one.jsonl'), JSON.stringify({ anchor: 'a cat', positive: 'a feline' }) + '\n');
  const f = writeConfig('one.mrl.json', { ...SMALL, data: { train: { source: 'one.jsonl' }, eval: { source: 'pairs.jsonl' } } });
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, '--config', f, '--out', join(dir, 'one-run')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /one\.mrl\.json: \/data\/train: 1 training row\(s\): not enough for one batch/);
  assert.equal(existsSync(join(dir, 'one-run')), false);
});

// Issue 22 §3, the races left in the run folder: many trainers taking over one stale lock at once (one
// wins); two resumes racing across a long preparation (the second is refused: the lock is taken before
// the state is read); a --out taken by another trainer while this one prepared (a refusal, exit 2); a
// stop during the step-0 evaluation (the resumed run evaluates step 0 first).
// The CLI tests hold a trainer inside its preparation without timing: its data file is a FIFO, which
// prepare reads (src/data/files.ts) and which blocks until the test writes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateRunConfig } from '../../src/config/validate';
import { acquireRunLock, releaseRunLock } from '../../src/runs/runWriter';
import { loadWordnet } from '../../src/data/wordnet';
import { applyResume } from '../../src/insights/metricRules';
import { parseMetricsJsonl, type RunInfo } from '../../src/protocol/runFolder';
import { latestReadableCheckpoint } from '../../src/trainer/loop/checkpoint';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';

const CLI = resolve('src/trainer/cli/main.ts');
const TAKER = resolve('test/trainer/lockTaker.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'mrl-races-'));
writeFileSync(join(dir, 'package.json'), '{}');
const rows = loadWordnet()
  .rows.filter((_, i) => i % 300 === 0)
  .slice(0, 400);
const PAIRS = rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n';
writeFileSync(join(dir, 'pairs.jsonl'), PAIRS);

const TINY = {
  name: 'tiny',
  seed: 7,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: { type: 'MultipleNegativesRankingLoss' },
  training: { maxSteps: 4, batchSize: 16, logEvery: 1, evalEvery: 2, checkpointEvery: 2 },
  evaluation: { maxQueries: 20 },
};

const isLinux = process.platform === 'linux';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, String(r.stderr));
}

/** A pid that no process has now (a child that exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

interface Cli {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}
function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args, '--workers', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exit };
}
function runCli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args, '--workers', '0'], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stderr: r.stderr };
}

/** The effective events of a run's metrics.jsonl, and its resume markers. */
function metricsOf(runDir: string) {
  const file = join(runDir, 'metrics.jsonl');
  const { lines } = parseMetricsJsonl(existsSync(file) ? readFileSync(file, 'utf8') : '');
  return { events: applyResume(lines), resumes: lines.filter((l) => 'type' in l && l.type === 'resume') };
}

test(
  'stale lock: of 8 trainers taking it over at the same instant, exactly one wins (30 rounds)',
  { skip: !isLinux, timeout: 300_000 },
  async () => {
    const root = join(dir, 'takers');
    const N = 8;
    const ROUNDS = 30;
    mkdirSync(root);
    for (let r = 0; r < ROUNDS; r++) {
      mkdirSync(join(root, `run-${r}`));
      // A lock whose trainer died (kill -9): stale.
      const lock = { pid: deadPid(), cmdline: 'node\0dist/trainer.js', since: new Date().toISOString(), host: hostname() };
      writeFileSync(join(root, `run-${r}`, '.lock'), JSON.stringify(lock) + '\n');
      mkfifo(join(root, `go-${r}`));
    }
    const out = new Map<number, string>();
    const results: string[][] = Array.from({ length: ROUNDS }, () => []);
    const ready: number[] = Array.from({ length: ROUNDS }, () => 0);
    const children = Array.from({ length: N }, () => {
      const c = spawn(process.execPath, ['--import', TSX, TAKER, root, String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
      out.set(c.pid!, '');
      c.stdout!.on('data', (d) => {
        const text = out.get(c.pid!)! + d;
        const lines = text.split('\n');
        out.set(c.pid!, lines.pop()!);
        for (const l of lines) {
          const m = /^ready (\d+)$/.exec(l);
          if (m) ready[Number(m[1])]++;
          const k = /^(\d+) (.*)$/.exec(l);
          if (k) results[Number(k[1])].push(`${c.pid} ${k[2]}`);
        }
      });
      return c;
    });
    try {
      for (let r = 0; r < ROUNDS; r++) {
        await waitFor(() => ready[r] === N, `the takers of round ${r}`);
        // Opening the FIFO for writing releases every taker blocked on it at once.
        const go = await open(join(root, `go-${r}`), 'w');
        try {
          await waitFor(() => results[r].length === N, `the results of round ${r}`);
        } finally {
          await go.close();
        }
      }
      for (let r = 0; r < ROUNDS; r++) {
        const won = results[r].filter((x) => x.endsWith(' won'));
        assert.equal(won.length, 1, `round ${r}: ${results[r].join(', ')}`);
        assert.deepEqual(
          results[r].filter((x) => !/ (won|locked)$/.test(x)),
          [],
          `round ${r}: every other taker is refused`,
        );
        const lock = JSON.parse(readFileSync(join(root, `run-${r}`, '.lock'), 'utf8')) as { pid: number };
        assert.equal(String(lock.pid), won[0].split(' ')[0], `round ${r}: the lock names the winner`);
        assert.deepEqual(readdirSync(join(root, `run-${r}`)), ['.lock'], `round ${r}: no sidecar or temp file left`);
      }
    } finally {
      for (const c of children) c.kill('SIGKILL');
    }
  },
);

test('stale lock: a taker that died holding its takeover sidecar does not block the run; nothing is left behind', () => {
  const runDir = join(dir, 'dead-taker');
  mkdirSync(runDir);
  const lock = join(runDir, '.lock');
  writeFileSync(lock, JSON.stringify({ pid: deadPid(), cmdline: 'x', since: '1', host: hostname() }) + '\n');
  // The sidecar a taker creates before replacing the stale lock, named after the lock's inode; its taker died.
  const { ino } = statSync(lock);
  writeFileSync(`${lock}.takeover-${ino}`, JSON.stringify({ pid: deadPid(), cmdline: 'y', since: '2', host: hostname() }) + '\n');
  acquireRunLock(runDir);
  assert.equal(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid);
  assert.deepEqual(readdirSync(runDir), ['.lock']);
  releaseRunLock(runDir);
  assert.deepEqual(readdirSync(runDir), []);
});

const quiet = () => {};

/** A stopped run at a checkpoint of step 2 (in-process), its data read from `data` under `dir`. */
async function stoppedRun(name: string, data: string): Promise<string> {
  writeFileSync(join(dir, data), PAIRS);
  const v = validateRunConfig({ ...TINY, name, data: { ...TINY.data, train: { source: data } } }, join(dir, `${name}.mrl.json`));
  assert.deepEqual(v.errors, []);
  const runDir = join(dir, name);
  const stop = { requested: false };
  const progress = { update: (p: { step: number }) => void (p.step === 2 && (stop.requested = true)), message: quiet, done: quiet };
  const r = await runTraining(await prepareRun(v.resolved!), {
    runDir,
    stop,
    progress,
    print: quiet,
    infoExtra: { configFile: join(dir, `${name}.mrl.json`), baseDir: dir },
  });
  assert.equal(r.status, 'stopped');
  assert.equal(r.step, 2);
  return runDir;
}

test(
  'two resumes racing across a long preparation: the second is refused (exit 2), the run is resumed once',
  { skip: !isLinux, timeout: 300_000 },
  async () => {
    const runDir = await stoppedRun('race-resume', 'race-resume.jsonl');
    // The first resume's preparation blocks on reading its data (a FIFO) until the test writes it.
    const data = join(dir, 'race-resume.jsonl');
    rmSync(data);
    mkfifo(data);
    const a = startCli(['--resume', runDir]);
    try {
      const fifo = await open(data, 'w'); // resolves once A opened it: A is inside its preparation
      try {
        // B finds a regular data file: nothing holds it up but the lock.
        writeFileSync(`${data}.tmp`, PAIRS);
        renameSync(`${data}.tmp`, data);
        const b = runCli(['--resume', runDir]);
        assert.equal(b.status, 2, b.stderr);
        assert.match(b.stderr, /is still running \(pid \d+ holds its lock\); stop it first/);
        await fifo.writeFile(PAIRS);
      } finally {
        await fifo.close();
      }
      assert.equal(await a.exit, 0, a.stderr());
    } finally {
      a.child.kill('SIGKILL');
    }
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(info.status, 'completed');
    const { events, resumes } = metricsOf(runDir);
    assert.equal(resumes.length, 1, 'resumed once');
    const trainSteps = events.filter((e) => e.split === 'train').map((e) => e.step);
    assert.deepEqual(trainSteps, [1, 2, 3, 4]);
    assert.equal(existsSync(join(runDir, '.lock')), false, 'the lock is released');
  },
);

test(
  'another trainer creates its run in the same --out while this one prepares: a refusal (exit 2), its run untouched',
  { skip: !isLinux, timeout: 300_000 },
  async () => {
    const data = join(dir, 'race-out.jsonl');
    mkfifo(data);
    const cfg = join(dir, 'race-out.mrl.json');
    writeFileSync(cfg, JSON.stringify({ ...TINY, name: 'race-out', data: { ...TINY.data, train: { source: 'race-out.jsonl' } } }));
    const out = join(dir, 'race-out-run');
    const a = startCli(['--config', cfg, '--out', out]);
    const theirs = JSON.stringify({
      id: 'race-out-run',
      name: 'theirs',
      status: 'running',
      pid: 1,
      startedAt: '',
      endedAt: null,
      backend: 'wasm',
    });
    try {
      const fifo = await open(data, 'w'); // A passed its --out check and is preparing
      try {
        mkdirSync(out);
        writeFileSync(join(out, 'config.json'), '{}');
        writeFileSync(join(out, 'run.json'), theirs);
        await fifo.writeFile(PAIRS);
      } finally {
        await fifo.close();
      }
      assert.equal(await a.exit, 2, a.stderr());
    } finally {
      a.child.kill('SIGKILL');
    }
    assert.match(a.stderr(), /already holds a run/);
    assert.equal(readFileSync(join(out, 'run.json'), 'utf8'), theirs);
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'run.json']);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.creating-')),
      [],
      'its temporary folder removed',
    );
  },
);

test(
  'a stop during the step-0 evaluation: the resumed run evaluates step 0 first (the untrained baseline is not lost)',
  { timeout: 300_000 },
  async () => {
    // An evaluation long enough to yield (src/common/cooperative.ts checks the stop between slices).
    const many = loadWordnet()
      .rows.filter((_, i) => i % 20 === 0)
      .slice(0, 6000);
    writeFileSync(join(dir, 'many.jsonl'), many.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
    const v = validateRunConfig(
      { ...TINY, name: 'baseline', data: { train: { source: 'many.jsonl' }, evalFraction: 0.5 }, evaluation: { maxQueries: 3000 } },
      join(dir, 'baseline.mrl.json'),
    );
    assert.deepEqual(v.errors, []);
    const runDir = join(dir, 'baseline');
    const r1 = await runTraining(await prepareRun(v.resolved!), { runDir, stop: { requested: true }, progress: null, print: quiet });
    assert.equal(r1.status, 'stopped');
    assert.equal(r1.step, 0);
    assert.match(
      readFileSync(join(runDir, 'log.txt'), 'utf8'),
      /the evaluation at step 0 abandoned/,
      'the step-0 evaluation was abandoned',
    );
    assert.deepEqual(
      metricsOf(runDir).events.filter((e) => e.split === 'eval'),
      [],
    );
    const ckpt = latestReadableCheckpoint(runDir)!;
    assert.equal(ckpt.state.step, 0);
    const r2 = await runTraining(await prepareRun(v.resolved!, { resumeFrom: ckpt }), {
      runDir,
      resumeFrom: ckpt,
      progress: null,
      print: quiet,
    });
    assert.equal(r2.status, 'completed');
    assert.ok(r2.initial, 'the untrained baseline is in the final report');
    assert.deepEqual(
      metricsOf(runDir)
        .events.filter((e) => e.split === 'eval')
        .map((e) => e.step),
      [0, 2, 4],
    );
  },
);

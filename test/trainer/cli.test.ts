// The trainer CLI as a user runs it (a child process): bad config / data / flags → exit 2 and nothing on
// disk; SIGINT → checkpoint + "stopped"; kill -9 → a readable folder whose run.json says "running" with
// a dead pid, and --resume finishes it with a continuous curve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunInfo } from '../../src/protocol/runFolder';
import { loadWordnet } from '../../src/data/wordnet';

const CLI = resolve('src/trainer/cli/main.ts');
// The children run in a temp workspace: tsx is loaded by absolute URL, not resolved from there.
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'mrl-cli-'));
// A workspace marker: the default runs folder would be <dir>/.mrl/runs.
writeFileSync(join(dir, 'package.json'), '{}');
const rows = loadWordnet()
  .rows.filter((_, i) => i % 200 === 0)
  .slice(0, 600);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

const LONG = {
  name: 'cli run',
  seed: 3,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 150, batchSize: 16, learningRate: 0.002, logEvery: 1, evalEvery: 50, checkpointEvery: 5 },
  evaluation: { maxQueries: 30 },
};

function writeConfig(name: string, json: unknown, text?: string): string {
  const p = join(dir, name);
  writeFileSync(p, text ?? JSON.stringify(json, null, 2));
  return p;
}

// cwd stays the repository: from sources, the data-parallel worker threads load tsx from there. The
// run folder's default place depends on the config file's folder, not on cwd.
function runCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** metrics.jsonl as a reader sees it: whole lines only (a torn last line is skipped). */
function readEvents(runDir: string): Record<string, unknown>[] {
  const text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn last line after kill -9
    }
  }
  return out;
}

function trainSteps(runDir: string): number[] {
  return readEvents(runDir)
    .filter((e) => e.split === 'train')
    .map((e) => e.step as number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a bad config: exit 2, every error with file and JSON pointer, nothing created', () => {
  const f = writeConfig(
    'bad.mrl.json',
    null,
    '// bad\n{ "trainng": {}, "training": { "batchSize": "x" }, "loss": { "type": "MatryoshkaLoss", "loss": { "type": "CoSENTLos" } } }',
  );
  const r = runCli(['--config', f, '--out', join(dir, 'never')]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.mrl\.json: \/trainng: unknown key "trainng"; did you mean "training"\?/);
  assert.match(r.stderr, /bad\.mrl\.json: \/training\/batchSize: expected integer/);
  assert.match(r.stderr, /\/loss\/loss\/type: unknown loss type "CoSENTLos"; did you mean "CoSENTLoss"/);
  assert.equal(existsSync(join(dir, 'never')), false);
  assert.equal(existsSync(join(dir, '.mrl')), false);
});

test("issue 21's config: every problem listed at once (schema, data files, sweep path), not only the first", () => {
  const f = writeConfig(
    'user.mrl.json',
    null,
    `{
  "name": "user",
  "data": { "train": { "source": "./missing-train.jsonl" }, "eval": { "source": "./missing-eval.jsonl" } },
  "loss": { "type": "MatryoshkaLoss", "loss": { "type": "CachedMNRL", "miniBatchSize": "16" }, "matryoshkaDims": [64, 32] },
  "sweep": { "method": "grid", "parameters": { "training.learnRate": [0.001, 0.0005] } }
}`,
  );
  const r = runCli(['--config', f]);
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(': ')[1]),
    ['/loss/loss/type', '/loss/loss/miniBatchSize', '/data/train/source', '/data/eval/source', '/sweep/parameters/training.learnRate'],
    r.stderr,
  );
  assert.match(
    lines[0],
    /user\.mrl\.json: \/loss\/loss\/type: unknown loss type "CachedMNRL"; did you mean "CachedMultipleNegativesRankingLoss"\?/,
  );
  assert.match(lines[1], /expected integer, got "16"/);
  assert.match(lines[2], /data file not found: .*missing-train\.jsonl/);
  assert.match(
    lines[4],
    /"training\.learnRate" does not name a field of this config: unknown key "learnRate"; did you mean "learningRate"\?/,
  );
  assert.equal(existsSync(join(dir, '.mrl')), false, 'nothing created');
});

test('bad rows in a data file: exit 2 with file:line, no run folder', () => {
  writeFileSync(join(dir, 'broken.jsonl'), '{"anchor":"a","positive":"b"}\n{"anchor":"c"}\n{"anchor":"","positive":"d"}\n');
  const f = writeConfig('broken.mrl.json', { ...LONG, data: { train: { source: 'broken.jsonl' } } });
  const r = runCli(['--config', f]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /\/data\/train\/source: bad data/);
  assert.match(r.stderr, /broken\.jsonl:2: missing column "positive"/);
  assert.match(r.stderr, /broken\.jsonl:3: column "anchor" is empty/);
  assert.equal(existsSync(join(dir, '.mrl')), false);
});

test('unknown flags and missing values: error + usage, exit 2', () => {
  const r = runCli(['--config', join(dir, 'x.mrl.json'), '--epochs', '3']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option "--epochs"/);
  assert.match(r.stderr, /usage:/);
  assert.equal(runCli(['--backend', 'gpu', '--config', 'x']).status, 2);
  assert.equal(runCli([]).status, 2);
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--resume/);
});

test('SIGINT: the run finishes its step, writes a checkpoint and ends "stopped"; default folder under <workspace>/.mrl/runs', async () => {
  const f = writeConfig('long.mrl.json', LONG);
  const child = startCli(['--config', f]);
  const runs = join(dir, '.mrl', 'runs');
  // Only finished folders: a run folder is built under a dot-named temporary name, then renamed.
  const runFolders = () => (existsSync(runs) ? readdirSync(runs).filter((n) => !n.startsWith('.')) : []);
  await waitFor(() => runFolders().length === 1, 'the run folder');
  const [id] = runFolders();
  assert.match(id, /^\d{8}-\d{6}-cli-run-[0-9a-f]{4}$/);
  const runDir = join(runs, id);
  await waitFor(() => existsSync(join(runDir, 'metrics.jsonl')) && trainSteps(runDir).length >= 3, 'a few steps');
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'stopped');
  assert.ok(info.step! > 0 && info.step! < LONG.training.maxSteps);
  assert.ok(existsSync(join(runDir, 'checkpoints', `step-${info.step}`, 'state.json')), 'checkpoint at the stopped step');
});

test('kill -9: the folder stays readable, run.json says running with a dead pid, --resume continues the curve', async () => {
  const f = writeConfig('kill.mrl.json', LONG);
  const runDir = join(dir, 'killed');
  const child = startCli(['--config', f, '--out', runDir]);
  await waitFor(() => existsSync(join(runDir, 'checkpoints', 'step-10')), 'a checkpoint');
  await waitFor(() => trainSteps(runDir).some((s) => s >= 12), 'steps past the checkpoint');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.status, 'running');
  assert.ok(info.pid && !alive(info.pid), 'a reader can tell the run died: its pid is gone');
  const before = trainSteps(runDir);
  assert.ok(before.length >= 12);

  const r = runCli(['--resume', runDir]);
  assert.equal(r.status, 0, r.stderr);
  const done = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  assert.equal(done.status, 'completed');
  const events = readEvents(runDir);
  const resumes = events.filter((e) => e.type === 'resume');
  assert.equal(resumes.length, 1);
  const from = resumes[0].fromStep as number;
  assert.ok(from >= 10 && from % 5 === 0, `resumed from the last checkpoint, got ${from}`);
  // Reader's rule: drop events before the resume line with step > fromStep → one value per step.
  const idx = events.indexOf(resumes[0]);
  const kept = [...events.slice(0, idx).filter((e) => (e.step as number) <= from), ...events.slice(idx + 1)];
  const steps = kept.filter((e) => e.split === 'train').map((e) => e.step as number);
  assert.deepEqual(
    steps,
    Array.from({ length: LONG.training.maxSteps }, (_, i) => i + 1),
  );
  // The steps redone after the resume reproduce the lost ones exactly.
  const lost = events.slice(0, idx).filter((e) => e.split === 'train' && (e.step as number) > from);
  for (const e of lost) {
    const again = kept.find((k) => k.split === 'train' && k.step === e.step)!;
    assert.deepEqual(again.values, e.values, `step ${e.step}`);
  }
  assert.match(r.stdout, /ndcg@10/);
  // Resuming a completed run is refused.
  assert.equal(runCli(['--resume', runDir]).status, 2);
});

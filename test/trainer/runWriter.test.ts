// The trainer-side run folder writer: run ids, the default runs folder, atomic run.json, append-only
// metrics, schedule and progress helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findWorkspaceRoot, makeRunId, RunWriter, slugify } from '../../src/runs/runWriter';
import { learningRateAt } from '../../src/trainer/loop/schedule';
import { formatDuration, progressText } from '../../src/trainer/cli/progress';
import { metricsTable } from '../../src/trainer/loop/report';
import type { RunConfig } from '../../src/protocol/runConfig';

const dir = mkdtempSync(join(tmpdir(), 'mrl-writer-'));

test('run ids: <yyyymmdd-hhmmss>-<slug>-<4 hex>, UTC', () => {
  assert.equal(
    makeRunId('My Run: MNRL/64 dims!', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 'a1b2'),
    '20260102-030405-my-run-mnrl-64-dims-a1b2',
  );
  assert.match(makeRunId('x'), /^\d{8}-\d{6}-x-[0-9a-f]{4}$/);
  assert.equal(slugify('***'), 'run');
  assert.ok(slugify('a'.repeat(100)).length <= 40);
});

test('workspace root: nearest .mrl upward, else package.json / .git, else cwd', () => {
  const ws = join(dir, 'ws');
  mkdirSync(join(ws, 'configs', 'deep'), { recursive: true });
  writeFileSync(join(ws, 'package.json'), '{}');
  assert.equal(findWorkspaceRoot(join(ws, 'configs', 'deep', 'a.mrl.json')), ws);
  mkdirSync(join(ws, 'configs', '.mrl'));
  assert.equal(findWorkspaceRoot(join(ws, 'configs', 'deep', 'a.mrl.json')), join(ws, 'configs'), '.mrl wins over package.json');
});

test('RunWriter: config.json, atomic run.json (no temp files left), one line per event, refuses an existing run', () => {
  const runDir = join(dir, 'runs', 'r1');
  const config = { name: 'r' } as RunConfig;
  const w = RunWriter.create(
    runDir,
    { id: 'r1', name: 'r', status: 'running', pid: 1, startedAt: 'x', endedAt: null, backend: 'cpu' },
    config,
  );
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')), config);
  w.update({ status: 'completed', step: 3 });
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  assert.equal(info.status, 'completed');
  assert.equal(info.step, 3);
  assert.deepEqual(
    readdirSync(runDir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  w.append({ step: 1, epoch: 0, time: 0.5, split: 'train', values: { loss: 2 }, byDim: { '8': { loss: 2.5 } } });
  w.append({ type: 'resume', fromStep: 0 });
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.deepEqual(JSON.parse(lines[0]).byDim, { '8': { loss: 2.5 } });
  assert.throws(() => RunWriter.create(runDir, info, config), /already holds a run/);
  assert.equal(RunWriter.open(runDir).runInfo.status, 'completed');
  assert.ok(existsSync(join(runDir, 'checkpoints')));
});

test('learning-rate schedules: warmup, then constant / linear / cosine to 0', () => {
  const o = { learningRate: 1, warmupSteps: 10, totalSteps: 110 };
  assert.equal(learningRateAt(0, { ...o, scheduler: 'linear' }), 0);
  assert.equal(learningRateAt(5, { ...o, scheduler: 'linear' }), 0.5);
  assert.equal(learningRateAt(10, { ...o, scheduler: 'linear' }), 1);
  assert.equal(learningRateAt(60, { ...o, scheduler: 'linear' }), 0.5);
  assert.equal(learningRateAt(110, { ...o, scheduler: 'linear' }), 0);
  assert.equal(learningRateAt(60, { ...o, scheduler: 'constant' }), 1);
  assert.ok(Math.abs(learningRateAt(60, { ...o, scheduler: 'cosine' }) - 0.5) < 1e-12);
  assert.ok(Math.abs(learningRateAt(35, { ...o, scheduler: 'cosine' }) - 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-12);
});

test('progress line and final table', () => {
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  const line = progressText({ step: 5, total: 10, loss: 1.23456, samplesPerSec: 99.5, etaSeconds: 30 }, 10);
  assert.equal(line, '█████░░░░░ step 5/10  loss 1.2346  99.5 samples/s  ETA 0:30');
  const table = metricsTable(
    { '64': { 'ndcg@10': 0.5, 'mrr@10': 0.4 }, '8': { 'ndcg@10': 0.25, 'mrr@10': 0.2 } },
    { '64': { 'ndcg@10': 0.1 }, '8': { 'ndcg@10': 0.05 } },
  ).split('\n');
  assert.match(table[0], /dim\s+ndcg@10\s+mrr@10\s+ndcg@10 \(step 0\)/);
  assert.match(table[2], /^\s*8\s+0\.2500\s+0\.2000\s+0\.0500$/, 'dims ascending');
  assert.match(table[3], /^\s*64\s+0\.5000\s+0\.4000\s+0\.1000$/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmt, formatAge, groupRuns, liveText, runContextValue, runDescription } from '../../src/host/treeModel';
import { RunSeries } from '../../src/runs';

const now = Date.parse('2026-01-01T12:00:00Z');

test('age, numbers', () => {
  assert.equal(formatAge('2026-01-01T11:59:30Z', now), '30s ago');
  assert.equal(formatAge('2026-01-01T11:55:00Z', now), '5m ago');
  assert.equal(formatAge('2025-12-29T12:00:00Z', now), '3d ago');
  assert.equal(formatAge('', now), '');
  assert.equal(fmt(0.123456), '0.123');
  assert.equal(fmt(1234.5), '1230');
  assert.equal(fmt(0.00001234), '1.23e-5');
});

test('description: loss, best metric at the largest dim, age', () => {
  const s = new RunSeries();
  s.push([
    { step: 1, epoch: 0, time: 1, split: 'train', values: { loss: 0.5 } },
    { step: 1, epoch: 0, time: 1, split: 'eval', values: {}, byDim: { '64': { 'ndcg@10': 0.4 }, '256': { 'ndcg@10': 0.71234 } } },
  ]);
  assert.equal(runDescription(s.summary(), '2026-01-01T11:55:00Z', now), 'loss 0.5 · ndcg@10@256 0.712 · 5m ago');
  assert.equal(liveText(s.summary(), 10, 100), 'step 10/100 · loss 0.5');
});

test('grouping by status in a fixed order; context values drive the menus', () => {
  const g = groupRuns([{ status: 'failed' as const }, { status: 'running' as const }, { status: 'failed' as const }]);
  assert.deepEqual(g.map((x) => [x.status, x.runs.length]), [['running', 1], ['failed', 2]]);
  assert.equal(runContextValue('stopped', true), 'mrlRun.stopped.resumable');
  assert.equal(runContextValue('stopped', false), 'mrlRun.stopped');
  assert.equal(runContextValue('running', true), 'mrlRun.running');
  assert.equal(runContextValue('completed', true), 'mrlRun.completed');
});

// The MRL curve's data choices (webview/mrlData.ts) in Node: candidate metrics, default pick, slider steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentMrlMetric, mrlCandidates, mrlStepAtSlider, MrlSteps, pickMrlStep } from '../../webview/mrlData';
import { createModel, sortRuns } from '../../webview/model';
import { genMetrics } from './fixtures/metrics';

function model() {
  const m = createModel();
  m.runs = sortRuns([{ id: 'a', name: 'A', status: 'completed', startedAt: '1' }, { id: 'b', name: 'B', status: 'running', startedAt: '2' }]);
  m.state.shownRunIds = ['a'];
  m.store.ingest('a', genMetrics({ steps: 30, evalEvery: 10, funnel: true }));
  m.store.ingest('b', genMetrics({ steps: 45, evalEvery: 15 }));
  return m;
}

test('candidates: metrics with several dims, eval first; default eval/ndcg@10; a pick that vanished falls back', () => {
  const m = model();
  const c = mrlCandidates(m.store);
  assert.equal(c[0], 'eval/loss');
  assert.ok(c.indexOf('eval/spearman') < c.indexOf('train/loss'));
  assert.ok(!c.some((x) => x.includes('funnel:')), 'dimension-less metrics have no MRL curve');
  assert.equal(currentMrlMetric(m.store, m.state), 'eval/ndcg@10');
  m.state.mrlMetric = 'train/loss';
  assert.equal(currentMrlMetric(m.store, m.state), 'train/loss');
  m.state.mrlMetric = 'eval/gone';
  assert.equal(currentMrlMetric(m.store, m.state), 'eval/ndcg@10');
  assert.equal(currentMrlMetric(createModel().store, m.state), null);
});

test('steps: the eval steps of the shown runs (union, sorted), cached until a series grows', () => {
  const m = model();
  const steps = new MrlSteps();
  const s1 = steps.get(m);
  assert.deepEqual(s1, [10, 20, 30]);
  assert.equal(steps.get(m), s1, 'cached');
  m.state.shownRunIds = ['a', 'b'];
  assert.deepEqual(steps.get(m), [10, 15, 20, 30, 45]);
  m.store.ingest('b', genMetrics({ steps: 60, fromStep: 46, evalEvery: 15 }));
  assert.deepEqual(steps.get(m), [10, 15, 20, 30, 45, 60]);
  m.state.shownRunIds = [];
  assert.deepEqual(steps.get(m), []);
});

test('slider: the last position follows the latest step; a chosen step shows the last eval at or before it', () => {
  const steps = [10, 20, 30];
  assert.deepEqual(pickMrlStep(steps, null), { index: 2, follow: true, step: Infinity, label: '30 (latest)' });
  assert.deepEqual(pickMrlStep(steps, 20), { index: 1, follow: false, step: 20, label: '20' });
  assert.deepEqual(pickMrlStep(steps, 25), { index: 1, follow: false, step: 20, label: '20' });
  assert.deepEqual(pickMrlStep(steps, 5), { index: 0, follow: false, step: 10, label: '10' });
  assert.deepEqual(pickMrlStep([], null), { index: -1, follow: true, step: Infinity, label: '—' });
  assert.equal(pickMrlStep([], 7).label, '—');
  assert.equal(mrlStepAtSlider(steps, 0), 10);
  assert.equal(mrlStepAtSlider(steps, 1), 20);
  assert.equal(mrlStepAtSlider(steps, 2), null);
  assert.equal(mrlStepAtSlider([], 0), null);
});

// The MRL curve's data choices (webview/mrl/mrlData.ts) in Node: candidate metrics, default pick, slider steps.
import { percentBeside } from '../../src/insights/percent';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseDim, DEFAULT_ADVISOR_PERCENT } from '../../src/insights/dimAdvisor';
import {
  ADVICE_RUNS_MAX,
  advisorLines,
  advisorPercent,
  currentMrlMetric,
  describeFunnel,
  mrlCandidates,
  mrlStepAtSlider,
  MrlSteps,
  pickMrlStep,
} from '../../webview/mrl/mrlData';
import { createModel, sortRuns } from '../../webview/app/model';
import { genMetrics } from './fixtures/metrics';

function model() {
  const m = createModel();
  m.runs = sortRuns([
    { id: 'a', name: 'A', status: 'completed', startedAt: '1' },
    { id: 'b', name: 'B', status: 'running', startedAt: '2' },
  ]);
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

test('advisor percent: the model settings when usable, else the default 95', () => {
  assert.equal(advisorPercent(createModel()), DEFAULT_ADVISOR_PERCENT);
  assert.equal(advisorPercent({ settings: { advisorPercent: 90 } }), 90);
  assert.equal(advisorPercent({ settings: { advisorPercent: 0 } }), DEFAULT_ADVISOR_PERCENT);
  assert.equal(advisorPercent({ settings: { advisorPercent: 120 } }), DEFAULT_ADVISOR_PERCENT);
  assert.equal(advisorPercent({ settings: { advisorPercent: '90' } }), DEFAULT_ADVISOR_PERCENT);
  assert.equal(advisorPercent({ settings: null }), DEFAULT_ADVISOR_PERCENT);
});

test('advisor text: one run describes its advice and funnel; several compare; at most ADVICE_RUNS_MAX named', () => {
  // full 0.40 at 256: 95 % = 0.38 → dim 64 (0.385) is the first to reach it
  const byDim = { '32': { 'ndcg@10': 0.3 }, '64': { 'ndcg@10': 0.385 }, '128': { 'ndcg@10': 0.395 }, '256': { 'ndcg@10': 0.4 } };
  const values = { 'funnel:ndcg@10': 0.388, 'funnel:macsSaved': 0.75, 'funnel:shortlistDim': 32, 'funnel:rerankDim': 256 };
  const a = adviseDim(byDim, { values })!;
  const one = advisorLines([{ name: 'run A', step: 300, advice: a }]);
  assert.equal(one.length, 2);
  assert.match(
    one[0],
    /^run A reaches 95 % of ndcg@10 at dim 64 \(0\.385 of 0\.4 at 256\): 75 % fewer index bytes \(256 B float32 \/ 64 B int8 per vector\).*\(step 300\)$/,
  );
  assert.equal(one[1], 'funnel 32→256: 97 % of full at the cost of dim 64 (reaches 95 %)');
  const b = adviseDim({ '32': { 'ndcg@10': 0.2 }, '64': { 'ndcg@10': 0.3 }, '128': { 'ndcg@10': 0.39 }, '256': { 'ndcg@10': 0.4 } })!;
  const two = advisorLines([
    { name: 'A', step: 1, advice: a },
    { name: 'B', step: 1, advice: b },
    { name: 'C', step: 1, advice: null },
  ]);
  assert.equal(two[0], 'A reaches 95 % at dim 64, B needs 128, C: no per-dim eval yet');
  assert.equal(two[1], 'A funnel 32→256: 97 % of full at the cost of dim 64 (reaches 95 %)');
  assert.equal(two.length, 2);
  const many = advisorLines(Array.from({ length: ADVICE_RUNS_MAX + 4 }, (_, i) => ({ name: `r${i}`, step: 1, advice: b })));
  assert.ok(many[0].endsWith(`r${ADVICE_RUNS_MAX - 1} needs 128, + 4 more runs`), many[0]);
  assert.ok(!many[0].includes(`r${ADVICE_RUNS_MAX},`));
  assert.deepEqual(advisorLines([]), []);
  assert.match(advisorLines([{ name: 'X', step: 7, advice: null }])[0], /^X: no advice at step 7/);
  assert.equal(describeFunnel({ ...b, funnel: null }), null);
});

test('the funnel text never rounds a share onto the target it is compared with (issue 21 §6: 0.9464 is not "95 %")', () => {
  const byDim = { '32': { 'ndcg@10': 0.3 }, '64': { 'ndcg@10': 0.385 }, '256': { 'ndcg@10': 0.4 } };
  const funnel = (v: number) =>
    describeFunnel(
      adviseDim(byDim, { values: { 'funnel:ndcg@10': v, 'funnel:macsSaved': 0.75, 'funnel:shortlistDim': 32, 'funnel:rerankDim': 256 } })!,
    );
  assert.equal(funnel(0.4 * 0.9464), 'funnel 32→256: 94.6 % of full at the cost of dim 64 (below 95 %)');
  assert.equal(
    funnel(0.4 * 0.97),
    'funnel 32→256: 97 % of full at the cost of dim 64 (reaches 95 %)',
    'whole percent where it reads right',
  );
  assert.equal(funnel(0.4 * 0.95), 'funnel 32→256: 95 % of full at the cost of dim 64 (reaches 95 %)');
  assert.equal(funnel(0.4 * 0.94999), 'funnel 32→256: 94.999 % of full at the cost of dim 64 (below 95 %)');
  assert.equal(percentBeside(0.9499999, 95, false), '94.999', 'past 3 decimals: cut toward its side');
  assert.equal(percentBeside(0.9500001, 95, true), '95');
  assert.equal(percentBeside(0.955, 95.5), '96', 'a share that reaches a fractional target may round up');
  assert.equal(percentBeside(0.9549, 95.5), '95');
  assert.equal(percentBeside(0.9551, 95.6), '95.5', 'one that misses it never rounds onto it');
});

// One rule, one place: the resume rule and "which way is better" (src/insights/metricRules), used by the
// host (RunSeries) and the webview (MetricsStore) alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyResume,
  droppedByResume,
  higherIsBetter,
  isRetrievalMetric,
  lowerIsBetter,
  truncateForResume,
} from '../../src/insights/metricRules';
import type { MetricsEvent, MetricsLine } from '../../src/protocol/runFolder';
import { RunSeries } from '../../src/runs/series';
import { MetricsStore } from '../../webview/app/store';

const ev = (step: number, split: 'train' | 'eval' = 'train', values: Record<string, number> = { loss: 1 / step }): MetricsEvent => ({
  step,
  epoch: 0,
  time: step,
  split,
  values,
});

test('droppedByResume: a resume from N drops steps > N and keeps step N itself', () => {
  assert.equal(droppedByResume(5, 5), false);
  assert.equal(droppedByResume(4, 5), false);
  assert.equal(droppedByResume(6, 5), true);
  assert.equal(droppedByResume(1, 0), true);
});

test('truncateForResume: in place, stable, counts what it dropped', () => {
  const a = [ev(1), ev(2), ev(3), ev(4)];
  const same = a;
  assert.equal(truncateForResume(a, { fromStep: 2 }), 2);
  assert.equal(a, same);
  assert.deepEqual(
    a.map((e) => e.step),
    [1, 2],
  );
  assert.equal(truncateForResume(a, { fromStep: 10 }), 0);
  assert.deepEqual(
    a.map((e) => e.step),
    [1, 2],
  );
});

test('applyResume: several markers, each applied to what came before it', () => {
  const lines: MetricsLine[] = [ev(1), ev(2), ev(3), { type: 'resume', fromStep: 2 }, ev(3), ev(4), { type: 'resume', fromStep: 0 }, ev(1)];
  assert.deepEqual(
    applyResume(lines).map((e) => e.step),
    [1],
  );
});

test('the host series and the webview store apply the same resume rule', () => {
  const lines: MetricsLine[] = [
    ev(1),
    ev(2, 'eval', { ndcg: 0.5 }),
    ev(3),
    ev(4, 'eval', { ndcg: 0.7 }),
    { type: 'resume', fromStep: 2 },
    ev(3),
    ev(4, 'eval', { ndcg: 0.6 }),
  ];
  const expected = applyResume(lines);
  const s = new RunSeries();
  s.push(lines);
  assert.deepEqual(s.events, expected);
  const store = new MetricsStore();
  store.ingest('r', lines);
  const loss = store.series('r', 'train', 'loss', null)!;
  const nd = store.series('r', 'eval', 'ndcg', null)!;
  const steps = (x: { n: number; step: ArrayLike<number> }) => Array.from({ length: x.n }, (_, i) => x.step[i]);
  assert.deepEqual(
    steps(loss),
    expected.filter((e) => e.split === 'train').map((e) => e.step),
  );
  assert.deepEqual(
    steps(nd),
    expected.filter((e) => e.split === 'eval').map((e) => e.step),
  );
});

test('lowerIsBetter / higherIsBetter: loss-like names lower, scores and unknown names higher', () => {
  for (const m of ['loss', 'train/loss', 'mse_loss', 'Loss', 'error', 'perplexity', 'time', 'latency', 'epochTime']) {
    assert.equal(lowerIsBetter(m), true, m);
    assert.equal(higherIsBetter(m), false, m);
  }
  for (const m of [
    'ndcg@10',
    'mrr@10',
    'map@100',
    'recall@10',
    'precision@5',
    'accuracy',
    'spearman',
    'pearson',
    'funnel:ndcg@10',
    'funnel:macsSaved',
    'timeSaved',
  ]) {
    assert.equal(higherIsBetter(m), true, m);
  }
  // Unknown names: taken for scores.
  for (const m of ['cosine_sim', 'foo', 'lr', 'samples/s']) assert.equal(higherIsBetter(m), true, m);
});

test('isRetrievalMetric: the known score names, for choosing a headline metric', () => {
  assert.equal(isRetrievalMetric('ndcg@10'), true);
  assert.equal(isRetrievalMetric('spearman'), true);
  assert.equal(isRetrievalMetric('loss'), false);
  assert.equal(isRetrievalMetric('foo'), false);
});

test('host and webview agree on the best of an unknown metric (higher)', () => {
  const byDim = (v: number) => ({ '64': { foo: v } });
  const lines: MetricsLine[] = [1, 2, 3].map((st, i) => ({ ...ev(st, 'eval', {}), byDim: byDim([0.2, 0.9, 0.4][i]) }));
  const s = new RunSeries();
  s.push(lines);
  assert.deepEqual(s.summary().best, { metric: 'foo', dim: '64', value: 0.9, step: 2 });
  const store = new MetricsStore();
  store.ingest('r', lines);
  const x = store.series('r', 'eval', 'foo', 64)!;
  assert.equal(x.step[x.best], 2);
});

// The dim advisor (src/insights/dimAdvisor): the smallest dim reaching p % of the full-dim metric, its
// savings, and the funnel on the same scale — on known metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adviseDim, advisorMetric, compareAdvice, describeAdvice, vectorBytes } from '../../src/insights/dimAdvisor';

const byDim = {
  '8': { 'ndcg@10': 0.12, loss: 2.0 },
  '16': { 'ndcg@10': 0.19, loss: 1.5 },
  '32': { 'ndcg@10': 0.205, loss: 1.2 },
  '64': { 'ndcg@10': 0.21, loss: 1.1 },
};

test('the smallest dim reaching p % of the full-dim value, with bytes and multiply-adds saved', () => {
  const a = adviseDim(byDim, { percent: 95 })!;
  assert.equal(a.metric, 'ndcg@10');
  assert.equal(a.fullDim, 64);
  assert.equal(a.dim, 32); // 0.19 < 0.1995 ≤ 0.205
  assert.ok(Math.abs(a.threshold - 0.1995) < 1e-12);
  assert.deepEqual(a.bytes, { float32: 128, int8: 32 });
  assert.deepEqual(a.fullBytes, { float32: 256, int8: 64 });
  assert.equal(a.bytesSaving, 0.5);
  assert.equal(a.macsPerDoc, 32);
  assert.equal(a.macsSaving, 0.5);
  assert.equal(adviseDim(byDim, { percent: 90 })!.dim, 16);
  assert.equal(adviseDim(byDim, { percent: 100 })!.dim, 64);
  assert.equal(adviseDim(byDim, { percent: 50 })!.dim, 8);
  assert.match(describeAdvice(a), /reaches 95 % of ndcg@10 at dim 32 .*50 % fewer index bytes \(128 B float32 \/ 32 B int8/);
});

test('a lower-is-better metric reaches p % when at most full / p %', () => {
  const a = adviseDim(byDim, { metric: 'loss', percent: 95 })!;
  // full 1.1 → threshold 1.1/0.95 = 1.158: 1.2 does not reach it, so the full dim is needed.
  assert.equal(a.dim, 64);
  assert.equal(adviseDim(byDim, { metric: 'loss', percent: 90 })!.dim, 32); // 1.2 ≤ 1.222
});

test('the funnel sits on the same scale: its quality share and the exhaustive dim of equal cost', () => {
  const a = adviseDim(byDim, {
    percent: 95,
    values: { 'funnel:ndcg@10': 0.2, 'funnel:macsSaved': 0.75, 'funnel:shortlistDim': 8, 'funnel:rerankDim': 64 },
  })!;
  assert.ok(a.funnel);
  assert.equal(a.funnel.equivalentDim, 16);
  assert.equal(a.funnel.reachesTarget, true);
  assert.ok(Math.abs(a.funnel.ratio - 0.2 / 0.21) < 1e-12);
  assert.equal(a.funnel.shortlistDim, 8);
  assert.equal(adviseDim(byDim, { values: { 'funnel:ndcg@10': 0.1, 'funnel:macsSaved': 0.75 } })!.funnel!.reachesTarget, false);
});

test('nothing to advise: one dim, no metric, a non-positive full value, a bad percent', () => {
  assert.equal(adviseDim({ '64': { 'ndcg@10': 0.2 } }), null);
  assert.equal(adviseDim({}), null);
  assert.equal(adviseDim({ '8': { 'ndcg@10': 0 }, '16': { 'ndcg@10': 0 } }), null);
  assert.equal(adviseDim(byDim, { percent: 0 }), null);
  assert.equal(adviseDim(byDim, { percent: 120 }), null);
  assert.equal(advisorMetric({ '8': { loss: 1, spearman: 0.5 } }), 'spearman');
  assert.deepEqual(vectorBytes(768), { float32: 3072, int8: 768 });
});

test('compare runs on it: "run A reaches 95 % at dim 16, run B needs 32"', () => {
  const a = adviseDim(byDim, { percent: 90 });
  const b = adviseDim(byDim, { percent: 95 });
  assert.equal(
    compareAdvice([
      { name: 'run A', advice: a },
      { name: 'run B', advice: b },
    ]),
    'run A reaches 90 % at dim 16, run B needs 32',
  );
});

// The dim × precision frontier: costs, the Pareto front and the cheapest point reaching p %, on known values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adviseFrontier,
  bytesPerVector,
  compareFrontierAdvice,
  describeFrontierAdvice,
  floatOnly,
  frontierPoints,
  paretoFront,
} from '../../src/insights/frontier';
import { parsePrecisionKey, precisionKey } from '../../src/protocol/runFolder';

// ndcg@10 per dim: float32, int8, binary, each quantised one also rescored.
const BY_DIM = {
  '16': {
    'ndcg@10': 0.2,
    'int8:ndcg@10': 0.19,
    'int8+rescore:ndcg@10': 0.2,
    'binary:ndcg@10': 0.05,
    'binary+rescore:ndcg@10': 0.1,
    'recall@10': 0.3,
  },
  '64': { 'ndcg@10': 0.3, 'int8:ndcg@10': 0.29, 'int8+rescore:ndcg@10': 0.3, 'binary:ndcg@10': 0.2, 'binary+rescore:ndcg@10': 0.28 },
  '128': { 'ndcg@10': 0.32, 'int8:ndcg@10': 0.31, 'int8+rescore:ndcg@10': 0.318, 'binary:ndcg@10': 0.25, 'binary+rescore:ndcg@10': 0.305 },
};

test('metric keys: float32 is the bare name, quantised ones carry their precision (and +rescore)', () => {
  assert.equal(precisionKey('ndcg@10', 'float32'), 'ndcg@10');
  assert.equal(precisionKey('ndcg@10', 'int8'), 'int8:ndcg@10');
  assert.equal(precisionKey('ndcg@10', 'binary', true), 'binary+rescore:ndcg@10');
  assert.deepEqual(parsePrecisionKey('binary+rescore:ndcg@10'), { metric: 'ndcg@10', precision: 'binary', rescore: true });
  assert.deepEqual(parsePrecisionKey('int8:map@100'), { metric: 'map@100', precision: 'int8', rescore: false });
  assert.deepEqual(parsePrecisionKey('mrr@10'), { metric: 'mrr@10', precision: 'float32', rescore: false });
  assert.deepEqual(parsePrecisionKey('funnel:ndcg@10'), { metric: 'funnel:ndcg@10', precision: 'float32', rescore: false });
});

test('bytes per vector: 4·d float32, d int8, ⌈d/8⌉ binary', () => {
  assert.deepEqual(
    [bytesPerVector(64, 'float32'), bytesPerVector(64, 'int8'), bytesPerVector(64, 'binary'), bytesPerVector(12, 'binary')],
    [256, 64, 8, 2],
  );
});

test('every scored point, cheapest first, with its quality against full-dim float32 (0.32 at 128)', () => {
  const pts = frontierPoints(BY_DIM, 'ndcg@10');
  assert.equal(pts.length, 15);
  assert.deepEqual(
    pts.slice(0, 3).map((p) => [p.key, p.dim, p.bytesPerVector]),
    [
      ['binary+rescore:ndcg@10', 16, 2],
      ['binary:ndcg@10', 16, 2],
      ['binary+rescore:ndcg@10', 64, 8],
    ],
  );
  const b128 = pts.find((p) => p.dim === 128 && p.precision === 'binary' && p.rescore)!;
  assert.equal(b128.ratio, 0.305 / 0.32);
  assert.equal(b128.opsPerDoc, 2);
  assert.equal(b128.opsKind, 'popcounts');
  assert.deepEqual(frontierPoints({ '8': { 'ndcg@10': 0 } }, 'ndcg@10'), []);
});

test('the cheapest point reaching p %: 95 % → binary at dim 128 rescored (16 B); 99 % → int8 + rescore at 128', () => {
  const a = adviseFrontier(BY_DIM, { percent: 95 })!;
  assert.equal(a.metric, 'ndcg@10');
  assert.equal(a.fullDim, 128);
  assert.equal(a.fullValue, 0.32);
  assert.deepEqual([a.point.dim, a.point.precision, a.point.rescore, a.point.bytesPerVector], [128, 'binary', true, 16]);
  assert.equal(
    describeFrontierAdvice(a),
    'reaches 95 % at 16 bytes/vector: binary at dim 128, rescored (ndcg@10 0.305, 95 % of float32 at 128)',
  );
  const b = adviseFrontier(BY_DIM, { percent: 99 })!;
  assert.deepEqual([b.point.dim, b.point.precision, b.point.rescore, b.point.bytesPerVector], [128, 'int8', true, 128]);
  // 100 %: only full-dim float32 itself (512 B), never a point that merely ties within rounding.
  const c = adviseFrontier(BY_DIM, { percent: 100 })!;
  assert.deepEqual([c.point.dim, c.point.precision, c.point.bytesPerVector], [128, 'float32', 512]);
  assert.match(describeFrontierAdvice(c), /^needs 512 bytes\/vector: float32 at dim 128 to reach 100 %/);
});

test('the Pareto front: each point better than every cheaper one (int8 + rescore at 64, 0.9375 for 64 B, is beaten by binary + rescore at 128, 0.953 for 16 B)', () => {
  const front = paretoFront(frontierPoints(BY_DIM, 'ndcg@10'));
  assert.deepEqual(
    front.map((p) => p.key + '@' + p.dim),
    ['binary+rescore:ndcg@10@16', 'binary+rescore:ndcg@10@64', 'binary+rescore:ndcg@10@128', 'int8+rescore:ndcg@10@128', 'ndcg@10@128'],
  );
  for (let i = 1; i < front.length; i++) {
    assert.ok(front[i].bytesPerVector >= front[i - 1].bytesPerVector);
    assert.ok(front[i].ratio > front[i - 1].ratio);
  }
});

test('float32-only evals (runs written before precisions) give the float32 answer; floatOnly drops prefixed keys', () => {
  const old = { '16': { 'ndcg@10': 0.29 }, '64': { 'ndcg@10': 0.3 } };
  const a = adviseFrontier(old)!;
  assert.deepEqual([a.point.dim, a.point.precision, a.point.bytesPerVector], [16, 'float32', 64]);
  assert.deepEqual(Object.keys(floatOnly(BY_DIM)['16']).sort(), ['ndcg@10', 'recall@10']);
  assert.equal(
    compareFrontierAdvice([
      { name: 'A', advice: adviseFrontier(BY_DIM) },
      { name: 'B', advice: a },
      { name: 'C', advice: null },
    ]),
    'A reaches 95 % at 16 bytes/vector: binary at dim 128, rescored; B needs 64 bytes: float32 at dim 16; C: no per-dim eval yet',
  );
});

// Evaluator metrics against small cases computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageRanks,
  funnelRetrieval,
  queryMetrics,
  retrievalMetrics,
  similarityMatrix,
  spearman,
  topK,
  truncateNormalize,
} from '../../src/trainer/eval/metrics';
import { evaluate } from '../../src/trainer/eval/evaluator';
import { buildEvalSet } from '../../src/data/evalSet';
import type { PairTable } from '../../src/data/dataset';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('truncateNormalize keeps the first dims and L2-normalises them', () => {
  // rows [3, 4, 100] and [0, 0, 1]; dim 2 → [0.6, 0.8] and [0, 0] (a zero prefix stays zero, no NaN)
  const out = truncateNormalize(new Float32Array([3, 4, 100, 0, 0, 1]), 2, 3, 2);
  assert.deepEqual(
    [...out].map((v) => +v.toFixed(6)),
    [0.6, 0.8, 0, 0],
  );
  assert.throws(() => truncateNormalize(new Float32Array(3), 1, 3, 4));
});

test('similarityMatrix is the dot product of normalised rows', () => {
  const q = truncateNormalize(new Float32Array([1, 0, 1, 1]), 2, 2, 2);
  const c = truncateNormalize(new Float32Array([0, 1, 2, 0, 1, 1]), 3, 2, 2);
  const s = similarityMatrix(q, 2, c, 3, 2);
  // q0=[1,0]: [0, 1, 0.7071]; q1=[.7071,.7071]: [.7071, .7071, 1]
  [0, 1, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, 1].forEach((v, i) => close(s[i], v));
  assert.deepEqual(topK(s, 1, 3, 2), [2, 0]); // tie 0/1 → lower index first
});

test('queryMetrics: one relevant document at rank 3', () => {
  const m = queryMetrics([5, 7, 2, 9], new Set([2]));
  close(m['ndcg@10'], 1 / Math.log2(4)); // 0.5
  close(m['mrr@10'], 1 / 3);
  assert.equal(m['recall@1'], 0);
  assert.equal(m['recall@10'], 1);
  close(m['map@100'], 1 / 3);
});

test('queryMetrics: two relevant documents at ranks 1 and 4', () => {
  const m = queryMetrics([1, 8, 9, 2, 7], new Set([1, 2]));
  // DCG = 1/log2(2) + 1/log2(5) = 1 + 0.430677; IDCG = 1 + 1/log2(3) = 1.630930
  close(m['ndcg@10'], (1 + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)));
  close(m['mrr@10'], 1);
  close(m['recall@1'], 0.5);
  close(m['recall@10'], 1);
  close(m['map@100'], (1 / 1 + 2 / 4) / 2); // 0.75
});

test('queryMetrics: relevant document beyond rank 10 counts only for MAP@100', () => {
  const ranked = Array.from({ length: 20 }, (_, i) => i + 100);
  ranked[11] = 3; // rank 12
  const m = queryMetrics(ranked, new Set([3]));
  assert.equal(m['ndcg@10'], 0);
  assert.equal(m['mrr@10'], 0);
  assert.equal(m['recall@10'], 0);
  close(m['map@100'], 1 / 12);
});

test('retrievalMetrics averages over queries', () => {
  // 2 queries × 3 docs; q0 ranks doc0 first (relevant), q1 ranks doc2 > doc0 > doc1 with doc1 relevant.
  const scores = new Float32Array([0.9, 0.1, 0.2, 0.5, 0.1, 0.8]);
  const m = retrievalMetrics(scores, 2, 3, [new Set([0]), new Set([1])]);
  close(m['mrr@10'], (1 + 1 / 3) / 2);
  close(m['recall@1'], 0.5);
  close(m['ndcg@10'], (1 + 0.5) / 2);
});

test('averageRanks gives ties their mean rank; spearman matches a hand computation', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 5])], [2, 3.5, 3.5, 1]);
  close(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  close(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // x ranks [1,2,3,4], y = [1,3,2,4] → d² = 0+1+1+0 = 2 → 1 − 6·2/(4·15) = 0.8
  close(spearman([1, 2, 3, 4], [1, 3, 2, 4]), 0.8);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), 0); // constant side: no correlation, not NaN
});

test('funnel: shortlist at a small dim, re-rank at a larger one, multiply-adds counted', () => {
  // dim 1 cannot tell docs 0 and 1 apart (both 1 in the first coordinate); dim 2 can.
  const q = new Float32Array([1, 1]);
  const c = new Float32Array([1, -1, 1, 1, -1, 0]);
  const rel = [new Set([1])];
  const f = funnelRetrieval(q, 1, c, 3, 2, rel, { shortlistDim: 1, rerankDim: 2, shortlistSize: 2 });
  close(f['recall@1'], 1); // doc 1 wins after re-ranking
  // MACs: 1·3·1 + 1·2·2 = 7 against 1·3·2 = 6 → negative saving on this toy corpus
  close(f.macsSaved, 1 - 7 / 6);
  const big = funnelRetrieval(new Float32Array(64).fill(1), 1, new Float32Array(64 * 100).fill(1), 100, 64, [new Set([0])], {
    shortlistDim: 8,
    rerankDim: 64,
    shortlistSize: 10,
  });
  close(big.macsSaved, 1 - (100 * 8 + 10 * 64) / (100 * 64));
});

test('buildEvalSet: corpus is the distinct positives (+ negatives as distractors); scored pairs keep top-score rows as queries', () => {
  const t: PairTable = {
    columns: ['anchor', 'positive', 'negative'],
    texts: [
      ['q1', 'q2', 'q1'],
      ['d1', 'd2', 'd3'],
      ['n1', 'd1', 'n2'],
    ],
    origins: [],
    groups: ['a', 'b', 'c'],
  };
  const s = buildEvalSet(t, 10);
  assert.deepEqual(s.queries, ['q1', 'q2']);
  assert.deepEqual(s.corpus, ['d1', 'd2', 'd3', 'n1', 'n2']);
  assert.deepEqual(
    s.relevant.map((r) => [...r]),
    [[0, 2], [1]],
  );
  const scored: PairTable = {
    columns: ['s1', 's2'],
    texts: [
      ['a', 'b', 'c'],
      ['x', 'y', 'z'],
    ],
    scores: [1, 0.2, 1],
    origins: [],
    groups: ['1', '2', '3'],
  };
  const ss = buildEvalSet(scored, 10);
  assert.deepEqual(ss.queries, ['a', 'c']);
  assert.deepEqual(ss.corpus, ['x', 'z', 'y']);
  assert.deepEqual(ss.pairs?.scores, [1, 0.2, 1]);
});

test('evaluate: a perfect embedder scores 1 at every dim, and spearman follows the cosine', () => {
  const t: PairTable = {
    columns: ['s1', 's2'],
    texts: [
      ['a', 'b', 'c'],
      ['a2', 'b2', 'c2'],
    ],
    scores: [1, 0.5, 0],
    origins: [],
    groups: ['1', '2', '3'],
  };
  // a and a2 identical; b2 half-way from b; c2 opposite of c.
  const vec: Record<string, number[]> = {
    a: [1, 0, 0, 1],
    a2: [1, 0, 0, 1],
    b: [0, 1, 1, 0],
    b2: [1, 1, 1, 0],
    c: [0, 0, 1, 1],
    c2: [0, 0, -1, -1],
  };
  const embed = (texts: string[]) => new Float32Array(texts.flatMap((x) => vec[x]));
  const r = evaluate(buildEvalSet(t, 10), embed, 4, { dims: [4, 2], metrics: ['ndcg@10', 'recall@1', 'spearman'], funnel: null });
  assert.deepEqual(Object.keys(r.byDim).sort(), ['2', '4']);
  close(r.byDim['4']['ndcg@10'], 1);
  close(r.byDim['4']['recall@1'], 1);
  close(r.byDim['4'].spearman, 1);
  assert.equal(r.byDim['4']['mrr@10'], undefined, 'only the requested metrics');
});

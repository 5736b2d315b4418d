// The evaluation's fast paths against the direct ones they replace: prefix cosines (every dim in one pass,
// norms as prefix sums) against truncate + normalise + dot product per dim; the heap top-k against a full
// sort; funnel and per-dim retrieval metrics against the same metrics from the direct scores and a full
// sort per query; embedding batched by token count against one text at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { runSync } from '../../src/common/cooperative';
import { embedTexts } from '../../src/trainer/eval/embed';
import {
  funnelRetrieval,
  funnelRetrievalWork,
  prefixCosines,
  prefixInverseNorms,
  queryMetrics,
  retrievalByDimWork,
  similarityMatrix,
  topK,
  truncateNormalize,
  type RetrievalMetrics,
} from '../../src/trainer/eval/metrics';
import { BertEncoder } from '../../src/trainer/model/encoder';
import type { TokenBatch } from '../../src/trainer/model/types';
import { Rng } from '../../src/common/random';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';

const WIDTH = 24;
const DIMS = [24, 12, 6, 3];

/** Gaussian rows, with exact ties built in: duplicates, duplicates scaled by powers of two, zero rows. */
function rows(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n * WIDTH);
  // Roughly Gaussian (sum of uniforms): continuous, so ties are only the ones built in below.
  for (let i = 0; i < x.length; i++) x[i] = rng.next() + rng.next() + rng.next() - 1.5;
  for (let i = 5; i < n; i += 7) {
    const src = rng.int(i);
    const scale = [1, 2, 0.5, 4][rng.int(4)];
    for (let k = 0; k < WIDTH; k++) x[i * WIDTH + k] = x[src * WIDTH + k] * scale;
  }
  for (let i = 11; i < n; i += 29) x.fill(0, i * WIDTH, i * WIDTH + 6); // zero prefix up to dim 6
  return x;
}

/** The direct path: truncate, normalise, dot products, then a full sort per query (score desc, index asc). */
function directRanking(
  q: Float32Array,
  nq: number,
  c: Float32Array,
  nc: number,
  dim: number,
  k: number,
): { scores: Float32Array; ranked: number[][] } {
  const scores = similarityMatrix(truncateNormalize(q, nq, WIDTH, dim), nq, truncateNormalize(c, nc, WIDTH, dim), nc, dim);
  const ranked: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const row = scores.subarray(i * nc, (i + 1) * nc);
    ranked.push(
      Array.from({ length: nc }, (_, j) => j)
        .sort((a, b) => row[b] - row[a] || a - b)
        .slice(0, k),
    );
  }
  return { scores, ranked };
}

function mean(list: RetrievalMetrics[]): RetrievalMetrics {
  const out: RetrievalMetrics = { 'ndcg@10': 0, 'mrr@10': 0, 'recall@1': 0, 'recall@10': 0, 'map@100': 0 };
  for (const m of list) for (const key of Object.keys(out) as (keyof RetrievalMetrics)[]) out[key] += m[key] / list.length;
  return out;
}

/**
 * Distinct scores of a query's first k+1 places lie further apart than float rounding (so both paths must
 * rank them alike); equal scores are exact ties. The data below is checked to be so, or the test says so.
 */
function assertNoNearTies(scores: Float32Array, ranked: number[][], nc: number, what: string): void {
  ranked.forEach((r, i) => {
    for (let p = 1; p < r.length; p++) {
      const gap = scores[i * nc + r[p - 1]] - scores[i * nc + r[p]];
      assert.ok(gap === 0 || gap > 2e-6, `${what}: query ${i} has a near-tie at place ${p} (${gap}); pick other data`);
    }
  });
}

// A seed whose data has no near-ties (assertNoNearTies); most seeds have none.
const rng = new Rng(2);
const NQ = 23; // not a multiple of 4: the one-query remainder path runs too
const NC = 90;
const Q = rows(rng, NQ);
const C = rows(rng, NC);
const relevant = Array.from({ length: NQ }, (_, i) => new Set(i % 3 === 0 ? [i, (i * 7) % NC] : [i]));

test('prefixCosines: every dim in one pass equals truncate + normalise + dot product per dim (float tolerance), from any query offset', () => {
  const asc = [...DIMS].sort((a, b) => a - b);
  const qInv = prefixInverseNorms(Q, NQ, WIDTH, asc);
  const cInv = prefixInverseNorms(C, NC, WIDTH, asc);
  for (const [from, n] of [
    [0, NQ],
    [3, 9],
    [NQ - 2, 2],
  ]) {
    const out = asc.map(() => new Float32Array(n * NC));
    prefixCosines(Q, qInv, from, n, C, cInv, NC, WIDTH, asc, out);
    asc.forEach((dim, t) => {
      const direct = similarityMatrix(
        truncateNormalize(Q.subarray(from * WIDTH, (from + n) * WIDTH), n, WIDTH, dim),
        n,
        truncateNormalize(C, NC, WIDTH, dim),
        NC,
        dim,
      );
      let worst = 0;
      for (let r = 0; r < direct.length; r++) worst = Math.max(worst, Math.abs(direct[r] - out[t][r]));
      assert.ok(worst < 1e-6, `dim ${dim}, queries ${from}..${from + n}: max |difference| ${worst}`);
      // Query 11 is zero up to dim 6: it scores 0 against everything there (never NaN).
      if (dim <= 6 && from <= 11 && 11 < from + n)
        assert.ok(
          out[t].subarray((11 - from) * NC, (12 - from) * NC).every((v) => v === 0),
          `dim ${dim}: zero prefix`,
        );
    });
  }
});

test('retrieval at every dim: rankings and metrics equal those of the direct scores and a full sort (exact ties by index)', () => {
  const got = runSync(retrievalByDimWork(Q, NQ, C, NC, WIDTH, DIMS, relevant));
  assert.deepEqual(
    [...got.keys()].sort((a, b) => a - b),
    [...DIMS].sort((a, b) => a - b),
  );
  const asc = [...DIMS].sort((a, b) => a - b);
  const qInv = prefixInverseNorms(Q, NQ, WIDTH, asc);
  const cInv = prefixInverseNorms(C, NC, WIDTH, asc);
  const fast = asc.map(() => new Float32Array(NQ * NC));
  prefixCosines(Q, qInv, 0, NQ, C, cInv, NC, WIDTH, asc, fast);
  let exactTies = 0;
  asc.forEach((dim, t) => {
    const { scores, ranked } = directRanking(Q, NQ, C, NC, dim, 100);
    assertNoNearTies(
      scores,
      ranked.map((r) => r.slice(0, 101)),
      NC,
      `dim ${dim}`,
    );
    for (let i = 0; i < NQ; i++) {
      assert.deepEqual(topK(fast[t], i, NC, 100), ranked[i], `dim ${dim}, query ${i}`);
      for (let p = 1; p < 100; p++) if (scores[i * NC + ranked[i][p]] === scores[i * NC + ranked[i][p - 1]]) exactTies++;
    }
    assert.deepEqual(got.get(dim), mean(ranked.map((r, i) => queryMetrics(r, relevant[i]))), `metrics at dim ${dim}`);
  });
  assert.ok(exactTies > 50, `the data has exact ties in the top 100 (${exactTies})`);
});

test('funnel: same metrics as shortlisting and re-ranking with the direct scores and full sorts', () => {
  const o = { shortlistDim: 6, rerankDim: 24, shortlistSize: 40 };
  const short = directRanking(Q, NQ, C, NC, o.shortlistDim, o.shortlistSize);
  assertNoNearTies(short.scores, short.ranked, NC, 'shortlist');
  const full = directRanking(Q, NQ, C, NC, o.rerankDim, NC);
  const list = short.ranked.map((cand, i) => {
    const row = full.scores.subarray(i * NC, (i + 1) * NC);
    const ranked = cand.slice().sort((a, b) => row[b] - row[a] || a - b);
    return queryMetrics(ranked, relevant[i]);
  });
  assertNoNearTies(full.scores, full.ranked, NC, 'rerank');
  const f = funnelRetrieval(Q, NQ, C, NC, WIDTH, relevant, o);
  const { macsSaved, ...metrics } = f;
  assert.deepEqual(metrics, mean(list));
  assert.equal(macsSaved, 1 - (NQ * NC * 6 + NQ * 40 * 24) / (NQ * NC * 24));
  assert.throws(() => funnelRetrieval(Q, NQ, C, NC, WIDTH, relevant, { ...o, rerankDim: 32 }), /dim 32 > embedding width 24/);
  assert.throws(() => runSync(retrievalByDimWork(Q, NQ, C, NC, WIDTH, [48, 8], relevant)), /dim 48 > embedding width 24/);
});

test('blocks of queries (a yield between blocks) give the same metrics as one block', () => {
  const drive = <T>(w: Generator<void, T, void>): { value: T; yields: number } => {
    let yields = 0;
    for (;;) {
      const r = w.next();
      if (r.done) return { value: r.value, yields };
      yields++;
    }
  };
  const one = drive(retrievalByDimWork(Q, NQ, C, NC, WIDTH, DIMS, relevant));
  const blocks = drive(retrievalByDimWork(Q, NQ, C, NC, WIDTH, DIMS, relevant, 5));
  assert.equal(one.yields, 1);
  assert.equal(blocks.yields, Math.ceil(NQ / 5));
  assert.deepEqual(blocks.value, one.value);
  const o = { shortlistDim: 6, rerankDim: 24, shortlistSize: 40 };
  const f = drive(funnelRetrievalWork(Q, NQ, C, NC, WIDTH, relevant, o, 6));
  assert.equal(f.yields, Math.ceil(NQ / 6) - 1);
  assert.deepEqual(f.value, funnelRetrieval(Q, NQ, C, NC, WIDTH, relevant, o));
});

test('topK: a NaN anywhere falls back to the full sort order; k beyond the row keeps every entry', () => {
  const s = new Float32Array([0.5, NaN, 0.9, 0.5, 0.1]);
  assert.deepEqual(topK(s, 0, 5, 3), [0, 1, 2, 3, 4].sort((a, b) => s[b] - s[a] || a - b).slice(0, 3));
  const t = new Float32Array([0.2, 0.7, 0.7, -1]);
  assert.deepEqual(topK(t, 0, 4, 10), [1, 2, 0, 3]);
  assert.deepEqual(topK(t, 0, 4, 10, [3, 2, 0]), [2, 0, 3]);
});

test('embedTexts batches by token count (at most batchSize·maxSeqLength padded tokens) and gives each text its own embedding', async () => {
  await initBackend('wasm');
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  const r = new Rng(3);
  const texts = Array.from({ length: 37 }, (_, i) =>
    Array.from({ length: 1 + ((i * 5) % 13) }, () => words[r.int(words.length)]).join(' '),
  );
  const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: 60 });
  const encoder = new BertEncoder(
    {
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      intermediateSize: 32,
      maxPositions: 32,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      pooling: 'mean',
      layerNorm: 'post',
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    },
    { seed: 5 },
  );
  const shapes: number[][] = [];
  const lengths: number[][] = [];
  const seen = {
    dim: encoder.dim,
    variables: encoder.variables,
    encode(batch: TokenBatch) {
      shapes.push(batch.inputIds.shape);
      const mask = batch.attentionMask.arraySync();
      lengths.push(mask.map((row) => row.reduce((a, b) => a + b, 0)));
      return encoder.encode(batch);
    },
  };
  const o = { maxSeqLength: 12, batchSize: 4 };
  const batched = embedTexts(seen, tokenizer, texts, o);
  assert.ok(shapes.length > 1 && shapes.length < texts.length, `${shapes.length} batches`);
  shapes.forEach(([n, len], b) => {
    assert.ok(n * len <= o.batchSize * o.maxSeqLength, `batch ${b}: ${n}×${len} padded tokens`);
    assert.equal(len, Math.max(...lengths[b]), `batch ${b} pads to its longest text`);
  });
  const flat = lengths.flat();
  assert.deepEqual(
    flat,
    [...flat].sort((a, b) => a - b),
    'texts go in order of token count',
  );
  assert.ok(
    shapes.some(([n]) => n > o.batchSize),
    'short texts share larger batches',
  );
  for (let i = 0; i < texts.length; i++) {
    const alone = embedTexts(encoder, tokenizer, [texts[i]], o);
    const mine = batched.subarray(i * encoder.dim, (i + 1) * encoder.dim);
    alone.forEach((v, k) => assert.ok(Math.abs(v - mine[k]) < 1e-5, `text ${i} value ${k}: ${mine[k]} batched, ${v} alone`));
  }
  assert.equal(embedTexts(encoder, tokenizer, [], o).length, 0);
  encoder.dispose();
  assert.equal(tf.memory().numTensors, 0, 'no tensor left behind');
});

test('the wasm GEMM scorer: same cosines as the JS prefix pass (float tolerance), same metrics at every dim and in the funnel', async () => {
  await initBackend('wasm');
  const { wasmPrefixScorer, ownWasmKernelsActive } = await import('../../src/trainer/runtime/kernels/wasmKernels');
  assert.ok(ownWasmKernelsActive(), 'our wasm kernels are serving');
  const asc = [...DIMS].sort((a, b) => a - b);
  const qInv = prefixInverseNorms(Q, NQ, WIDTH, asc);
  const cInv = prefixInverseNorms(C, NC, WIDTH, asc);
  const before = tf.memory().numTensors;
  const scorer = wasmPrefixScorer(C, NC, WIDTH);
  assert.ok(scorer);
  for (const [from, n] of [
    [0, NQ],
    [3, 9],
  ]) {
    const js = asc.map(() => new Float32Array(n * NC));
    const gemm = asc.map(() => new Float32Array(n * NC));
    prefixCosines(Q, qInv, from, n, C, cInv, NC, WIDTH, asc, js);
    prefixCosines(Q, qInv, from, n, C, cInv, NC, WIDTH, asc, gemm, scorer);
    asc.forEach((dim, t) => {
      let worst = 0;
      for (let r = 0; r < js[t].length; r++) worst = Math.max(worst, Math.abs(js[t][r] - gemm[t][r]));
      assert.ok(worst < 1e-5, `dim ${dim}: max |difference| ${worst}`);
    });
  }
  scorer.dispose();
  const byJs = runSync(retrievalByDimWork(Q, NQ, C, NC, WIDTH, DIMS, relevant));
  const byGemm = runSync(retrievalByDimWork(Q, NQ, C, NC, WIDTH, DIMS, relevant, 5, wasmPrefixScorer));
  for (const dim of DIMS) {
    for (const [k, v] of Object.entries(byJs.get(dim)!))
      assert.ok(Math.abs(v - byGemm.get(dim)![k as keyof RetrievalMetrics]) < 1e-9, `dim ${dim} ${k}`);
  }
  const o = { shortlistDim: 6, rerankDim: 24, shortlistSize: 10 };
  const fJs = funnelRetrieval(Q, NQ, C, NC, WIDTH, relevant, o);
  const fGemm = runSync(funnelRetrievalWork(Q, NQ, C, NC, WIDTH, relevant, o, 7, wasmPrefixScorer));
  for (const [k, v] of Object.entries(fJs)) assert.ok(Math.abs(v - fGemm[k as keyof typeof fGemm]) < 1e-9, `funnel ${k}`);
  assert.equal(tf.memory().numTensors, before, 'the scorer frees its tensors');
});

// Retrieval metrics at int8 / binary / rescored precisions (src/trainer/eval/quantizedRetrieval.ts) against
// references computed independently with numpy from sentence-transformers' formulas
// (fixtures/quantization/make_fixtures.py → retrieval.json; the recipe and the source lines are in that
// script), plus the tie rule and the GEMM path on hand-made cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { quantizedRetrieval, RANKED } from '../../src/trainer/eval/quantizedRetrieval';
import { initBackend } from '../../src/trainer/runtime/backend';

interface Case {
  name: string;
  width: number;
  dims: number[];
  rescoreMultiplier: number;
  queries: number[][];
  corpus: number[][];
  relevant: number[][];
  expected: Record<string, Record<string, number>>;
}

const FIXTURE = resolve(__dirname, 'fixtures/quantization/retrieval.json');
const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { topK: number; cases: Case[] };

const KEYS = ['int8', 'int8+rescore', 'binary', 'binary+rescore'].flatMap((p) =>
  ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'].map((m) => `${p}:${m}`),
);

function rows(list: number[][], width: number): Float32Array {
  const out = new Float32Array(list.length * width);
  list.forEach((r, i) => {
    assert.equal(r.length, width, `${FIXTURE}: a row of ${r.length} values where the width is ${width}`);
    out.set(r, i * width);
  });
  return out;
}

function run(c: Case, scorer = false) {
  return import('../../src/trainer/runtime/kernels/wasmKernels').then(({ wasmPrefixScorer }) =>
    quantizedRetrieval(
      rows(c.queries, c.width),
      c.queries.length,
      rows(c.corpus, c.width),
      c.corpus.length,
      c.width,
      c.dims,
      c.relevant.map((r) => new Set(r)),
      { precisions: ['float32', 'int8', 'binary'], rescore: true, rescoreMultiplier: c.rescoreMultiplier },
      scorer ? wasmPrefixScorer : undefined,
    ),
  );
}

test('the fixtures cover odd dims, a shortlist smaller than the corpus and the ranked-list length used here', () => {
  assert.equal(doc.topK, RANKED);
  assert.equal(doc.cases.length, 3);
  assert.ok(doc.cases.some((c) => c.dims.some((d) => d % 8 !== 0 && d < 8)));
  assert.ok(doc.cases.some((c) => c.corpus.length > c.rescoreMultiplier * RANKED));
});

for (const c of doc.cases) {
  test(`numpy reference "${c.name}": every precision key at every dim equals the TypeScript path to 1e-6`, async () => {
    const got = await run(c);
    assert.deepEqual([...got.keys()].map(String).sort(), Object.keys(c.expected).sort());
    for (const [dim, want] of Object.entries(c.expected)) {
      const m = got.get(Number(dim))!;
      assert.deepEqual(Object.keys(m).sort(), [...KEYS].sort(), `keys at dim ${dim}`);
      for (const k of KEYS) assert.ok(Math.abs(m[k] - want[k]) <= 1e-6, `${c.name} dim ${dim} ${k}: got ${m[k]}, numpy ${want[k]}`);
    }
  });
}

test("int8 dot products on the wasm GEMM (exact in float32 up to dim 1024) give the JS integer path's metrics", async () => {
  await initBackend('wasm');
  const { ownWasmKernelsActive } = await import('../../src/trainer/runtime/kernels/wasmKernels');
  assert.ok(ownWasmKernelsActive(), 'the GEMM scorer needs our wasm kernels');
  for (const c of doc.cases) {
    const js = await run(c, false);
    const gemm = await run(c, true);
    for (const [dim, m] of js) assert.deepEqual(gemm.get(dim), m, `${c.name} dim ${dim}`);
  }
});

test('ties are pessimistic: a relevant document ranks after every non-relevant one with the same score', () => {
  // Three identical documents; the relevant one comes first in corpus order and would win under corpus order.
  const width = 4;
  const c = new Float32Array([0.5, -0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.5]);
  const q = new Float32Array([0.4, -0.6, 0.3, 0.2]);
  const r = quantizedRetrieval(q, 1, c, 3, width, [4], [new Set([0])], {
    precisions: ['int8', 'binary'],
    rescore: true,
    rescoreMultiplier: 1,
  });
  const m = r.get(4)!;
  for (const p of ['int8', 'int8+rescore', 'binary', 'binary+rescore']) {
    assert.equal(m[`${p}:mrr@10`], 1 / 3, `${p}: rank 3 of 3`);
    assert.equal(m[`${p}:recall@1`], 0, p);
  }
  // Two relevant documents tied with one irrelevant: ranks 2 and 3, in corpus order among themselves.
  const two = quantizedRetrieval(q, 1, c, 3, width, [4], [new Set([0, 2])], {
    precisions: ['binary'],
    rescore: false,
    rescoreMultiplier: 1,
  });
  assert.ok(Math.abs(two.get(4)!['binary:map@100'] - (1 / 2 + 2 / 3) / 2) < 1e-12);
});

test('binary: Hamming distance over the packed bits, lower first', () => {
  // dim 3: bits (x > 0). Query 110; docs 110 (distance 0), 011 (2), 100 (1), 111 (1).
  const q = new Float32Array([1, 1, -1]);
  const c = new Float32Array([1, 1, -1, -1, 1, 1, 1, -1, -1, 1, 1, 1]);
  const one = (rel: number) =>
    quantizedRetrieval(q, 1, c, 4, 3, [3], [new Set([rel])], { precisions: ['binary'], rescore: false, rescoreMultiplier: 1 }).get(3)!;
  assert.equal(one(0)['binary:mrr@10'], 1);
  assert.equal(one(2)['binary:mrr@10'], 1 / 3, 'distance 1, tied with doc 3 (later in corpus order): relevant last');
  assert.equal(one(3)['binary:mrr@10'], 1 / 3, 'distance 1, tied with doc 2');
  assert.equal(one(1)['binary:mrr@10'], 1 / 4, 'distance 2: last');
  assert.equal(one(2)['binary:map@100'], 1 / 3);
  assert.equal(one(2)['binary:recall@10'], 1);
  assert.equal(one(2)['binary:ndcg@10'], 1 / Math.log2(4));
  assert.equal(one(2)['binary:recall@1'], 0);
});

test('rescore keeps only the shortlist: a relevant document outside rescoreMultiplier × 100 is never found', () => {
  // 150 documents; the relevant one is the farthest by Hamming distance but the best by the float query.
  const width = 8;
  const nc = 150;
  const c = new Float32Array(nc * width);
  for (let j = 0; j < nc - 1; j++) for (let k = 0; k < width; k++) c[j * width + k] = k < 4 ? 0.01 : -0.01;
  for (let k = 0; k < width; k++) c[(nc - 1) * width + k] = k < 4 ? -1 : 1;
  const q = new Float32Array([0.1, 0.1, 0.1, 0.1, -0.2, 5, 5, 5]);
  const r = quantizedRetrieval(q, 1, c, nc, width, [8], [new Set([nc - 1])], {
    precisions: ['binary'],
    rescore: true,
    rescoreMultiplier: 1,
  });
  assert.equal(r.get(8)!['binary+rescore:map@100'], 0, 'out of the 100-document shortlist');
  const wide = quantizedRetrieval(q, 1, c, nc, width, [8], [new Set([nc - 1])], {
    precisions: ['binary'],
    rescore: true,
    rescoreMultiplier: 2,
  });
  assert.equal(wide.get(8)!['binary+rescore:mrr@10'], 1, 'in the 200-document shortlist, first after rescoring');
});

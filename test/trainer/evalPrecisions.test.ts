// evaluation.precisions / rescore / rescoreMultiplier through a real tiny training run: the eval lines of
// metrics.jsonl carry every precision key (src/protocol/runFolder.ts precisionKey) at every dim, the
// float32 keys are the same values as a float32-only run's, and the config's checks name the JSON path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRunConfig } from '../../src/config/validate';
import { PRECISIONS, parsePrecisionKey, precisionKey, type MetricsEvent, type MetricsLine } from '../../src/protocol/runFolder';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';
import { metricsTable, frontierLine } from '../../src/trainer/loop/report';
import { loadWordnet } from '../../src/data/wordnet';

const dir = mkdtempSync(join(tmpdir(), 'mrl-precisions-'));
const rows = loadWordnet()
  .rows.filter((_, i) => i % 250 === 0)
  .slice(0, 300);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

const TINY = {
  name: 'tiny-precisions',
  seed: 11,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.25 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 12, 5] },
  training: { maxSteps: 6, batchSize: 16, learningRate: 0.003, warmupSteps: 1, logEvery: 2, evalEvery: 3, checkpointEvery: 3 },
  evaluation: { maxQueries: 60 } as Record<string, unknown>,
};
const METRICS = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];
const DIMS = ['16', '12', '5'];

function validate(evaluation: Record<string, unknown>) {
  return validateRunConfig({ ...TINY, evaluation: { ...TINY.evaluation, ...evaluation } }, join(dir, 'tiny.mrl.json'));
}

async function evalLines(evaluation: Record<string, unknown>, name: string): Promise<MetricsEvent[]> {
  const v = validate(evaluation);
  assert.deepEqual(v.errors, []);
  const runDir = join(dir, name);
  const lines: string[] = [];
  const r = await runTraining(await prepareRun(v.resolved!), { runDir, progress: null, print: (s) => lines.push(s) });
  assert.equal(r.status, 'completed', r.error?.message);
  const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsLine)
    .filter((l): l is MetricsEvent => 'split' in l && l.split === 'eval');
  assert.deepEqual(
    events.map((e) => e.step),
    [0, 3, 6],
  );
  return Object.assign(events, { printed: lines.join('\n') });
}

test("defaults: every precision, rescoring on, multiplier 2 (sentence-transformers' default)", () => {
  const v = validate({});
  assert.deepEqual(v.errors, []);
  assert.deepEqual(v.config!.evaluation.precisions, ['float32', 'int8', 'binary']);
  assert.equal(v.config!.evaluation.rescore, true);
  assert.equal(v.config!.evaluation.rescoreMultiplier, 2);
});

test('bad precisions and multipliers are refused with the JSON path and what was expected', () => {
  const noFloat = validate({ precisions: ['int8', 'binary'] });
  assert.equal(noFloat.errors.length, 1);
  assert.equal(noFloat.errors[0].path, '/evaluation/precisions');
  assert.match(noFloat.errors[0].message, /includes "float32".*reference/);
  const dup = validate({ precisions: ['float32', 'int8', 'int8'] });
  assert.ok(
    dup.errors.some((e) => e.path === '/evaluation/precisions'),
    JSON.stringify(dup.errors),
  );
  const unknown = validate({ precisions: ['float32', 'int4'] });
  assert.ok(
    unknown.errors.some((e) => e.path.startsWith('/evaluation/precisions')),
    JSON.stringify(unknown.errors),
  );
  for (const bad of [0, 1.5, -2]) {
    const r = validate({ rescoreMultiplier: bad });
    assert.ok(
      r.errors.some((e) => e.path === '/evaluation/rescoreMultiplier'),
      `${bad}: ${JSON.stringify(r.errors)}`,
    );
  }
});

test('a tiny run: every eval line has every precision key at every dim; float32 keys as a float32-only run; the table and the frontier line', async () => {
  const all = (await evalLines({}, 'all')) as MetricsEvent[] & { printed: string };
  const expected = METRICS.flatMap((m) =>
    PRECISIONS.flatMap((p) => (p === 'float32' ? [m] : [precisionKey(m, p), precisionKey(m, p, true)])),
  );
  for (const e of all) {
    assert.deepEqual(Object.keys(e.byDim!).sort(), [...DIMS].sort());
    for (const d of DIMS) {
      assert.deepEqual(Object.keys(e.byDim![d]).sort(), [...expected].sort(), `step ${e.step} dim ${d}`);
      for (const [k, v] of Object.entries(e.byDim![d]))
        assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `step ${e.step} dim ${d} ${k}: ${v}`);
    }
  }

  const float = (await evalLines({ precisions: ['float32'] }, 'float32')) as MetricsEvent[] & { printed: string };
  for (const [i, e] of float.entries()) {
    for (const d of DIMS) {
      assert.ok(
        Object.keys(e.byDim![d]).every((k) => parsePrecisionKey(k).precision === 'float32'),
        `only float32 keys: ${Object.keys(e.byDim![d])}`,
      );
      const floatKeys = Object.fromEntries(Object.entries(all[i].byDim![d]).filter(([k]) => parsePrecisionKey(k).precision === 'float32'));
      assert.deepEqual(floatKeys, e.byDim![d], `step ${e.step} dim ${d}: the float32 metrics do not depend on the precisions`);
    }
    assert.deepEqual(e.values, all[i].values, 'funnel values unchanged');
  }

  // The final report: the float32 table, then one row per dim of ndcg@10 at each precision, then the frontier's answer.
  assert.match(all.printed, /ndcg@10 by precision \(index bytes per vector\)/);
  assert.match(all.printed, /^\s*dim\s+float32\s+int8\s+int8\+rescore\s+binary\s+binary\+rescore$/m);
  for (const d of DIMS) assert.match(all.printed, new RegExp(`^\\s*${d}(\\s+(\\d\\.\\d{4} \\(\\d+ B\\)|-)){5}$`, 'm'));
  assert.match(all.printed, /^frontier \(cheapest dim × precision\): (reaches|needs) /m);
  assert.doesNotMatch(float.printed, /by precision/);
  assert.match(float.printed, /^frontier \(cheapest dim × precision\): (reaches|needs) .* float32 at dim/m);
});

test('the report reads known metrics: the cheapest point reaching 95 % is named in the frontier line', () => {
  const byDim = {
    '64': { 'ndcg@10': 0.4, 'int8:ndcg@10': 0.39, 'binary:ndcg@10': 0.3, 'binary+rescore:ndcg@10': 0.385, 'int8+rescore:ndcg@10': 0.395 },
    '32': { 'ndcg@10': 0.37, 'int8:ndcg@10': 0.36, 'binary:ndcg@10': 0.2, 'binary+rescore:ndcg@10': 0.33, 'int8+rescore:ndcg@10': 0.365 },
  };
  // 95 % of 0.4 = 0.38: binary+rescore at 64 (8 bytes) is the cheapest point reaching it.
  assert.match(frontierLine(byDim)!, /reaches 95 % at 8 bytes\/vector: binary at dim 64, rescored/);
  const table = metricsTable(byDim);
  assert.match(table, /^\s*64\s+0\.4000 \(256 B\)\s+0\.3900 \(64 B\)\s+0\.3950 \(64 B\)\s+0\.3000 \(8 B\)\s+0\.3850 \(8 B\)$/m);
  assert.match(table, /^\s*32\s+0\.3700$/m, 'the float32 table keeps its columns');
});

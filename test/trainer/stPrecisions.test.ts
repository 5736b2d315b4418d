// engine "sentence-transformers", issue 20 §1: the generated train.py measures retrieval at int8 / binary (and
// rescored) at every dim. Without torch, the script's own precision code (taken out of the generated file by
// Python's parser, test/python/drive_precision.py) runs on numpy against an independent reference written from
// sentence-transformers' formulas (test/python/precision_reference.py, sources and lines cited there); its codes
// are compared with the bundled engine's (src/trainer/eval/quantize.ts), and its results go through the callback
// to the byDim keys both engines share (precisionKey).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import { validateRunConfig } from '../../src/config/validate';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import { generateScript } from '../../src/engines/sentenceTransformers/script';
import { precisionSettings } from '../../src/engines/sentenceTransformers/precisionEvaluator';
import { precisionKey, type Precision } from '../../src/protocol/runFolder';
import { int8Calibration, quantizeBinary, quantizeInt8 } from '../../src/trainer/eval/quantize';

const PY = process.env.MRL_TEST_PYTHON ?? 'python3';
const numpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' });
const skip =
  numpy.status === 0 ? false : `${PY} with numpy not found (${(numpy.stderr ?? numpy.error?.message ?? '').trim().split('\n').pop()})`;
const DRIVER = resolve(__dirname, '..', 'python', 'drive_precision.py');
const root = mkdtempSync(join(tmpdir(), 'mrl-stprec-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Means = Record<string, number>;
const METRICS = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];

function resolved(patch: (json: Record<string, unknown>) => void = () => {}): ResolvedRunConfig {
  const json = parse(readFileSync(resolve('examples', 'quickstart.mrl.json'), 'utf8')) as Record<string, unknown>;
  delete json.backend;
  Object.assign(json, { engine: 'sentence-transformers', model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } } });
  patch(json);
  const v = validateRunConfig(json, resolve('examples', 'x.mrl.json'));
  assert.deepEqual(v.errors, []);
  return v.resolved!;
}

/** Evaluation keys set on a validated config. */
function withPrecisions(
  r: ResolvedRunConfig,
  fields: { precisions?: Precision[]; rescore?: boolean; rescoreMultiplier?: number },
): ResolvedRunConfig {
  Object.assign(r.config.evaluation, fields);
  return r;
}

function scriptFile(r: ResolvedRunConfig): { file: string; text: string } {
  const text = generateScript({ resolved: r, model: 'sentence-transformers/all-MiniLM-L6-v2', guides: {}, scoredEval: false });
  const file = join(root, `train-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, text);
  return { file, text };
}

function drive<T>(file: string, scenario: string): T {
  const r = spawnSync(PY, [DRIVER, file, scenario], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

function assertClose(got: Means, want: Means, what: string): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), what);
  for (const k of Object.keys(want))
    assert.ok(Math.abs(got[k] - want[k]) <= 1e-12, `${what} ${k}: ${got[k]} vs the reference's ${want[k]}`);
}

describe('the generated train.py: retrieval at int8 / binary, rescored', { skip }, () => {
  const quick = scriptFile(resolved());

  test('against the independent reference: every dim, both precisions, with and without rescoring, two shortlist sizes', () => {
    type Fixture = Record<'x2' | 'x4', { got: Record<string, Record<string, Means>>; want: Record<string, Record<string, Means>> }> & {
      noRescore: Record<string, Record<string, Means>>;
      topK: number;
    };
    const out = drive<Fixture>(quick.file, 'fixture');
    assert.equal(out.topK, 100, 'documents ranked per query: map@100 needs 100');
    for (const x of ['x2', 'x4'] as const) {
      assert.deepEqual(Object.keys(out[x].got).sort(), ['12', '24', '8']);
      for (const dim of ['24', '12', '8']) {
        assert.deepEqual(Object.keys(out[x].got[dim]).sort(), ['binary', 'binary_rescore', 'int8', 'int8_rescore']);
        for (const v of Object.keys(out[x].want[dim])) assertClose(out[x].got[dim][v], out[x].want[dim][v], `${x} dim ${dim} ${v}`);
      }
    }
    // The shortlist (multiplier × 100 of 300 documents, then all of them) changes the rescored numbers, not the others.
    const differs = (v: string) => ['24', '12', '8'].some((d) => out.x2.got[d][v]['map@100'] !== out.x4.got[d][v]['map@100']);
    assert.ok(differs('binary_rescore'), 'the rescore multiplier is used');
    assert.ok(!differs('binary') && !differs('int8'), 'the quantised index alone does not depend on it');
    assert.deepEqual(Object.keys(out.noRescore['8']), ['binary'], 'rescore false: no rescored variant');
    assertClose(out.noRescore['8'].binary, out.x2.got['8'].binary, 'rescore false, dim 8 binary');
  });

  test('ties are pessimistic (the bundled rule): the relevant document, first in corpus order, loses every tie', () => {
    const out = drive<{ binary: Means; binaryRescore: Means; shortlistTies: Record<string, Means> }>(quick.file, 'ties');
    // Five documents share the query's code: the relevant one ranks fifth, after the four non-relevant ones.
    assert.deepEqual(out.binary, {
      'ndcg@10': 1 / Math.log2(6),
      'mrr@10': 0.2,
      'recall@1': 0,
      'recall@10': 1,
      'map@100': 0.2,
    });
    // Rescored: two documents tie on the float32 query; the relevant one ranks second.
    assert.deepEqual(out.binaryRescore, { 'ndcg@10': 1 / Math.log2(3), 'mrr@10': 0.5, 'recall@1': 0, 'recall@10': 1, 'map@100': 0.5 });
    // 150 documents tie at both stages: the 149 non-relevant ones fill the shortlist of 100, so the relevant one is
    // not rescored at all (a corpus-order shortlist would rank it 100th after the rescore: map@100 0.01).
    const zero = { 'ndcg@10': 0, 'mrr@10': 0, 'recall@1': 0, 'recall@10': 0, 'map@100': 0 };
    assert.deepEqual(out.shortlistTies, { binary: zero, binary_rescore: zero });
  });

  test("the bundled engine's fixtures (quantization/retrieval.json): the script's metrics equal them to 1e-6", () => {
    type Case = { name: string; got: Record<string, Means>; expected: Record<string, Means> };
    const out = drive<{ cases: Case[] }>(quick.file, 'conformance');
    assert.equal(out.cases.length, 3);
    for (const c of out.cases) {
      assert.deepEqual(Object.keys(c.got).sort(), Object.keys(c.expected).sort(), c.name);
      for (const [dim, want] of Object.entries(c.expected)) {
        assert.deepEqual(Object.keys(c.got[dim]).sort(), Object.keys(want).sort(), `${c.name} dim ${dim}`);
        for (const k of Object.keys(want))
          assert.ok(Math.abs(c.got[dim][k] - want[k]) <= 1e-6, `${c.name} dim ${dim} ${k}: script ${c.got[dim][k]}, fixture ${want[k]}`);
      }
    }
  });

  test("the codes are the bundled engine's (quantize.ts), at a dim that is not a multiple of 8, beyond the corpus' range, with a constant component", () => {
    type Codes = Record<'corpus' | 'queries' | 'int8Corpus' | 'int8Queries' | 'binaryCorpus' | 'binaryQueries', number[][]>;
    const out = drive<Codes>(quick.file, 'codes');
    const dim = 12;
    const flat = (rows: number[][]) => Float32Array.from(rows.flat());
    const corpus = flat(out.corpus);
    const queries = flat(out.queries);
    const cal = int8Calibration(corpus, out.corpus.length, dim);
    assert.deepEqual(out.int8Corpus.flat(), [...quantizeInt8(corpus, out.corpus.length, dim, cal)]);
    assert.deepEqual(out.int8Queries.flat(), [...quantizeInt8(queries, out.queries.length, dim, cal)]);
    assert.deepEqual(out.binaryCorpus.flat(), [...quantizeBinary(corpus, out.corpus.length, dim)]);
    assert.deepEqual(out.binaryQueries.flat(), [...quantizeBinary(queries, out.queries.length, dim)]);
    // What makes the comparison bite: queries beyond the calibration range, and a component with max == min.
    const beyond = out.queries.some((row) => row.some((x, k) => x < cal.starts[k] || x > cal.starts[k] + 255 * cal.steps[k] + 1e-6));
    assert.ok(beyond, 'some query component lies outside the corpus range');
    assert.ok([...cal.steps].includes(0), 'a constant component');
    assert.equal(out.binaryCorpus[0].length, 2, 'twelve bits in two bytes per row');
  });

  test('PrecisionEvaluator as build_evaluator() makes it → the callback → byDim["<d>"]["int8:ndcg@10"], ["binary+rescore:…"]', () => {
    type Ev = {
      dims: number[];
      precisions: string[];
      rescore: boolean;
      rescoreMultiplier: number;
      metrics: string[];
      primary: string;
      results: Record<string, number>;
      values: Record<string, number>;
      byDim: Record<string, Record<string, number>>;
    };
    const out = drive<Ev>(quick.file, 'evaluator');
    const settings = precisionSettings(resolved().config.evaluation);
    assert.deepEqual(out.dims, [64, 32, 16, 8]);
    assert.deepEqual(out.precisions, ['float32', 'int8', 'binary']);
    assert.equal(out.rescore, true);
    assert.equal(out.rescoreMultiplier, settings.rescoreMultiplier);
    assert.equal(settings.rescoreMultiplier, 2, "the schema's default (src/config/defaults.ts)");
    assert.deepEqual(out.metrics, METRICS);
    assert.ok(out.primary in out.results, `primary metric ${out.primary} is among the results`);
    assert.deepEqual(out.values, {}, 'every result lands in byDim');
    const expected = (['int8', 'binary'] as const)
      .flatMap((p) => [false, true].flatMap((r) => METRICS.map((m) => precisionKey(m, p, r))))
      .sort();
    assert.deepEqual(Object.keys(out.byDim).sort(), ['16', '32', '64', '8']);
    for (const d of out.dims) {
      assert.deepEqual(Object.keys(out.byDim[String(d)]).sort(), expected, `dim ${d}`);
      assert.equal(out.byDim[String(d)]['binary+rescore:ndcg@10'], out.results[`dim_${d}_binary_rescore_ndcg@10`]);
      assert.equal(out.byDim[String(d)]['int8:map@100'], out.results[`dim_${d}_int8_map@100`]);
      for (const v of Object.values(out.byDim[String(d)])) assert.ok(v >= 0 && v <= 1, `dim ${d}: ${v} is a retrieval metric`);
    }
    // The fixed embeddings put each query near its first relevant document: the numbers are not all zero.
    assert.ok(out.byDim['64']['int8:recall@10'] > 0.3, JSON.stringify(out.byDim['64']));
  });

  test('evaluation.precisions / rescore / rescoreMultiplier and the metrics reach the script', () => {
    const some = withPrecisions(
      resolved((j) => ((j.evaluation as Record<string, unknown>).metrics = ['ndcg@10', 'map@100', 'spearman'])),
      { precisions: ['float32', 'binary'], rescore: false, rescoreMultiplier: 3 },
    );
    const s = scriptFile(some);
    assert.match(s.text, /^PRECISIONS = \["float32", "binary"\]/m);
    assert.match(s.text, /^RESCORE = False/m);
    assert.match(s.text, /^RESCORE_MULTIPLIER = 3\b/m);
    assert.match(
      s.text,
      /PrecisionEvaluator\(.*\["ndcg@10", "map@100"\]\)\)$/m,
      'the retrieval metrics of evaluation.metrics, no spearman',
    );
    const out = drive<{ byDim: Record<string, Record<string, number>> }>(s.file, 'evaluator');
    assert.deepEqual(Object.keys(out.byDim['8']).sort(), ['binary:map@100', 'binary:ndcg@10']);

    const floatOnly = generateScript({
      resolved: withPrecisions(resolved(), { precisions: ['float32'] }),
      model: 'm',
      guides: {},
      scoredEval: false,
    });
    assert.doesNotMatch(floatOnly, /PrecisionEvaluator|quantize_embeddings|^PRECISIONS/m, 'float32 only: the script as before');
    assert.match(floatOnly, /InformationRetrievalEvaluator\(/);
    const noRetrieval = generateScript({
      resolved: resolved((j) => ((j.evaluation as Record<string, unknown>).metrics = ['spearman'])),
      model: 'm',
      guides: {},
      scoredEval: true,
    });
    assert.doesNotMatch(noRetrieval, /PrecisionEvaluator\(/, 'no retrieval metric asked: nothing to quantise');
  });
});

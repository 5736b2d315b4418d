// training.keepBest in a config: the schema's shape, then the checks a schema cannot express (its metric
// is reported by the evaluation, its dims are evaluated dims), each error on its exact JSON path; the
// sentence-transformers engine refuses it; diagnostics land on the offending value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateRunConfig, type ConfigError } from '../../src/config/validate';
import { configDiagnostics } from '../../src/config/diagnostics';

const BASE = {
  model: { scratch: { hiddenSize: 64, numHeads: 2, numLayers: 1, intermediateSize: 64 } },
  data: { train: { source: 'builtin:wordnet' } },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [64, 32, 16, 8] },
};

function check(training: Record<string, unknown>, over: Record<string, unknown> = {}): { errors: ConfigError[]; keepBest?: unknown } {
  const r = validateRunConfig({ ...BASE, ...over, training }, '/nowhere/a.mrl.json', { checkFiles: false });
  return { errors: r.errors, keepBest: r.config?.training.keepBest };
}

const paths = (errors: ConfigError[]) => errors.map((e) => e.path);

test('a valid keepBest passes and reaches the resolved config; its metric defaults to ndcg@10', () => {
  const ok = check({ keepBest: { metric: 'mrr@10', dims: [64, 16] } });
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.keepBest, { metric: 'mrr@10', dims: [64, 16] });
  assert.deepEqual(check({ keepBest: { dims: [8] } }).keepBest, { metric: 'ndcg@10', dims: [8] });
  assert.equal(check({ keepBest: null }).errors.length, 0);
  assert.equal(check({}).keepBest, undefined, 'absent stays absent (off)');
});

test('a dim that is not evaluated is an error on that dim, naming the evaluated ones', () => {
  const r = check({ keepBest: { metric: 'ndcg@10', dims: [64, 12] } });
  assert.deepEqual(paths(r.errors), ['/training/keepBest/dims/1']);
  assert.match(r.errors[0].message, /dim 12 is not evaluated.*64, 32, 16, 8/);
  // Explicit evaluation.dims decide, not the loss's dims.
  const e = check({ keepBest: { dims: [16, 32] } }, { evaluation: { dims: [64, 32] } });
  assert.deepEqual(paths(e.errors), ['/training/keepBest/dims/0']);
  assert.match(e.errors[0].message, /64, 32/);
});

test('the metric must be one the evaluation reports', () => {
  const typo = check({ keepBest: { metric: 'ndcg@11', dims: [64] } });
  assert.deepEqual(paths(typo.errors), ['/training/keepBest/metric']);
  assert.match(typo.errors[0].message, /unknown eval metric "ndcg@11"; did you mean "ndcg@10"\?/);
  const notListed = check({ keepBest: { metric: 'map@100', dims: [64] } }, { evaluation: { metrics: ['ndcg@10'] } });
  assert.deepEqual(paths(notListed.errors), ['/training/keepBest/metric']);
  assert.match(notListed.errors[0].message, /does not report map@100: add it to evaluation.metrics/);
  const spearman = check({ keepBest: { metric: 'spearman', dims: [64] } });
  assert.match(spearman.errors[0].message, /scored pairs only/);
  // A precision prefix needs that precision in evaluation.precisions (int8 is among the defaults).
  assert.deepEqual(check({ keepBest: { metric: 'int8+rescore:ndcg@10', dims: [64] } }).errors, []);
  const int8 = check({ keepBest: { metric: 'int8+rescore:ndcg@10', dims: [64] } }, { evaluation: { precisions: ['float32', 'binary'] } });
  assert.deepEqual(paths(int8.errors), ['/training/keepBest/metric']);
  assert.match(int8.errors[0].message, /does not score int8 embeddings/);
});

test('the schema: dims required, integers, no unknown keys', () => {
  assert.deepEqual(paths(check({ keepBest: { metric: 'ndcg@10' } }).errors), ['/training/keepBest']);
  assert.deepEqual(paths(check({ keepBest: { dims: [] } }).errors), ['/training/keepBest/dims']);
  assert.deepEqual(paths(check({ keepBest: { dims: [6.5] } }).errors), ['/training/keepBest/dims/0']);
  const extra = check({ keepBest: { dims: [64], metrics: 'x' } }).errors;
  assert.deepEqual(paths(extra), ['/training/keepBest/metrics']);
  assert.match(extra[0].message, /did you mean "metric"/);
});

test('engine sentence-transformers refuses keepBest, on the field', () => {
  const r = validateRunConfig(
    {
      engine: 'sentence-transformers',
      model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } },
      loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [384, 64] },
      training: { keepBest: { dims: [64] } },
    },
    '/nowhere/st.mrl.json',
    { checkFiles: false },
  );
  assert.deepEqual(paths(r.errors), ['/training/keepBest']);
  assert.match(r.errors[0].message, /bundled engine only/);
});

test('the editor shows the error on the offending dim', () => {
  const text = `{
  "model": { "scratch": { "hiddenSize": 64, "numHeads": 2 } },
  "loss": { "type": "MatryoshkaLoss", "loss": { "type": "MultipleNegativesRankingLoss" }, "matryoshkaDims": [64, 16] },
  "training": { "keepBest": { "metric": "ndcg@10", "dims": [64, 24] } }
}`;
  const r = validateRunConfig(JSON.parse(text), '/nowhere/c.mrl.json', { checkFiles: false });
  const d = configDiagnostics(text, r.errors);
  assert.equal(d.length, 1);
  const at = text.split('\n')[3].indexOf('24]');
  assert.deepEqual(d[0].range, { start: { line: 3, character: at }, end: { line: 3, character: at + 2 } });
});

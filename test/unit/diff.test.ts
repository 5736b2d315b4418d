import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedKeys, diffConfigs, flattenConfig, formatConfigValue } from '../../src/config/diff';

const base = {
  name: 'a',
  seed: 1,
  model: { scratch: { hiddenSize: 64, numLayers: 2 } },
  loss: {
    type: 'MatryoshkaLoss',
    loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 8 },
    matryoshkaDims: [64, 32, 16],
    matryoshkaWeights: null,
  },
  training: { learningRate: 1e-3, batchSize: 32 },
  evaluation: { dims: [], funnel: null },
};

test('flattenConfig: dotted paths, scalar arrays stay one leaf, object arrays by index', () => {
  const f = flattenConfig({ ...base, loss: [{ weight: 1, loss: { type: 'CoSENTLoss', scale: 20 } }] });
  assert.equal(f.get('model.scratch.hiddenSize'), 64);
  assert.deepEqual(f.get('evaluation.dims'), []);
  assert.equal(f.get('evaluation.funnel'), null);
  assert.equal(f.get('loss[0].weight'), 1);
  assert.equal(f.get('loss[0].loss.type'), 'CoSENTLoss');
  assert.equal(f.has('loss'), false);
  const g = flattenConfig({ data: { 'a.b': 1, ok: { '': 2 } } });
  assert.deepEqual([...g.keys()], ['data["a.b"]', 'data.ok[""]']);
});

test('changedKeys: only changed paths, nested and missing keys included', () => {
  const b = structuredClone(base) as any;
  b.name = 'b';
  b.training.learningRate = 5e-4;
  b.loss.matryoshkaDims = [64, 32];
  b.loss.loss.miniBatchSize = undefined;
  delete b.loss.loss.miniBatchSize;
  b.evaluation.funnel = { shortlistDim: 16, rerankDim: 64, shortlistSize: 50 };
  assert.deepEqual(changedKeys(base, b).sort(), [
    'evaluation.funnel',
    'evaluation.funnel.rerankDim',
    'evaluation.funnel.shortlistDim',
    'evaluation.funnel.shortlistSize',
    'loss.loss.miniBatchSize',
    'loss.matryoshkaDims',
    'name',
    'training.learningRate',
  ]);
  assert.deepEqual(changedKeys(base, structuredClone(base)), []);
});

test('diffConfigs: three configs, all=true keeps unchanged rows flagged false, order of appearance', () => {
  const c2 = { ...base, seed: 2 };
  const c3 = { ...base, seed: 1, extra: true };
  const changed = diffConfigs([base, c2, c3]);
  assert.deepEqual(
    changed.map((r) => [r.path, r.values]),
    [
      ['seed', [1, 2, 1]],
      ['extra', [undefined, undefined, true]],
    ],
  );
  const all = diffConfigs([base, c2, c3], { all: true });
  assert.equal(all[0].path, 'name');
  assert.equal(all[0].changed, false);
  assert.equal(all.filter((r) => r.changed).length, 2);
  assert.ok(all.length > 10);
});

test('formatConfigValue: readable leaves', () => {
  assert.equal(formatConfigValue(undefined), '—');
  assert.equal(formatConfigValue('builtin:wordnet'), 'builtin:wordnet');
  assert.equal(formatConfigValue('12'), '"12"');
  assert.equal(formatConfigValue([64, 32]), '[64, 32]');
  assert.equal(formatConfigValue(null), 'null');
  assert.equal(formatConfigValue(0.001), '0.001');
});

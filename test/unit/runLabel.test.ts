// Run labels (src/insights/runLabel.ts): runs that share a name lead with what differs between them — the
// swept values, then the config keys whose values differ — and end with the shared name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differingKeys, distinctRunLabels, formatLabelValue, runDisplayName, type LabelRun } from '../../src/insights/runLabel';

/** A config as config.json holds it, with some of its keys changed. */
function config(name: string, over: { lr?: number; seed?: number; miniBatchSize?: number; extra?: Record<string, unknown> } = {}) {
  return {
    $schema: '../schemas/run-config.schema.json',
    name,
    seed: over.seed ?? 42,
    model: { scratch: { hiddenSize: 64, numLayers: 2 } },
    data: { train: { source: 'data/pairs.jsonl', columns: ['anchor', 'positive'] } },
    training: { learningRate: over.lr ?? 0.001, batchSize: 64 },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: over.miniBatchSize ?? 32 } },
    ...over.extra,
  };
}

test("a sweep's runs: the swept values first, then the sweep's name — not the name four times", () => {
  const grid = [
    [0.001, 1],
    [0.001, 2],
    [0.0003, 1],
    [0.0003, 2],
  ] as const;
  const runs: LabelRun[] = grid.map(([lr, seed], index) => ({
    id: `r${index}`,
    name: 'my-sweep',
    sweep: { id: 'sw', index, params: { 'training.learningRate': lr, seed } },
    config: config('my-sweep', { lr, seed }),
  }));
  assert.deepEqual(distinctRunLabels(runs), [
    'lr=1e-3 seed=1 · my-sweep',
    'lr=1e-3 seed=2 · my-sweep',
    'lr=3e-4 seed=1 · my-sweep',
    'lr=3e-4 seed=2 · my-sweep',
  ]);
  assert.equal(new Set(distinctRunLabels(runs)).size, 4, 'four runs, four labels');
  // Without configs (the runs view before config.json is read, a queued run): the same, from the sweep.
  assert.deepEqual(distinctRunLabels(runs.map((r) => ({ ...r, config: undefined }))), distinctRunLabels(runs));
  // One run of a sweep on its own still says which it is.
  assert.equal(runDisplayName(runs[2]), 'lr=3e-4 seed=1 · my-sweep');
});

test('runs of one config run again after an edit: the config keys that differ lead; other names stay as they are', () => {
  const runs: LabelRun[] = [
    { id: 'a', name: 'quickstart', config: config('quickstart', { lr: 0.0003 }) },
    { id: 'b', name: 'quickstart', config: config('quickstart', { lr: 0.001, miniBatchSize: 16 }) },
    { id: 'c', name: 'baseline', config: config('baseline', { lr: 0.5 }) },
    { id: 'd', name: 'quickstart', config: config('quickstart', { lr: 0.0003 }) },
  ];
  assert.deepEqual(distinctRunLabels(runs), [
    'lr=3e-4 miniBatch=32 · quickstart',
    'lr=1e-3 miniBatch=16 · quickstart',
    'baseline',
    'lr=3e-4 miniBatch=32 · quickstart',
  ]);
  // Only what differs within the name's runs: the name, $schema and the rest never count.
  assert.deepEqual(differingKeys(runs.filter((r) => r.name === 'quickstart')), ['training.learningRate', 'loss.loss.miniBatchSize']);
  // Two runs of identical configs: nothing tells them apart, the name alone (never an invented difference).
  assert.deepEqual(distinctRunLabels([runs[0], runs[3]]), ['quickstart', 'quickstart']);
});

test('a display name wins; a key one config lacks differs; same short names get their parent; many keys are counted', () => {
  const a = { id: 'a', name: 'n', config: config('n', { extra: { scale: 1 } }) };
  const b = { id: 'b', name: 'n', config: config('n', { lr: 0.002 }), notes: { displayName: 'Best run', tags: [], note: '' } };
  const c = { id: 'c', name: 'n', config: config('n', { lr: 0.002, extra: { evalFraction: 0.05 } }) };
  assert.deepEqual(distinctRunLabels([a, b, c]), ['lr=1e-3 scale=1 · n', 'Best run', 'lr=2e-3 evalFraction=0.05 · n']);
  // Two differing keys named `scale`: each with its parent, so they read apart.
  const s1 = { name: 'x', config: { model: { scale: 1 }, loss: { scale: 20 } } };
  const s2 = { name: 'x', config: { model: { scale: 2 }, loss: { scale: 30 } } };
  assert.deepEqual(distinctRunLabels([s1, s2]), ['model.scale=1 loss.scale=20 · x', 'model.scale=2 loss.scale=30 · x']);
  // More than MAX_LABEL_KEYS keys differ: the first three, and how many more.
  const w = (v: number) => ({ name: 'w', config: { a: v, b: v, c: v, d: v, e: v } });
  assert.deepEqual(distinctRunLabels([w(1), w(2)]), ['a=1 b=1 c=1 +2 · w', 'a=2 b=2 c=2 +2 · w']);
  assert.deepEqual(distinctRunLabels([w(1), w(2)], 1), ['a=1 +4 · w', 'a=2 +4 · w']);
  // No name: the id stands for it.
  assert.deepEqual(distinctRunLabels([{ id: 'only-id', name: '' }]), ['only-id']);
});

test('values are written short: 3e-4, 0.05, 64, a file name, a list', () => {
  assert.equal(formatLabelValue(0.0003), '3e-4');
  assert.equal(formatLabelValue(0.00125), '1.25e-3');
  assert.equal(formatLabelValue(0.05), '0.05');
  assert.equal(formatLabelValue(0.123456), '0.123');
  assert.equal(formatLabelValue(64), '64');
  assert.equal(formatLabelValue(2_000_000), '2e6');
  assert.equal(formatLabelValue(-0.0005), '-5e-4');
  assert.equal(formatLabelValue('data/train-big.jsonl'), 'train-big.jsonl');
  assert.equal(formatLabelValue('CachedMultipleNegativesRankingLoss'), 'CachedMultipleNegat…');
  assert.equal(formatLabelValue([64, 32, 16]), '[64,32,16]');
  assert.equal(formatLabelValue(true), 'true');
  assert.equal(formatLabelValue(null), 'null');
});

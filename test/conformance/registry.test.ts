// A loss config from outside a run config (resolveLoss, what conformance fixtures go through): every
// error names the JSON path and what was expected; the registry builds what passes; and the fixture
// adapter fills sentence-transformers defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossConfigError, resolveLoss } from '../../src/config/lossConfig';
import { createLoss } from '../../src/trainer/losses/registry';
import { lossConfigFromFixture } from '../../src/trainer/conformance/conformance';
import type { MatryoshkaLoss } from '../../src/trainer/losses/MatryoshkaLoss';
import type { GISTEmbedLoss } from '../../src/trainer/losses/GISTEmbedLoss';

const mnrl = { type: 'MultipleNegativesRankingLoss', scale: 20 };
const cmnrl = { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 };
const gist = {
  type: 'GISTEmbedLoss',
  guide: 'self',
  temperature: 0.01,
  marginStrategy: 'absolute',
  margin: 0,
  contrastAnchors: true,
  contrastPositives: true,
};
const matry = (loss: object, dims: unknown, extra: object = {}) => ({
  type: 'MatryoshkaLoss',
  loss,
  matryoshkaDims: dims,
  matryoshkaWeights: null,
  nDimsPerStep: -1,
  ...extra,
});

/** Resolves and builds a loss config for an encoder of width `embeddingDim`. */
function build(config: unknown, embeddingDim = 16, seed = 0) {
  return createLoss(resolveLoss(config, { embeddingDim }), seed);
}

/** Asserts resolveLoss throws a LossConfigError at `path` whose message matches `detail`. */
function rejects(config: unknown, path: string, detail: RegExp, embeddingDim = 16, pathOpt?: string): void {
  assert.throws(
    () => resolveLoss(config, { embeddingDim, path: pathOpt }),
    (e: unknown) => {
      assert.ok(e instanceof LossConfigError, `not a LossConfigError: ${String(e)}`);
      assert.equal(e.path, path);
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, detail);
      return true;
    },
  );
}

test('unknown loss type lists the valid ones', () => {
  rejects(
    { type: 'TripletLoss' },
    'loss.type',
    /unknown loss type "TripletLoss"; expected one of: .*MultipleNegativesRankingLoss.*CoSENTLoss.*MatryoshkaLoss/,
  );
  rejects({ scale: 20 }, 'loss.type', /missing loss type; expected one of: MultipleNegativesRankingLoss/);
  rejects(matry({ type: 'MatryoshkaLoss' }, [8]), 'loss.loss.type', /expected one of: .*AnglELoss$/);
  rejects({ type: 'Nope' }, 'config.loss.type', /unknown loss type/, 16, 'config.loss');
});

test('Matryoshka dims: above the model dim, duplicates, ≤ 0, non-integers, empty', () => {
  rejects(matry(mnrl, [16, 8, 32]), 'loss.matryoshkaDims[2]', /dim 32 is larger than the model's embedding dim 16/);
  rejects(matry(mnrl, [4, 16, 4]), 'loss.matryoshkaDims[2]', /duplicate dim 4 \(also at loss\.matryoshkaDims\[0\]\)/);
  rejects(matry(mnrl, [16, 0]), 'loss.matryoshkaDims[1]', /expected an integer dim ≥ 1, got 0/);
  rejects(matry(mnrl, [16, -8]), 'loss.matryoshkaDims[1]', /got -8/);
  rejects(matry(mnrl, [16, 7.5]), 'loss.matryoshkaDims[1]', /expected an integer dim ≥ 1, got 7.5/);
  rejects(matry(mnrl, []), 'loss.matryoshkaDims', /non-empty array/);
  // Unsorted but distinct dims are fine: they are sorted largest first.
  const ok = build(matry(mnrl, [4, 16, 8])) as MatryoshkaLoss;
  assert.deepEqual(ok.dims, [16, 8, 4]);
});

test('Matryoshka weights of the wrong length, and bad nDimsPerStep', () => {
  rejects(matry(mnrl, [16, 8, 4], { matryoshkaWeights: [1, 0.5] }), 'loss.matryoshkaWeights', /expected 3 weights .* got 2/);
  rejects(matry(mnrl, [16, 8], { matryoshkaWeights: [1, 'x'] }), 'loss.matryoshkaWeights[1]', /finite number, got "x"/);
  rejects(matry(mnrl, [16, 8], { nDimsPerStep: 0 }), 'loss.nDimsPerStep', /-1 \(every dim\) or an integer ≥ 1, got 0/);
  // Weights follow their dims when sorted.
  const m = build(matry(mnrl, [4, 16, 8], { matryoshkaWeights: [0.25, 1, 0.5] })) as MatryoshkaLoss;
  assert.deepEqual(m.weights, [1, 0.5, 0.25]);
});

test('miniBatchSize must be an integer ≥ 1', () => {
  rejects({ ...cmnrl, miniBatchSize: 0 }, 'loss.miniBatchSize', /integer ≥ 1, got 0/);
  rejects({ ...cmnrl, miniBatchSize: 2.5 }, 'loss.miniBatchSize', /integer ≥ 1, got 2.5/);
  rejects({ ...gist, type: 'CachedGISTEmbedLoss', miniBatchSize: -1 }, 'loss.miniBatchSize', /got -1/);
  assert.equal(build(cmnrl).miniBatchSize, 4);
});

test('GIST: temperature ≤ 0 and a wrong marginStrategy', () => {
  rejects({ ...gist, temperature: 0 }, 'loss.temperature', /expected a number > 0, got 0/);
  rejects({ ...gist, temperature: -0.05 }, 'loss.temperature', /> 0, got -0.05/);
  rejects({ ...gist, marginStrategy: 'percentage' }, 'loss.marginStrategy', /expected "absolute" or "relative", got "percentage"/);
  rejects({ ...gist, contrastAnchors: 'yes' }, 'loss.contrastAnchors', /expected true or false/);
  rejects({ ...mnrl, scale: 'big' }, 'loss.scale', /expected a finite number, got "big"/);
});

test('AnglE needs even dims: the embedding dim and every Matryoshka dim', () => {
  rejects({ type: 'AnglELoss', scale: 20 }, 'loss', /embedding dim must be even; got 15/, 15);
  rejects(matry({ type: 'AnglELoss', scale: 20 }, [16, 5, 4]), 'loss.matryoshkaDims[1]', /every dim must be even; got 5/);
  assert.equal(build({ type: 'AnglELoss', scale: 20 }).name, 'AnglELoss');
});

test('weighted sums: paths into the terms, weights, miniBatchSize = min of the cached terms', () => {
  rejects([], 'loss', /at least one \{weight, loss\} term/);
  rejects(
    [
      { weight: 1, loss: mnrl },
      { weight: 'x', loss: mnrl },
    ],
    'loss[1].weight',
    /finite number, got "x"/,
  );
  rejects(
    [
      { weight: 1, loss: mnrl },
      { weight: -1, loss: mnrl },
    ],
    'loss[1].weight',
    /weight ≥ 0, got -1/,
  );
  rejects([{ weight: 1, loss: { ...mnrl, scale: null } }], 'loss[0].loss.scale', /finite number, got null/);
  rejects(
    [
      { weight: 1, loss: mnrl },
      { weight: 1, loss: matry(cmnrl, [16, 99]) },
    ],
    'loss[1].loss.matryoshkaDims[1]',
    /larger than/,
  );
  // GIST (≤ 3 columns) with CoSENT (exactly 2) is fine; CoSENT with a 3-column minimum would not be.
  const config = [
    { weight: 1, loss: { ...cmnrl, miniBatchSize: 8 } },
    { weight: 0.5, loss: matry({ ...cmnrl, miniBatchSize: 3 }, [16, 8]) },
    { weight: 2, loss: gist },
  ];
  assert.equal(resolveLoss(config, { embeddingDim: 16 }).miniBatchSize, 3, 'the resolved loss says it too');
  const sum = build(config, 16, 1);
  assert.equal(sum.miniBatchSize, 3);
  assert.equal(sum.needsGuide, true);
  assert.equal(sum.needsLabels, false);
  assert.deepEqual(sum.columnRange, [2, 3]);
  assert.equal(build([{ weight: 1, loss: mnrl }]).miniBatchSize, undefined);
});

test('fixture adapter: snake_case arguments, sentence-transformers defaults when absent, strict keys', () => {
  const cgist = lossConfigFromFixture({ type: 'CachedGISTEmbedLoss' }, null);
  assert.deepEqual(cgist, {
    type: 'CachedGISTEmbedLoss',
    guide: 'fixture',
    temperature: 0.01,
    marginStrategy: 'absolute',
    margin: 0,
    contrastAnchors: true,
    contrastPositives: true,
    miniBatchSize: 32,
  });
  const built = build(cgist, 8) as GISTEmbedLoss;
  assert.equal(built.name, 'CachedGISTEmbedLoss');
  assert.deepEqual(built.columnRange, [2, Infinity]);
  assert.equal(build(lossConfigFromFixture({ type: 'GISTEmbedLoss' }, null), 8).columnRange[1], 3);
  assert.deepEqual(lossConfigFromFixture({ type: 'CoSENTLoss' }, null), { type: 'CoSENTLoss', scale: 20 });
  assert.deepEqual(
    lossConfigFromFixture(
      { type: 'CachedMultipleNegativesRankingLoss', scale: 50, mini_batch_size: 2 },
      { dims: [4, 8], weights: null, n_dims_per_step: -1 },
    ),
    {
      type: 'MatryoshkaLoss',
      loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 50, miniBatchSize: 2 },
      matryoshkaDims: [4, 8],
      matryoshkaWeights: null,
      nDimsPerStep: -1,
    },
  );
  assert.throws(
    () => lossConfigFromFixture({ type: 'MultipleNegativesRankingLoss', temperature: 1 }, null),
    (e: unknown) =>
      e instanceof LossConfigError &&
      e.path === 'loss.temperature' &&
      /not an argument of MultipleNegativesRankingLoss; expected some of: scale/.test(e.message),
  );
  assert.throws(
    () => lossConfigFromFixture({ type: 'Foo' }, null),
    (e: unknown) => e instanceof LossConfigError && e.path === 'loss.type',
  );
});

// The loss-config tree (src/config/lossConfig.ts): the one list of base losses agrees with the schema,
// terms are listed with their paths, the model width and the guide are read off the tree, and the checks
// give paths both as dotted paths (registry) and JSON pointers (validate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import schema from '../../schemas/run-config.schema.json';

interface LossObjectSchema {
  properties: { type: { enum: string[] } } & Record<string, unknown>;
  allOf: { if: { properties: { type: { const: string } } }; then: { $ref: string } }[];
}
import {
  BASE_LOSS_TYPES,
  baseLosses,
  dottedPath,
  guideOf,
  lossConfigProblems,
  lossTerms,
  modelWidth,
  pointerPath,
} from '../../src/config/lossConfig';
import type { LossConfig } from '../../src/protocol/runConfig';

const mnrl = { type: 'MultipleNegativesRankingLoss', scale: 20 } as const;
const gist = {
  type: 'CachedGISTEmbedLoss',
  guide: 'models/guide',
  temperature: 0.01,
  marginStrategy: 'absolute',
  margin: 0,
  contrastAnchors: true,
  contrastPositives: true,
  miniBatchSize: 4,
} as const;
const matry = (loss: object, dims: number[]) => ({
  type: 'MatryoshkaLoss',
  loss,
  matryoshkaDims: dims,
  matryoshkaWeights: null,
  nDimsPerStep: -1,
});

test("BASE_LOSS_TYPES is the schema's list of base losses, in the same order, each with its parameters", () => {
  const base = schema.$defs.baseLoss as unknown as LossObjectSchema;
  const single = schema.$defs.singleLoss as unknown as LossObjectSchema;
  assert.deepEqual(base.properties.type.enum, [...BASE_LOSS_TYPES]);
  assert.deepEqual(single.properties.type.enum, ['MatryoshkaLoss', ...BASE_LOSS_TYPES]);
  const defs = schema.$defs as unknown as Record<string, { properties: Record<string, unknown>; propertyNames: { enum: string[] } }>;
  for (const [obj, types] of [
    [base, BASE_LOSS_TYPES],
    [single, ['MatryoshkaLoss', ...BASE_LOSS_TYPES]],
  ] as const) {
    // one if/then per type, in order, pointing at the type's own parameters
    assert.deepEqual(
      obj.allOf.map((b) => [b.if.properties.type.const, b.then.$ref]),
      types.map((t) => [t, `#/$defs/${t}`]),
    );
    // the loss object knows every parameter of its types (so a misspelt type still gets its values checked) …
    const union = new Set(types.flatMap((t) => Object.keys(defs[t].properties)));
    assert.deepEqual(Object.keys(obj.properties).sort(), ['type', ...union].sort());
    for (const k of union) assert.equal((obj.properties[k] as { doNotSuggest?: boolean }).doNotSuggest, true, k);
  }
  // … and each type allows exactly its own
  for (const t of ['MatryoshkaLoss', ...BASE_LOSS_TYPES])
    assert.deepEqual(defs[t].propertyNames.enum, ['type', ...Object.keys(defs[t].properties)], t);
});

test('lossTerms unwraps MatryoshkaLoss and gives each term its paths', () => {
  const sum = [
    { weight: 0.5, loss: matry(mnrl, [32, 16]) },
    { weight: 2, loss: gist },
  ] as LossConfig;
  const terms = lossTerms(sum);
  assert.deepEqual(
    terms.map((t) => [t.weight, t.base.type, t.path, t.basePath]),
    [
      [0.5, 'MultipleNegativesRankingLoss', [0, 'loss'], [0, 'loss', 'loss']],
      [2, 'CachedGISTEmbedLoss', [1, 'loss'], [1, 'loss']],
    ],
  );
  assert.deepEqual(
    baseLosses(mnrl as LossConfig).map((b) => b.type),
    ['MultipleNegativesRankingLoss'],
  );
  assert.equal(guideOf(sum), 'models/guide');
  assert.equal(guideOf(mnrl as LossConfig), undefined);
});

test('modelWidth: the largest trained dim; a term without MatryoshkaLoss trains the hidden size', () => {
  assert.equal(modelWidth({ loss: matry(mnrl, [32, 64]) as LossConfig }, 128), 64);
  assert.equal(modelWidth({ loss: mnrl as LossConfig }, 128), 128);
  assert.equal(
    modelWidth(
      {
        loss: [
          { weight: 1, loss: matry(mnrl, [32]) },
          { weight: 1, loss: mnrl },
        ] as LossConfig,
      },
      48,
    ),
    48,
  );
  assert.equal(modelWidth({ loss: matry(mnrl, [32, 64]) as LossConfig }, undefined), 64);
  assert.equal(modelWidth({ loss: mnrl as LossConfig }, undefined), undefined);
});

test('lossConfigProblems: every problem at once, with paths for the registry and for validate', () => {
  const sum = [
    { weight: 1, loss: matry({ type: 'AnglELoss', scale: 20 }, [64, 33]) },
    { weight: -1, loss: mnrl },
  ];
  const problems = lossConfigProblems(sum, { maxDim: 48 });
  assert.deepEqual(
    problems.map((p) => [dottedPath('loss', p.path), p.keyword]),
    [
      ['loss[0].loss.matryoshkaDims[0]', 'dimTooLarge'],
      ['loss[0].loss.matryoshkaDims[1]', 'even'],
      ['loss[1].weight', 'minimum'],
    ],
  );
  assert.equal(pointerPath('/loss', problems[1].path), '/loss/0/loss/matryoshkaDims/1');
  assert.deepEqual(lossConfigProblems([{ weight: 1, loss: matry(mnrl, [32, 16]) }], { maxDim: 48 }), []);
});

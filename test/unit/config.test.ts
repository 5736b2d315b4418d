// Run config validation: the schema (defaults, descriptions), good configs (every example), many bad
// ones (each error with its JSON pointer, several at once, did-you-mean), semantic checks, JSONC loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import schema from '../../schemas/run-config.schema.json';
import { formatConfigErrors, nearest, validateRunConfig, type ConfigError } from '../../src/config/validate';
import { loadRunConfig, parseConfigText } from '../../src/config/loadConfig';
import { modelFolderWidth } from '../../src/config/modelFolder';
import { MNRL_DEFAULT_SCALE } from '../../src/trainer/losses/MultipleNegativesRankingLoss';
import { DEFAULT_MINI_BATCH_SIZE } from '../../src/config/defaults';
import { CachedMultipleNegativesRankingLoss } from '../../src/trainer/losses/CachedMultipleNegativesRankingLoss';
import { GIST_DEFAULTS } from '../../src/trainer/losses/GISTEmbedLoss';
import { COSENT_DEFAULT_SCALE } from '../../src/trainer/losses/CoSENTLoss';

const dir = mkdtempSync(join(tmpdir(), 'mrl-config-'));
const FILE = join(dir, 'x.mrl.json');

function errorsOf(json: unknown): ConfigError[] {
  const r = validateRunConfig(json, FILE);
  assert.equal(r.config, undefined, 'an invalid config yields no config');
  assert.ok(r.errors.length > 0);
  return r.errors;
}

function paths(json: unknown): string[] {
  return errorsOf(json).map((e) => e.path);
}

test('every example config validates (JSONC with comments) and the quick start is the documented setup', () => {
  const files = readdirSync('examples').filter((f) => f.endsWith('.mrl.json'));
  assert.ok(files.length >= 5, files.join(', '));
  for (const f of files) {
    const r = loadRunConfig(join('examples', f));
    assert.deepEqual(r.errors, [], f);
    assert.ok(r.config);
  }
  const q = loadRunConfig('examples/quickstart.mrl.json').config!;
  assert.equal(q.backend, 'wasm');
  assert.equal(q.data.train.source, 'builtin:wordnet');
  assert.ok(!Array.isArray(q.loss) && q.loss.type === 'MatryoshkaLoss' && q.loss.loss.type === 'CachedMultipleNegativesRankingLoss');
  assert.ok('scratch' in q.model);
});

test('an empty config is valid: every default filled in, derived defaults too', () => {
  const r = validateRunConfig({}, FILE);
  assert.deepEqual(r.errors, []);
  const c = r.config!;
  assert.equal(c.seed, 42);
  assert.equal(c.training.batchSize, 64);
  assert.deepEqual(c.data.train.columns, ['anchor', 'positive']);
  assert.ok(!Array.isArray(c.loss) && c.loss.type === 'MatryoshkaLoss');
  assert.deepEqual(c.evaluation.dims, [128, 64, 32, 16], 'eval dims default to the Matryoshka dims');
  assert.equal(c.evaluation.funnel, null);
});

test('scored-pair losses get sentence1/sentence2 + score columns by default', () => {
  const c = validateRunConfig({ loss: { type: 'CoSENTLoss' } }, FILE).config!;
  assert.deepEqual(c.data.train.columns, ['sentence1', 'sentence2']);
  assert.equal(c.data.train.scoreColumn, 'score');
  assert.deepEqual(c.evaluation.dims, [128], 'no Matryoshka: the full width');
});

test('the input object is not modified by validation', () => {
  const input = { training: { batchSize: 8 } };
  validateRunConfig(input, FILE);
  assert.deepEqual(input, { training: { batchSize: 8 } });
});

test("schema defaults are sentence-transformers' defaults (its literal values), as are the loss implementations'", () => {
  // sentence-transformers: MultipleNegativesRankingLoss(scale=20.0), CachedMultipleNegativesRankingLoss(scale=20.0,
  // mini_batch_size=32), MultipleNegativesSymmetricRankingLoss(scale=20.0), GISTEmbedLoss(temperature=0.01,
  // margin_strategy="absolute", margin=0.0, contrast_anchors=True, contrast_positives=True), CachedGISTEmbedLoss
  // (the same, mini_batch_size=32), CoSENTLoss(scale=20.0), AnglELoss(scale=20.0), MatryoshkaLoss(
  // matryoshka_weights=None → 1 per dim, n_dims_per_step=-1).
  const lossOf = (loss: unknown) => {
    const r = validateRunConfig({ loss }, FILE);
    assert.deepEqual(r.errors, [], JSON.stringify(loss));
    return r.config!.loss;
  };
  assert.deepEqual(lossOf({ type: 'MultipleNegativesRankingLoss' }), { type: 'MultipleNegativesRankingLoss', scale: 20 });
  assert.deepEqual(lossOf({ type: 'CachedMultipleNegativesRankingLoss' }), {
    type: 'CachedMultipleNegativesRankingLoss',
    scale: 20,
    miniBatchSize: 32,
  });
  assert.deepEqual(lossOf({ type: 'MultipleNegativesSymmetricRankingLoss' }), { type: 'MultipleNegativesSymmetricRankingLoss', scale: 20 });
  const gist = { guide: 'self', temperature: 0.01, marginStrategy: 'absolute', margin: 0, contrastAnchors: true, contrastPositives: true };
  assert.deepEqual(lossOf({ type: 'GISTEmbedLoss' }), { type: 'GISTEmbedLoss', ...gist });
  assert.deepEqual(lossOf({ type: 'CachedGISTEmbedLoss' }), { type: 'CachedGISTEmbedLoss', ...gist, miniBatchSize: 32 });
  assert.deepEqual(lossOf({ type: 'CoSENTLoss' }), { type: 'CoSENTLoss', scale: 20 });
  assert.deepEqual(lossOf({ type: 'AnglELoss' }), { type: 'AnglELoss', scale: 20 });
  const m = lossOf({ type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [64, 32, 16] });
  assert.ok(!Array.isArray(m) && m.type === 'MatryoshkaLoss');
  assert.equal(m.matryoshkaWeights, null);
  assert.equal(m.nDimsPerStep, -1);
  // null weights: 1 for every dim in the loss built from it.
  const { createLoss } = require('../../src/trainer/losses/registry') as typeof import('../../src/trainer/losses/registry');
  const { resolveLoss } = require('../../src/config/lossConfig') as typeof import('../../src/config/lossConfig');
  assert.deepEqual((createLoss(resolveLoss(m, { embeddingDim: 64 }), 1) as unknown as { weights: number[] }).weights, [1, 1, 1]);
  // The implementations' own defaults (used when a loss is built without a config) are the same literals.
  assert.equal(MNRL_DEFAULT_SCALE, 20);
  assert.equal(DEFAULT_MINI_BATCH_SIZE, 32);
  assert.equal(new CachedMultipleNegativesRankingLoss().miniBatchSize, 32);
  assert.deepEqual(
    { ...GIST_DEFAULTS },
    { temperature: 0.01, marginStrategy: 'absolute', margin: 0, contrastAnchors: true, contrastPositives: true },
  );
  assert.equal(COSENT_DEFAULT_SCALE, 20);
});

test('every schema property has a description, and a default unless its absence means something', () => {
  // No sweep, no cap on its runs, no parameters (a sweep of repeats alone): absences that mean something too.
  const optional = new Set([
    '$schema',
    'eval',
    'columns',
    'scoreColumn',
    'maxRows',
    'type',
    'loss',
    'pretrained',
    'scratch',
    'sweep',
    'parameters',
    'maxRuns',
  ]);
  // A pretrained model's pooling and length: absent = the folder's own (as sentence-transformers reads them).
  const optionalAt = new Set(['/model/pretrained/pooling', '/model/pretrained/maxSeqLength']);
  // training.keepBest: absent = off; its dims are required (no dim is a sensible default).
  optionalAt.add('/training/keepBest').add('/training/keepBest/dims');
  const missing: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.properties) {
      for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
        // A loss object's parameters point at the loss type's own (described and defaulted there, applied
        // by its if/then): the target must exist and be described.
        if (typeof v.$ref === 'string') {
          const target = v.$ref
            .slice(2)
            .split('/')
            .reduce<unknown>((o, seg) => (o as Record<string, unknown> | undefined)?.[seg], schema) as Record<string, unknown> | undefined;
          if (!target?.description) missing.push(`${at}/${k}: $ref ${v.$ref} has no description`);
          continue;
        }
        if (!v.description) missing.push(`${at}/${k}: description`);
        if (!('default' in v) && !optional.has(k) && !optionalAt.has(`${at}/${k}`)) missing.push(`${at}/${k}: default`);
        walk(v, `${at}/${k}`);
      }
    }
    // An `if` is a condition on properties described elsewhere, not properties of its own.
    for (const [k, v] of Object.entries(n)) if (k !== 'properties' && k !== 'if' && typeof v === 'object') walk(v, `${at}/${k}`);
  };
  walk(schema, '');
  assert.deepEqual(missing, []);
});

test('unknown keys are errors, with the nearest valid key suggested', () => {
  const e = errorsOf({
    trainig: {},
    training: { batchSiz: 8, lerningRate: 1 },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'CoSENTLoss', scael: 1 }, matryoshkaDim: [8] },
  });
  const byPath = Object.fromEntries(e.map((x) => [x.path, x.message]));
  assert.match(byPath['/trainig'], /did you mean "training"/);
  assert.match(byPath['/training/batchSiz'], /did you mean "batchSize"/);
  assert.match(byPath['/training/lerningRate'], /did you mean "learningRate"/);
  assert.match(byPath['/loss/loss/scael'], /did you mean "scale"/);
  assert.match(byPath['/loss/matryoshkaDim'], /did you mean "matryoshkaDims"/);
  assert.equal(e.length, 5, 'all errors at once, no noise from if/then/else');
  assert.equal(nearest('zzzzzz', ['training', 'loss']), undefined, 'no wild guesses');
});

test('wrong types, ranges and enums name the JSON pointer and what was expected', () => {
  const e = errorsOf({
    seed: -1,
    backend: 'gpu',
    training: { batchSize: 'big', learningRate: 0, scheduler: 'step', epochs: 1.5 },
    model: { scratch: { hiddenDropout: 1 } },
    evaluation: { metrics: ['ndcg@5'] },
  });
  const byPath = Object.fromEntries(e.map((x) => [x.path, x.message]));
  assert.match(byPath['/seed'], />= 0/);
  assert.match(byPath['/backend'], /"auto", "wasm", "cpu", "tensorflow".*got "gpu"/);
  assert.match(byPath['/training/batchSize'], /expected integer, got "big"/);
  assert.match(byPath['/training/learningRate'], /> 0/);
  assert.match(byPath['/training/scheduler'], /"constant", "linear", "cosine"/);
  assert.match(byPath['/training/epochs'], /integer/);
  assert.match(byPath['/model/scratch/hiddenDropout'], /< 1/);
  assert.match(byPath['/evaluation/metrics/0'], /ndcg@10/);
});

test('unknown loss types: did-you-mean, and MatryoshkaLoss cannot wrap MatryoshkaLoss', () => {
  const [a] = errorsOf({ loss: { type: 'CachedMultipleNegativesRankingLos' } });
  assert.equal(a.path, '/loss/type');
  assert.match(a.message, /did you mean "CachedMultipleNegativesRankingLoss"/);
  const [b] = errorsOf({ loss: { type: 'MatryoshkaLoss', loss: { type: 'MatryoshkaLoss' } } });
  assert.equal(b.path, '/loss/loss/type');
  assert.match(b.message, /cannot wrap another MatryoshkaLoss/);
  assert.deepEqual(
    paths({
      loss: [
        { weight: 1, loss: { type: 'Nope' } },
        { weight: -1, loss: { type: 'CoSENTLoss' } },
      ],
    }),
    ['/loss/0/loss/type', '/loss/1/weight'],
  );
  assert.deepEqual(paths({ loss: [] }), ['/loss']);
});

test('model: exactly one of scratch / pretrained', () => {
  assert.deepEqual(paths({ model: {} }), ['/model']);
  assert.deepEqual(paths({ model: { scratch: {}, pretrained: { path: 'x' } } }), ['/model']);
});

test('semantic checks: Matryoshka dim wider than the model, numHeads, funnel, weights, AnglE parity, missing files', () => {
  const e = errorsOf({
    model: { scratch: { hiddenSize: 48, numHeads: 5 } },
    data: { train: { source: 'missing.jsonl' }, eval: { source: 'builtin:wordnett' } },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [64, 32], matryoshkaWeights: [1] },
    evaluation: { dims: [96], funnel: { shortlistDim: 32, rerankDim: 16 } },
  });
  const byPath = Object.fromEntries(e.map((x) => [x.path, x.message]));
  assert.match(byPath['/loss/matryoshkaDims/0'], /dim 64 is larger than the model's width 48/);
  assert.match(byPath['/model/scratch/numHeads'], /must divide/);
  assert.match(byPath['/data/train/source'], /data file not found: .*missing\.jsonl/);
  assert.match(byPath['/data/eval/source'], /did you mean "builtin:wordnet"/);
  assert.match(byPath['/loss/matryoshkaWeights'], /expected 2 weights/);
  assert.match(byPath['/evaluation/dims/0'], /larger than the model's width/);
  assert.match(byPath['/evaluation/funnel/shortlistDim'], /must be smaller than the re-rank dim/);
  assert.match(errorsOf({ loss: { type: 'MatryoshkaLoss', loss: { type: 'AnglELoss' }, matryoshkaDims: [64, 33] } })[0].message, /even/);
  assert.deepEqual(paths({ model: { pretrained: { path: 'no-such-model' } } }), ['/model/pretrained/path']);
  assert.deepEqual(paths({ loss: { type: 'CoSENTLoss' }, data: { train: { source: 'builtin:wordnet', columns: ['a', 'b', 'c'] } } }), [
    '/data/train/columns',
  ]);
});

test('data paths resolve against the config file folder', () => {
  mkdirSync(join(dir, 'd'), { recursive: true });
  writeFileSync(join(dir, 'd', 'pairs.jsonl'), '{"anchor":"a","positive":"b"}\n');
  assert.deepEqual(validateRunConfig({ data: { train: { source: 'd/pairs.jsonl' } } }, FILE).errors, []);
  assert.equal(
    validateRunConfig({ data: { train: { source: 'd/pairs.jsonl' } } }, join(tmpdir(), 'elsewhere.mrl.json')).errors[0].path,
    '/data/train/source',
  );
});

test('JSONC: comments and trailing commas are fine; syntax errors give line:column', () => {
  assert.deepEqual(parseConfigText('// c\n{ "seed": 1, /* x */ }').errors, []);
  const bad = parseConfigText('{\n  "seed": 1\n  "name": "x"\n}');
  assert.match(bad.errors[0].message, /syntax error at 3:3/);
  const f = join(dir, 'bad.mrl.json');
  writeFileSync(f, '{ "training": { "batchSize": "x" } }');
  const r = loadRunConfig(f);
  assert.equal(formatConfigErrors('bad.mrl.json', r.errors), 'bad.mrl.json: /training/batchSize: expected integer, got "x"');
  assert.equal(loadRunConfig(join(dir, 'none.mrl.json')).errors[0].keyword, 'missingFile');
});

test('uncached GIST takes one negative column at most: more is a validation error on the columns', () => {
  const gist = (type: string, columns: string[]) => ({
    loss: { type, guide: 'self' },
    data: { train: { source: 'builtin:wordnet', columns } },
  });
  const e = errorsOf(gist('GISTEmbedLoss', ['a', 'p', 'n1', 'n2']));
  assert.deepEqual(
    e.map((x) => x.path),
    ['/data/train/columns'],
  );
  assert.equal(e[0].message, 'GISTEmbedLoss takes 2 to 3 columns, got 4 (a, p, n1, n2)');
  assert.deepEqual(validateRunConfig(gist('GISTEmbedLoss', ['a', 'p', 'n1']), FILE).errors, []);
  assert.deepEqual(validateRunConfig(gist('CachedGISTEmbedLoss', ['a', 'p', 'n1', 'n2']), FILE).errors, []);
  // Under MatryoshkaLoss and in a weighted sum, the term that limits the columns says so.
  const sum = {
    ...gist('GISTEmbedLoss', ['a', 'p', 'n1', 'n2']),
    loss: [
      { weight: 1, loss: { type: 'MultipleNegativesRankingLoss' } },
      { weight: 1, loss: { type: 'MatryoshkaLoss', loss: { type: 'GISTEmbedLoss', guide: 'self' }, matryoshkaDims: [128, 64] } },
    ],
  };
  assert.match(errorsOf(sum)[0].message, /^GISTEmbedLoss takes 2 to 3 columns, got 4/);
});

test('the resolved config: the facts the trainer and the engines read, derived once by validation', () => {
  const q = loadRunConfig('examples/quickstart.mrl.json');
  const r = q.resolved!;
  assert.equal(r.config, q.config, 'the config it resolves is the validated one');
  assert.equal(r.baseDir, resolve('examples'));
  assert.equal(r.pretrained, undefined);
  assert.equal(r.width, 64);
  assert.deepEqual(r.loss.dims, [64, 32, 16, 8]);
  assert.equal(r.loss.miniBatchSize, 32);
  assert.equal(r.loss.embeddingDim, 64);
  assert.equal(r.loss.guide, undefined);
  assert.equal(r.loss.needsLabels, false);
  assert.deepEqual(r.evalDims, [64, 32, 16, 8]);
  // Every dim below the hidden size: the encoder projects to the largest, and that is the width.
  const narrow = validateRunConfig(
    {
      model: { scratch: { hiddenSize: 32, numHeads: 4 } },
      loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
    },
    FILE,
  ).resolved!;
  assert.equal(narrow.width, 16);
  assert.deepEqual(narrow.evalDims, [16, 8]);
  // Mini-batch: the smallest of the cached terms'; the guide: the first GIST term's, located.
  mkdirSync(join(dir, 'guide'), { recursive: true });
  writeFileSync(join(dir, 'guide', 'config.json'), '{"hidden_size": 8}');
  const sum = validateRunConfig(
    {
      loss: [
        { weight: 1, loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 8 } },
        {
          weight: 1,
          loss: {
            type: 'MatryoshkaLoss',
            loss: { type: 'CachedGISTEmbedLoss', guide: 'guide', miniBatchSize: 3 },
            matryoshkaDims: [64, 16],
          },
        },
      ],
    },
    FILE,
  ).resolved!;
  assert.equal(sum.loss.miniBatchSize, 3);
  assert.equal(sum.loss.guide, 'guide');
  assert.deepEqual(sum.guides, { guide: { kind: 'folder', dir: join(dir, 'guide') } });
  assert.deepEqual(sum.loss.dims, [128, 64, 16]);
  assert.equal(
    validateRunConfig({ loss: { type: 'MultipleNegativesRankingLoss' } }, FILE).resolved!.loss.miniBatchSize,
    undefined,
    'no cached term: plain steps',
  );
  // A sweep config: resolved as the config without its sweep; each run resolved on its own.
  const s = loadRunConfig('examples/sweep.mrl.json');
  assert.equal(s.resolved!.config.sweep, undefined);
  assert.ok(s.sweepRuns!.every((run) => run.resolved.config === run.config));
  assert.deepEqual(
    s.sweepRuns!.map((run) => run.resolved.loss.miniBatchSize),
    s.sweepRuns!.map((run) => (run.config.loss as { loss: { miniBatchSize: number } }).loss.miniBatchSize),
  );
  // No config, no resolved config.
  assert.equal(validateRunConfig({ seed: 'x' }, FILE).resolved, undefined);
});

test("a pretrained folder's width is that of the encoder it loads: a Dense projection's out_features, else the hidden size", () => {
  const st = join(dir, 'st-dense');
  mkdirSync(join(st, '0_Transformer'), { recursive: true });
  mkdirSync(join(st, '2_Dense'), { recursive: true });
  writeFileSync(join(st, '0_Transformer', 'config.json'), '{"hidden_size": 16}');
  writeFileSync(
    join(st, 'modules.json'),
    JSON.stringify([
      { idx: 0, name: '0', path: '0_Transformer', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
    ]),
  );
  writeFileSync(join(st, '2_Dense', 'config.json'), '{"in_features": 16, "out_features": 24}');
  assert.equal(modelFolderWidth(st), 24);
  const hf = join(dir, 'hf-plain');
  mkdirSync(hf, { recursive: true });
  writeFileSync(join(hf, 'config.json'), '{"hidden_size": 32}');
  assert.equal(modelFolderWidth(hf), 32);
  assert.equal(modelFolderWidth(join(dir, 'no-such-folder')), undefined, 'unreadable: the loader says why');
  const cfg = (dims: number[]) => ({
    model: { pretrained: { path: 'st-dense' } },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: dims },
  });
  const ok = validateRunConfig(cfg([24, 8]), FILE);
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.resolved!.width, 24);
  assert.deepEqual(ok.resolved!.pretrained, { kind: 'folder', dir: st });
  assert.match(errorsOf(cfg([32, 8]))[0].message, /dim 32 is larger than the model's width 24/);
});

test("the mini-batch default has one value: the schema's, for every Cached* loss", () => {
  const defs = schema.$defs as Record<string, { properties?: { miniBatchSize?: { default?: number } } }>;
  const cached = Object.keys(defs).filter((k) => k.startsWith('Cached'));
  assert.deepEqual(cached.sort(), [
    'CachedGISTEmbedLoss',
    'CachedMultipleNegativesRankingLoss',
    'CachedMultipleNegativesSymmetricRankingLoss',
  ]);
  for (const k of cached) assert.equal(defs[k].properties?.miniBatchSize?.default, DEFAULT_MINI_BATCH_SIZE, k);
});

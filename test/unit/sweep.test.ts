// Sweeps: expansion (grid order, maxRuns, random draws by seed) and validation before anything starts
// (paths that name no field, values that do not fit it, combinations that do not fit together), each
// problem on the JSON path of the value at fault, placed on its range in the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDiagnostics } from '../../src/config/diagnostics';
import { loadRunConfig } from '../../src/config/loadConfig';
import { describeParams, expandSweep, newSweepId, parameterPointer, pathSegments, sweepRunCount } from '../../src/config/sweep';
import { formatConfigErrors, validateRunConfig } from '../../src/config/validate';
import type { SweepConfig } from '../../src/protocol/runConfig';

const FILE = join(mkdtempSync(join(tmpdir(), 'mrl-sweep-')), 'sweep.mrl.json');

test('grid: the cartesian product in declared order, the first parameter slowest', () => {
  const s: SweepConfig = { method: 'grid', parameters: { a: [1, 2], b: ['x', 'y', 'z'] } };
  const c = expandSweep(s);
  assert.deepEqual(
    c.map((x) => [x.params.a, x.params.b]),
    [
      [1, 'x'],
      [1, 'y'],
      [1, 'z'],
      [2, 'x'],
      [2, 'y'],
      [2, 'z'],
    ],
  );
  assert.deepEqual(
    c.map((x) => x.index),
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual(c[4].valueIndex, [1, 1]);
  assert.equal(sweepRunCount(s), 6);
});

test('grid: maxRuns keeps the first combinations in order', () => {
  const s: SweepConfig = { method: 'grid', parameters: { a: [1, 2, 3], b: [10, 20] }, maxRuns: 4 };
  assert.deepEqual(
    expandSweep(s).map((x) => describeParams(x.params)),
    ['a=1, b=10', 'a=1, b=20', 'a=2, b=10', 'a=2, b=20'],
  );
  assert.equal(sweepRunCount({ ...s, maxRuns: 100 }), 6, 'a cap above the grid changes nothing');
});

test('random: maxRuns distinct combinations, the same for the same seed, others for another seed', () => {
  const s: SweepConfig = {
    method: 'random',
    parameters: { a: [1, 2, 3, 4, 5], b: [1, 2, 3, 4, 5], c: [1, 2, 3, 4] },
    maxRuns: 12,
    seed: 7,
  };
  const one = expandSweep(s).map((x) => describeParams(x.params));
  assert.equal(one.length, 12);
  assert.equal(new Set(one).size, 12, 'distinct');
  assert.deepEqual(
    expandSweep({ ...s }).map((x) => describeParams(x.params)),
    one,
    'deterministic',
  );
  assert.notDeepEqual(
    expandSweep({ ...s, seed: 8 }).map((x) => describeParams(x.params)),
    one,
  );
  // Not simply the grid's first runs.
  assert.notDeepEqual(
    one,
    expandSweep({ ...s, method: 'grid' }).map((x) => describeParams(x.params)),
  );
  // maxRuns past the grid: every combination once, in a drawn order.
  const all = expandSweep({ ...s, parameters: { a: [1, 2], b: [1, 2] }, maxRuns: 50 });
  assert.deepEqual(all.map((x) => describeParams(x.params)).sort(), ['a=1, b=1', 'a=1, b=2', 'a=2, b=1', 'a=2, b=2']);
  // A huge grid costs nothing to draw from.
  const big = expandSweep({
    method: 'random',
    parameters: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`p${i}`, Array.from({ length: 20 }, (_, j) => j)])),
    maxRuns: 5,
    seed: 1,
  });
  assert.equal(new Set(big.map((x) => describeParams(x.params))).size, 5);
});

test('paths: dotted, with numeric or bracketed indices; pointers of parameters and values', () => {
  assert.deepEqual(pathSegments('loss.loss.miniBatchSize'), ['loss', 'loss', 'miniBatchSize']);
  assert.deepEqual(pathSegments('loss[1].weight'), ['loss', '1', 'weight']);
  assert.equal(parameterPointer('training.learningRate', 1), '/sweep/parameters/training.learningRate/1');
  assert.match(newSweepId('Quick Start', new Date('2026-01-02T03:04:05Z'), 'abcd'), /^20260102-030405-quick-start-sweep-abcd$/);
});

const QUICK = loadRunConfig('examples/quickstart.mrl.json');
const quick = () => JSON.parse(JSON.stringify(QUICK.config)) as Record<string, unknown>;

test('a valid sweep: every run resolved on its own (no sweep key, its own derived defaults)', () => {
  const r = validateRunConfig(
    {
      loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss' }, matryoshkaDims: [128, 64] },
      sweep: { method: 'grid', parameters: { 'loss.loss.miniBatchSize': [8, 16], 'loss.matryoshkaDims': [[128, 32], [64]] } },
    },
    FILE,
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.config?.sweep?.method, 'grid', 'the resolved config says it is a sweep');
  const runs = r.sweepRuns!;
  assert.equal(runs.length, 4);
  for (const run of runs) assert.equal('sweep' in run.config, false);
  // Eval dims default to each run's own Matryoshka dims, not the base's.
  assert.deepEqual(
    runs.map((x) => x.config.evaluation.dims),
    [[128, 32], [64], [128, 32], [64]],
  );
  // A field the file leaves out is swept inside its default (the default loss here).
  const d = validateRunConfig(
    { sweep: { method: 'grid', parameters: { 'loss.loss.miniBatchSize': [8, 16], 'training.learningRate': [0.1] } } },
    FILE,
  );
  assert.deepEqual(d.errors, []);
  const l = d.sweepRuns![1].config.loss as { type: string; loss: { type: string; miniBatchSize: number } };
  assert.equal(l.type, 'MatryoshkaLoss');
  assert.deepEqual([l.loss.type, l.loss.miniBatchSize], ['CachedMultipleNegativesRankingLoss', 16]);
  assert.equal(d.sweepRuns![1].config.training.learningRate, 0.1);
});

test('the shipped sweep example: a 2 × 2 grid over the quick start', () => {
  const r = loadRunConfig('examples/sweep.mrl.json');
  assert.deepEqual(r.errors, []);
  const runs = r.sweepRuns!;
  assert.deepEqual(
    runs.map((x) => [x.config.training.learningRate, x.config.training.batchSize]),
    [
      [0.001, 32],
      [0.001, 64],
      [0.002, 32],
      [0.002, 64],
    ],
  );
  // Nothing it sweeps is a field that cannot change what is trained (issue 21 §6: it swept miniBatchSize).
  assert.deepEqual(r.warnings, []);
  // Everything but the swept values is the quick start's.
  const q = quick();
  const first = JSON.parse(JSON.stringify(runs[0].config)) as Record<string, unknown>;
  for (const k of ['model', 'data', 'evaluation', 'seed', 'backend']) assert.deepEqual(first[k], q[k], k);
});

test('a path that names no field: an error on the parameter, with what is there', () => {
  const r = validateRunConfig(
    {
      ...quick(),
      sweep: {
        method: 'grid',
        parameters: { 'trainin.learningRate': [1], 'training.learningRat': [1], 'evaluation.funnel.x': [1], 'training.lr.x': [1] },
      },
    },
    FILE,
  );
  assert.equal(r.config, undefined);
  const by = Object.fromEntries(r.errors.map((e) => [e.path, e.message]));
  assert.match(
    by['/sweep/parameters/trainin.learningRate'],
    /does not name a field of this config: the config has no field "trainin"; did you mean "training"\?/,
  );
  assert.match(by['/sweep/parameters/training.learningRat'], /unknown key "learningRat"; did you mean "learningRate"\?/);
  assert.match(by['/sweep/parameters/evaluation.funnel.x'], /unknown key "x"/);
  assert.match(by['/sweep/parameters/training.lr.x'], /"training" has no field "lr"/);
  assert.ok(r.errors.every((e) => e.keyword === 'sweepPath'));
  // A funnel that is null has no fields to sweep; a sweep does not sweep itself; paths may not overlap.
  const n = validateRunConfig(
    { sweep: { method: 'grid', parameters: { 'evaluation.funnel.shortlistDim': [8], 'sweep.maxRuns': [1] } } },
    FILE,
  );
  assert.deepEqual(n.errors.map((e) => e.path).sort(), [
    '/sweep/parameters/evaluation.funnel.shortlistDim',
    '/sweep/parameters/sweep.maxRuns',
  ]);
  assert.match(n.errors.find((e) => e.path.includes('funnel'))!.message, /"evaluation\.funnel" is null/);
  const o = validateRunConfig(
    { sweep: { method: 'grid', parameters: { 'loss.loss': [{ type: 'MultipleNegativesRankingLoss' }], 'loss.loss.scale': [10] } } },
    FILE,
  );
  assert.match(o.errors[0].message, /"loss\.loss\.scale" overlaps "loss\.loss"/);
});

test('a value that does not fit its field: an error on that value, naming its JSON path, checked per combination', () => {
  const r = validateRunConfig(
    { ...quick(), sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, -2], 'loss.loss.miniBatchSize': [16, 'x'] } } },
    FILE,
  );
  assert.equal(r.config, undefined);
  assert.equal(r.sweepRuns, undefined, 'no run of an invalid sweep');
  assert.deepEqual(r.errors.map((e) => e.path).sort(), [
    '/sweep/parameters/loss.loss.miniBatchSize/1',
    '/sweep/parameters/training.learningRate/1',
  ]);
  const text = formatConfigErrors('sweep.mrl.json', r.errors);
  assert.match(text, /^sweep\.mrl\.json: \/sweep\/parameters\/training\.learningRate\/1: training\.learningRate = -2: must be > 0/m);
  assert.match(
    text,
    /^sweep\.mrl\.json: \/sweep\/parameters\/loss\.loss\.miniBatchSize\/1: loss\.loss\.miniBatchSize = "x": expected integer, got "x"/m,
  );
  // Values that only fail together (semantic checks too): on the value, naming the run and its values.
  const j = validateRunConfig(
    {
      ...quick(),
      sweep: { method: 'grid', parameters: { 'model.scratch.hiddenSize': [64, 32], 'evaluation.funnel.rerankDim': [32, 64] } },
    },
    FILE,
  );
  const msgs = j.errors.map((e) => `${e.path} ${e.message}`);
  assert.ok(
    msgs.some((m) =>
      /^\/sweep\/parameters\/model\.scratch\.hiddenSize\/1 run 2 of the sweep \(model\.scratch\.hiddenSize = 32, evaluation\.funnel\.rerankDim = 32\): \/loss\/matryoshkaDims\/0: dim 64 is larger than the model's width 32/.test(
        m,
      ),
    ),
    msgs.join('\n'),
  );
  // The width-64 runs are fine with a re-rank dim of 64: no error names them.
  assert.ok(!msgs.some((m) => /hiddenSize = 64/.test(m)), msgs.join('\n'));
  // A shape the schema refuses: random without maxRuns; an empty list of values.
  const s = validateRunConfig({ sweep: { method: 'random', parameters: { seed: [] } } }, FILE);
  assert.deepEqual(s.errors.map((e) => e.path).sort(), ['/sweep', '/sweep/parameters/seed']);
  assert.match(s.errors.find((e) => e.path === '/sweep')!.message, /missing required key "maxRuns"/);
  // More runs than a sweep may make, unless capped.
  const big = {
    sweep: {
      method: 'grid',
      parameters: {
        seed: Array.from({ length: 40 }, (_, i) => i),
        'training.learningRate': Array.from({ length: 30 }, (_, i) => (i + 1) / 1000),
      },
    },
  };
  assert.match(validateRunConfig(big, FILE).errors[0].message, /1200 combinations, more than 1000 runs: set "maxRuns"/);
  assert.equal(validateRunConfig({ sweep: { ...big.sweep, maxRuns: 3 } }, FILE).sweepRuns?.length, 3);
  // The config without its sweep is checked as a config: its own errors at their own places.
  const b = validateRunConfig({ training: { batchSize: 'many' }, sweep: { method: 'grid', parameters: { seed: [1] } } }, FILE);
  assert.deepEqual(
    b.errors.map((e) => e.path),
    ['/training/batchSize'],
  );
});

test('in the editor: a bad value is underlined where it is written, a bad path on its key, both at once', () => {
  const text = [
    '{',
    '  "sweep": {',
    '    "method": "grid",',
    '    "parameters": {',
    '      "training.learningRate": [0.001, -2],',
    '      "training.lr": [1]',
    '    }',
    '  }',
    '}',
  ].join('\n');
  const r = validateRunConfig(JSON.parse(text), FILE);
  const d = configDiagnostics(text, r.errors);
  const lr = d.find((x) => x.path === '/sweep/parameters/training.lr');
  assert.ok(lr, JSON.stringify(d));
  assert.deepEqual(
    [lr.range.start, lr.range.end],
    [
      { line: 5, character: 6 },
      { line: 5, character: 19 },
    ],
    'the key "training.lr"',
  );
  // Every problem at once: the values of the good paths are checked too.
  const v = d.filter((x) => x.path.startsWith('/sweep/parameters/training.learningRate'));
  assert.equal(d.length, 2, JSON.stringify(d));
  assert.equal(v[0].path, '/sweep/parameters/training.learningRate/1');
  const col = text.split('\n')[4].indexOf('-2');
  assert.deepEqual(
    [v[0].range.start, v[0].range.end],
    [
      { line: 4, character: col },
      { line: 4, character: col + 2 },
    ],
    'the value -2',
  );
  assert.equal(v[0].severity, 'error');
});

test('a sweep on the sentence-transformers engine is refused before anything starts, on /sweep', () => {
  const r = validateRunConfig(
    {
      ...quick(),
      engine: 'sentence-transformers',
      model: { pretrained: { path: 'org/model' } },
      sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.002] } },
    },
    FILE,
  );
  assert.equal(r.config, undefined);
  assert.equal(r.errors[0].path, '/sweep');
  assert.match(r.errors[0].message, /bundled engine only/);
});

test('mulberry32 (random sweeps, parameter init) is the published generator: fixed values for a seed, on every machine', async () => {
  const { mulberry32, Rng } = await import('../../src/common/random');
  // The first three 32-bit outputs of mulberry32 for seed 1234 (Tommy Ettinger's reference algorithm).
  const f = mulberry32(1234);
  assert.deepEqual(
    [f(), f(), f()].map((x) => x * 4294967296),
    [314799534, 3021131492, 3877737075],
  );
  const r = new Rng(1234);
  assert.equal(r.next() * 4294967296, 314799534);
});

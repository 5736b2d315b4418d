// Sweeps with `repeat`: each combination run N times with seeds derived from the config's seed and the
// repeat index (repeat-major order, the combination and repeat recorded for grouping); validation of
// `repeat` (integer 1..100, combinations × repeats ≤ MAX_SWEEP_RUNS) reported on the JSON path at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDiagnostics } from '../../src/config/diagnostics';
import { describeSweep, MAX_SWEEP_RUNS, repeatSeeds, sweepRunCount, sweepSlots } from '../../src/config/sweep';
import { validateRunConfig } from '../../src/config/validate';

const FILE = join(mkdtempSync(join(tmpdir(), 'mrl-sweep-repeat-')), 'sweep.mrl.json');

test('repeatSeeds: repeat 0 keeps the seed, the others are distinct 32-bit seeds, the same on every call', () => {
  const s = repeatSeeds(42, 100);
  assert.equal(s.length, 100);
  assert.equal(s[0], 42, 'repeat 0 is the run the sweep makes without repeat');
  assert.equal(new Set(s).size, 100, 'distinct');
  for (const x of s) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, String(x));
  assert.deepEqual(repeatSeeds(42, 100), s, 'deterministic');
  assert.deepEqual(repeatSeeds(42, 3), s.slice(0, 3), 'a longer list extends a shorter one');
  const other = repeatSeeds(43, 5);
  assert.equal(other[0], 43);
  assert.notDeepEqual(other.slice(1), s.slice(1, 5), 'another base seed, other repeat seeds');
  // Not a trivial offset of the base seed (a neighbouring config's repeat would collide with it).
  assert.ok(s.slice(1).every((x, i) => x !== 42 + i + 1));
});

test('sweepSlots: repeat-major, every combination once before any gets a second seed', () => {
  assert.deepEqual(
    sweepSlots(3, 2).map((x) => [x.index, x.combination, x.repeat]),
    [
      [0, 0, 0],
      [1, 1, 0],
      [2, 2, 0],
      [3, 0, 1],
      [4, 1, 1],
      [5, 2, 1],
    ],
  );
  assert.equal(sweepRunCount({ method: 'grid', parameters: { a: [1, 2, 3] }, repeat: 4 }), 12);
  assert.equal(sweepRunCount({ method: 'grid', parameters: { a: [1, 2, 3] }, maxRuns: 2, repeat: 4 }), 8, 'maxRuns counts combinations');
  assert.match(describeSweep({ method: 'grid', parameters: { a: [1] }, repeat: 3 }), /^grid over a, × 3 repeats/);
  assert.match(describeSweep({ repeat: 5 }), /^5 repeats of the config/);
});

test('a 2-value grid × 3 repeats: 6 runs, each combination with the same three seeds, its values unchanged', () => {
  const r = validateRunConfig(
    { seed: 7, sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.002] }, repeat: 3 } },
    FILE,
  );
  assert.deepEqual(r.errors, []);
  const runs = r.sweepRuns!;
  assert.equal(runs.length, 6);
  assert.deepEqual(
    runs.map((x) => [x.index, x.combination, x.repeat, x.params['training.learningRate']]),
    [
      [0, 0, 0, 0.001],
      [1, 1, 0, 0.002],
      [2, 0, 1, 0.001],
      [3, 1, 1, 0.002],
      [4, 0, 2, 0.001],
      [5, 1, 2, 0.002],
    ],
  );
  const seeds = repeatSeeds(7, 3);
  assert.deepEqual(
    runs.map((x) => x.config.seed),
    [seeds[0], seeds[0], seeds[1], seeds[1], seeds[2], seeds[2]],
  );
  for (const x of runs) {
    assert.equal(x.resolved.config, x.config, 'the resolved config is the run’s');
    assert.equal(x.config.training.learningRate, x.params['training.learningRate']);
    assert.equal('sweep' in x.config, false);
  }
  // Only the seed tells two repeats of a combination apart.
  const { seed: s0, ...a } = runs[0].config;
  const { seed: s2, ...b } = runs[2].config;
  assert.notEqual(s0, s2);
  assert.deepEqual(a, b);
});

test('a swept seed: each combination’s repeats derive from its own seed', () => {
  const r = validateRunConfig({ sweep: { method: 'grid', parameters: { seed: [1, 2] }, repeat: 2 } }, FILE);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.sweepRuns!.map((x) => x.config.seed),
    [1, 2, repeatSeeds(1, 2)[1], repeatSeeds(2, 2)[1]],
  );
});

test('repeats alone ({"repeat": 3}): the config itself three times, no parameters', () => {
  const r = validateRunConfig({ seed: 5, sweep: { repeat: 3 } }, FILE);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.sweepRuns!.map((x) => [x.index, x.combination, x.repeat, x.config.seed, Object.keys(x.params).length]),
    repeatSeeds(5, 3).map((s, i) => [i, 0, i, s, 0]),
  );
  assert.equal(r.config?.sweep?.method, 'grid', 'method defaults to grid');
});

test('without repeat (or repeat 1) the runs are as before: no combination or repeat recorded', () => {
  for (const sweep of [
    { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.002] } },
    { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.002] }, repeat: 1 },
  ]) {
    const r = validateRunConfig({ seed: 9, sweep }, FILE);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.sweepRuns!.map((x) => [x.index, x.combination, x.repeat, x.config.seed]),
      [
        [0, undefined, undefined, 9],
        [1, undefined, undefined, 9],
      ],
    );
  }
});

test('bad repeats: not an integer in 1..100, too many runs in all, a sweep of nothing — each on its JSON path', () => {
  const at = (sweep: unknown) => validateRunConfig({ sweep }, FILE).errors.map((e) => `${e.path}: ${e.message}`);
  for (const bad of [0, 101, 2.5, '3']) {
    const errs = at({ method: 'grid', parameters: { 'training.learningRate': [0.001] }, repeat: bad });
    assert.ok(errs.length >= 1 && errs.every((e) => e.startsWith('/sweep/repeat: ')), `${bad}: ${errs.join(' | ')}`);
  }
  // 20 combinations × 60 repeats = 1200 runs > 1000: said on /sweep/repeat, with the product.
  const lrs = Array.from({ length: 20 }, (_, i) => (i + 1) / 10000);
  const big = at({ method: 'grid', parameters: { 'training.learningRate': lrs }, repeat: 60 });
  assert.deepEqual(big, [
    `/sweep/repeat: 20 combinations × 60 repeats = 1200 runs, more than ${MAX_SWEEP_RUNS}: fewer repeats, fewer values or a lower "maxRuns" (it counts combinations)`,
  ]);
  // maxRuns caps the combinations, so it can bring the product under the cap.
  assert.deepEqual(at({ method: 'grid', parameters: { 'training.learningRate': lrs }, repeat: 60, maxRuns: 16 }), []);
  assert.deepEqual(at({ method: 'grid', parameters: { 'training.learningRate': lrs }, repeat: 50 }), [], '20 × 50 = 1000 is allowed');
  // Neither parameters nor repeats: nothing to sweep.
  assert.deepEqual(at({ method: 'grid' }), [
    '/sweep: a sweep needs "parameters" (the values to try) or "repeat" above 1 (the same config with other seeds)',
  ]);
  assert.equal(at({ repeat: 1 }).length, 1);
});

test('a bad repeat is placed on its value in the file', () => {
  const text = ['{', '  "sweep": {', '    "parameters": { "training.learningRate": [0.001] },', '    "repeat": 0', '  }', '}'].join('\n');
  const r = validateRunConfig(JSON.parse(text), FILE);
  const d = configDiagnostics(text, r.errors).filter((x) => x.path === '/sweep/repeat');
  assert.equal(d.length, 1, JSON.stringify(r.errors));
  assert.deepEqual(d[0].range.start, { line: 3, character: 14 });
  assert.match(d[0].message, />= 1/);
});

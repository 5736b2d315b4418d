// The sweep shape's data and the repeat bands' builder, in Node: which params become axes (a sweep's swept
// paths, else the config keys that differ), linear / log / category axes, positions, brushes, colours;
// the mean and min–max band of a combination's repeat curves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { Series } from '../../webview/app/store';
import { buildRepeatBands } from '../../webview/charts/repeatBands';
import type { Curve } from '../../webview/charts/timeChart';
import { filterableColumns } from '../../webview/runsTable/columns';
import { tableRows } from '../../webview/runsTable/rows';
import {
  axisPos,
  buildShape,
  defaultMetric,
  describeBrush,
  insideBrushes,
  makeAxis,
  metricChoices,
  metricColour,
  shapeParamKeys,
  sweepsOf,
} from '../../webview/sweepShape/shapeData';
import { loadShapeState } from '../../webview/sweepShape/shapeState';
import { baseConfig, run } from './fixtures/metrics';

const S = { advisorPercent: 95 };
const NOW = Date.UTC(2026, 10, 30);

/** A run of sweep "sw" over learning rate × loss type, ndcg@10 at 64 = `q`. */
function swept(id: string, lr: number, type: string, q: number): PanelRun {
  const r = run(id, 'grid', 'completed', '2026-11-20T10:00:00Z', baseConfig({ 'training.learningRate': lr, 'loss.loss.type': type }), {
    sweep: { id: 'sw', index: 0, params: { 'training.learningRate': lr, 'loss.loss.type': type } },
  });
  const last = { '32': { 'ndcg@10': q / 2 }, '64': { 'ndcg@10': q, loss: 1 - q } };
  return { ...r, summary: { evalStep: 100, last, best: last, lastValues: {}, loss: 1, pairsPerSec: 1, lastStep: 100 } };
}
const SWEEP = [
  swept('a', 0.0001, 'MultipleNegativesRankingLoss', 0.2),
  swept('b', 0.001, 'MultipleNegativesRankingLoss', 0.3),
  swept('c', 0.01, 'MultipleNegativesRankingLoss', 0.25),
  swept('d', 0.0001, 'CachedMultipleNegativesRankingLoss', 0.22),
  swept('e', 0.001, 'CachedMultipleNegativesRankingLoss', 0.32),
  swept('f', 0.01, 'CachedMultipleNegativesRankingLoss', 0.1),
];

test('axes: a sweep’s swept paths, log when the values span more than a decade, categories evenly spaced', () => {
  const rows = tableRows(SWEEP, S);
  assert.deepEqual(shapeParamKeys(rows), ['training.learningRate', 'loss.loss.type']);
  const metric = defaultMetric(metricChoices(filterableColumns(rows, S)))!;
  assert.equal(metric.key, 'ndcg@10@64', 'the headline metric at the largest dim');
  const m = buildShape(rows, metric, NOW);
  assert.deepEqual(
    m.axes.map((a) => [a.key, a.scale, a.metric]),
    [
      ['training.learningRate', 'log', false],
      ['loss.loss.type', 'category', false],
      ['ndcg@10@64', 'linear', true],
    ],
  );
  assert.deepEqual(
    m.axes[0].ticks.map((t) => [t.pos, t.label]),
    [
      [0, '0.0001'],
      [0.5, '0.001'],
      [1, '0.01'],
    ],
    'one tick per swept value, a decade apart = evenly spaced on the log axis',
  );
  assert.deepEqual(m.axes[1].categories, ['CachedMultipleNegativesRankingLoss', 'MultipleNegativesRankingLoss']);
  assert.equal(m.lines.length, 6, 'one line per run');
  assert.deepEqual(
    m.lines.map((l) => l.pos.map((p) => Number(p!.toFixed(3)))),
    [
      [0, 1, 0.455],
      [0.5, 1, 0.909],
      [1, 1, 0.682],
      [0, 0, 0.545],
      [0.5, 0, 1],
      [1, 0, 0],
    ],
  );
  assert.deepEqual(m.metricRange, [0.1, 0.32]);
  // Within a decade: linear; a single value: the middle.
  const lin = makeAxis('x', 'x', [1, 5, 9]);
  assert.equal(lin.scale, 'linear');
  assert.equal(axisPos(lin, 5), 0.5);
  assert.equal(axisPos(makeAxis('x', 'x', [3, 3]), 3), 0.5);
  assert.equal(makeAxis('x', 'x', [-1, 100]).scale, 'linear', 'not positive: no log');
  assert.equal(axisPos(lin, undefined), null);
  assert.equal(makeAxis('b', 'b', [true, false, true]).scale, 'category');
});

test('runs from no sweep: the config keys that differ among them (not the name)', () => {
  const lone = [
    run('x', 'one', 'completed', '2026-11-20T10:00:00Z', baseConfig({ 'training.batchSize': 32, seed: 1 })),
    run('y', 'two', 'completed', '2026-11-20T10:00:00Z', baseConfig({ 'training.batchSize': 64, seed: 1, name: 'other' })),
    run('z', 'three', 'completed', '2026-11-20T10:00:00Z', baseConfig({ 'training.batchSize': 64, seed: 2 })),
  ];
  assert.deepEqual(shapeParamKeys(tableRows(lone, S)), ['seed', 'training.batchSize']);
  // A sweep mixed with lone runs: the differing keys too (the swept path among them).
  assert.deepEqual(shapeParamKeys(tableRows([SWEEP[0], SWEEP[1], lone[0]], S)), [
    'seed',
    'loss.loss.type',
    'training.batchSize',
    'training.learningRate',
  ]);
  // A sweep of repeats alone (params {}): the seeds are what differs.
  const reps = [1, 2].map((k) =>
    run(`r${k}`, 'rep', 'completed', '2026-11-20T10:00:00Z', baseConfig({ seed: k }), {
      sweep: { id: 's', index: k, params: {}, combination: 0, repeat: k },
    }),
  );
  assert.deepEqual(shapeParamKeys(tableRows(reps, S)), ['seed']);
  assert.deepEqual(sweepsOf([...reps, lone[0], SWEEP[0]]), [
    { id: 's', name: 'rep', count: 2 },
    { id: 'sw', name: 'grid', count: 1 },
  ]);
});

test('brushes: the lines inside every brush; a category brush in words; colours better = warmer', () => {
  const rows = tableRows(SWEEP, S);
  const m = buildShape(rows, defaultMetric(metricChoices(filterableColumns(rows, S))), NOW);
  const ids = (b: [string, [number, number]][]) => insideBrushes(m, new Map(b)).map((l) => l.runId);
  assert.deepEqual(ids([]), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(ids([['training.learningRate', [0.4, 1]]]), ['b', 'c', 'e', 'f']);
  assert.deepEqual(
    ids([
      ['training.learningRate', [0.4, 1]],
      ['ndcg@10@64', [0.6, 1]],
    ]),
    ['b', 'c', 'e'],
  );
  assert.deepEqual(ids([['loss.loss.type', [0.9, 1]]]), ['a', 'b', 'c']);
  assert.deepEqual(ids([['no.such.axis', [0, 0.1]]]), ['a', 'b', 'c', 'd', 'e', 'f'], 'a brush on a gone axis keeps nothing out');
  assert.equal(describeBrush(m.axes[1], [0.9, 1]), 'loss.loss.type ∈ {MultipleNegativesRankingLoss}');
  assert.equal(describeBrush(m.axes[0], [0, 0.5]), 'training.learningRate 0.0001–0.001');
  assert.equal(metricColour(0.1, [0.1, 0.32]), '#465fb4');
  assert.equal(metricColour(0.32, [0.1, 0.32]), '#f07d28');
  assert.equal(metricColour(0.32, [0.1, 0.32], true), '#465fb4', 'a cost: the lowest is the warmest');
  assert.equal(metricColour(null, [0.1, 0.32]), '#8c8c8c');
  // A metric that is a cost: the colour scale turns round.
  const loss = metricChoices(filterableColumns(rows, S)).find((c) => c.key === 'loss@64')!;
  assert.equal(buildShape(rows, loss, NOW).lowerIsBetter, true);
  assert.deepEqual(loadShapeState({ open: false, source: 'all', metric: 3 }), { open: false, source: 'all', metric: null, param: null });
});

/** A curve over a series of (step, y) for a run. */
function curve(runId: string, pts: [number, number][], split: 'train' | 'eval' = 'eval', color = '#112233'): Curve {
  const s = new Series({ runId, split, metric: 'ndcg@10', dim: 64 });
  for (const [step, y] of pts) s.push(step, step / 10, 1e12 + step, y);
  return { id: `${runId}/64`, series: s, runId, dim: 64, label: runId, color, dash: [], marker: 'circle', legendKey: 'dim:64' };
}

test('repeat bands: per combination, metric and dim with two or more repeats, the mean inside min–max at each step', () => {
  const groups: Record<string, { key: string; label: string }> = {
    a0: { key: 'sw#0', label: 'lr=0.001' },
    a1: { key: 'sw#0', label: 'lr=0.001' },
    a2: { key: 'sw#0', label: 'lr=0.001' },
    b0: { key: 'sw#1', label: 'lr=0.01' },
  };
  const curves = [
    curve('a0', [
      [0, 0.1],
      [100, 0.2],
      [200, 0.3],
    ]),
    curve('a1', [
      [0, 0.1],
      [100, 0.4],
      [200, 0.5],
    ]),
    curve('a2', [
      [0, 0.1],
      [100, 0.3],
    ]), // still running: no step 200 yet
    curve('b0', [[0, 0.1]]),
    curve('lone', [[0, 0.5]]),
  ];
  const bands = buildRepeatBands(curves, (id) => groups[id] ?? null, { xAxis: 'step', smoothing: 0.6 });
  assert.equal(bands.length, 1, 'one combination has two or more repeats shown');
  const b = bands[0];
  assert.equal(b.key, 'sw#0|eval/ndcg@10|64');
  assert.equal(b.label, 'lr=0.001 · mean of 3');
  assert.equal(b.color, '#112233');
  assert.deepEqual(b.runIds, ['a0', 'a1', 'a2']);
  const round = (x: number) => Number(x.toFixed(6));
  assert.deepEqual(
    b.points.map((p) => [p.step, p.x, round(p.mean), p.lo, p.hi, p.n]),
    [
      [0, 0, 0.1, 0.1, 0.1, 3],
      [100, 100, 0.3, 0.2, 0.4, 3],
      [200, 200, 0.4, 0.3, 0.5, 2],
    ],
  );
  // Relative time on x: the mean of the repeats' times at that step.
  assert.equal(buildRepeatBands(curves, (id) => groups[id] ?? null, { xAxis: 'relative', smoothing: 0 })[0].points[1].x, 10);
  // A smoothed (train) series: the band is of the smoothed curves the chart draws.
  const train = [
    curve(
      'a0',
      Array.from({ length: 20 }, (_, i) => [i + 1, i % 2 ? 1 : 0] as [number, number]),
      'train',
    ),
    curve(
      'a1',
      Array.from({ length: 20 }, (_, i) => [i + 1, i % 2 ? 1 : 0] as [number, number]),
      'train',
    ),
  ];
  const raw = buildRepeatBands(train, (id) => groups[id] ?? null, { xAxis: 'step', smoothing: 0 })[0].points;
  const smooth = buildRepeatBands(train, (id) => groups[id] ?? null, { xAxis: 'step', smoothing: 0.9 })[0].points;
  assert.deepEqual([raw[0].mean, raw[1].mean], [0, 1]);
  assert.ok(smooth[19].mean > 0.2 && smooth[19].mean < 0.8, `smoothed: ${smooth[19].mean}`);
  assert.deepEqual(
    buildRepeatBands(curves, () => null, { xAxis: 'step', smoothing: 0 }),
    [],
    'no repeats, no band',
  );
});

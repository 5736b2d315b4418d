// A sweep's shape and its repeats in real Chromium: the Runs tab's parallel coordinates (one polyline per
// run, log and category axes, the metric last), brushing an axis with the mouse keeps the runs table to
// the runs inside every brush (Clear brushes restores it), the param-vs-metric scatter (one point per run);
// "Group repeats" (mean ± std (n) per combination) and the charts' repeat bands (the mean of a
// combination's repeats in its min–max band). Screenshots: test-artifacts/sweep-parallel-coords.png,
// test-artifacts/sweep-repeat-bands.png. Read through the read-only `window.__mrlPanel` hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { formatNumber } from '../../webview/runsTable/cellFormat';
import { artifactPath, usePanelBrowser, type OpenedPanel } from './harness';
import { genMetrics, type GenOpts } from './fixtures/metrics';
import { tableRun } from './fixtures/tableRuns';

const panels = usePanelBrowser();
const hook = <T = any>(p: OpenedPanel, fn: string, arg?: unknown): Promise<T> =>
  p.page.evaluate(([f, a]) => (a === undefined ? (window as any).__mrlPanel[f as string]() : (window as any).__mrlPanel[f as string](a)), [
    fn,
    arg,
  ] as const);

const LRS = [0.0001, 0.001, 0.01];
const TYPES = ['MultipleNegativesRankingLoss', 'CachedMultipleNegativesRankingLoss'];
const SWEEP_ID = '20261120-100000-grid-sweep-ab12';
// 3 learning rates × 2 losses; the middle rate is best, the cached loss a little better.
const SWEEP: PanelRun[] = LRS.flatMap((lr, i) =>
  TYPES.map((type, j) =>
    tableRun({
      id: `sw-${i}${j}`,
      name: 'grid',
      status: 'completed',
      startedAt: `2026-11-20T1${i}:0${j}:00Z`,
      over: { 'training.learningRate': lr, 'loss.loss.type': type },
      gen: { steps: 300, logEvery: 10, evalEvery: 100, seed: 10 * i + j, boost: [-0.2, 0.05, -0.1][i] + j * 0.04 },
      extra: { sweep: { id: SWEEP_ID, index: i * 2 + j, params: { 'training.learningRate': lr, 'loss.loss.type': type } } },
    }),
  ),
);
const LONE: PanelRun[] = [16, 32].map((mb, k) =>
  tableRun({
    id: `lone-${mb}`,
    name: `mb${mb}`,
    status: 'completed',
    startedAt: `2026-11-19T10:0${k}:00Z`,
    over: { 'loss.loss.miniBatchSize': mb },
    gen: { steps: 300, logEvery: 10, evalEvery: 100, seed: 50 + k },
  }),
);
const ALL = [...SWEEP, ...LONE];

async function runsTab(runs: PanelRun[], showRuns: string[] = []): Promise<OpenedPanel> {
  const p = await panels.open('vscode-dark', { width: 1280, height: 1000 });
  await p.send({ type: 'init', runs, showRuns, settings: { advisorPercent: 95 } });
  await p.settle();
  await p.page.click('#tabRuns');
  await p.settle();
  return p;
}
const tableIds = async (p: OpenedPanel) => ((await hook(p, 'table')).rows as { id: string }[]).map((r) => r.id).sort();
/** Drag along axis `i` from position `from` to position `to` (0 bottom .. 1 top; beyond clamps). */
async function brush(p: OpenedPanel, i: number, from: number, to: number): Promise<void> {
  const s = await hook(p, 'sweepShape');
  const x = s.layout.axisX[i];
  const y = (pos: number) => s.layout.bottom - pos * (s.layout.bottom - s.layout.top);
  await p.page.mouse.move(x, y(from));
  await p.page.mouse.down();
  await p.page.mouse.move(x + 1, (y(from) + y(to)) / 2, { steps: 3 });
  await p.page.mouse.move(x, y(to), { steps: 3 });
  await p.page.mouse.up();
  await p.settle();
}

test('parallel coordinates of a sweep: an axis per swept param (log, category), the metric last, one polyline per run; screenshot', async () => {
  const p = await runsTab(ALL);
  const s = await hook(p, 'sweepShape');
  assert.ok(s && s.open, 'the sweep shape is shown above the table');
  assert.equal(s.source, `sweep:${SWEEP_ID}`, 'the newest sweep by default');
  assert.equal(s.metric, 'ndcg@10@256', 'the headline metric at the largest dim');
  assert.deepEqual(
    s.axes.map((a: any) => [a.key, a.scale, a.metric]),
    [
      ['training.learningRate', 'log', false],
      ['loss.loss.type', 'category', false],
      ['ndcg@10@256', 'linear', true],
    ],
  );
  assert.deepEqual(
    s.axes[0].ticks.map((t: any) => t.label),
    ['0.0001', '0.001', '0.01'],
  );
  assert.deepEqual(s.axes[1].categories, ['CachedMultipleNegativesRankingLoss', 'MultipleNegativesRankingLoss']);
  // One polyline per run of the sweep, through all three axes, each coloured by its metric.
  assert.deepEqual(s.drawn.map((d: any) => d.runId).sort(), SWEEP.map((r) => r.id).sort());
  assert.ok(s.drawn.every((d: any) => d.points === 3 && d.inside));
  const colour = Object.fromEntries(s.drawn.map((d: any) => [d.runId, d.colour]));
  const metric = (id: string) => SWEEP.find((r) => r.id === id)!.summary!.last['256']['ndcg@10'];
  const best = SWEEP.map((r) => r.id).sort((a, b) => metric(b) - metric(a));
  assert.notEqual(colour[best[0]], colour[best[5]], 'best and worst in other colours');
  // The metric axis reads the table's own value: the run's latest eval at dim 256.
  for (const l of s.lines) {
    assert.equal(l.metric, metric(l.runId));
  }
  assert.match(s.status, /^6 runs · 2 parameters/);
  // Every run: the lone runs join, and their differing keys join the axes.
  await p.page.selectOption('#shapeSource', 'all');
  await p.settle();
  const all = await hook(p, 'sweepShape');
  assert.equal(all.drawn.length, 8);
  assert.ok(
    all.axes.some((a: any) => a.key === 'loss.loss.miniBatchSize'),
    all.axes.map((a: any) => a.key),
  );
  await p.page.selectOption('#shapeSource', `sweep:${SWEEP_ID}`);
  await p.settle();
  await p.page.locator('#sweepShape').screenshot({ path: artifactPath('sweep-parallel-coords.png') });
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
});

test('brushing an axis keeps the runs table to the runs inside every brush; a click on the axis or Clear brushes restores it', async () => {
  const p = await runsTab(ALL);
  assert.equal((await tableIds(p)).length, 8);
  // The top of the learning-rate axis: 0.01 only.
  await brush(p, 0, 0.8, 1.1);
  let s = await hook(p, 'sweepShape');
  assert.deepEqual(Object.keys(s.brushes), ['training.learningRate']);
  assert.deepEqual(await tableIds(p), ['sw-20', 'sw-21']);
  assert.deepEqual(s.brushed.sort(), ['sw-20', 'sw-21']);
  assert.match(s.status, /^training\.learningRate 0\.00\d+–0\.01 → 2 of 6 runs in the table$/);
  assert.ok(s.drawn.filter((d: any) => !d.inside).length === 4, 'the four others drawn faint');
  // The rate brush widened to the whole axis, and a second brush: the metric's upper half.
  await brush(p, 0, 0, 1.1);
  await brush(p, 2, 0.5, 1.1);
  s = await hook(p, 'sweepShape');
  const [lo, hi] = s.brushes['ndcg@10@256'];
  const expected = s.lines
    .filter((l: any) => l.pos[2] >= lo && l.pos[2] <= hi)
    .map((l: any) => l.runId)
    .sort();
  assert.ok(expected.length > 0 && expected.length < 6, expected.join());
  assert.deepEqual(await tableIds(p), expected);
  // The metric brush keeps the runs whose ndcg@10@256 is in the upper half of the range, by value.
  const m = SWEEP.map((r) => r.summary!.last['256']['ndcg@10']);
  const mid = (Math.min(...m) + Math.max(...m)) / 2;
  assert.deepEqual(
    expected,
    SWEEP.filter((r) => r.summary!.last['256']['ndcg@10'] >= mid - 1e-9)
      .map((r) => r.id)
      .sort(),
  );
  // A click (no drag) on the metric axis clears its brush.
  const x = s.layout.axisX[2];
  await p.page.mouse.click(x, (s.layout.top + s.layout.bottom) / 2);
  await p.settle();
  s = await hook(p, 'sweepShape');
  assert.deepEqual(Object.keys(s.brushes), ['training.learningRate']);
  assert.equal((await tableIds(p)).length, 6, 'the rate brush spans every value: the sweep’s six runs');
  // Clear brushes: the table shows every run again.
  await p.page.click('#shapeClear');
  await p.settle();
  s = await hook(p, 'sweepShape');
  assert.deepEqual(s.brushes, {});
  assert.equal(s.brushed, null);
  assert.equal((await tableIds(p)).length, 8);
  assert.equal(await p.page.textContent('#tableCount'), '8 runs');
});

test('scatter: one point per run against the metric; log x for the rate, categories for the loss', async () => {
  const p = await runsTab(ALL);
  let s = await hook(p, 'sweepShape');
  assert.equal(s.param, 'training.learningRate');
  assert.equal(s.scatter.points.length, 6);
  assert.equal(s.scatter.xType, 'logarithmic');
  assert.deepEqual(s.scatter.points.map((q: any) => q.runId).sort(), SWEEP.map((r) => r.id).sort());
  for (const q of s.scatter.points) {
    const r = SWEEP.find((x) => x.id === q.runId)!;
    assert.equal(q.x, r.sweep!.params['training.learningRate']);
    assert.equal(q.y, r.summary!.last['256']['ndcg@10']);
  }
  await p.page.selectOption('#shapeParam', 'loss.loss.type');
  await p.settle();
  s = await hook(p, 'sweepShape');
  assert.equal(s.scatter.xType, 'linear');
  assert.deepEqual(s.scatter.points.map((q: any) => q.x).sort(), [0, 0, 0, 1, 1, 1], 'each loss at its index');
  // Another metric: the scatter and the last axis follow.
  await p.page.selectOption('#shapeMetric', 'ndcg@10@64');
  await p.settle();
  s = await hook(p, 'sweepShape');
  assert.equal(s.axes.at(-1).key, 'ndcg@10@64');
  assert.deepEqual(s.scatter.points.map((q: any) => q.y).sort(), SWEEP.map((r) => r.summary!.last['64']['ndcg@10']).sort());
  assert.equal((await hook(p, 'state')).sweepShape.metric, 'ndcg@10@64', 'the choice persists');
});

// Two combinations × three repeats (their spread: a seed's worth of quality), on two dims.
const REP_SWEEP = '20261121-100000-rep-sweep-cd34';
const repGen = (c: number, k: number): GenOpts => ({
  steps: 300,
  logEvery: 10,
  evalEvery: 100,
  dims: [64, 256],
  seed: 100 + 10 * c + k,
  boost: [0, -0.15][c] + [0, 0.03, -0.025][k],
});
const REPEATS: PanelRun[] = [0, 1, 2].flatMap((k) =>
  [0, 1].map((c) =>
    tableRun({
      id: `rep-${c}${k}`,
      name: 'rep',
      status: 'completed',
      startedAt: `2026-11-21T1${k}:0${c}:00Z`,
      over: { 'training.learningRate': [0.001, 0.01][c], seed: [42, 7, 9][k] },
      gen: repGen(c, k),
      extra: {
        sweep: { id: REP_SWEEP, index: k * 2 + c, params: { 'training.learningRate': [0.001, 0.01][c] }, combination: c, repeat: k },
      },
    }),
  ),
);

test('group repeats: one row per combination, mean ± std (n) in its metric cells', async () => {
  const p = await runsTab(REPEATS);
  assert.equal((await hook(p, 'table')).rows.length, 6);
  await p.page.click('#groupRepeats');
  await p.settle();
  const t = await hook(p, 'table');
  assert.equal(t.rows.length, 2);
  for (const c of [0, 1]) {
    const members = REPEATS.filter((r) => r.sweep!.combination === c);
    const vs = members.map((r) => r.summary!.last['256']['ndcg@10']);
    const mean = vs.reduce((a, b) => a + b, 0) / 3;
    const std = Math.sqrt(vs.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
    const row = t.rows.find((r: any) => r.id === members.find((m) => m.sweep!.repeat === 0)!.id);
    assert.ok(row, `the combination ${c} row stands at its first repeat`);
    assert.equal(row.cells['ndcg@10@256'], `${formatNumber(mean)} ± ${formatNumber(std)} (n=3)`);
    assert.ok(std > 0.01, 'the repeats differ');
    assert.match(row.cells.name, / · 3 repeats$/);
  }
  // Selecting a combination's row and plotting it overlays its three repeats.
  await p.page.click(`tr.run-row[data-id="rep-00"]`);
  assert.deepEqual((await hook(p, 'table')).selected.sort(), ['rep-00', 'rep-01', 'rep-02']);
  assert.equal(await p.page.textContent('#tableCount'), '6 runs', 'the two rows stand for all six runs');
  // One row, three runs: what takes one run (notes, export) does not apply.
  assert.equal(await p.page.isDisabled('button[data-action="editNotes"]'), true);
  assert.equal(await p.page.isDisabled('button[data-action="plot"]'), false);
  assert.equal((await hook(p, 'state')).table.groupRepeats, true);
});

test('repeat bands: the mean of each combination’s repeats inside their min–max band on the time chart; screenshot', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 1000 });
  await p.send({ type: 'init', runs: REPEATS, showRuns: REPEATS.map((r) => r.id), settings: { advisorPercent: 95 } });
  for (const r of REPEATS) {
    const [c, k] = [r.sweep!.combination!, r.sweep!.repeat!];
    await p.send({ type: 'metrics', runId: r.id, reset: true, lines: genMetrics(repGen(c, k)) });
  }
  await p.settle();
  assert.equal(await p.page.isVisible('#repeatBands'), true, 'the switch shows: there are repeats');
  await p.page.click('.dim-chip[data-dim="64"]'); // one dim: a band per combination
  await p.settle();
  const id = 'm:eval/ndcg@10';
  await p.page.locator(`[data-chart-id="${id}"]`).scrollIntoViewIfNeeded();
  await p.settle();
  const bands = await hook<any[]>(p, 'repeatBands', id);
  assert.equal(bands.length, 2, JSON.stringify(bands.map((b) => b.key)));
  for (const b of bands) {
    const c = b.key.startsWith(`${REP_SWEEP}#0`) ? 0 : 1;
    assert.equal(b.key, `${REP_SWEEP}#${c}|eval/ndcg@10|256`);
    assert.deepEqual(b.runIds.sort(), [`rep-${c}0`, `rep-${c}1`, `rep-${c}2`]);
    assert.match(b.label, /learningRate=0\.0?01 · mean of 3$/);
    assert.deepEqual(
      b.points.map((q: any) => q.step),
      [100, 200, 300],
    );
    for (const q of b.points) {
      const ys = [0, 1, 2].map(
        (k) => (genMetrics(repGen(c, k)).find((l: any) => l.split === 'eval' && l.step === q.step) as any).byDim['256']['ndcg@10'],
      );
      assert.ok(Math.abs(q.mean - ys.reduce((a, y) => a + y, 0) / 3) < 1e-12);
      assert.equal(q.lo, Math.min(...ys));
      assert.equal(q.hi, Math.max(...ys));
      assert.equal(q.n, 3);
    }
  }
  await p.page.locator(`[data-chart-id="${id}"]`).screenshot({ path: artifactPath('sweep-repeat-bands.png') });
  // The switch off: no band.
  await p.page.click('#repeatBands');
  await p.settle();
  assert.equal((await hook(p, 'state')).repeatBands, false);
  assert.deepEqual(await hook(p, 'repeatBands', id), []);
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
});

// What the charts show (webview/charts/chartSpecs.ts, webview/app/model.ts) as plain data, in Node: no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpecs, isOverlay, RUN_LEGEND_MAX, specSignature, type SpecTheme } from '../../webview/charts/chartSpecs';
import { compareMetricIds, createModel, shownRuns, sortRuns } from '../../webview/app/model';
import { dimColor, metricColor, RUN_DASHES } from '../../webview/charts/colors';
import { overlayDim, runLooks } from '../../webview/charts/overlaySpecs';
import { assignColorSlots, PALETTE_SIZE, runSlotColor } from '../../webview/charts/runPalette';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { genMetrics } from './fixtures/metrics';

const theme: SpecTheme = { kind: 'dark', fg: '#cccccc', muted: '#999999' };
const runA: PanelRun = { id: 'a', name: 'run-a', status: 'completed', startedAt: '2026-11-01T00:00:00Z' };
const runB: PanelRun = { id: 'b', name: 'run-b', status: 'running', startedAt: '2026-11-02T00:00:00Z' };

function model(shown: string[], runs = [runA, runB]) {
  const m = createModel();
  m.runs = sortRuns(runs);
  m.state.shownRunIds = shown;
  m.store.ingest('a', genMetrics({ steps: 20, evalEvery: 10, funnel: true }));
  m.store.ingest('b', genMetrics({ steps: 20, evalEvery: 10, seed: 3 }));
  return m;
}

test('runs: newest first; shown runs keep run-list order, whatever order they were turned on in', () => {
  const m = model(['a', 'b']);
  assert.deepEqual(
    m.runs.map((r) => r.id),
    ['b', 'a'],
  );
  assert.deepEqual(
    shownRuns(m).map((r) => r.id),
    ['b', 'a'],
  );
  assert.deepEqual(
    sortRuns([
      { ...runA, startedAt: undefined },
      { ...runB, name: 'aaa', startedAt: undefined },
    ]).map((r) => r.name),
    ['aaa', 'run-a'],
  );
});

test('chart per metric: train before eval, known metrics in order, funnel quality last, funnel constants never plotted', () => {
  const m = model(['a']);
  const ids = buildSpecs(m, theme).map((s) => s.id);
  assert.deepEqual(ids, [
    'm:train/loss',
    'm:eval/loss',
    'm:eval/ndcg@10',
    'm:eval/mrr@10',
    'm:eval/recall@1',
    'm:eval/recall@10',
    'm:eval/map@100',
    'm:eval/spearman',
    'm:eval/funnel:ndcg@10',
  ]);
  // constant per run (the funnel's settings and cost): no flat-line charts of their own
  assert.ok(!ids.some((id) => /shortlistDim|rerankDim|macsSaved/.test(id)));
  m.state.viewMode = 'dim';
  const none = buildSpecs(m, theme).find((s) => s.id === 'd:none')!;
  assert.deepEqual(
    none.legend.map((l) => l.text).filter((t) => t.includes('funnel')),
    ['funnel:ndcg@10 · eval'],
  );
  assert.ok(compareMetricIds(m.store, 'train/loss', 'eval/loss') < 0);
});

test('chart per metric: one curve per dim coloured by dim plus the total; legend says the dims; one run = no run legend', () => {
  const m = model(['a']);
  const loss = buildSpecs(m, theme).find((s) => s.id === 'm:train/loss')!;
  assert.equal(loss.title, 'loss · train');
  assert.deepEqual(
    loss.curves.map((c) => c.label),
    ['dim 32', 'dim 64', 'dim 128', 'dim 256', 'all dims'],
  );
  assert.deepEqual(
    loss.curves.map((c) => c.legendKey),
    ['dim:32', 'dim:64', 'dim:128', 'dim:256', 'total'],
  );
  assert.equal(loss.curves[0].color, dimColor(32, [32, 64, 128, 256], 'dark'));
  assert.equal(loss.curves[4].color, theme.muted);
  assert.equal(loss.curves[0].series.n, 20);
  assert.deepEqual(
    loss.legend.map((l) => l.text),
    ['dim 32', 'dim 64', 'dim 128', 'dim 256', 'all dims'],
  );
  // a metric without dims is drawn in the foreground colour and named by itself
  const fun = buildSpecs(m, theme).find((s) => s.id === 'm:eval/funnel:ndcg@10')!;
  assert.deepEqual(
    fun.curves.map((c) => [c.label, c.color, c.dim]),
    [['funnel:ndcg@10', theme.fg, null]],
  );
  assert.deepEqual(fun.legend, []);
});

test('hidden dims: no curve, but still in the legend (struck), so they can be turned back on', () => {
  const m = model(['a']);
  m.state.hiddenDims = [64];
  const nd = buildSpecs(m, theme).find((s) => s.id === 'm:eval/ndcg@10')!;
  assert.deepEqual(
    nd.curves.map((c) => c.dim),
    [32, 128, 256],
  );
  assert.deepEqual(
    nd.legend.map((l) => [l.text, l.hidden]),
    [
      ['dim 32', false],
      ['dim 64', true],
      ['dim 128', false],
      ['dim 256', false],
    ],
  );
});

test('several runs: colour = run (never dim), one dim plotted — the largest unless one is picked — and the total in its own chart', () => {
  const m = model(['a', 'b']);
  assert.equal(isOverlay(m), true);
  assert.equal(isOverlay(model(['a'])), false);
  const specs = buildSpecs(m, theme);
  const nd = specs.find((s) => s.id === 'm:eval/ndcg@10')!;
  assert.equal(nd.title, 'ndcg@10 · eval · dim 256');
  assert.deepEqual(
    nd.curves.map((c) => [c.runId, c.dim, c.label]),
    [
      ['b', 256, 'run-b'],
      ['a', 256, 'run-a'],
    ],
  );
  // slots by run id: a (older) gets the first colour, b the second
  assert.equal(nd.curves[1].color, runSlotColor(0, 'dark'));
  assert.equal(nd.curves[0].color, runSlotColor(1, 'dark'));
  assert.notEqual(nd.curves[0].color, nd.curves[1].color);
  assert.deepEqual(nd.curves[0].dash, RUN_DASHES[0], 'a solid line each: the colour tells them apart');
  assert.deepEqual(
    nd.legend.map((l) => [l.key, l.text, l.color]),
    [
      ['run:b', 'run-b', nd.curves[0].color],
      ['run:a', 'run-a', nd.curves[1].color],
    ],
  );
  // the train loss has per-dim values and a total: two charts, the dim picked and all dims
  const ids = specs.map((s) => s.id);
  assert.ok(ids.indexOf('m:train/loss') >= 0 && ids.indexOf('m:train/loss|all') === ids.indexOf('m:train/loss') + 1);
  const total = specs.find((s) => s.id === 'm:train/loss|all')!;
  assert.equal(total.title, 'loss · train · all dims');
  assert.deepEqual(
    total.curves.map((c) => [c.runId, c.dim]),
    [
      ['b', null],
      ['a', null],
    ],
  );
  // a metric without dims: one curve per run, in its chart
  const fun = specs.find((s) => s.id === 'm:eval/funnel:ndcg@10')!;
  assert.deepEqual(
    fun.curves.map((c) => [c.runId, c.dim]),
    [['a', null]],
  );
  // the dim picked; a dim no run has falls back to the largest; hidden dims do not apply (one is plotted)
  m.state.overlayDim = 64;
  m.state.hiddenDims = [64];
  assert.deepEqual(
    buildSpecs(m, theme)
      .find((s) => s.id === 'm:eval/ndcg@10')!
      .curves.map((c) => c.dim),
    [64, 64],
  );
  assert.equal(overlayDim(m.store, 64), 64);
  assert.equal(overlayDim(m.store, 48), 256);
  assert.equal(overlayDim(createModel().store, 64), null);
  // a run that is shown but has no data yet draws nothing
  const empty = model(['a', 'b', 'c'], [runA, runB, { id: 'c', name: 'run-c', status: 'running' }]);
  assert.equal(buildSpecs(empty, theme).find((s) => s.id === 'm:eval/ndcg@10')!.curves.length, 2);
});

test('several runs, chart per dim: small multiples per dim, colour = run, the dash tells the metrics apart', () => {
  const m = model(['a', 'b']);
  m.state.viewMode = 'dim';
  const d64 = buildSpecs(m, theme).find((s) => s.id === 'd:64')!;
  const byRun = new Map<string, Set<string>>();
  for (const c of d64.curves) byRun.set(c.runId, (byRun.get(c.runId) ?? new Set()).add(c.color));
  assert.deepEqual(
    [...byRun.values()].map((cs) => cs.size),
    [1, 1],
    'one colour per run',
  );
  assert.notEqual([...byRun.get('a')!][0], [...byRun.get('b')!][0]);
  const trainLoss = d64.curves.filter((c) => c.legendKey === 'metric:train/loss');
  const evalNdcg = d64.curves.filter((c) => c.legendKey === 'metric:eval/ndcg@10');
  assert.notDeepEqual(trainLoss[0].dash, evalNdcg[0].dash);
  assert.deepEqual(trainLoss[0].dash, trainLoss[1].dash, 'the same metric, the same dash in every run');
  assert.ok(d64.legend.some((l) => l.key === 'metric:eval/ndcg@10' && l.color === theme.fg && l.dash));
  assert.ok(d64.legend.some((l) => l.key === 'run:a'));
});

test('chart per dim: one chart per visible dim with every metric, plus one for dimension-less values', () => {
  const m = model(['a']);
  m.state.viewMode = 'dim';
  m.state.hiddenDims = [32];
  const specs = buildSpecs(m, theme);
  assert.deepEqual(
    specs.map((s) => s.id),
    ['d:64', 'd:128', 'd:256', 'd:none'],
  );
  const d64 = specs[0];
  assert.equal(d64.title, 'dim 64');
  assert.deepEqual(d64.curves.map((c) => c.label).slice(0, 3), ['loss · train', 'loss · eval', 'ndcg@10 · eval']);
  assert.equal(d64.curves[0].color, metricColor(0));
  assert.ok(d64.curves.every((c) => c.dim === 64));
  // funnel:macsSaved is a constant of the run: no curve
  assert.deepEqual(
    specs[3].curves.map((c) => c.label),
    ['loss · train', 'funnel:ndcg@10 · eval'],
  );
});

test('nothing shown, nothing drawn', () => {
  assert.deepEqual(buildSpecs(model([]), theme), []);
});

test('spec signature: same curves same signature; a reset (new Series) or a restyle changes it', () => {
  const m = model(['a']);
  const sig = (mm: typeof m) => specSignature(buildSpecs(mm, theme).find((s) => s.id === 'm:train/loss')!);
  const before = sig(m);
  m.store.ingest('a', genMetrics({ steps: 25, fromStep: 21 }));
  assert.equal(sig(m), before, 'appended points keep the signature (refresh in place)');
  m.state.shownRunIds = ['a', 'b'];
  assert.notEqual(sig(m), before);
  m.state.shownRunIds = ['a'];
  assert.equal(sig(m), before);
  m.store.ingest('a', genMetrics({ steps: 5 }), true);
  assert.notEqual(sig(m), before, 'a reset replay creates new series');
});

test('fifty runs: fifty colours, every run drawn, no run entries in the charts’ own legends; past the palette a dash', () => {
  const runs: PanelRun[] = Array.from({ length: 60 }, (_, i) => ({
    id: `r${String(i).padStart(2, '0')}`,
    name: `run-${i}`,
    status: 'completed',
    startedAt: `2026-11-01T00:${String(i).padStart(2, '0')}:00Z`,
  }));
  runs[49].notes = { displayName: 'my best run', tags: [], note: '' };
  const m = createModel();
  m.runs = sortRuns(runs);
  m.state.shownRunIds = runs.slice(0, 50).map((r) => r.id);
  for (const r of runs) m.store.ingest(r.id, genMetrics({ steps: 5, evalEvery: 5 }));
  const specs = buildSpecs(m, theme);
  for (const id of ['m:train/loss', 'm:train/loss|all', 'm:eval/ndcg@10']) {
    const spec = specs.find((s) => s.id === id)!;
    assert.equal(spec.curves.length, 50, id);
    assert.equal(new Set(spec.curves.map((c) => c.color)).size, 50, `${id}: fifty colours`);
    assert.deepEqual(spec.legend, [], `${id}: the run legend above the charts names them`);
  }
  const loss = specs.find((s) => s.id === 'm:train/loss')!;
  assert.ok(loss.curves.some((c) => c.label === 'my best run'));
  assert.ok(RUN_LEGEND_MAX < 50);
  // sixty: the palette's colours come round again, those runs are dashed
  m.state.shownRunIds = runs.map((r) => r.id);
  m.state.runColors = assignColorSlots({}, m.state.shownRunIds);
  const sixty = buildSpecs(m, theme).find((s) => s.id === 'm:eval/ndcg@10')!;
  const past = sixty.curves.filter((c) => m.state.runColors[c.runId] >= PALETTE_SIZE);
  assert.equal(past.length, 60 - PALETTE_SIZE);
  assert.ok(past.every((c) => c.dash.length > 0));
  assert.ok(sixty.curves.filter((c) => m.state.runColors[c.runId] < PALETTE_SIZE).every((c) => c.dash.length === 0));
  assert.equal(new Set(sixty.curves.map((c) => `${c.color}|${c.dash}`)).size, 60, 'sixty looks');
  const looks = runLooks(m, shownRuns(m), 'dark');
  assert.equal(looks.size, 60);
  assert.equal(looks.get('r00')!.color, runSlotColor(0, 'dark'));
});

test('colour slots in the state: a run keeps its colour when others are shown or hidden', () => {
  const m = model(['a', 'b']);
  m.state.runColors = assignColorSlots({}, ['a', 'b']);
  const colorOf = (id: string) =>
    buildSpecs(m, theme)
      .find((s) => s.id === 'm:eval/ndcg@10')!
      .curves.find((c) => c.runId === id)!.color;
  const b = colorOf('b');
  m.state.runColors = { b: 1 }; // as if a had never been shown: b keeps slot 1
  assert.equal(colorOf('b'), b);
  assert.equal(colorOf('a'), runSlotColor(0, 'dark'), 'a takes the lowest free slot');
  // one run: the dims are colours again
  m.state.shownRunIds = ['b'];
  assert.equal(buildSpecs(m, theme).find((s) => s.id === 'm:eval/ndcg@10')!.curves[0].color, dimColor(32, [32, 64, 128, 256], 'dark'));
});

// What the charts show (webview/charts/chartSpecs.ts, webview/app/model.ts) as plain data, in Node: no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpecs, RUN_LEGEND_MAX, runLegendEntries, specSignature, type SpecTheme } from '../../webview/charts/chartSpecs';
import { compareMetricIds, createModel, shownRuns, sortRuns } from '../../webview/app/model';
import { dimColor, metricColor, RUN_DASHES } from '../../webview/charts/colors';
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

test('several runs: labels name the run, dashes tell runs apart, a run legend entry per run', () => {
  const m = model(['a', 'b']);
  const nd = buildSpecs(m, theme).find((s) => s.id === 'm:eval/ndcg@10')!;
  assert.equal(nd.curves.length, 8);
  assert.equal(nd.curves[0].label, 'run-b · dim 32'); // b is newer: first
  assert.deepEqual(nd.curves[0].dash, RUN_DASHES[0]);
  assert.deepEqual(nd.curves[4].dash, RUN_DASHES[1]);
  assert.equal(nd.curves[0].color, nd.curves[4].color); // colour = dim, never run
  const runLegend = nd.legend.filter((l) => l.key.startsWith('run:'));
  assert.deepEqual(
    runLegend.map((l) => [l.key, l.text]),
    [
      ['run:b', 'run-b'],
      ['run:a', 'run-a'],
    ],
  );
  assert.deepEqual(runLegend[0].dash, [1, 0]); // a solid line still shows as a line in the legend
  // a run that is shown but has no data yet draws nothing
  const empty = model(['a', 'b', 'c'], [runA, runB, { id: 'c', name: 'run-c', status: 'running' }]);
  assert.equal(buildSpecs(empty, theme).find((s) => s.id === 'm:eval/ndcg@10')!.curves.length, 8);
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

test('run legend: display names, bounded at RUN_LEGEND_MAX entries plus "+ N more runs"', () => {
  const runs: PanelRun[] = Array.from({ length: 30 }, (_, i) => ({
    id: `r${i}`,
    name: `run-${i}`,
    status: 'completed',
    startedAt: `2026-11-01T00:${String(i).padStart(2, '0')}:00Z`,
  }));
  runs[29].notes = { displayName: 'my best run', tags: [], note: '' };
  const m = createModel();
  m.runs = sortRuns(runs);
  m.state.shownRunIds = runs.map((r) => r.id);
  for (const r of runs) m.store.ingest(r.id, genMetrics({ steps: 5 }));
  const loss = buildSpecs(m, theme).find((s) => s.id === 'm:train/loss')!;
  const runEntries = loss.legend.filter((l) => l.key.startsWith('run:') || l.key === 'more');
  assert.equal(runEntries.length, RUN_LEGEND_MAX + 1);
  assert.equal(runEntries[0].text, 'my best run'); // newest first, shown by its display name
  assert.equal(runEntries[RUN_LEGEND_MAX].text, `+ ${30 - RUN_LEGEND_MAX} more runs`);
  // every run is still drawn
  assert.equal(new Set(loss.curves.map((c) => c.runId)).size, 30);
  assert.ok(loss.curves.some((c) => c.label.startsWith('my best run · ')));
  assert.deepEqual(runLegendEntries(runs.slice(0, 1), '#fff'), []);
});

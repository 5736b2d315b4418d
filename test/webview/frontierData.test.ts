// Precision keys in the panel's pure parts, in Node: the float32 views stay float32 (time-chart specs, the
// metric-vs-dim candidates, the headline metric), the Precision select swaps in a variant, the frontier's
// data per run (cheapest point, Pareto front, funnel bytes, the sentence), and the runs table's frontier
// columns (values, sort, filter, CSV) — on the hand-worked fixture test/webview/fixtures/precisionMetrics.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advisorMetric } from '../../src/insights/dimAdvisor';
import { headlineMetric } from '../../src/insights/metricRules';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { createModel, sortRuns } from '../../webview/app/model';
import { currentPrecision, keyAt, metricIdsAt, presentVariants, variantOf } from '../../webview/app/precision';
import { buildSpecs, type SpecTheme } from '../../webview/charts/chartSpecs';
import {
  frontierLines,
  frontierMetric,
  funnelBytesPerVector,
  hasPrecisionVariants,
  markerOf,
  runFrontiers,
} from '../../webview/mrl/frontierData';
import { currentMrlMetric, mrlCandidates } from '../../webview/mrl/mrlData';
import { deriveColumns } from '../../webview/runsTable/columns';
import { formatCell } from '../../webview/runsTable/cellFormat';
import { tableCsv } from '../../webview/runsTable/csv';
import { parseFilter } from '../../webview/runsTable/filter';
import { tableRows } from '../../webview/runsTable/rows';
import { sortRows } from '../../webview/runsTable/sort';
import { genMetrics, run } from './fixtures/metrics';
import { A_FUNNEL, A_TABLE, B_TABLE, precisionRun } from './fixtures/precisionMetrics';
import { summaryOf } from './fixtures/tableRuns';

const theme: SpecTheme = { kind: 'dark', fg: '#cccccc', muted: '#999999' };
const RA: PanelRun = run('a', 'run-a', 'completed', '2026-11-01T00:00:00Z', {
  evaluation: { funnel: { shortlistDim: 32, rerankDim: 256 } },
});
const RB: PanelRun = run('b', 'run-b', 'completed', '2026-11-02T00:00:00Z');
const DIMS = [32, 64, 128, 256];

function model() {
  const m = createModel();
  m.runs = sortRuns([RA, RB]);
  m.state.shownRunIds = ['a', 'b'];
  m.store.ingest('a', precisionRun(A_TABLE, A_FUNNEL));
  m.store.ingest('b', precisionRun(B_TABLE));
  return m;
}

test('precision keys: variantOf / keyAt round-trip; the headline and advisor metric are float32', () => {
  for (const k of ['ndcg@10', 'int8:ndcg@10', 'int8+rescore:ndcg@10', 'binary:ndcg@10', 'binary+rescore:ndcg@10']) {
    const v = variantOf(k);
    assert.equal(keyAt(v.base, v.variant), k);
  }
  assert.deepEqual(variantOf('binary+rescore:mrr@10'), { base: 'mrr@10', variant: 'binary+rescore' });
  // a writer may list a quantised key first: the headline is still the float32 one
  assert.equal(headlineMetric(['int8:ndcg@10', 'binary:ndcg@10', 'ndcg@10']), 'ndcg@10');
  assert.equal(headlineMetric(['int8:foo', 'bar']), 'bar');
  assert.equal(advisorMetric({ '64': { 'binary+rescore:spearman': 0.5, 'int8:ndcg@10': 0.2, spearman: 0.4 } }), 'spearman');
});

test('time charts: float32 by default; the Precision choice swaps in its variant and keeps the metrics without one', () => {
  const m = model();
  assert.deepEqual(presentVariants(m.store), ['float32', 'int8+rescore', 'int8', 'binary+rescore', 'binary']);
  const ids = (specs: { id: string }[]) => specs.map((s) => s.id);
  // two runs: an overlay, so the train loss's total has a chart of its own (overlaySpecs.ts)
  assert.deepEqual(ids(buildSpecs(m, theme)), [
    'm:train/loss',
    'm:train/loss|all',
    'm:eval/loss',
    'm:eval/ndcg@10',
    'm:eval/funnel:ndcg@10',
  ]);
  m.state.precision = 'binary+rescore';
  assert.deepEqual(ids(buildSpecs(m, theme)), [
    'm:train/loss',
    'm:train/loss|all',
    'm:eval/loss',
    'm:eval/binary+rescore:ndcg@10',
    'm:eval/funnel:ndcg@10',
  ]);
  // per dim: the dim 64 chart holds eval loss and the chosen variant of ndcg@10, not the other four
  m.state.viewMode = 'dim';
  const d64 = buildSpecs(m, theme).find((s) => s.id === 'd:64')!;
  assert.deepEqual(
    d64.legend.map((l) => l.text),
    ['loss · train', 'loss · eval', 'binary+rescore:ndcg@10 · eval', 'run-b', 'run-a'],
  );
  // a choice the runs do not have falls back to float32
  m.state.precision = 'int4';
  assert.equal(currentPrecision(m.store, m.state.precision), 'float32');
  assert.ok(ids(buildSpecs(m, theme)).includes('d:64'));
  // an older run (float32 only): no variants, nothing filtered
  const old = createModel();
  old.store.ingest('x', genMetrics({ steps: 20, evalEvery: 10 }));
  assert.deepEqual(presentVariants(old.store), []);
  const all = [...old.store.metrics.keys()];
  assert.deepEqual(metricIdsAt(old.store, all, 'float32'), all);
});

test('metric-vs-dim chart: float32 candidates only; the frontier follows its metric', () => {
  const m = model();
  assert.deepEqual(mrlCandidates(m.store), ['eval/loss', 'eval/ndcg@10', 'train/loss']);
  assert.equal(currentMrlMetric(m.store, { mrlMetric: 'eval/int8:ndcg@10' }), 'eval/ndcg@10');
  assert.equal(frontierMetric(m.store, 'eval/ndcg@10'), 'ndcg@10');
  assert.equal(frontierMetric(m.store, 'train/loss'), null);
  assert.ok(hasPrecisionVariants(m.store, 'ndcg@10'));
  assert.ok(!hasPrecisionVariants(m.store, 'loss'));
});

test('frontier data: the cheapest point reaching p %, the Pareto front, the funnel at 4·(shortlist + rerank) bytes', () => {
  const m = model();
  const runs = [
    { id: 'b', name: 'run-b', index: 0, config: RB.config },
    { id: 'a', name: 'run-a', index: 1, config: RA.config },
  ];
  const fr = runFrontiers(m.store, runs, 'ndcg@10', Infinity, DIMS, 95);
  assert.equal(fr.length, 2);
  const [b, a] = fr;
  assert.equal(a.step, 3);
  const pa = a.advice!.point;
  assert.deepEqual([pa.dim, pa.precision, pa.rescore, pa.bytesPerVector], [256, 'binary', true, 32]);
  assert.ok(Math.abs(pa.ratio - 0.98) < 1e-12);
  assert.deepEqual(
    a.advice!.front.map((p) => [p.bytesPerVector, p.key, p.dim]),
    [
      [4, 'binary+rescore:ndcg@10', 32],
      [8, 'binary+rescore:ndcg@10', 64],
      [16, 'binary+rescore:ndcg@10', 128],
      [32, 'binary+rescore:ndcg@10', 256],
      [256, 'int8+rescore:ndcg@10', 256],
    ],
  );
  assert.equal(a.advice!.points.length, 20);
  assert.deepEqual(a.funnel, { shortlistDim: 32, rerankDim: 256, bytesPerVector: 1152, value: 0.39, ratio: 0.39 / 0.4 });
  assert.equal(funnelBytesPerVector(16, 64), 320);
  const pb = b.advice!.point;
  assert.deepEqual([pb.dim, pb.precision, pb.rescore, pb.bytesPerVector], [128, 'int8', true, 128]);
  assert.equal(b.funnel, null);
  assert.deepEqual(frontierLines(fr), [
    'run-b reaches 95 % at 128 bytes/vector: int8 at dim 128, rescored; run-a needs 32 bytes: binary at dim 256, rescored',
    'run-a funnel 32→256: 98 % of float32 at 1152 bytes/vector',
  ]);
  assert.deepEqual(frontierLines([a]), [
    'run-a reaches 95 % at 32 bytes/vector: binary at dim 256, rescored (ndcg@10 0.392, 98 % of float32 at 256) (step 3)',
    'funnel 32→256: 98 % of float32 at 1152 bytes/vector',
  ]);
  // 90 %: cheaper points qualify
  const at90 = runFrontiers(m.store, runs, 'ndcg@10', Infinity, DIMS, 90);
  assert.deepEqual(
    at90.map((r) => [r.advice!.point.key, r.advice!.point.dim, r.advice!.point.bytesPerVector]),
    [
      ['int8+rescore:ndcg@10', 64, 64],
      ['binary+rescore:ndcg@10', 128, 16],
    ],
  );
  // an earlier step: the eval at step 2 (values scaled by 0.9, so the same answer)
  const s2 = runFrontiers(m.store, runs.slice(1), 'ndcg@10', 2, DIMS, 95)[0];
  assert.equal(s2.step, 2);
  assert.ok(Math.abs(s2.advice!.point.value - 0.392 * 0.9) < 1e-12);
  // markers: shape per precision, hollow when a quantised index is searched alone
  assert.deepEqual(markerOf('float32'), { shape: 'circle', filled: true });
  assert.deepEqual(markerOf('int8'), { shape: 'rect', filled: false });
  assert.deepEqual(markerOf('binary+rescore'), { shape: 'triangle', filled: true });
});

test('runs table: the frontier columns (bytes, dim, precision, quality) sort, filter and export; precision metric columns hidden by default', () => {
  const runs: PanelRun[] = [
    { ...RA, summary: summaryOf(precisionRun(A_TABLE, A_FUNNEL)) },
    { ...RB, summary: summaryOf(precisionRun(B_TABLE)) },
    run('c', 'run-c-no-evals', 'running', '2026-11-03T00:00:00Z'),
  ];
  const S = { advisorPercent: 95 };
  const rows = tableRows(runs, S);
  const cols = deriveColumns(rows, rows, { shown: [], hidden: [] }, S);
  const col = (k: string) => cols.all.find((c) => c.key === k)!;
  for (const k of ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'])
    assert.ok(
      cols.visible.some((c) => c.key === k && c.group === 'frontier'),
      `${k} shown`,
    );
  const cell = (k: string, id: string) =>
    formatCell(
      col(k),
      col(k).value(
        rows.find((r) => r.run.id === id)!,
        0,
      ),
    );
  assert.deepEqual(
    ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'].map((k) => cell(k, 'a')),
    ['32', '256', 'binary+rescore', '98 %'],
  );
  assert.deepEqual(
    ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'].map((k) => cell(k, 'b')),
    ['128', '128', 'int8+rescore', '97.4 %'],
  );
  assert.equal(cell('frontier:bytes', 'c'), '');
  assert.equal(col('frontier:bytes').label, 'B/vec for 95 %');
  assert.match(col('frontier:precision').cellTitle!(rows[0])!, /^reaches 95 % at 32 bytes\/vector: binary at dim 256, rescored/);
  // float32 per-dim columns shown, their precision variants there to add
  assert.ok(cols.visible.some((c) => c.key === 'ndcg@10@64'));
  assert.ok(!cols.visible.some((c) => c.group === 'metric' && c.key.replace(/^best:/, '').includes(':')));
  const i8 = col('int8+rescore:ndcg@10@64');
  assert.equal(i8.defaultShown, false);
  assert.equal(formatCell(i8, i8.value(rows[0], 0)), '0.358');
  const order = cols.all
    .filter((c) => c.group === 'metric' && c.key.endsWith('ndcg@10@64') && !c.key.startsWith('best:'))
    .map((c) => c.key);
  assert.deepEqual(order, ['ndcg@10@64', 'int8+rescore:ndcg@10@64', 'int8:ndcg@10@64', 'binary+rescore:ndcg@10@64', 'binary:ndcg@10@64']);
  // sort: bytes ascending (no value last), precision as text
  assert.deepEqual(
    sortRows(rows, col('frontier:bytes'), 'asc', 0).map((r) => r.run.id),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    sortRows(rows, col('frontier:quality'), 'desc', 0).map((r) => r.run.id),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    sortRows(rows, col('frontier:precision'), 'asc', 0).map((r) => r.run.id),
    ['a', 'b', 'c'],
  );
  // filter on the new keys
  const pass = (f: string) => {
    const p = parseFilter(f, cols.all);
    assert.ok(p.ok, f);
    return rows.filter((r) => p.test(r, 0)).map((r) => r.run.id);
  };
  assert.deepEqual(pass('frontier:bytes <= 64'), ['a']);
  assert.deepEqual(pass('frontier:precision = int8+rescore'), ['b']);
  assert.deepEqual(pass('frontier:quality>0.975'), ['a']);
  assert.deepEqual(pass('frontier:dim = 128'), ['b']);
  assert.deepEqual(pass('binary+rescore:ndcg@10@256 >= 0.39'), ['a']);
  const bad = parseFilter('frontier:bytes <= lots', cols.all);
  assert.ok(!bad.ok && /needs a number/.test(bad.error));
  // CSV: the keys as headers, whole numbers
  const csv = tableCsv(
    cols.visible.filter((c) => c.group === 'frontier'),
    rows,
    0,
  ).split('\n');
  assert.equal(csv[0], 'id,frontier:bytes,frontier:dim,frontier:precision,frontier:quality');
  assert.equal(csv[1], `a,32,256,binary+rescore,${0.392 / 0.4}`);
  // the advisor's percent moves the answer
  const rows90 = tableRows(runs, { advisorPercent: 90 });
  assert.equal(col('frontier:bytes').value(rows90[0], 0), 16);
});

// Repeats taken together, in Node: which runs are repeats of one combination, mean ± std (sample) and n,
// the runs table's "Group repeats" rows (metric cells mean ± std (n), the advisor on the mean curve,
// the selection standing for every repeat) and the state that persists the toggle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupRepeats, meanByDim, repeatGroupKey, repeatStats } from '../../src/insights/repeats';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { formatCell } from '../../webview/runsTable/cellFormat';
import { formatRepeatStats, groupRepeatRows, isRepeatGroup, memberIds, meanSummary } from '../../webview/runsTable/repeatRows';
import { tableRows } from '../../webview/runsTable/rows';
import { buildTableView, defaultTableState, loadTableState } from '../../webview/runsTable/tableModel';
import { baseConfig, run } from './fixtures/metrics';

const S = { advisorPercent: 95 };
const NOW = Date.UTC(2026, 10, 30, 12);

/** A run of sweep "sw" (combination c, repeat k) with ndcg@10 at 32 and 64, and its seed in the config. */
function rep(id: string, c: number, k: number, lr: number, at64: number, at32: number, status: PanelRun['status'] = 'completed'): PanelRun {
  const r = run(id, 'grid', status, `2026-11-2${k}T10:00:00Z`, baseConfig({ 'training.learningRate': lr, seed: 100 + k }), {
    sweep: { id: 'sw', index: k * 2 + c, params: { 'training.learningRate': lr }, combination: c, repeat: k },
  });
  const last = { '32': { 'ndcg@10': at32 }, '64': { 'ndcg@10': at64 } };
  return {
    ...r,
    summary: {
      evalStep: 100 * (k + 1),
      last,
      best: last,
      lastValues: { 'funnel:ndcg@10': at64 },
      loss: 1 + k,
      pairsPerSec: 10,
      lastStep: 100 * (k + 1),
    },
  };
}
// Two combinations × three repeats, plus a lone run: the order is the run list's (newest first doesn't matter here).
const RUNS: PanelRun[] = [
  rep('a0', 0, 0, 0.001, 0.2, 0.1),
  rep('b0', 1, 0, 0.01, 0.3, 0.2),
  rep('a1', 0, 1, 0.001, 0.24, 0.12),
  rep('b1', 1, 1, 0.01, 0.34, 0.2),
  rep('a2', 0, 2, 0.001, 0.22, 0.14, 'running'),
  rep('b2', 1, 2, 0.01, 0.32, 0.2),
  run('lone', 'lone', 'completed', '2026-11-19T10:00:00Z', baseConfig({}), {}),
];

test('repeatStats: mean, sample std (n − 1), min, max and n over the finite numbers only', () => {
  const s = repeatStats([0.2, 0.24, 0.22, undefined, NaN, 'x'])!;
  assert.equal(s.n, 3);
  assert.ok(Math.abs(s.mean - 0.22) < 1e-12);
  assert.ok(Math.abs(s.std - 0.02) < 1e-12, String(s.std)); // deviations ±0.02, 0 → sqrt(0.0008 / 2)
  assert.deepEqual([s.min, s.max], [0.2, 0.24]);
  assert.deepEqual(repeatStats([5]), { n: 1, mean: 5, std: 0, min: 5, max: 5 });
  assert.equal(repeatStats([]), null);
  assert.equal(repeatStats([undefined, null]), null);
});

test('repeat groups: sweep id and combination; runs that are no repeat stand alone', () => {
  assert.equal(repeatGroupKey(RUNS[0]), 'sw#0');
  assert.equal(repeatGroupKey(RUNS[3]), 'sw#1');
  assert.equal(repeatGroupKey({ sweep: { id: 'x', index: 2 } }), null, 'a sweep without repeat');
  assert.equal(repeatGroupKey({}), null);
  const g = groupRepeats(RUNS);
  assert.deepEqual(
    g.map((x) => [x.key, x.runs.map((r) => r.id)]),
    [
      ['sw#0', ['a0', 'a1', 'a2']],
      ['sw#1', ['b0', 'b1', 'b2']],
      [null, ['lone']],
    ],
  );
  assert.deepEqual(meanByDim([{ '64': { m: 1 } }, { '64': { m: 3, k: 2 } }, undefined]), { '64': { m: 2, k: 2 } });
});

test('meanSummary: every value the mean of the repeats that have it, steps the least advanced repeat’s', () => {
  const m = meanSummary(
    RUNS.slice(0, 6)
      .filter((r) => r.sweep!.combination === 0)
      .map((r) => r.summary),
  )!;
  assert.ok(Math.abs(m.last['64']['ndcg@10'] - 0.22) < 1e-12);
  assert.ok(Math.abs(m.last['32']['ndcg@10'] - 0.12) < 1e-12);
  assert.equal(m.loss, 2);
  assert.equal(m.lastStep, 100);
  assert.equal(m.evalStep, 100);
  assert.equal(meanSummary([undefined]), undefined);
});

test('grouped rows: one per combination (at its first repeat’s place), mean ± std (n) in metric cells, seed left out', () => {
  const rows = groupRepeatRows(tableRows(RUNS, S), S);
  assert.deepEqual(
    rows.map((r) => r.run.id),
    ['a0', 'b0', 'lone'],
  );
  const [a, b, lone] = rows;
  assert.ok(isRepeatGroup(a) && isRepeatGroup(b) && !isRepeatGroup(lone));
  assert.deepEqual(memberIds(a), ['a0', 'a1', 'a2']);
  assert.deepEqual(memberIds(lone), ['lone']);
  assert.equal(a.run.status, 'running', 'a repeat still runs');
  assert.equal(b.run.status, 'completed');
  assert.equal(a.params.has('seed'), false);
  assert.equal(a.params.get('training.learningRate'), 0.001);
  assert.match(a.name, /learningRate=0\.001 · 3 repeats$/);
  assert.doesNotMatch(a.name, /repeat=/);
  // The dim advisor reads the mean curve: 0.12 at 32 is 55 % of 0.22 at 64, so 64 for 95 %.
  assert.equal(a.advice?.dim, 64);

  const v = buildTableView(RUNS, S, { ...defaultTableState(), groupRepeats: true }, NOW);
  assert.deepEqual(
    v.rows.map((r) => r.run.id),
    ['a0', 'b0', 'lone'],
  );
  const col = v.columns.find((c) => c.key === 'ndcg@10@64')!;
  const row = v.rows[0];
  assert.ok(Math.abs((col.value(row, NOW) as number) - 0.22) < 1e-12, 'the value (sort, filter) is the mean');
  assert.equal(col.cellText!(row, NOW), '0.22 ± 0.02 (n=3)');
  assert.equal(col.cellText!(v.rows[1], NOW), '0.32 ± 0.02 (n=3)');
  assert.match(col.cellTitle!(row)!, /^mean of 3 repeats \(0\.2, 0\.24, 0\.22\); sample std 0\.02, min 0\.2, max 0\.24$/);
  assert.equal(col.cellText!(v.rows[2], NOW), undefined, 'a lone run reads as usual');
  assert.equal(formatCell(col, col.value(v.rows[2], NOW)), '');
  const funnel = v.columns.find((c) => c.key === 'funnel:ndcg@10')!;
  assert.equal(funnel.cellText!(row, NOW), '0.22 ± 0.02 (n=3)');
  // Sorting by the metric sorts the combinations by their means.
  const sorted = buildTableView(RUNS, S, { ...defaultTableState(), groupRepeats: true, sort: { key: 'ndcg@10@64', dir: 'desc' } }, NOW);
  assert.deepEqual(
    sorted.rows.map((r) => r.run.id),
    ['b0', 'a0', 'lone'],
  );
  // The filter reads each run before grouping: a repeat below 0.21 leaves its combination with n = 2.
  const f = buildTableView(RUNS, S, { ...defaultTableState(), groupRepeats: true, filter: 'ndcg@10@64 > 0.21' }, NOW);
  const fa = f.rows.find((r) => r.run.id === 'a1')!;
  assert.equal(f.columns.find((c) => c.key === 'ndcg@10@64')!.cellText!(fa, NOW), '0.23 ± 0.01414 (n=2)');
  const reps = buildTableView(RUNS.slice(0, 6), S, { ...defaultTableState(), groupRepeats: true }, NOW);
  assert.ok(!reps.columns.some((c) => c.key === 'seed'), 'the seed tells repeats apart, not combinations');
  assert.ok(reps.columns.some((c) => c.key === 'training.learningRate'));
  assert.equal(col.widthCh, 23, 'wide enough for mean ± std (n)');
  // Ungrouped: one row per run, no cellText.
  const flat = buildTableView(RUNS, S, defaultTableState(), NOW);
  assert.equal(flat.rows.length, 7);
  assert.equal(flat.columns.find((c) => c.key === 'ndcg@10@64')!.cellText, undefined);
  assert.ok(
    flat.columns.some((c) => c.key === 'seed'),
    'ungrouped, the seed differs among the rows',
  );
  assert.equal(formatRepeatStats({ n: 1, mean: 0.5, std: 0, min: 0.5, max: 0.5 }), '0.5 (n=1)');
  assert.equal(formatRepeatStats({ n: 2, mean: 0.5, std: 0.1, min: 0.4, max: 0.6 }, 'share'), '50 % ± 10 % (n=2)');
});

test('only: the runs a brush keeps, with the filter; the toggle persists', () => {
  const v = buildTableView(RUNS, S, defaultTableState(), NOW, new Set(['a1', 'b2', 'nope']));
  assert.deepEqual(
    v.rows.map((r) => r.run.id),
    ['a1', 'b2'],
  );
  assert.equal(v.total, 7);
  assert.equal(loadTableState({ groupRepeats: true }).groupRepeats, true);
  assert.equal(loadTableState({ groupRepeats: 'yes' }).groupRepeats, false);
  assert.equal(defaultTableState().groupRepeats, false);
});

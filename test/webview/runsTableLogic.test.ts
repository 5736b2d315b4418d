// The runs table's pure pieces, in Node: filter parser, column derivation (differing params, metrics,
// advisor), sort, CSV, selection and row keys, the virtual grid's geometry, which actions apply, the
// column chooser's prefs, the table model (grouping) and its persisted state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { deriveColumns, filterableColumns, paramPaths, type Column } from '../../webview/runsTable/columns';
import { formatCell, formatDuration } from '../../webview/runsTable/cellFormat';
import { tableCsv } from '../../webview/runsTable/csv';
import { parseFilter } from '../../webview/runsTable/filter';
import { tableRows, type TableRow } from '../../webview/runsTable/rows';
import { withColumnShown } from '../../webview/runsTable/columnChooser';
import { columnEdges, columnWidthCh, scrollTopToShow, visibleCols, visibleRows } from '../../webview/runsTable/gridGeometry';
import { applyRowKey, clickRow, emptySelection, moveFocus, toggleAll, toggleFocused } from '../../webview/runsTable/selection';
import { actionsEnabled } from '../../webview/runsTable/toolbar';
import { nextSort, sortRows } from '../../webview/runsTable/sort';
import { buildTableView, defaultTableState, loadTableState } from '../../webview/runsTable/tableModel';
import { loadState } from '../../webview/app/uiState';
import { baseConfig, run } from './fixtures/metrics';

const S = { advisorPercent: 95 };
const NOW = Date.UTC(2026, 10, 30, 12);

function withSummary(
  r: PanelRun,
  last: Record<string, Record<string, number>>,
  extra: Partial<NonNullable<PanelRun['summary']>> = {},
): PanelRun {
  return { ...r, summary: { evalStep: 100, last, best: last, lastValues: {}, loss: 1.5, pairsPerSec: 100, lastStep: 100, ...extra } };
}
const RUNS: PanelRun[] = [
  withSummary(
    run('a', 'alpha', 'completed', '2026-11-20T10:00:00Z', baseConfig({ 'training.learningRate': 0.001 }), {
      endedAt: '2026-11-20T10:30:00Z',
      notes: { tags: ['baseline'], note: 'first try', displayName: 'Alpha!' },
    }),
    { '32': { 'ndcg@10': 0.15 }, '64': { 'ndcg@10': 0.25 }, '128': { 'ndcg@10': 0.26 } },
    { best: { '64': { 'ndcg@10': 0.3 } }, lastValues: { 'funnel:ndcg@10': 0.25, 'funnel:macsSaved': 0.7 } },
  ),
  withSummary(
    run('b', 'beta', 'running', '2026-11-21T10:00:00Z', baseConfig({ 'training.learningRate': 0.0001 }), {
      sweep: { id: 'sw1', index: 0, params: {} },
    }),
    { '32': { 'ndcg@10': 0.1 }, '64': { 'ndcg@10': 0.12 }, '128': { 'ndcg@10': 0.2 } },
  ),
  run('c', 'run-10', 'failed', '2026-11-22T10:00:00Z', baseConfig({ 'loss.loss.miniBatchSize': 32 }), {
    sweep: { id: 'sw1', index: 1, params: {} },
  }),
  run('d', 'run-2', 'stopped', '2026-11-23T10:00:00Z', null),
];
const rows = tableRows(RUNS, S);
const cols = filterableColumns(rows, S);
const col = (key: string): Column => cols.find((c) => c.key === key)!;
const pass = (f: string) => {
  const p = parseFilter(f, cols);
  if (!p.ok) throw new Error(p.error);
  return rows.filter((r) => p.test(r, NOW)).map((r) => r.run.id);
};
const error = (f: string) => {
  const p = parseFilter(f, cols);
  assert.equal(p.ok, false, `${f} should not parse`);
  return (p as { error: string }).error;
};

test('filter: numeric conditions over any column key, with or without spaces, AND-combined', () => {
  assert.deepEqual(pass('ndcg@10@64 > 0.2'), ['a']);
  assert.deepEqual(pass('ndcg@10@64>0.1'), ['a', 'b']);
  assert.deepEqual(pass('ndcg@10@64 >0.1 ndcg@10@128<= 0.2'), ['b']);
  assert.deepEqual(pass('best:ndcg@10@64 >= 0.3'), ['a']);
  assert.deepEqual(
    pass('training.learningRate <= 0.0005'),
    ['b', 'c', 'd'].filter((id) => id !== 'd'),
    'rows without the value never match',
  );
  assert.deepEqual(pass('training.learningRate != 0.001'), ['b', 'c']);
  assert.deepEqual(pass('loss.loss.miniBatchSize = 32'), ['c']);
  assert.deepEqual(pass('funnel:ndcg@10 > 0'), ['a']);
  assert.deepEqual(pass('funnel:macsSaved >= 0.7'), ['a']);
  assert.deepEqual(pass('advisor:dim = 64'), ['a'], '0.25 ≥ 95 % of 0.26 at 64');
  assert.deepEqual(pass('backend = wasm status:run'), ['b'], 'text equality, status prefix');
  assert.deepEqual(pass('NDCG@10@64 > 0.2'), ['a'], 'keys resolve case-insensitively');
  assert.deepEqual(pass('duration > 1000'), ['a', 'b'], 'running: up to now');
  assert.deepEqual(pass('training.learningRate < 1e-3'), ['b', 'c'], 'exponent notation');
});

test('filter: status:, tag:, sweep:, free text, quotes; empty matches all', () => {
  assert.deepEqual(pass(''), ['a', 'b', 'c', 'd']);
  assert.deepEqual(pass('   '), ['a', 'b', 'c', 'd']);
  assert.deepEqual(pass('status:failed'), ['c']);
  assert.deepEqual(pass('STATUS:Stopped'), ['d']);
  assert.deepEqual(pass('tag:baseline'), ['a']);
  assert.deepEqual(pass('tag:base'), [], 'a tag matches whole');
  assert.deepEqual(pass('sweep:sw1'), ['b', 'c']);
  assert.deepEqual(pass('sweep:sw1 status:running'), ['b']);
  assert.deepEqual(pass('alpha'), ['a'], 'run name');
  assert.deepEqual(pass('"first try"'), ['a'], 'note, quoted phrase');
  assert.deepEqual(pass('run-'), ['c', 'd']);
  assert.deepEqual(pass('b'), ['a', 'b'], 'the tag "baseline" of a; the name and id of b');
});

test('filter: invalid expressions are messages, never exceptions', () => {
  assert.match(error('ndcg@10@64 >'), /value is missing after >/);
  assert.match(error('> 0.2'), /needs a column key before the operator/);
  assert.match(error('nope > 1'), /no column with the key "nope"/);
  assert.match(error('ndcg@10@64 > high'), /> needs a number, got "high"/);
  assert.match(error('status:done'), /running, completed, failed, stopped/);
  assert.match(error('tag:'), /needs a tag/);
  assert.match(error('"unclosed'), /unclosed quote/);
  assert.match(error('ndcg@10@64 > > 1'), /two operators/);
  // Odd input: an error message, or (text without an operator) a free-text term; never an exception.
  assert.match(error('<'), /"<": a condition needs a column key before the operator/);
  assert.match(error('='), /"=": a condition needs a column key before the operator/);
  assert.match(error('>=>='), /">=>=": a condition needs a column key before the operator/);
  assert.match(error('x>='), /"x >=": a value is missing after >=/);
  assert.deepEqual(pass('!'), ['a'], 'free text: the display name "Alpha!"');
  assert.deepEqual(pass('a:b:c'), [], 'not a qualifier (a:): free text that no run contains');
  assert.deepEqual(pass('@@@'), [], 'free text that no run contains');
  assert.deepEqual(pass('""'), ['a', 'b', 'c', 'd'], 'an empty quoted phrase is no term');
  assert.equal((parseFilter('""', cols) as { terms: number }).terms, 0);
});

test('columns: params that differ among the rows shown (not the config name), others addable; metrics last/best per dim; advisor', () => {
  const d = deriveColumns(rows, rows, { shown: [], hidden: [] }, S);
  const params = d.visible.filter((c) => c.group === 'param').map((c) => c.key);
  assert.deepEqual(params, ['loss.loss.miniBatchSize', 'training.learningRate']);
  assert.ok(
    d.all.some((c) => c.key === 'training.batchSize' && !c.defaultShown),
    'non-differing params are there to add',
  );
  // among the first two rows only the learning rate differs
  const two = deriveColumns(rows, rows.slice(0, 2), { shown: [], hidden: [] }, S);
  assert.deepEqual(
    two.visible.filter((c) => c.group === 'param').map((c) => c.key),
    ['training.learningRate'],
  );
  // chooser prefs: add one, hide one
  const custom = deriveColumns(rows, rows, { shown: ['training.batchSize'], hidden: ['training.learningRate', 'tags'] }, S);
  const keys = custom.visible.map((c) => c.key);
  assert.ok(keys.includes('training.batchSize') && !keys.includes('training.learningRate') && !keys.includes('tags'));
  const metric = d.visible.filter((c) => c.group === 'metric').map((c) => c.label);
  assert.deepEqual(metric, ['ndcg@10 @32', 'ndcg@10 @64', 'ndcg@10 @128', 'best ndcg@10 @32', 'best ndcg@10 @64', 'best ndcg@10 @128']);
  assert.deepEqual(
    d.visible.filter((c) => c.group === 'funnel').map((c) => c.key),
    ['funnel:ndcg@10', 'funnel:macsSaved'],
  );
  assert.deepEqual(
    d.visible.filter((c) => c.group === 'advisor').map((c) => c.key),
    ['advisor:dim', 'advisor:float32', 'advisor:int8', 'advisor:macsSaved'],
  );
  const a = rows[0];
  assert.equal(col('advisor:dim').value(a, NOW), 64);
  assert.equal(col('advisor:float32').value(a, NOW), 256);
  assert.equal(col('advisor:int8').value(a, NOW), 64);
  assert.equal(formatCell(col('advisor:macsSaved'), col('advisor:macsSaved').value(a, NOW)), '50 %');
  assert.match(col('advisor:dim').cellTitle!(a)!, /reaches 95 % of ndcg@10 at dim 64/);
  assert.equal(col('advisor:dim').value(rows[2], NOW), undefined, 'no summary, no advice');
  // a lower target picks a smaller dim
  const at50 = tableRows(RUNS, { advisorPercent: 50 });
  assert.equal(
    filterableColumns(at50, { advisorPercent: 50 })
      .find((c) => c.key === 'advisor:dim')!
      .value(at50[0], NOW),
    32,
  );
  assert.equal(col('name').value(a, NOW), 'Alpha!', 'display name first');
  assert.equal(col('duration').value(a, NOW), 1800);
  assert.equal(formatDuration(1800), '30m 00s');
  assert.equal(formatCell(col('training.learningRate'), 0.0001), '0.0001');
});

test('paramPaths: one row shows no differing params; a run without a config is left out; absent counts', () => {
  assert.equal(paramPaths(rows, rows.slice(0, 1)).differing.size, 0);
  assert.equal(paramPaths(rows, [rows[0], rows[3]]).differing.size, 0, 'no config: nothing to compare with');
  const extra = tableRows([run('x', 'x', 'completed', '2026-11-20T10:00:00Z', { ...baseConfig(), extraKey: 1 })], S);
  assert.deepEqual([...paramPaths([...rows, ...extra], [rows[0], extra[0]]).differing].sort(), ['extraKey', 'training.learningRate']);
});

test('sort: numbers numerically, text naturally, missing last both ways, stable; header cycle', () => {
  const ids = (key: string, dir: 'asc' | 'desc') => sortRows(rows, col(key), dir, NOW).map((r) => r.run.id);
  assert.deepEqual(ids('ndcg@10@64', 'asc'), ['b', 'a', 'c', 'd']);
  assert.deepEqual(ids('ndcg@10@64', 'desc'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids('training.learningRate', 'asc'), ['b', 'c', 'a', 'd'], '0.0001 < 0.0005 < 0.001, no config last');
  assert.deepEqual(ids('name', 'asc'), ['a', 'b', 'd', 'c'], 'run-2 before run-10');
  assert.deepEqual(ids('tags', 'desc'), ['a', 'b', 'c', 'd'], 'rows without tags keep their order, last');
  assert.deepEqual(nextSort(null, 'x'), { key: 'x', dir: 'asc' });
  assert.deepEqual(nextSort({ key: 'x', dir: 'asc' }, 'x'), { key: 'x', dir: 'desc' });
  assert.equal(nextSort({ key: 'x', dir: 'desc' }, 'x'), null);
  assert.deepEqual(nextSort({ key: 'x', dir: 'desc' }, 'y'), { key: 'y', dir: 'asc' });
});

test('CSV: keys as header, full-precision numbers, ISO dates, quoting and formula neutralising', () => {
  const evil = { ...RUNS[3], id: 'e', notes: { tags: ['=HYPERLINK("x")', 'a,b'], note: '' } };
  const r = tableRows([RUNS[0], evil], S);
  const c = [col('name'), col('tags'), col('started'), col('ndcg@10@64'), col('training.learningRate')];
  const csv = tableCsv(c, r, NOW);
  assert.equal(
    csv,
    'id,name,tags,started,ndcg@10@64,training.learningRate\n' +
      'a,Alpha!,baseline,2026-11-20T10:00:00.000Z,0.25,0.001\n' +
      `e,run-2,"'=HYPERLINK(""x""), a,b",2026-11-23T10:00:00.000Z,,\n`,
  );
});

test('selection: click, ctrl-click, shift-range, keyboard, select all', () => {
  const order = ['a', 'b', 'c', 'd'];
  const s = emptySelection();
  clickRow(s, 'b', { toggle: false, range: false }, order);
  clickRow(s, 'd', { toggle: false, range: true }, order);
  assert.deepEqual([...s.selected], ['b', 'c', 'd']);
  clickRow(s, 'c', { toggle: true, range: false }, order);
  assert.deepEqual([...s.selected].sort(), ['b', 'd']);
  clickRow(s, 'a', { toggle: false, range: false }, order);
  assert.deepEqual([...s.selected], ['a']);
  moveFocus(s, 1, order, false);
  toggleFocused(s);
  assert.deepEqual([...s.selected].sort(), ['a', 'b']);
  moveFocus(s, 2, order, true);
  assert.equal(s.focus, 'd');
  assert.deepEqual([...s.selected].sort(), ['b', 'c', 'd'], 'shift+arrow: from the anchor');
  moveFocus(s, 99, order, false);
  assert.equal(s.focus, 'd', 'clamped');
  toggleAll(s, order);
  assert.equal(s.selected.size, 4);
  toggleAll(s, order);
  assert.equal(s.selected.size, 0);
});

test('row keys: arrows and Home/End move the focus (Shift extends), Space toggles, Ctrl+A all, Enter plots', () => {
  const order = ['a', 'b', 'c', 'd'];
  const s = emptySelection();
  const key = (k: string, shift = false, ctrlOrMeta = false) => applyRowKey(s, k, { shift, ctrlOrMeta }, order);
  assert.equal(key('ArrowDown'), 'select');
  assert.equal(s.focus, 'a');
  assert.equal(key('End', true), 'select');
  assert.equal(s.focus, 'd');
  assert.deepEqual([...s.selected], ['a', 'b', 'c', 'd'], 'shift+End: from the anchor');
  assert.equal(key('Home'), 'select');
  assert.equal(s.focus, 'a');
  assert.equal(key(' '), 'select');
  assert.deepEqual([...s.selected].sort(), ['b', 'c', 'd']);
  assert.equal(key('a'), null, 'a plain "a" is not ours');
  assert.equal(key('a', false, true), 'select');
  assert.equal(s.selected.size, 4);
  assert.equal(key('Enter'), 'plot');
  assert.equal(key('Tab'), null);
  assert.equal(key('ArrowUp'), 'select');
  assert.equal(s.focus, 'a', 'clamped at the top');
});

test('grid geometry: fixed column widths and edges, rows and columns in view with overscan, scroll to show a row', () => {
  const metric = (label: string): Column => ({ ...col('status'), key: label, label, group: 'metric', kind: 'number' });
  assert.equal(columnWidthCh(col('status')), 13, "the run's own columns have typical widths");
  assert.equal(columnWidthCh(metric('abcd')), 8);
  assert.equal(columnWidthCh(metric('x'.repeat(40))), 32, 'capped');
  assert.equal(columnWidthCh({ ...metric('x'), kind: 'text' }), 10);
  assert.deepEqual(
    columnEdges([metric('abcd'), metric('efgh')], 10),
    [
      [28, 108],
      [108, 188],
    ],
    'after the 28 px checkbox column',
  );
  assert.deepEqual(columnEdges([metric('abcd')], 0), [], 'no edges while the table is not laid out');

  const vp = (top: number, height: number, left = 0, width = 0) => ({ top, height, left, width });
  assert.deepEqual(visibleRows(vp(0, 220), 22, 100), [0, 22], '10 rows in view + 6 below');
  assert.deepEqual(visibleRows(vp(2200, 220), 22, 1000), [94, 116], '6 above and below');
  assert.deepEqual(visibleRows(vp(2200, 220), 22, 50), [34, 50], 'fewer rows than the scroll position: clamped');
  assert.deepEqual(visibleRows(vp(0, 0), 0, 100), [0, 49], 'unmeasured: 22 px rows in an 800 px window');

  const edges = Array.from({ length: 10 }, (_, i): [number, number] => [28 + 100 * i, 128 + 100 * i]);
  assert.deepEqual(visibleCols(edges, vp(0, 0, 1000, 300), 10), [7, 10], '240 px beyond the view either side');
  assert.deepEqual(visibleCols(edges, vp(0, 0, 0, 300), 10), [0, 6]);
  assert.deepEqual(visibleCols(edges, vp(0, 0, 0, 0), 10), [0, 10], 'width unknown: every column');
  assert.deepEqual(visibleCols(edges.slice(1), vp(0, 0, 0, 300), 10), [0, 10], 'edges of other columns: every column');

  assert.equal(scrollTopToShow(5, 22, 30, 0, 300), null, 'in view');
  assert.equal(scrollTopToShow(20, 22, 30, 0, 300), 192, 'below: scrolled to the bottom edge (under the header)');
  assert.equal(scrollTopToShow(2, 22, 30, 100, 300), 44, 'above: scrolled to the top edge');
  assert.equal(scrollTopToShow(-1, 22, 30, 0, 300), null, 'not a row shown');
});

test('actions apply to the selection; the column chooser keeps only departures from the defaults', () => {
  const [completed, runningInSweep, failedInSweep] = RUNS;
  assert.deepEqual(actionsEnabled([], 0), {
    plot: false,
    diff: false,
    stop: false,
    resume: false,
    delete: false,
    editNotes: false,
    stopSweep: false,
    export: false,
  });
  assert.deepEqual(actionsEnabled([completed], 1), {
    plot: true,
    diff: false,
    stop: false,
    resume: false,
    delete: true,
    editNotes: true,
    stopSweep: false,
    export: true,
  });
  assert.deepEqual(actionsEnabled([runningInSweep, failedInSweep], 2), {
    plot: true,
    diff: true,
    stop: true,
    resume: true,
    delete: false,
    editNotes: false,
    stopSweep: true,
    export: false,
  });
  // Export Model: one bundled-engine run that is completed, stopped or running (its last checkpoint).
  assert.equal(actionsEnabled([runningInSweep], 1).export, true);
  assert.equal(actionsEnabled([failedInSweep], 1).export, false);
  assert.equal(actionsEnabled([{ ...completed, engine: 'sentence-transformers' }], 1).export, false);

  const shownByDefault = col('status');
  const addable: Column = { ...shownByDefault, key: 'extra', defaultShown: false };
  const none = { shown: [], hidden: [] };
  assert.deepEqual(withColumnShown(none, shownByDefault, false), { shown: [], hidden: ['status'] });
  assert.deepEqual(withColumnShown({ shown: [], hidden: ['status'] }, shownByDefault, true), none);
  assert.deepEqual(withColumnShown(none, addable, true), { shown: ['extra'], hidden: [] });
  assert.deepEqual(withColumnShown({ shown: ['extra'], hidden: ['status'] }, addable, false), { shown: [], hidden: ['status'] });
});

test('table model: filter error keeps every row; group by sweep puts runs in no sweep last', () => {
  const bad = buildTableView(RUNS, S, { ...defaultTableState(), filter: 'ndcg@10@64 >' }, NOW);
  assert.match(bad.filterError!, /value is missing/);
  assert.equal(bad.rows.length, 4);
  const g = buildTableView(RUNS, S, { ...defaultTableState(), groupBySweep: true, sort: { key: 'name', dir: 'asc' } }, NOW);
  assert.deepEqual(
    g.items.map((i) => (i.kind === 'group' ? `[${i.sweepId}:${i.count}]` : (i.row as TableRow).run.id)),
    ['[sw1:2]', 'b', 'c', '[null:2]', 'a', 'd'],
  );
  assert.deepEqual(
    g.rows.map((r) => r.run.id),
    ['b', 'c', 'a', 'd'],
  );
  const f = buildTableView(RUNS, S, { ...defaultTableState(), filter: 'sweep:sw1' }, NOW);
  assert.deepEqual(
    f.columns.filter((c) => c.group === 'param').map((c) => c.key),
    ['loss.loss.miniBatchSize', 'training.learningRate'],
    'params differing among the rows shown',
  );
});

test('persisted state: table prefs and tab restored; junk falls back to defaults', () => {
  const s = loadState({
    version: 1,
    shownRunIds: [],
    tab: 'runs',
    table: { sort: { key: 'name', dir: 'desc' }, filter: 'tag:x', groupBySweep: true, columns: { shown: ['a'], hidden: ['b'] } },
  });
  assert.equal(s.tab, 'runs');
  assert.deepEqual(s.table, {
    sort: { key: 'name', dir: 'desc' },
    filter: 'tag:x',
    groupBySweep: true,
    groupRepeats: false,
    columns: { shown: ['a'], hidden: ['b'] },
  });
  const j = loadState({
    version: 1,
    shownRunIds: [],
    tab: 'tables',
    table: { sort: { key: 1 }, filter: 3, groupBySweep: 'yes', columns: { shown: 'a' } },
  });
  assert.equal(j.tab, 'charts');
  assert.deepEqual(j.table, defaultTableState());
  assert.deepEqual(loadTableState(null), defaultTableState());
});

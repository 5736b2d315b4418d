// The config diff table's model (webview/diff/diffTable.ts) in Node: which configs, in which order, which rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellDiffers, diffRowsAsText, diffRunIds, diffTableModel } from '../../webview/diff/diffTable';
import { createModel, sortRuns } from '../../webview/app/model';

function model() {
  const m = createModel();
  m.runs = sortRuns([
    { id: 'a', name: 'A', status: 'completed', startedAt: '2026-11-01', config: { seed: 1, loss: { type: 'MNRL', scale: 20 }, lr: 1e-4 } },
    { id: 'b', name: 'B', status: 'completed', startedAt: '2026-11-02', config: { seed: 2, loss: { type: 'MNRL', scale: 20 }, lr: 1e-4 } },
    {
      id: 'c',
      name: 'C',
      status: 'running',
      startedAt: '2026-11-03',
      config: { seed: 1, loss: { type: 'CachedMNRL', scale: 20 }, lr: 1e-4, extra: true },
    },
    { id: 'noconfig', name: 'N', status: 'running' },
  ]);
  return m;
}

test('fewer than two configs: no table', () => {
  const m = model();
  m.state.shownRunIds = ['a', 'noconfig'];
  assert.deepEqual(diffRunIds(m), ['a']);
  assert.equal(diffTableModel(m), null);
});

test('columns in the order asked for (the first is the reference); shown runs when no diff was asked for', () => {
  const m = model();
  m.state.shownRunIds = ['b', 'a'];
  assert.deepEqual(
    diffTableModel(m)!.columns.map((c) => c.name),
    ['B', 'A'],
  );
  m.state.diffRunIds = ['c', 'a', 'noconfig', 'gone'];
  assert.deepEqual(diffRunIds(m), ['c', 'a']);
  assert.deepEqual(
    diffTableModel(m)!.columns.map((c) => [c.id, c.name]),
    [
      ['c', 'C'],
      ['a', 'A'],
    ],
  );
});

test('changed keys only by default, as dotted paths; "all" shows unchanged keys too', () => {
  const m = model();
  m.state.diffRunIds = ['a', 'c'];
  const t = diffTableModel(m)!;
  assert.deepEqual(diffRowsAsText(t.rows), [
    { path: 'loss.type', values: ['MNRL', 'CachedMNRL'], changed: true },
    { path: 'extra', values: ['—', 'true'], changed: true }, // absent from the reference
  ]);
  m.state.diffOnly = false;
  const all = diffTableModel(m)!.rows;
  assert.ok(all.some((r) => r.path === 'lr' && !r.changed));
  assert.ok(all.some((r) => r.path === 'loss.scale' && !r.changed));
});

test('identical configs: a table with no rows', () => {
  const m = model();
  m.runs[0].config = { ...m.runs[1].config };
  m.state.diffRunIds = [m.runs[0].id, m.runs[1].id];
  assert.deepEqual(diffTableModel(m)!.rows, []);
});

test('configs that belong to no run (config files) are diffed too', () => {
  const m = model();
  m.diffOnlyConfigs.set('file:x.mrl.json', { name: 'x.mrl.json', config: { seed: 5 } });
  m.diffOnlyConfigs.set('file:y.mrl.json', { name: 'y.mrl.json', config: { seed: 6 } });
  m.state.diffRunIds = ['file:x.mrl.json', 'file:y.mrl.json'];
  const t = diffTableModel(m)!;
  assert.deepEqual(
    t.columns.map((c) => c.name),
    ['x.mrl.json', 'y.mrl.json'],
  );
  assert.deepEqual(
    t.rows.map((r) => r.path),
    ['seed'],
  );
  // a run's own config wins over a stray config under the same id
  m.diffOnlyConfigs.set('a', { name: 'stale', config: {} });
  m.state.diffRunIds = ['a', 'b'];
  assert.equal(diffTableModel(m)!.columns[0].name, 'A');
});

test('cellDiffers: only cells of changed rows that differ from the reference column', () => {
  const row = { path: 'p', values: [1, 1, 2, undefined], changed: true };
  assert.deepEqual(
    row.values.map((_, i) => cellDiffers(row, i)),
    [false, false, true, true],
  );
  assert.equal(cellDiffers({ ...row, changed: false }, 2), false);
  assert.equal(cellDiffers({ path: 'o', values: [{ a: [1] }, { a: [1] }], changed: true }, 1), false);
});

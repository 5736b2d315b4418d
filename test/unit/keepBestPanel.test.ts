// run.json bestCheckpoints on its way to the panel: the host's PanelRun carries a well-formed record and
// drops a malformed one, the guard checks its shape, the chart specs mark the kept step only on the eval
// curve of that metric at a listed dim, and the runs table's column sorts by step and says "best at step N".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPanelRun } from '../../src/host/panel/panelRun';
import { isBestCheckpoints, isPanelRun, type PanelRun } from '../../src/protocol/panelMessages';
import type { RunInfo } from '../../src/protocol/runFolder';
import { keptBestStep } from '../../webview/charts/chartSpecs';
import { deriveColumns } from '../../webview/runsTable/columns';
import { formatCell } from '../../webview/runsTable/cellFormat';
import { tableRows } from '../../webview/runsTable/rows';

const INFO: RunInfo = {
  id: '20261201-100000-k-aaaa',
  name: 'k',
  status: 'running',
  pid: 1,
  startedAt: '2026-12-01T10:00:00Z',
  endedAt: null,
  backend: 'wasm',
  bestCheckpoints: { '64': { metric: 'ndcg@10', step: 400, value: 0.31 }, '16': { metric: 'ndcg@10', step: 0, value: 0.12 } },
};

test('the host sends run.json bestCheckpoints in PanelRun; a malformed record is left out, never refused', () => {
  const r = toPanelRun(INFO);
  assert.deepEqual(r.bestCheckpoints, INFO.bestCheckpoints);
  assert.ok(isPanelRun(r));
  const bad = toPanelRun({ ...INFO, bestCheckpoints: { '64': { metric: 'ndcg@10', step: 'x', value: 1 } } as never });
  assert.equal(bad.bestCheckpoints, undefined);
  assert.ok(isPanelRun(bad));
  assert.equal(toPanelRun({ ...INFO, bestCheckpoints: {} }).bestCheckpoints, undefined);
});

test('the guard checks the record: dims as decimal strings, metric, integer step, numeric value', () => {
  assert.ok(isBestCheckpoints({ '8': { metric: 'ndcg@10', step: 2, value: 0 } }));
  assert.ok(!isBestCheckpoints({ all: { metric: 'ndcg@10', step: 2, value: 0 } }));
  assert.ok(!isBestCheckpoints({ '8': { metric: 'ndcg@10', step: 2.5, value: 0 } }));
  assert.ok(!isBestCheckpoints({ '8': { step: 2, value: 0 } }));
  assert.ok(!isPanelRun({ ...toPanelRun(INFO), bestCheckpoints: { '8': null } }));
});

test('the kept step marks the eval curve of the kept metric at a listed dim only', () => {
  const run = toPanelRun(INFO);
  assert.equal(keptBestStep(run, 'eval', 'ndcg@10', 64), 400);
  assert.equal(keptBestStep(run, 'eval', 'ndcg@10', 16), 0, 'step 0 (the untrained model) is a step like any other');
  assert.equal(keptBestStep(run, 'eval', 'mrr@10', 64), undefined);
  assert.equal(keptBestStep(run, 'train', 'ndcg@10', 64), undefined);
  assert.equal(keptBestStep(run, 'eval', 'ndcg@10', 32), undefined);
  assert.equal(keptBestStep(run, 'eval', 'ndcg@10', null), undefined);
});

test('runs table: one "best at step N" column per listed dim, its value the step (sorts as a number), its tooltip the value', () => {
  const runs: PanelRun[] = [
    toPanelRun(INFO),
    toPanelRun({ ...INFO, id: 'b', bestCheckpoints: { '64': { metric: 'ndcg@10', step: 1200, value: 0.4 } } }),
    toPanelRun({ ...INFO, id: 'c', bestCheckpoints: undefined }),
  ];
  const settings = { advisorPercent: 95 };
  const rows = tableRows(runs, settings);
  const cols = deriveColumns(rows, rows, { shown: [], hidden: [] }, settings).visible;
  const c64 = cols.find((c) => c.key === 'bestCheckpoint@64')!;
  assert.ok(c64 && cols.some((c) => c.key === 'bestCheckpoint@16'));
  assert.deepEqual(
    rows.map((r) => c64.value(r, 0)),
    [400, 1200, undefined],
  );
  assert.equal(formatCell(c64, c64.value(rows[1], 0)), 'best at step 1200');
  assert.equal(formatCell(c64, undefined), '');
  assert.equal(c64.cellTitle!(rows[0]), 'ndcg@10 0.31 at step 400: checkpoints/best-64');
  // No run keeps bests: no such column.
  const plain = tableRows([runs[2]], settings);
  assert.ok(!deriveColumns(plain, plain, { shown: [], hidden: [] }, settings).all.some((c) => c.key.startsWith('bestCheckpoint@')));
});

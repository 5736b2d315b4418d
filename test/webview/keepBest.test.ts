// training.keepBest in the panel, in real Chromium: the steps of the kept best checkpoints (run.json
// bestCheckpoints, sent in PanelRun) are marked on that metric's per-dim curves, move when a new best
// arrives (runInfo), and the runs table shows "best at step N" per listed dim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser, artifactPath, type OpenedPanel } from './harness';
import { genMetrics, baseConfig, run } from './fixtures/metrics';
import { summaryOf } from './fixtures/tableRuns';
import type { MetricsEvent } from '../../src/protocol/runFolder';
import type { PanelRun } from '../../src/protocol/panelMessages';

const panels = usePanelBrowser();

const LINES = genMetrics({ steps: 1000, evalEvery: 100, seed: 5 });
const EVALS = LINES.filter((l): l is MetricsEvent => (l as MetricsEvent).split === 'eval');

/** The eval step with the highest ndcg@10 at dim d (as the trainer keeps it: the first on a tie). */
function bestAt(d: number): { metric: string; step: number; value: number } {
  let best = EVALS[0];
  for (const e of EVALS) if (e.byDim![String(d)]['ndcg@10'] > best.byDim![String(d)]['ndcg@10']) best = e;
  return { metric: 'ndcg@10', step: best.step, value: best.byDim![String(d)]['ndcg@10'] };
}

const RECORD = { '64': bestAt(64), '32': bestAt(32) };
const R: PanelRun = run('20261201-100000-keep-cccc', 'keep-best', 'completed', '2026-12-01T10:00:00Z', baseConfig(), {
  summary: summaryOf(LINES),
  bestCheckpoints: RECORD,
});

const hook = (p: OpenedPanel) => ({
  chart: (id: string) => p.page.evaluate((i) => (window as any).__mrlPanel.chart(i), id),
  table: () => p.page.evaluate(() => (window as any).__mrlPanel.table()),
});

type Kept = { curveId: string; step: number; y: number };

test('the kept best steps are marked on the per-dim curves of that metric, and move with a new best', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 900 });
  try {
    await p.send({ type: 'init', runs: [R], showRuns: [R.id] });
    await p.send({ type: 'metrics', runId: R.id, reset: true, lines: LINES });
    await p.settle();
    const nd = await hook(p).chart('m:eval/ndcg@10');
    assert.ok(nd, 'the ndcg@10 chart');
    const kept = (nd.kept as Kept[])
      .map((k) => ({ curveId: k.curveId, step: k.step, y: k.y }))
      .sort((a, b) => a.curveId.localeCompare(b.curveId));
    assert.deepEqual(kept, [
      { curveId: `${R.id}|32`, step: RECORD['32'].step, y: RECORD['32'].value },
      { curveId: `${R.id}|64`, step: RECORD['64'].step, y: RECORD['64'].value },
    ]);
    // Another metric, and a dim without keepBest, carry no mark.
    assert.deepEqual((await hook(p).chart('m:eval/mrr@10')).kept, []);
    await p.page.locator(`[data-chart-id="m:eval/ndcg@10"]`).screenshot({ path: artifactPath('keep-best-marks.png') });

    // run.json changed: the trainer kept a later checkpoint for dim 64 (runInfo from the host).
    const moved = { ...RECORD, '64': { metric: 'ndcg@10', step: 300, value: EVALS.find((e) => e.step === 300)!.byDim!['64']['ndcg@10'] } };
    await p.send({ type: 'runInfo', run: { ...R, bestCheckpoints: moved } });
    await p.settle();
    const after = (await hook(p).chart('m:eval/ndcg@10')).kept as Kept[];
    assert.deepEqual(
      after.find((k) => k.curveId === `${R.id}|64`),
      { ...after.find((k) => k.curveId === `${R.id}|64`), step: 300, y: moved['64'].value },
    );
    assert.equal(after.length, 2);
  } finally {
    await p.page.context().close();
  }
});

test('the runs table shows "best at step N" per listed dim', async () => {
  const p = await panels.open('vscode-dark');
  try {
    const other = run('20261201-090000-plain-dddd', 'no-keep-best', 'completed', '2026-12-01T09:00:00Z', baseConfig(), {
      summary: summaryOf(LINES),
    });
    await p.send({ type: 'init', runs: [R, other], showRuns: [], settings: { advisorPercent: 95 } });
    await p.settle();
    await p.page.click('#tabRuns');
    await p.settle();
    const t = await hook(p).table();
    const keys = (t.columns as { key: string }[]).map((c) => c.key);
    assert.ok(keys.includes('bestCheckpoint@64') && keys.includes('bestCheckpoint@32'), keys.join(', '));
    const row = (id: string) => (t.rows as { id: string; cells: Record<string, string> }[]).find((r) => r.id === id)!;
    assert.equal(row(R.id).cells['bestCheckpoint@64'], `best at step ${RECORD['64'].step}`);
    assert.equal(row(R.id).cells['bestCheckpoint@32'], `best at step ${RECORD['32'].step}`);
    assert.equal(row(other.id).cells['bestCheckpoint@64'], '');
  } finally {
    await p.page.context().close();
  }
});

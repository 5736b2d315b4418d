// The runs table in a real VS Code: the panel's Runs tab lists every run with its summary from the host
// (metrics read by the extension, not the webview), groups a sweep, shows the params that differ, and its
// Delete button goes through the Delete Run command with its confirmation; Plot overlays in the charts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace, TINY_CONFIG } from './fixtures.mjs';
import { launch, missingSetup, panelFrame, shot } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();
const SWEEP = 'sweep-e2e-01';

/** Two completed runs of one sweep (learning rate 0.001 / 0.01), as a sweep would leave them. */
function withSweep(ws) {
  setupWorkspace(ws);
  const runs = path.join(ws, '.mrl/runs');
  [0.001, 0.01].forEach((lr, i) => {
    const id = `20260102-10000${i}-sweep-${i}`;
    const dir = path.join(runs, id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...TINY_CONFIG, name: 'swept', training: { ...TINY_CONFIG.training, learningRate: lr } }),
    );
    let m = '';
    for (let s = 1; s <= 6; s++) {
      m += JSON.stringify({ step: s, epoch: 0, time: s, split: 'train', values: { loss: 2 / s } }) + '\n';
      if (s % 3 === 0)
        m +=
          JSON.stringify({
            step: s,
            epoch: 0,
            time: s,
            split: 'eval',
            values: {},
            byDim: { 4: { 'ndcg@10': 0.1 * (i + 1) }, 8: { 'ndcg@10': 0.2 * (i + 1) }, 16: { 'ndcg@10': 0.21 * (i + 1) } },
          }) + '\n';
    }
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), m);
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({
        id,
        name: `swept-${i}`,
        status: 'completed',
        pid: null,
        startedAt: `2026-01-02T10:00:0${i}Z`,
        endedAt: `2026-01-02T10:01:0${i}Z`,
        backend: 'cpu',
        sweep: { id: SWEEP, index: i, params: { 'training.learningRate': lr } },
      }),
    );
  });
}

describe('VS Code end to end: the runs table', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 300000 }, () => {
  let vs;
  before(async () => {
    if (!missing) vs = await launch({ setupWorkspace: withSweep });
  });
  after(async () => {
    if (vs) await vs.close();
  });

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test('Runs tab: rows with host summaries, sweep group, differing params; Delete asks; Plot overlays', { skip: !!missing }, async () => {
    const { page, workspace } = vs;
    try {
      await vs.exec('matryoshkaLab.openPanel', ['20260102-100000-sweep-0']);
      const frame = panelFrame(page);
      await frame.locator('#tabRuns').click();
      // alpha, beta, the stale folder and the two sweep runs
      await frame.locator('#runsTable tr.run-row').nth(4).waitFor({ timeout: 60000 });
      assert.equal(await frame.locator('#runsTable tr.run-row').count(), 5);
      const head = await frame.locator('#runsTable thead th[data-key]').evaluateAll((ths) => ths.map((th) => th.dataset.key));
      for (const k of ['training.learningRate', 'training.batchSize', 'ndcg@10@16', 'best:ndcg@10@16', 'advisor:dim'])
        assert.ok(head.includes(k), `${k} in ${head.join(' ')}`);
      // the summary comes from the host: the sweep run's latest eval at dim 16, and the advisor on it
      // (filtered on, as the cells may be scrolled out of the drawn columns in a narrow editor)
      await frame.locator('#tableFilter').fill('ndcg@10@16 = 0.42 advisor:dim = 8 best:ndcg@10@8 >= 0.4');
      await frame.locator('#tableCount', { hasText: '1 of 5 runs' }).waitFor();
      await frame.locator('#runsTable tr.run-row[data-id="20260102-100001-sweep-1"]').waitFor();
      await frame.locator('#tableFilter').fill('');
      await frame.locator('#tableCount', { hasText: /^5 runs$/ }).waitFor();
      await frame.locator('#groupBySweep').check();
      await frame.locator(`#runsTable tr.group-row[data-sweep="${SWEEP}"]`, { hasText: '2 runs' }).waitFor();
      await frame.locator('#tableFilter').fill(`sweep:${SWEEP}`);
      await frame.locator('#tableCount', { hasText: '2 of 5 runs' }).waitFor();
      const params = await frame.locator('#runsTable thead th.col-param').evaluateAll((ths) => ths.map((th) => th.dataset.key));
      assert.deepEqual(params, ['training.learningRate'], 'among the sweep, only the swept value differs');
      await shot(page, '40-runs-table');
      // Delete through the table: the command's own confirmation; cancelling keeps both folders
      await frame.locator('#selectAllRuns').check();
      await frame.locator('button[data-action="delete"]').click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /Delete 2 runs\?/);
      await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      await dialog.waitFor({ state: 'detached' });
      assert.ok(fs.existsSync(path.join(workspace, '.mrl/runs/20260102-100001-sweep-1')));
      // Plot: both sweep runs overlaid in the Charts tab
      await frame.locator('button[data-action="plot"]').click();
      await frame.locator('#chartsPane').waitFor({ state: 'visible' });
      await frame.locator('#runs .run-chip[aria-pressed="true"]', { hasText: 'swept-0' }).waitFor();
      await frame.locator('#runs .run-chip[aria-pressed="true"]', { hasText: 'swept-1' }).waitFor();
      assert.equal(await frame.locator('#runs .run-chip[aria-pressed="true"]').count(), 2);
      await shot(page, '41-runs-table-plot');
    } catch (e) {
      await shot(page, 'runs-table-failure').catch(() => {});
      console.error(vs.extHostLogs());
      throw e;
    }
  });
});

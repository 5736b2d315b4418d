// End to end, sweeps: Start Run from the palette on a 4-run sweep config asks once, then the four runs go
// through the launch queue (maxConcurrentRuns = 2) and complete with one sweep id and their own values;
// Stop Sweep from the palette on a longer sweep stops its running runs and starts none of the queued rest;
// meanwhile the runs view lists the queued runs with their place. Runs and the diff title lead with the
// swept values.
// Needs `bash test/vscode/setup.sh` once (npm test runs it); MRL_SKIP_E2E=1 skips. Screenshots:
// test-artifacts/e2e/sweep-*.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace, TINY_CONFIG } from './fixtures.mjs';
import { launch, missingSetup, panelFrame, pickOne, pickQuick, runCommand, shot, treeRow, withFailureShot } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();
const MAX_CONCURRENT = 2;

const SWEEP4 = {
  ...TINY_CONFIG,
  name: 'e2e-sweep',
  sweep: { method: 'grid', parameters: { 'training.learningRate': [0.001, 0.003], seed: [1, 2] } },
};
// Runs long enough (a few hundred tiny steps) to be stopped while they run; four of them, two queued.
const SWEEP_LONG = {
  ...TINY_CONFIG,
  name: 'e2e-sweep-long',
  training: { ...TINY_CONFIG.training, epochs: 100, maxSteps: 400, evalEvery: 100, checkpointEvery: 20 },
  sweep: { method: 'grid', parameters: { seed: [1, 2, 3, 4] } },
};

// A sweep with a value that does not fit its field (line 7) and a path that names no field (line 8).
const BAD_SWEEP = [
  '{',
  '  "name": "bad-sweep",',
  '  "data": { "train": { "source": "pairs.jsonl" } },',
  '  "sweep": {',
  '    "method": "grid",',
  '    "parameters": {',
  '      "training.learningRate": [0.001, -2],',
  '      "training.lr": [1]',
  '    }',
  '  }',
  '}',
  '',
].join('\n');

function setup(ws) {
  setupWorkspace(ws);
  fs.writeFileSync(path.join(ws, 'bad-sweep.mrl.json'), BAD_SWEEP);
  fs.writeFileSync(path.join(ws, 'sweep4.mrl.json'), JSON.stringify(SWEEP4, null, 2) + '\n');
  fs.writeFileSync(path.join(ws, 'sweep-long.mrl.json'), JSON.stringify(SWEEP_LONG, null, 2) + '\n');
}

const readJson = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return undefined; // not written yet
  }
};

/** run.json of every run folder of the workspace that belongs to a sweep with this name. */
function sweepRuns(ws, name) {
  const runs = path.join(ws, '.mrl/runs');
  const out = [];
  for (const id of fs.existsSync(runs) ? fs.readdirSync(runs) : []) {
    if (id.startsWith('.')) continue;
    const info = readJson(path.join(runs, id, 'run.json'));
    if (info?.sweep && info.name === name) out.push({ id, info, config: readJson(path.join(runs, id, 'config.json')) });
  }
  return out.sort((a, b) => a.info.sweep.index - b.info.sweep.index);
}

async function until(what, cond, ms = 300000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('VS Code end to end: sweeps', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 1200000 }, () => {
  let vs;
  before(async () => {
    if (missing) return;
    vs = await launch({
      setupWorkspace: setup,
      userSettings: { 'matryoshkaLab.workers': '0', 'matryoshkaLab.maxConcurrentRuns': MAX_CONCURRENT },
    });
  });
  after(async () => {
    if (vs) await vs.close();
  });
  const failShot = (name, fn) => withFailureShot(vs, `sweep-${name}`, fn);

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test('an invalid sweep: both problems on their exact ranges in Problems; Start Run refuses it', { skip: !!missing }, () =>
    failShot('invalid', async () => {
      const { page, workspace } = vs;
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').fill('bad-sweep.mrl.json');
      await pickQuick(page, 'bad-sweep.mrl.json');
      await page.locator('.editor-instance .monaco-editor').first().waitFor();
      await page.locator('.squiggly-error').first().waitFor();
      await runCommand(page, 'View: Focus Problems');
      const ours = page.locator('.markers-panel .monaco-list-row', { hasText: 'Matryoshka Lab' });
      await ours
        .filter({ hasText: /training\.learningRate = -2/ })
        .first()
        .waitFor();
      await ours
        .filter({ hasText: /"training\.lr" does not name a field/ })
        .first()
        .waitFor();
      const text = await page.locator('.markers-panel').innerText();
      const lines = BAD_SWEEP.split('\n');
      const at = (line, s) => `[Ln ${line + 1}, Col ${lines[line].indexOf(s) + 1}]`;
      assert.ok(text.includes(at(6, '-2')), `the value -2 ${at(6, '-2')}:\n${text}`);
      assert.match(text, /training\.learningRate = -2: must be > 0/);
      assert.ok(text.includes(at(7, '"training.lr"')), `the key "training.lr" ${at(7, '"training.lr"')}:\n${text}`);
      assert.match(text, /unknown key "lr"/);
      await shot(page, 'sweep-00-diagnostics');
      const id = await vs.exec('matryoshkaLab.startRun', { $uri: path.join(workspace, 'bad-sweep.mrl.json') }, { confirm: true });
      assert.equal(id, null, 'nothing started');
      await page
        .locator('.notifications-toasts', { hasText: /bad-sweep\.mrl\.json is not valid, not launching/ })
        .first()
        .waitFor();
      assert.deepEqual(sweepRuns(workspace, 'bad-sweep'), []);
      await runCommand(page, 'Notifications: Clear All Notifications');
      await runCommand(page, 'View: Close All Editors');
    }),
  );

  test('Start Run on a 4-run sweep: asked once, then four runs with one sweep id complete, at most 2 at a time', { skip: !!missing }, () =>
    failShot('start', async () => {
      const { page, workspace } = vs;
      await runCommand(page, 'Matryoshka Lab: Start Run');
      await pickOne(page, 'Matryoshka Lab: Start Run', 'sweep4.mrl.json');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor();
      assert.match(
        await dialog.innerText(),
        /Start the sweep "e2e-sweep"\? It queues 4 runs \(grid over training\.learningRate, seed\), 2 at a time/,
      );
      await shot(page, 'sweep-01-confirm');
      await dialog.locator('.monaco-button', { hasText: 'Queue 4 Runs' }).first().click();
      let most = 0;
      const runs = await until('four completed runs of the sweep', () => {
        const r = sweepRuns(workspace, 'e2e-sweep');
        most = Math.max(most, r.filter((x) => x.info.status === 'running').length);
        return r.length === 4 && r.every((x) => x.info.status === 'completed') && r;
      });
      await shot(page, 'sweep-02-completed');
      assert.ok(most <= MAX_CONCURRENT, `at most ${MAX_CONCURRENT} running at once, saw ${most}`);
      // The same from the runs' own clocks: no instant where more than two were running.
      const edges = runs
        .flatMap((x) => [
          [Date.parse(x.info.startedAt), 1],
          [Date.parse(x.info.endedAt), -1],
        ])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let live = 0;
      for (const [, d] of edges) {
        live += d;
        assert.ok(live <= MAX_CONCURRENT, `${live} runs overlapped`);
      }
      assert.equal(new Set(runs.map((x) => x.info.sweep.id)).size, 1, 'one sweep id');
      assert.match(runs[0].info.sweep.id, /^\d{8}-\d{6}-e2e-sweep-sweep-[0-9a-f]{4}$/);
      const expected = [
        [0.001, 1],
        [0.001, 2],
        [0.003, 1],
        [0.003, 2],
      ];
      runs.forEach((x, i) => {
        assert.equal(x.info.sweep.index, i);
        assert.deepEqual(x.info.sweep.params, { 'training.learningRate': expected[i][0], seed: expected[i][1] });
        assert.equal(x.config.training.learningRate, expected[i][0]);
        assert.equal(x.config.seed, expected[i][1]);
        assert.equal('sweep' in x.config, false);
      });
    }),
  );

  test(
    'the sweep shows as one group in the runs view and as four table rows whose differing params are the columns',
    { skip: !!missing },
    () =>
      failShot('views', async () => {
        const { page, workspace } = vs;
        const runs = sweepRuns(workspace, 'e2e-sweep');
        const sweepId = runs[0].info.sweep.id;
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        const group = treeRow(page, 'sweep e2e-sweep · 4 runs (4 completed)');
        await group.waitFor();
        // Its runs sit under it, not in the Completed group (which holds only the workspace's own two runs).
        await treeRow(page, 'Completed (2)').waitFor();
        await shot(page, 'sweep-04-tree');
        await vs.exec('matryoshkaLab.openPanel', [runs[0].id]);
        const frame = panelFrame(page);
        await frame.locator('#tabRuns').click();
        await frame.locator('#tableFilter').fill(`sweep:${sweepId}`);
        await frame.locator('#tableCount', { hasText: /^4 of \d+ runs$/ }).waitFor({ timeout: 60000 });
        const ids = await frame.locator('#runsTable tr.run-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
        assert.deepEqual([...ids].sort(), runs.map((x) => x.id).sort());
        // Among the sweep's rows only the swept values differ: they are the param columns, nothing else.
        const params = await frame.locator('#runsTable thead th.col-param').evaluateAll((ths) => ths.map((th) => th.dataset.key));
        assert.deepEqual([...params].sort(), ['seed', 'training.learningRate']);
        // Their names lead with what differs (the swept values), not with the sweep's name four times.
        const names = await frame.locator('#runsTable tr.run-row td.frozen-1').evaluateAll((tds) => tds.map((td) => td.textContent));
        assert.equal(names.length, 4);
        for (const n of names) assert.match(n, /^lr=[13]e-3 seed=[12] · e2e-sweep$/);
        assert.equal(new Set(names).size, 4, names.join(' | '));
        await frame.locator('#groupBySweep').check();
        await frame.locator(`#runsTable tr.group-row[data-sweep="${sweepId}"]`, { hasText: '4 runs' }).waitFor();
        await shot(page, 'sweep-05-table');
        await frame.locator('#groupBySweep').uncheck();
        await frame.locator('#tableFilter').fill('');
        // Diff of two of its runs: the diff editor's title says what differs, not "e2e-sweep ↔ e2e-sweep".
        await vs.exec('matryoshkaLab.diffConfigs', runs[0].id, runs[2].id);
        await page.locator('.tab', { hasText: 'lr=1e-3 seed=1 · e2e-sweep ↔ lr=3e-3 seed=1 · e2e-sweep' }).first().waitFor();
        await shot(page, 'sweep-06-diff-title');
        await runCommand(page, 'View: Close All Editors');
      }),
  );

  test('Stop Sweep (palette) on a longer sweep: its running runs stop, none of the queued rest starts', { skip: !!missing }, () =>
    failShot('stop', async () => {
      const { page, workspace } = vs;
      const launched = await vs.exec('matryoshkaLab.startRun', { $uri: path.join(workspace, 'sweep-long.mrl.json') }, { confirm: true });
      assert.equal(launched.runIds.length, 4);
      const runsDir = path.join(workspace, '.mrl/runs');
      const [first, second, ...queued] = launched.runIds;
      const info = (id) => readJson(path.join(runsDir, id, 'run.json'));
      await until('two runs of the sweep training', () =>
        [first, second].every((id) => info(id)?.status === 'running' && info(id).step >= 2),
      );
      assert.ok(
        queued.every((id) => !fs.existsSync(path.join(runsDir, '.logs', `${id}.log`))),
        'the other two wait in the queue',
      );
      // The runs view shows them waiting, with their place (and the sweep counts them); one notification
      // for the sweep, none per queued run.
      await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
      await treeRow(page, 'sweep e2e-sweep-long · 4 runs (2 running, 2 queued)').waitFor();
      await treeRow(page, 'seed=3 · e2e-sweep-long').filter({ hasText: 'queued · 1 of 2' }).waitFor();
      await treeRow(page, 'seed=4 · e2e-sweep-long').filter({ hasText: 'queued · 2 of 2' }).waitFor();
      await page.locator('.notifications-toasts', { hasText: 'Sweep e2e-sweep-long' }).first().waitFor();
      assert.equal(await page.locator('.notification-toast', { hasText: /sweep run \d of 4/ }).count(), 0, 'no pop-up per queued run');
      await shot(page, 'sweep-02b-queued');
      await runCommand(page, 'Matryoshka Lab: Stop Sweep');
      await pickOne(page, 'Stop Sweep', 'e2e-sweep-long');
      await until('both running runs stopped', () => [first, second].every((id) => info(id)?.status === 'stopped'));
      const pids = [first, second]
        .map((id) => readJson(path.join(runsDir, id, 'run.json')))
        .map((x) => x.pid)
        .filter((p) => typeof p === 'number');
      await until('their trainers exited', () => pids.every((p) => !alive(p)), 60000);
      for (const id of [first, second]) assert.ok(fs.existsSync(path.join(runsDir, id, 'checkpoints')), `${id} kept its checkpoints`);
      await shot(page, 'sweep-03-stopped');
      // A later launch goes through the same queue: once it has run, any dropped run would have started too.
      const single = await vs.exec('matryoshkaLab.startRun', { $uri: path.join(workspace, 'tiny.mrl.json') });
      await until('the later run completed', () => info(single)?.status === 'completed');
      for (const id of queued) {
        assert.equal(fs.existsSync(path.join(runsDir, id)), false, `${id} never started`);
        assert.equal(fs.existsSync(path.join(runsDir, '.logs', `${id}.log`)), false, `${id} never launched`);
      }
      assert.equal(sweepRuns(workspace, 'e2e-sweep-long').length, 2);
      // Nothing left to stop: said so.
      assert.deepEqual(await vs.exec('matryoshkaLab.stopSweep', launched.sweepId), { sweepId: launched.sweepId, stopped: [], dropped: [] });
    }),
  );
});

// Export Model… end to end (issue 20 §4): the packaged .vsix in code-server, a run trained by the installed
// extension's own trainer, then Export Model from the command palette with the preselected
// choices (the advisor's dim × precision, the default checkpoint, the save dialog's default folder), run
// by the installed dist/export.js. Then the arguments path ({dim, precision, checkpoint, out}: no UI) and a
// refused export. Screenshot: test-artifacts/export.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adviseFrontier } from '../../src/insights/frontier.ts';
import { parseMetricsJsonl } from '../../src/protocol/runFolder.ts';
import { setupWorkspace, TINY_CONFIG } from './fixtures.mjs';
import { launch, missingSetup, pickOne, ROOT, runCommand, shot, treeRow, withFailureShot } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();
const NAME = 'e2e-export';

function withExportConfig(ws) {
  setupWorkspace(ws);
  fs.writeFileSync(path.join(ws, `${NAME}.mrl.json`), JSON.stringify({ ...TINY_CONFIG, name: NAME }, null, 2) + '\n');
}

/** Generous deadline, only to fail a hang. */
async function waitFor(what, cond, ms = 300000) {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 200)))
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}

const readJson = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return null;
  }
};

describe('VS Code end to end: Export Model', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 900000 }, () => {
  let vs;
  let runId;
  let runDir;
  before(async () => {
    if (!missing) vs = await launch({ setupWorkspace: withExportConfig });
  });
  after(async () => {
    if (vs) await vs.close();
  });

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test('a run trained by the installed extension completes', { skip: !!missing }, () =>
    withFailureShot(vs, 'export-train', async () => {
      const { page, workspace } = vs;
      await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
      runId = await vs.exec('matryoshkaLab.startRun', { $uri: path.join(workspace, `${NAME}.mrl.json`) });
      assert.match(runId, new RegExp(NAME));
      runDir = path.join(workspace, '.mrl/runs', runId);
      await waitFor('the run to complete', () => readJson(path.join(runDir, 'run.json'))?.status === 'completed');
      await treeRow(page, NAME).waitFor();
    }),
  );

  test('Export Model from the palette: the advisor’s choice preselected, exported by dist/export.js, announced', { skip: !!missing }, () =>
    withFailureShot(vs, 'export-ui', async () => {
      assert.ok(runDir, 'the run of the previous test');
      const { page, workspace } = vs;
      // What the pickers must preselect: the frontier's answer on the run's last eval at the default 95 %.
      const { lines } = parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
      const lastEval = lines.filter((l) => l.split === 'eval' && l.byDim).at(-1);
      const advice = adviseFrontier(lastEval.byDim, { percent: 95 });
      assert.ok(advice, 'the run has a per-dim eval');
      const { dim, precision } = advice.point;

      // The command palette, then the run (the runs view's context menu runs the same command on its row;
      // its `when` clause is checked against the tree's context values in test/unit/tree.test.ts).
      await runCommand(page, 'Matryoshka Lab: Export Model…');
      await pickOne(page, 'Export Model', NAME);

      const first = page.locator('.quick-input-list .monaco-list-row[data-index="0"]').filter({ visible: true }).first();
      const title = (t) => page.locator('.quick-input-title', { hasText: t }).filter({ visible: true }).first();
      await title(`Export Model: ${NAME} — dim and precision`).waitFor();
      await page
        .locator('.quick-input-list .monaco-list-row[data-index="0"]', { hasText: `${precision} · dim ${dim}` })
        .filter({ visible: true })
        .first()
        .waitFor();
      assert.match(await first.innerText(), /bytes\/vector/);
      await page.keyboard.press('Enter');

      await title(`Export Model: ${NAME} — checkpoint`).waitFor();
      await page
        .locator('.quick-input-list .monaco-list-row[data-index="0"]', { hasText: 'last' })
        .filter({ visible: true })
        .first()
        .waitFor();
      await page.keyboard.press('Enter');

      // The save dialog (VS Code's own, in a browser window) opens on <workspace>/exports/<run>-d<D>-<precision>.
      const expected = path.join(workspace, 'exports', `${NAME}-d${dim}-${precision}`);
      await title(`Export Model: ${NAME} — output folder`).waitFor();
      await page.waitForFunction(
        (want) => [...document.querySelectorAll('.quick-input-widget input')].some((i) => i.value.endsWith(want)),
        `exports/${NAME}-d${dim}-${precision}`,
      );
      await page.keyboard.press('Enter');

      const toast = page
        .locator('.notifications-toasts .notification-toast', { hasText: `exported ${NAME} at dim ${dim}, ${precision}` })
        .first();
      await toast.waitFor({ timeout: 300000 });
      assert.ok(fs.existsSync(path.join(expected, 'modules.json')), 'modules.json');
      assert.ok(fs.existsSync(path.join(expected, 'README.md')), 'the model card');
      for (const action of ['Open Folder', 'Reveal in Explorer', 'Open Model Card'])
        assert.equal(await toast.locator('.monaco-button', { hasText: action }).count(), 1, action);
      fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'export.png') });
      await toast.locator('.monaco-button', { hasText: 'Open Model Card' }).click();
      await page.locator('.tab', { hasText: 'README.md' }).first().waitFor();
      await shot(page, '40-export-model-card');
    }),
  );

  test(
    'Export Model with arguments skips the pickers and returns the folder; a refused export shows the program’s message',
    { skip: !!missing },
    () =>
      withFailureShot(vs, 'export-args', async () => {
        assert.ok(runId, 'the run of the first test');
        const { page, workspace } = vs;
        const out = await vs.exec('matryoshkaLab.exportModel', runId, {
          dim: 8,
          precision: 'int8',
          checkpoint: 'last',
          out: 'exports/by-args',
        });
        assert.equal(out, path.join(workspace, 'exports', 'by-args'));
        assert.ok(fs.existsSync(path.join(out, 'modules.json')) && fs.existsSync(path.join(out, 'README.md')));
        // Wider than the model (hidden size 16): the exporter refuses, and nothing is written.
        const refused = await vs.exec('matryoshkaLab.exportModel', runId, {
          dim: 9999,
          precision: 'float32',
          checkpoint: 'last',
          out: 'exports/too-wide',
        });
        assert.equal(refused ?? undefined, undefined);
        await page
          .locator('.notifications-toasts', { hasText: `could not export ${NAME} at dim 9999, float32` })
          .first()
          .waitFor();
        assert.ok(!fs.existsSync(path.join(workspace, 'exports', 'too-wide')));
      }),
  );
});

// Restricted Mode (an untrusted workspace): browsing runs and configs works; launching does not, and says why.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace } from './fixtures.mjs';
import { launch, missingSetup, pickQuick, runCommand, shot, treeRow } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();

describe('VS Code end to end: Restricted Mode', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 240000 }, () => {
  let vs;
  before(async () => {
    if (!missing) vs = await launch({ setupWorkspace, trusted: false });
  });
  after(async () => {
    if (vs) await vs.close();
  });

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test('runs are listed, Start Run refuses and says why', { skip: !!missing }, async () => {
    const { page, workspace } = vs;
    try {
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor();
      await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
      await treeRow(page, 'Completed (2)').waitFor();
      await runCommand(page, 'Matryoshka Lab: Start Run');
      await pickQuick(page, 'tiny.mrl.json');
      await page.locator('.notifications-toasts', { hasText: /Starting a run is disabled in Restricted Mode/ }).first().waitFor();
      await shot(page, '20-restricted-refused');
      await page.waitForTimeout(1500);
      const runs = fs.readdirSync(path.join(workspace, '.mrl/runs')).filter((d) => !d.startsWith('.'));
      assert.equal(runs.length, 2, 'nothing launched');
    } catch (e) {
      await shot(page, 'restricted-failure').catch(() => {});
      throw e;
    }
  });
});

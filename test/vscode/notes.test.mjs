// Run notes end to end (issue 10 §4): Rename Run / Edit Run Tags / Edit Run Note write the run folder's
// notes.json (run.json untouched); the runs view shows the display name, the tags in its description and
// the run name, tags and note in its tooltip; the metrics panel's run chips show the display name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace } from './fixtures.mjs';
import { launch, missingSetup, panelFrame, runCommand, shot, treeRow } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();
const ALPHA = '20260101-100000-alpha-0001';

describe('VS Code end to end: run notes', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 300000 }, () => {
  let vs;
  before(async () => {
    if (!missing) vs = await launch({ setupWorkspace });
  });
  after(async () => {
    if (vs) await vs.close();
  });

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test(
    'rename, tag and annotate a run: notes.json, the tree label, description and tooltip, the panel chip',
    { skip: !!missing },
    async () => {
      const { page, workspace } = vs;
      try {
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        await treeRow(page, 'alpha').waitFor();
        // The rename last: once the tree shows the new label, its item carries the tags and the note too.
        await vs.exec('matryoshkaLab.editNote', ALPHA, 'the one to beat');
        await vs.exec('matryoshkaLab.editTags', { kind: 'run', id: ALPHA }, 'baseline, lr-1e-3');
        const written = await vs.exec('matryoshkaLab.renameRun', ALPHA, 'Alpha (baseline)');
        assert.equal(written.displayName, 'Alpha (baseline)');
        const dir = path.join(workspace, '.mrl/runs', ALPHA);
        assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'notes.json'), 'utf8')), {
          tags: ['baseline', 'lr-1e-3'],
          note: 'the one to beat',
          displayName: 'Alpha (baseline)',
        });
        assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).name, 'alpha', 'run.json stays the trainer’s');
        const row = treeRow(page, 'Alpha (baseline)');
        await row.waitFor();
        await page.locator('.part.sidebar .monaco-list-row', { hasText: '#baseline #lr-1e-3' }).first().waitFor();
        // A hover shows after the pointer rests on the row; a tree refresh under it (the file watcher's) drops
        // it until the pointer moves again: move within the row until it shows.
        const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'the one to beat' }).first();
        const box = await row.boundingBox();
        for (let i = 0; !(await hover.isVisible()); i++) {
          assert.ok(i < 20, 'the run tooltip never showed');
          await page.mouse.move(box.x + 20 + (i % 5) * 10, box.y + box.height / 2);
          await hover.waitFor({ timeout: 3000 }).catch(() => {});
        }
        const tip = await hover.innerText();
        assert.match(tip, /run name: alpha/);
        assert.match(tip, /tags: baseline, lr-1e-3/);
        await shot(page, '30-run-notes');
        // The panel: the chip says the display name.
        await vs.exec('matryoshkaLab.openPanel', ALPHA);
        await panelFrame(page).locator('#runs .run-chip', { hasText: 'Alpha (baseline)' }).first().waitFor();
        await shot(page, '31-run-notes-panel');
        // An empty name clears it: back to the run's name.
        await vs.exec('matryoshkaLab.renameRun', ALPHA, '');
        await panelFrame(page)
          .locator('#runs .run-chip .name', { hasText: /^alpha$/ })
          .first()
          .waitFor();
      } catch (e) {
        await shot(page, 'notes-failure').catch(() => {});
        console.error(vs.extHostLogs().slice(-3000));
        throw e;
      }
    },
  );
});

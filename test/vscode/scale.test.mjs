// End to end at scale: a generated workspace of 500 finished runs (~14 MB, bench/workspaceGen.ts) opens in
// code-server and the runs view shows them grouped (by sweep, then by status, most recent first; reported:
// one flat "Completed (500)"); "Show more" raises a group's limit. How fast it fills is measured by
// `npm run bench` ("workspace"), not asserted here: a timed test fails on a loaded machine. This test
// logs the time from activation to rows on screen, for the record.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateWorkspace } from '../../bench/workspaceGen.ts';
import { launch, missingSetup, runCommand, shot, treeRow } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();
/** Rows a tree list shows before "Show more…" (PAGE_SIZE in src/host/runsView/treeModel.ts). */
const PAGE = 50;

/** When the extension host activated our extension (its log line), as epoch ms; null if not logged yet. */
function activationTime(tmp) {
  const files = [];
  const walk = (d) => {
    for (const n of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (/exthost/i.test(n.name)) files.push(p);
    }
  };
  try {
    walk(path.join(tmp, 'user-data', 'logs'));
  } catch {
    return null;
  }
  for (const f of files) {
    const m =
      /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[info\] ExtensionService#_doActivateExtension matryoshka-lab\.matryoshka-lab\b/m.exec(
        fs.readFileSync(f, 'utf8'),
      );
    // The log's timestamps are local time, as `new Date(y-m-dTh:m:s)` reads them.
    if (m) return new Date(`${m[1]}T${m[2]}`).getTime();
  }
  return null;
}

describe('VS Code end to end: 500 runs', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 600000 }, () => {
  let vs;
  let ws;
  before(async () => {
    if (missing) return;
    vs = await launch({
      setupWorkspace: (dir) => {
        ws = generateWorkspace(dir, { runs: 500, sweeps: 4, sweepSize: 12 });
      },
    });
    console.log(`# workbench up in ${vs.startedMs} ms; ${ws.runs.length} runs, ${(ws.bytes / 2 ** 20).toFixed(1)} MB`);
  });
  after(async () => {
    if (vs) await vs.close();
  });

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test(
    'the runs view shows 500 runs grouped by sweep and status, the most recent 50 of each first; Show more raises the limit',
    { skip: !!missing },
    async () => {
      const { page } = vs;
      try {
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        const completed = ws.runs.filter((r) => r.status === 'completed' && !r.sweep).length;
        // Populated: a group row and the rows of the runs in it (each run row ends with its age, "30d ago").
        await treeRow(page, 'Completed (').waitFor({ timeout: 60000 });
        const groupAt = Date.now();
        await page
          .locator('.part.sidebar .monaco-list-row', { hasText: /\d+d ago/ })
          .first()
          .waitFor({ timeout: 60000 });
        const shownAt = Date.now();
        // The extension host's log may reach the disk after the tree: polled, up to a hang guard.
        let activated = null;
        for (const end = Date.now() + 60000; activated === null && Date.now() < end;) {
          activated = activationTime(vs.tmp);
          if (activated === null) await page.waitForTimeout(100);
        }
        assert.ok(activated !== null, 'the extension host logged our activation');
        const ms = shownAt - activated;
        console.log(`# runs view: groups ${groupAt - activated} ms, runs ${ms} ms after activation`);
        await shot(page, '30-scale-tree');

        const group = treeRow(page, `Completed (${completed})`);
        await group.waitFor();
        // One node per sweep, labelled with its name and counts.
        const sweep = ws.sweeps[0];
        await treeRow(page, `sweep ${sweep.name} · ${sweep.runIds.length} runs (${sweep.runIds.length} completed)`).waitFor();

        // The completed group lists the most recent 50, then "Show more": it raises the limit.
        const more = treeRow(page, `Show more… (50 of ${completed})`);
        await group.click();
        await group.click(); // collapse + expand: focus is on the group row
        await page.keyboard.press('End');
        await more.waitFor();
        // The group's rows say how many siblings they have (aria-setsize): 50 runs + "Show more…".
        const rowsOfSize = (n) => page.locator(`.part.sidebar .monaco-list-row[aria-level="2"][aria-setsize="${n}"]`).first();
        await rowsOfSize(PAGE + 1).waitFor();
        await more.click();
        await rowsOfSize(2 * PAGE + 1).waitFor();
        // The list grew: its new last row ("Show more…" again) is below the fold; End scrolls to it.
        await page.keyboard.press('End');
        await treeRow(page, `Show more… (100 of ${completed})`).waitFor();
        await shot(page, '31-scale-show-more');
      } catch (e) {
        await shot(page, 'scale-failure').catch(() => {});
        console.error(vs.extHostLogs().slice(-3000));
        throw e;
      }
    },
  );
});

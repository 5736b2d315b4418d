// Restricted Mode (an untrusted workspace): browsing runs and configs works; launching does not, and says why.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace } from './fixtures.mjs';
import { launch, missingSetup, runCommand, shot, treeRow } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1';
const missing = skip ? null : missingSetup();

describe('VS Code end to end: Restricted Mode', { skip: skip ? 'MRL_SKIP_E2E=1' : false, timeout: 240000 }, () => {
  let vs;
  before(async () => {
    if (!missing) vs = await launch({ setupWorkspace: withForeignRun, trusted: false });
  });
  after(async () => {
    if (vs) await vs.close();
    if (foreign && foreign.exitCode === null) foreign.kill('SIGKILL');
  });

  // A cloned repository's run.json may name any pid: here a live process of the user's that is not our
  // trainer, though a word of its command line says "trainer" (so the run even shows as running).
  let foreign;
  function withForeignRun(ws) {
    setupWorkspace(ws);
    foreign = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'not-a-trainer'], { stdio: 'ignore' });
    const dir = path.join(ws, '.mrl/runs/20260102-100000-foreign-0004');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ name: 'foreign' }));
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({
        id: path.basename(dir),
        name: 'foreign',
        status: 'running',
        pid: foreign.pid,
        startedAt: '2026-01-02T10:00:00Z',
        endedAt: null,
        backend: 'cpu',
      }),
    );
  }

  /** Whether `pid` was sent a signal (it handles none, so the default action ends it): gone, a zombie, or one pending. */
  function signalled(pid) {
    let status;
    try {
      status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return true;
    }
    if (/^State:\s+Z/m.test(status)) return true;
    const mask = (name) => BigInt('0x' + (new RegExp(`^${name}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'));
    return (mask('SigPnd') | mask('ShdPnd')) !== 0n;
  }

  test('setup is present', () => {
    assert.equal(missing, null, missing ?? '');
  });

  test(
    'runs are listed; Start Run refuses and says why; Stop never signals a process that is not our trainer',
    { skip: !!missing },
    async () => {
      const { page, workspace } = vs;
      try {
        await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor();
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        await treeRow(page, 'Completed (2)').waitFor();
        const runsDir = path.join(workspace, '.mrl/runs');
        const before = fs.readdirSync(runsDir).filter((d) => !d.startsWith('.')).length;
        assert.equal(await vs.exec('matryoshkaLab.startRun', { $uri: path.join(workspace, 'tiny.mrl.json') }), null);
        await page
          .locator('.notifications-toasts', { hasText: /Starting a run is disabled in Restricted Mode/ })
          .first()
          .waitFor();
        await shot(page, '20-restricted-refused');
        // The command has returned (null): the trust gate comes before anything is queued, so nothing can
        // start later — the folder is final now.
        const runs = fs.readdirSync(runsDir).filter((d) => !d.startsWith('.'));
        assert.equal(runs.length, before, 'nothing launched');
        // Stop on that run signals nothing: the pid's command line is not our trainer's.
        await vs.exec('matryoshkaLab.stopRun', '20260102-100000-foreign-0004');
        await page
          .locator('.notifications-toasts', {
            hasText: /not stopping 20260102-100000-foreign-0004: pid \d+ .* is not the trainer of this run/,
          })
          .first()
          .waitFor();
        // Stop decides, and signals if it does, before the command returns and the toast is shown; a signal
        // sent is pending on the process or has killed it (it handles none), so /proc tells at once.
        assert.equal(signalled(foreign.pid), false, 'the foreign process was not signalled');
        assert.equal(foreign.exitCode, null);
        assert.equal(foreign.signalCode, null);
      } catch (e) {
        await shot(page, 'restricted-failure').catch(() => {});
        throw e;
      }
    },
  );
});

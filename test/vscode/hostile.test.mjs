// A cloned repository cannot hurt its user, end to end (issue 22 §4). One workspace holds, beside the
// usual fixtures, the crafted run folders of test/unit/hostileClone.test.ts, test/trainer/stHostile.test.ts
// and test/trainer/resumeHostile.test.ts, as an attacker would commit them under .mrl/runs/. It is opened
// in Restricted Mode, then trusted; in each the runs view, the panel, Stop, Stop Sweep, Delete Run and
// Resume are used on them, and then: nothing outside the workspace changed, no foreign process was
// signalled, no code of the folder ran, and the extension host still answers. Every step waits for a state
// the UI or the disk reaches (a notification, a row, a dialog, a run.json status), never for a time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setupWorkspace, TINY_CONFIG } from './fixtures.mjs';
import { launch, missingSetup, panelFrame, runCommand, shot, treeRow, withFailureShot } from './harness.mjs';
import { fakeTrainingStack } from '../trainer/fakeSentenceTransformers.ts';

const skip =
  process.env.MRL_SKIP_E2E === '1' ? 'MRL_SKIP_E2E=1' : process.platform !== 'linux' ? '/dev/zero and /proc/<pid>/cmdline' : false;
const missing = skip ? null : missingSetup();
/** Resume of the sentence-transformers run trains on a stand-in stack (no PyTorch here) when there is a Python. */
const PYTHON = spawnSync('python3', ['--version']).status === 0;

const ID = {
  st: '20260103-000000-st-evil-0000',
  linked: '20260103-000001-linked-0000',
  innerLink: '20260103-000002-inner-link-0000',
  errorObject: '20260103-000003-error-object-0000',
  deep: '20260103-000004-deep-metrics-0000',
  foreign: '20260103-000005-foreign-0000',
  sweep: '20260103-000006-sweep-run-0000',
  zeroLock: '20260103-000007-zero-lock-0000',
  kb: '20260103-000009-kb-evil-0000',
};
const ZERO_FILES = ['run.json', 'config.json', 'notes.json', 'metrics.jsonl'];
const zeroId = (f) => `20260103-000008-zero-${f.replace('.', '-')}-0000`;
const SWEEP = 'evil-sweep';

/** Polls `cond` until it holds; the deadline only fails a hang, it does not judge speed. */
async function until(what, cond, ms = 120000) {
  for (const end = Date.now() + ms; !(await cond()); await new Promise((r) => setTimeout(r, 100)))
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}

/** Every entry under `dir` (folders too, links not followed): its mtime, and a file's or link's content. */
function snapshot(dir) {
  const out = {};
  (function walk(d) {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      out[path.relative(dir, p)] = {
        mtimeMs: st.mtimeMs,
        content: st.isFile() ? fs.readFileSync(p, 'utf8') : st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : undefined,
      };
      if (st.isDirectory()) walk(p);
    }
  })(dir);
  out['.'] = { mtimeMs: fs.lstatSync(dir).mtimeMs };
  return out;
}

/** A harmless process of the user's whose command line says "trainer": what a cloned run.json may name. */
async function foreignProcess() {
  const c = spawn('sleep', ['900'], { argv0: 'fake-trainer-of-the-user', stdio: 'ignore' });
  await until('the foreign process to exec', () => {
    try {
      return fs.readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').startsWith('fake-trainer');
    } catch {
      return false;
    }
  });
  return c;
}

const alive = (c) => c.exitCode === null && c.signalCode === null && !/\) [ZX] /.test(fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8'));

/**
 * The crafted runs, beside setupWorkspace's. Returns what the checks need: the folder outside the
 * workspace that links point into (`outside`), where the folder's Python would leave its markers
 * (`pwned`), and the foreign processes.
 */
async function craft(ws) {
  setupWorkspace(ws);
  const runs = path.join(ws, '.mrl/runs');
  const outside = path.join(path.dirname(ws), 'outside');
  const pwned = path.join(path.dirname(ws), 'pwned');
  fs.mkdirSync(path.join(outside, 'SomeApp'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'SomeApp', 'config.json'), '{"precious": true}');
  fs.mkdirSync(path.join(outside, 'ckpts', 'step-1'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'ckpts', 'step-1', 'model.safetensors'), 'the user’s own file');
  fs.mkdirSync(path.join(outside, 'logs'));
  fs.writeFileSync(path.join(outside, 'logs', `${ID.innerLink}.log`), 'a log of the user’s');
  fs.writeFileSync(path.join(outside, '.bashrc'), 'export PATH=$PATH\n');
  const at = '2026-01-03T00:00:00Z';
  const info = (id, extra = {}) =>
    JSON.stringify({
      id,
      name: id.split('-').slice(2, -1).join('-'),
      status: 'completed',
      pid: null,
      startedAt: at,
      endedAt: at,
      backend: 'cpu',
      step: 1,
      totalSteps: 1,
      ...extra,
    });
  const line = (step, extra = '') =>
    JSON.stringify({ step, epoch: 0, time: step, split: 'train', values: { loss: 1 / step } }).replace(/}$/, `${extra}}`) + '\n';
  const mk = (id, files = {}) => {
    const d = path.join(runs, id);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ name: id }));
    fs.writeFileSync(path.join(d, 'run.json'), info(id));
    fs.writeFileSync(path.join(d, 'metrics.jsonl'), line(1));
    for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(d, f), t);
    return d;
  };

  // A stopped sentence-transformers run carrying its own code: its train.py, a callback and modules
  // named like train.py's imports, and a sentence_transformers.py where the trainer starts (.mrl/).
  const payload = (what) =>
    `import os\nos.makedirs(${JSON.stringify(pwned)}, exist_ok=True)\nopen(os.path.join(${JSON.stringify(pwned)}, ${JSON.stringify(what)}), "w").close()\n`;
  const st = mk(ID.st, {
    'config.json': JSON.stringify({
      name: 'st-evil',
      engine: 'sentence-transformers',
      model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } },
      data: { train: { source: 'pairs.jsonl' } },
      loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
      training: { maxSteps: 6, batchSize: 4 },
    }),
    'run.json': info(ID.st, { status: 'stopped', backend: 'pytorch', engine: 'sentence-transformers', baseDir: ws }),
    'train.py': payload('train.py'),
    'matryoshka_lab_callback.py': payload('callback'),
    'datasets.py': payload('datasets.py'),
    'numpy.py': payload('numpy.py'),
  });
  fs.mkdirSync(path.join(st, 'checkpoints', 'checkpoint-1'), { recursive: true });
  fs.mkdirSync(path.join(st, 'data'));
  fs.writeFileSync(path.join(st, 'data', 'train.jsonl'), '{"anchor": "a", "positive": "b"}\n{"anchor": "c", "positive": "d"}\n');
  fs.writeFileSync(path.join(st, 'data', 'eval.json'), JSON.stringify({ queries: ['a'], corpus: ['b'], relevant: [[0]] }));
  fs.writeFileSync(path.join(ws, '.mrl', 'sentence_transformers.py'), payload('probe cwd'));

  // A run folder that is a link to a folder of the user's; a run whose checkpoints/ links out; the
  // trainers' output folder linking out.
  fs.symlinkSync(path.join(outside, 'SomeApp'), path.join(runs, ID.linked));
  fs.symlinkSync(path.join(outside, 'ckpts'), path.join(mk(ID.innerLink), 'checkpoints'));
  fs.symlinkSync(path.join(outside, 'logs'), path.join(runs, '.logs'));

  // A stopped run of the bundled trainer whose log.txt is the user's .bashrc and whose keepBest link
  // names the user's folder (a resume would append to the one and delete the other).
  const kb = mk(ID.kb, {
    'config.json': JSON.stringify({
      ...TINY_CONFIG,
      name: 'kb-evil',
      training: { ...TINY_CONFIG.training, keepBest: { metric: 'ndcg@10', dims: [16] } },
    }),
    'run.json': info(ID.kb, { status: 'stopped', step: 3, totalSteps: 6, baseDir: ws }),
  });
  fs.symlinkSync(path.join(outside, '.bashrc'), path.join(kb, 'log.txt'));
  fs.mkdirSync(path.join(kb, 'checkpoints', 'step-3'), { recursive: true });
  fs.symlinkSync(path.relative(path.join(kb, 'checkpoints'), path.join(outside, 'SomeApp')), path.join(kb, 'checkpoints', 'best-16'));

  // /dev/zero in place of each file the host reads; a run.json that cannot be read is a stale folder.
  for (const f of ZERO_FILES) {
    const d = mk(zeroId(f));
    fs.rmSync(path.join(d, f), { force: true });
    fs.symlinkSync('/dev/zero', path.join(d, f));
    const old = new Date('2025-12-31T00:00:00Z');
    for (const p of ['config.json', 'run.json', 'metrics.jsonl', '.'].filter((x) => x !== f)) fs.utimesSync(path.join(d, p), old, old);
  }

  // Typed fields: an object as the error; a metrics field nested 5,000 deep.
  mk(ID.errorObject, { 'run.json': info(ID.errorObject, { status: 'failed', error: {} }) });
  mk(ID.deep, { 'metrics.jsonl': line(1, `,"x":${'['.repeat(5000)}${']'.repeat(5000)}`) + line(2) });

  // "Running" runs naming processes of the user's: by pid and command line, in a sweep, behind a .lock
  // that is /dev/zero.
  const foreign = [await foreignProcess(), await foreignProcess()];
  const running = (pid, extra = {}) => ({ status: 'running', pid, endedAt: null, ...extra });
  const cmdline = fs.readFileSync(`/proc/${foreign[0].pid}/cmdline`, 'utf8').replace(/\0$/, '');
  mk(ID.foreign, { 'run.json': info(ID.foreign, running(foreign[0].pid, { cmdline })) });
  mk(ID.sweep, { 'run.json': info(ID.sweep, running(foreign[1].pid, { sweep: { id: SWEEP, index: 0, params: {} } })) });
  const zl = mk(ID.zeroLock, { 'run.json': info(ID.zeroLock, running(foreign[0].pid)) });
  fs.symlinkSync('/dev/zero', path.join(zl, '.lock'));
  return { outside, pwned, foreign, before: snapshot(outside) };
}

for (const trusted of [false, true]) {
  const mode = trusted ? 'trusted' : 'restricted';
  describe(`VS Code end to end: a hostile clone, ${trusted ? 'trusted' : 'Restricted Mode'}`, { skip, timeout: 420000 }, () => {
    let vs;
    let crafted;
    let stack;
    before(async () => {
      if (missing) return;
      stack = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-e2e-st-stack-'));
      vs = await launch({
        setupWorkspace: async (ws) => (crafted = await craft(ws)),
        trusted,
        // The crafted "running" runs count as live: they must not hold the only launch slot.
        userSettings: { 'matryoshkaLab.maxConcurrentRuns': 8 },
        // A stand-in sentence-transformers for the regenerated train.py (test/trainer/fakeSentenceTransformers.ts).
        env: trusted ? { PYTHONPATH: fakeTrainingStack(stack) } : {},
      });
    });
    after(async () => {
      if (vs) await vs.close();
      for (const c of crafted?.foreign ?? []) if (c.exitCode === null) c.kill('SIGKILL');
      if (stack) fs.rmSync(stack, { recursive: true, force: true });
    });

    test('setup is present', () => assert.equal(missing, null, missing ?? ''));

    test('lists, shows, stops, deletes and resumes without touching anything outside or any foreign process', { skip: !!missing }, () =>
      withFailureShot(vs, `hostile-${mode}`, async () => {
        const { page, workspace } = vs;
        const runsDir = path.join(workspace, '.mrl/runs');
        // A notification, looked for in the notification center: toasts beyond the third are not shown.
        const notified = async (re) => {
          await vs.exec('notifications.showList');
          await page.locator('.notifications-center', { hasText: re }).first().waitFor();
          await vs.exec('notifications.hideList');
        };
        if (!trusted) await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor();

        // The runs view lists the legitimate runs and the crafted ones it can read; not the linked folder.
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        for (const name of ['alpha', 'beta', 'st-evil', 'deep-metrics', 'foreign']) await treeRow(page, name).waitFor();
        assert.equal(await treeRow(page, 'linked').count(), 0, 'a run folder linking outside is not listed');

        // The panel opens on the run whose error is an object and the deeply nested one, beside two others.
        const alpha = fs.readdirSync(runsDir).find((d) => d.includes('alpha'));
        const beta = fs.readdirSync(runsDir).find((d) => d.includes('beta'));
        await vs.exec('matryoshkaLab.openPanel', [ID.errorObject, ID.deep, alpha, beta]);
        const frame = panelFrame(page);
        for (const name of ['alpha', 'beta', 'error-object', 'deep-metrics'])
          await frame.locator('#runs .run-chip', { hasText: name }).first().waitFor();
        await frame.locator('#charts canvas').first().waitFor();
        await shot(page, `hostile-${mode}-panel`);

        // Stop and Stop Sweep on the runs naming foreign pids: refused, each with its reason.
        const [f0, f1] = crafted.foreign;
        await vs.exec('matryoshkaLab.stopRun', ID.foreign);
        await notified(new RegExp(`not stopping ${ID.foreign}: pid ${f0.pid} .* is not the trainer of this run`));
        await vs.exec('matryoshkaLab.stopSweep', SWEEP);
        await notified(new RegExp(`not stopping ${ID.sweep}: pid ${f1.pid} .* is not the trainer of this run`));
        await vs.exec('matryoshkaLab.stopRun', ID.zeroLock);
        await notified(new RegExp(`${ID.zeroLock} is not running any more: pid ${f0.pid} from its run.json does not hold the run's lock`));

        // Delete Run: the linked folder is no run of this workspace; the run whose checkpoints/ links out is
        // removed, the link with it, never what it points to, nor its output log through the linked .logs.
        await vs.exec('matryoshkaLab.deleteRun', ID.linked);
        await notified(new RegExp(`no run ${ID.linked} in the runs folder`));
        const deleting = vs.exec('matryoshkaLab.deleteRun', ID.innerLink);
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor();
        assert.ok((await dialog.innerText()).includes(path.join(fs.realpathSync(runsDir), ID.innerLink)), await dialog.innerText());
        await dialog.locator('.monaco-button', { hasText: 'Delete' }).first().click();
        await deleting;
        assert.equal(fs.existsSync(path.join(runsDir, ID.innerLink)), false, 'the run folder was deleted');

        // Resume: refused in Restricted Mode. Trusted: not through the linked .logs; once the user removed
        // that link, the bundled trainer refuses the run holding links, and the sentence-transformers run
        // trains on a train.py generated from its config, never its own code.
        const stInfo = () => JSON.parse(fs.readFileSync(path.join(runsDir, ID.st, 'run.json'), 'utf8'));
        if (!trusted) {
          assert.equal(await vs.exec('matryoshkaLab.resumeRun', ID.st), false);
          await notified(/Resuming a run is disabled in Restricted Mode/);
        } else {
          await vs.exec('matryoshkaLab.resumeRun', ID.st);
          await notified(/could not resume st-evil: .*\.logs is a symbolic link/);
          fs.unlinkSync(path.join(runsDir, '.logs'));
          await vs.exec('matryoshkaLab.resumeRun', ID.kb);
          await notified(/could not resume kb-evil: .*log\.txt in .* is a symbolic link/);
          assert.equal(await vs.exec('matryoshkaLab.resumeRun', ID.st), true);
          if (PYTHON) {
            // The stand-in prints "training" at step 3; Stop Run then stops it.
            const out = path.join(runsDir, '.logs', `${ID.st}.log`);
            await until('the resumed run to train', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('training'));
            assert.equal(stInfo().status, 'running');
            await vs.exec('matryoshkaLab.stopRun', ID.st);
            await until('the resumed run to stop', () => stInfo().status === 'stopped' && stInfo().pid === null);
            await treeRow(page, 'st-evil').waitFor();
          } else await notified(/could not resume st-evil: .*python3/);
        }
        assert.match(fs.readFileSync(path.join(runsDir, ID.st, 'train.py'), 'utf8'), /makedirs/, 'the folder’s train.py is left as it was');
        await shot(page, `hostile-${mode}-end`);

        // Nothing outside changed, no foreign process was signalled, none of the folder's code ran.
        assert.deepEqual(snapshot(crafted.outside), crafted.before);
        assert.equal(
          fs.existsSync(crafted.pwned),
          false,
          `code from the cloned folder ran: ${fs.existsSync(crafted.pwned) ? fs.readdirSync(crafted.pwned) : ''}`,
        );
        for (const c of crafted.foreign) assert.ok(alive(c), `pid ${c.pid} was signalled`);
        // The extension host still answers: a command runs, and the view still shows the runs.
        await vs.exec('matryoshkaLab.refreshRuns');
        await treeRow(page, 'alpha').waitFor();
      }),
    );
  });
}

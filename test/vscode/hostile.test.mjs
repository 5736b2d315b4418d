// A cloned repository cannot hurt its user, end to end: the workspace holds every crafted run folder of
// test/unit/hostileClone.test.ts and test/trainer/stHostile.test.ts at once, opened in Restricted Mode
// and in trusted mode. Nothing outside the workspace is touched, no foreign process is signalled, the
// extension host stays up (it still answers commands), and Resume runs none of the folder's own code.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setupWorkspace } from './fixtures.mjs';
import { launch, missingSetup, runCommand, shot, treeRow } from './harness.mjs';

const skip = process.env.MRL_SKIP_E2E === '1' ? 'MRL_SKIP_E2E=1' : process.platform !== 'linux' ? 'FIFOs, /dev/zero and /proc' : false;
const missing = skip ? null : missingSetup();
const SWEEP = 'evil-sweep';
const foreign = [];
after(() => {
  for (const c of foreign) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Adds the crafted runs beside the usual fixtures; returns what must stay as it is. */
function craft(ws) {
  setupWorkspace(ws);
  const runs = path.join(ws, '.mrl/runs');
  const outside = path.join(path.dirname(ws), 'outside');
  fs.mkdirSync(path.join(outside, 'SomeApp'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'SomeApp', 'config.json'), '{"precious": true}');
  const pwned = path.join(path.dirname(ws), 'pwned');
  const now = new Date().toISOString();
  const info = (id, extra = {}) =>
    JSON.stringify({ id, name: id, status: 'completed', pid: null, startedAt: now, endedAt: now, backend: 'cpu', ...extra });
  const mk = (id, files = {}) => {
    const d = path.join(runs, id);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ name: id }));
    fs.writeFileSync(path.join(d, 'run.json'), info(id));
    for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(d, f), t);
    return d;
  };
  const fifo = (p) => {
    fs.rmSync(p, { force: true });
    assert.equal(spawnSync('mkfifo', [p]).status, 0);
  };
  const zero = (p) => {
    fs.rmSync(p, { force: true });
    fs.symlinkSync('/dev/zero', p);
  };
  // Reads: FIFOs and /dev/zero in place of every file the host reads.
  for (const f of ['run.json', 'config.json', 'notes.json', '.lock', 'metrics.jsonl']) {
    fifo(path.join(mk(`20260103-000000-fifo-${f.replace('.', '')}-0000`), f));
    zero(path.join(mk(`20260103-000000-zero-${f.replace('.', '')}-0000`), f));
  }
  // Typed fields: an object as error, a metrics field nested 5,000 deep.
  mk('20260103-000000-error-object-0000', { 'run.json': info('error-object', { status: 'failed', error: {} }) });
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  mk('20260103-000000-deep-metrics-0000', {
    'metrics.jsonl':
      JSON.stringify({ step: 1, epoch: 0, time: 1, split: 'train', values: { loss: 1 } }).replace(/}$/, `,"x":${deep}}`) + '\n',
  });
  // A run folder that is a link to a folder of the user's.
  fs.symlinkSync(path.join(outside, 'SomeApp'), path.join(runs, '20260103-000000-linked-0000'));
  // A "running" sweep naming foreign pids: one says "trainer", one is what its run.json declares.
  for (const [i, word] of ['my-trainer-helper', 'declared'].entries()) {
    const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', word], { stdio: 'ignore' });
    foreign.push(c);
    mk(`20260103-00000${i}-sweep-${i}-0000`, {
      'run.json': info(`sweep-${i}`, {
        status: 'running',
        pid: c.pid,
        endedAt: null,
        sweep: { id: SWEEP, index: i, params: {} },
        cmdline: `${process.execPath}\0-e\0setInterval(() => {}, 1e9)\0${word}`,
      }),
    });
  }
  // A stopped sentence-transformers run whose folder carries its own code.
  const payload = (what) =>
    `import os\nos.makedirs(${JSON.stringify(pwned)}, exist_ok=True)\nopen(os.path.join(${JSON.stringify(pwned)}, ${JSON.stringify(what)}), "w").close()\n`;
  const st = mk('20260103-000000-st-evil-0000', {
    'config.json': JSON.stringify({
      name: 'st-evil',
      engine: 'sentence-transformers',
      model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } },
      data: { train: { source: 'pairs.jsonl' } },
      loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
    }),
    'run.json': info('st-evil', { status: 'stopped', engine: 'sentence-transformers', baseDir: ws }),
    'train.py': payload('train.py'),
    'matryoshka_lab_callback.py': payload('callback'),
    'datasets.py': payload('datasets.py'),
  });
  fs.mkdirSync(path.join(st, 'checkpoints', 'checkpoint-1'), { recursive: true });
  fs.mkdirSync(path.join(st, 'data'));
  fs.writeFileSync(path.join(st, 'data', 'train.jsonl'), '{"anchor": "a", "positive": "b"}\n');
  fs.writeFileSync(path.join(st, 'data', 'eval.json'), '{"queries": ["a"], "corpus": ["b"], "relevant": [[0]]}');
  fs.writeFileSync(path.join(ws, '.mrl', 'sentence_transformers.py'), payload('probe cwd'));
  return { outside, pwned };
}

for (const trusted of [false, true]) {
  describe(`VS Code end to end: a hostile clone, ${trusted ? 'trusted' : 'Restricted Mode'}`, { skip, timeout: 300000 }, () => {
    let vs;
    let crafted;
    after(async () => {
      if (vs) await vs.close();
    });

    test('setup is present', () => assert.equal(missing, null, missing ?? ''));

    test('the host lists, reads and stops without touching anything outside or any foreign process', { skip: !!missing }, async () => {
      vs = await launch({ setupWorkspace: (ws) => (crafted = craft(ws)), trusted });
      const { page } = vs;
      try {
        await runCommand(page, 'Matryoshka Lab: Focus on Runs View');
        await treeRow(page, 'error-object').waitFor();
        // The panel opens on the run whose run.json error is an object, and draws it.
        await vs.exec('matryoshkaLab.openPanel', ['20260103-000000-error-object-0000', '20260103-000000-deep-metrics-0000']);
        await page.waitForTimeout(3000);
        // Stop Sweep over the foreign pids: none is signalled.
        await vs.exec('matryoshkaLab.stopSweep', SWEEP);
        await page.waitForTimeout(3000);
        for (const c of foreign) assert.ok(c.exitCode === null && c.signalCode === null, `pid ${c.pid} was signalled`);
        // Delete Run on the linked run: it is not a run of this workspace (not listed), nothing is removed.
        await vs.exec('matryoshkaLab.deleteRun', '20260103-000000-linked-0000').catch(() => {});
        if (trusted) await vs.exec('matryoshkaLab.resumeRun', '20260103-000000-st-evil-0000').catch(() => {});
        await page.waitForTimeout(trusted ? 15000 : 1000);
        assert.equal(fs.readFileSync(path.join(crafted.outside, 'SomeApp', 'config.json'), 'utf8'), '{"precious": true}');
        assert.deepEqual(fs.readdirSync(path.join(crafted.outside, 'SomeApp')), ['config.json']);
        assert.equal(fs.existsSync(crafted.pwned), false, 'code from the cloned folder ran');
        // The extension host is still up: it answers a command (exec throws after 120 s without an answer).
        await vs.exec('matryoshkaLab.refreshRuns');
        await shot(page, `hostile-${trusted ? 'trusted' : 'restricted'}`);
      } catch (e) {
        await shot(page, `hostile-${trusted ? 'trusted' : 'restricted'}-failure`).catch(() => {});
        throw e;
      }
    });
  });
}

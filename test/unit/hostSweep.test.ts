// Sweeps in the host, over a fake trainer (the CLI's flags and run-folder contract, honours SIGTERM) and
// the fake `vscode`: Start Run asks once and queues one launch per combination through the launch queue
// (maxConcurrentRuns), each with the shared sweep id and its index; Stop Sweep stops the running one and
// drops the queued rest; its target may be a sweep id, a run id, a sweep node or nothing (a pick). The
// failure rules (a failed run lets the queue go on, a refused one ends the sweep); Stop Sweep of a sweep
// that is over (nothing signalled or rewritten) and of a sweep started from a terminal (the real CLI).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

useFakeVscode(); // for the whole file

const root = mkdtempSync(join(tmpdir(), 'mrl-host-sweep-'));
after(() => rmSync(root, { recursive: true, force: true }));

// `--config <f> --out <dir> [--sweep-id S --sweep-index i]`: `steps` steps of 50 ms, run.json with the sweep;
// with `hold` in the config it does not complete before that file exists (the test decides when). A seed
// in `refuse` exits 2 at once writing nothing (the trainer's refusal); one in `fail` ends "failed", exit 1.
const FAKE_TRAINER = String.raw`
const fs = require('fs'), path = require('path');
const a = process.argv.slice(2); const arg = (k) => a[a.indexOf(k) + 1];
const dir = arg('--out');
const cfg = JSON.parse(fs.readFileSync(arg('--config'), 'utf8'));
const sweep = a.includes('--sweep-id') ? { id: arg('--sweep-id'), index: Number(arg('--sweep-index')), params: { seed: cfg.sweep.parameters.seed[Number(arg('--sweep-index'))] } } : undefined;
if (sweep && (cfg.refuse || []).includes(sweep.params.seed)) { process.stderr.write('error: /training/batchSize: refused (fake)\n'); process.exit(2); }
fs.mkdirSync(dir, { recursive: true });
const startedAt = new Date().toISOString();
const info = (status, step, error) => { const t = path.join(dir, 'run.json.tmp'); fs.writeFileSync(t, JSON.stringify({ id: path.basename(dir), name: cfg.name, status, pid: status === 'running' ? process.pid : null, startedAt, endedAt: status === 'running' ? null : new Date().toISOString(), backend: 'fake', step, totalSteps: cfg.steps, sweep, argv: a, error })); fs.renameSync(t, path.join(dir, 'run.json')); };
if (sweep && (cfg.fail || []).includes(sweep.params.seed)) { info('running', 0); info('failed', 1, 'the loss is NaN at step 1 (fake)'); process.exit(1); }
let step = 0;
process.on('SIGTERM', () => { info('stopped', step); process.exit(0); });
info('running', 0);
const timer = setInterval(() => { if (step >= cfg.steps && cfg.hold && !fs.existsSync(cfg.hold)) return; step++; info('running', step); if (step >= cfg.steps) { clearInterval(timer); info('completed', step); } }, 50);
`;

const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
const { Commands } = require('../../src/host/commands/commands') as typeof import('../../src/host/commands/commands');
type SweepLaunch = import('../../src/host/launch/launchTypes').SweepLaunch;

const ws = join(root, 'ws');
const ext = join(root, 'ext');
mkdirSync(join(ext, 'dist'), { recursive: true });
writeFileSync(join(ext, 'dist', 'trainer.js'), FAKE_TRAINER);
mkdirSync(ws, { recursive: true });
const runsDir = join(ws, '.mrl/runs');

/** A sweep config for the fake trainer, and what the validator reports of it (one run per seed). */
function sweepConfig(
  file: string,
  name: string,
  steps: number,
  seeds: number[],
  hold?: string,
  o: { fail?: number[]; refuse?: number[] } = {},
) {
  writeFileSync(join(ws, file), JSON.stringify({ name, steps, hold, ...o, sweep: { method: 'grid', parameters: { seed: seeds } } }));
}
const validate = async (u: { fsPath: string }) => {
  const raw = JSON.parse(readFileSync(u.fsPath, 'utf8'));
  const [param, values] = Object.entries((raw.sweep?.parameters ?? {}) as Record<string, unknown[]>)[0] ?? ['seed', []];
  // With `repeat`, as the validator expands it: every combination once, then again (repeat-major).
  const n = values.length * (raw.sweep?.repeat ?? 1);
  return {
    ok: true,
    raw,
    config: raw,
    problems: [],
    sweepRuns: raw.sweep
      ? Array.from({ length: n }, (_, index) => ({ index, params: { [param]: values[index % values.length] }, name: raw.name }))
      : undefined,
  };
};

let model: InstanceType<typeof RunsModel>;
let launcher: InstanceType<typeof Launcher>;
let launched: string[];
const until = async (what: string, f: () => boolean, ms = 120_000) => {
  const end = Date.now() + ms;
  // No file watcher in the fake: refresh the model as its watcher events would.
  while ((void model.refresh(), !f())) {
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}: ${model
          .list()
          .map((r) => `${r.id} ${r.status} ${(r as { reason?: string }).reason} ${readFileSync(join(runsDir, r.id, 'run.json'), 'utf8')}`)
          .join(', ')} launched ${launched.join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
};
const info = (id: string) => JSON.parse(readFileSync(join(runsDir, id, 'run.json'), 'utf8'));
const folders = () => readdirSync(runsDir).filter((d) => !d.startsWith('.'));

beforeEach(() => {
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.settings = { maxConcurrentRuns: 2 };
  vs.state.messages = [];
  vs.state.modalAnswers = [];
  vs.state.pickAnswers = [];
  vs.state.picks = [];
  rmSync(runsDir, { recursive: true, force: true });
  model?.dispose();
  launcher?.dispose();
  model = new RunsModel();
  launched = [];
  const out = { appendLine() {}, show() {} } as unknown as import('vscode').OutputChannel;
  launcher = new Launcher(ext, model, out, validate as never, (id) => launched.push(id));
});
after(() => {
  launcher.dispose();
  model.dispose();
});

test('Start Run on a sweep of a field that cannot change what is trained says so in its question (issue 21 §6)', async () => {
  const cached = { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 8 }, matryoshkaDims: [8] };
  writeFileSync(
    join(ws, 'same.mrl.json'),
    JSON.stringify({ name: 'same', steps: 1, loss: cached, sweep: { method: 'grid', parameters: { 'loss.loss.miniBatchSize': [8, 16] } } }),
  );
  assert.equal(await launcher.start(vs.Uri.file(join(ws, 'same.mrl.json')) as never), undefined, 'dismissed');
  assert.match(
    vs.state.messages.at(-1)!.text,
    /It queues 2 runs \(grid over loss\.loss\.miniBatchSize\), 2 at a time \(matryoshkaLab\.maxConcurrentRuns\)\. Every run of this sweep trains the same model: loss\.loss\.miniBatchSize changes memory and speed, not the results: CachedMultipleNegativesRankingLoss uses GradCache, which is exact/,
  );
  assert.deepEqual(launched, []);
});

test(
  'Start Run on a sweep: asks once how many runs it queues, then runs them all through the queue with one sweep id',
  { timeout: 300_000 },
  async () => {
    sweepConfig('four.mrl.json', 'four', 6, [1, 2, 3, 4]);
    const uri = vs.Uri.file(join(ws, 'four.mrl.json')) as never;
    // Dismissed: nothing is queued.
    assert.equal(await launcher.start(uri), undefined);
    assert.match(vs.state.messages.at(-1)!.text, /Start the sweep "four"\? It queues 4 runs \(grid over seed\), 2 at a time/);
    assert.deepEqual(launched, []);
    vs.state.modalAnswers = ['Queue 4 Runs'];
    const r = (await launcher.start(uri)) as SweepLaunch;
    assert.equal(vs.state.modalAnswers.length, 0, 'asked once');
    assert.match(r.sweepId, /^\d{8}-\d{6}-four-sweep-[0-9a-f]{4}$/);
    assert.equal(r.runIds.length, 4);
    assert.equal(new Set(r.runIds).size, 4, 'distinct run ids');
    assert.deepEqual(launched, r.runIds.slice(0, 2), 'two at a time (maxConcurrentRuns)');
    // Never more than two running at once, as the queue starts the others.
    let most = 0;
    await until('all four completed', () => {
      most = Math.max(most, model.live().length);
      return r.runIds.every((id) => model.get(id)?.status === 'completed');
    });
    assert.ok(most <= 2, `at most 2 live, saw ${most}`);
    assert.deepEqual(launched, r.runIds);
    r.runIds.forEach((id, i) => {
      const x = info(id);
      assert.deepEqual(x.sweep, { id: r.sweepId, index: i, params: { seed: i + 1 } });
      assert.deepEqual(x.argv.slice(-4), ['--sweep-id', r.sweepId, '--sweep-index', String(i)]);
    });
    // {confirmed: true}: no question.
    const before = vs.state.messages.length;
    const again = (await launcher.start(uri, { confirmed: true })) as SweepLaunch;
    assert.equal(again.runIds.length, 4);
    assert.notEqual(again.sweepId, r.sweepId);
    assert.ok(!vs.state.messages.slice(before).some((m) => /Start the sweep/.test(m.text)));
    await until('the second sweep completed', () => again.runIds.every((id) => model.get(id)?.status === 'completed'));
  },
);

test('Start Run on a sweep with repeats says so, and counts combinations × repeats', async () => {
  writeFileSync(
    join(ws, 'rep.mrl.json'),
    JSON.stringify({ name: 'rep', steps: 1, sweep: { method: 'grid', parameters: { seed: [1, 2] }, repeat: 3 } }),
  );
  assert.equal(await launcher.start(vs.Uri.file(join(ws, 'rep.mrl.json')) as never), undefined, 'dismissed');
  assert.match(
    vs.state.messages.at(-1)!.text,
    /Start the sweep "rep"\? It queues 6 runs \(grid over seed, × 3 repeats with their own seeds\), 2 at a time/,
  );
  assert.deepEqual(launched, []);
});

test(
  'Stop Sweep (by run id, sweep id or sweep node): the running run stops, the queued rest never starts',
  { timeout: 300_000 },
  async () => {
    vs.state.settings = { maxConcurrentRuns: 1 };
    sweepConfig('long.mrl.json', 'long', 2000, [1, 2, 3]);
    sweepConfig('other.mrl.json', 'other', 2000, [5, 6]);
    const commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
    const r = (await commands.startRun(join(ws, 'long.mrl.json'), { confirm: true })) as SweepLaunch;
    assert.equal(r.runIds.length, 3);
    await until('the first run running', () => model.get(r.runIds[0])?.status === 'running');
    assert.deepEqual(
      launcher.activeSweeps().map((s) => [s.sweepId, s.running, s.queued]),
      [[r.sweepId, [r.runIds[0]], r.runIds.slice(1)]],
    );
    // A run id of the sweep names the sweep.
    const done = await commands.stopSweep(r.runIds[0]);
    assert.deepEqual(done, { sweepId: r.sweepId, stopped: [r.runIds[0]], dropped: r.runIds.slice(1) });
    await until('the first run stopped', () => model.get(r.runIds[0])?.status === 'stopped');
    assert.deepEqual(folders(), [r.runIds[0]], 'no other run of the sweep started');
    assert.deepEqual(launched, [r.runIds[0]]);
    assert.deepEqual(launcher.activeSweeps(), []);

    // Another sweep, stopped through its tree node; then through its id, with nothing left: a warning.
    const o = (await commands.startRun(join(ws, 'other.mrl.json'), { confirm: true })) as SweepLaunch;
    await until('its first run running', () => model.get(o.runIds[0])?.status === 'running');
    assert.deepEqual(await commands.stopSweep({ kind: 'sweep', sweepId: o.sweepId }), {
      sweepId: o.sweepId,
      stopped: [o.runIds[0]],
      dropped: [o.runIds[1]],
    });
    await until('stopped', () => model.get(o.runIds[0])?.status === 'stopped');
    assert.deepEqual(await commands.stopSweep(o.sweepId), { sweepId: o.sweepId, stopped: [], dropped: [] });
    assert.match(vs.state.messages.at(-1)!.text, /has no run running or queued/);
    assert.equal(folders().length, 2);
  },
);

test('Stop Sweep without a target: a pick of the sweeps with runs running or queued; none: says so', { timeout: 300_000 }, async () => {
  vs.state.settings = { maxConcurrentRuns: 1 };
  const commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
  assert.equal(await commands.stopSweep(), undefined);
  assert.match(vs.state.messages.at(-1)!.text, /no sweep has a run running or queued/);
  sweepConfig('picked.mrl.json', 'picked', 2000, [1, 2]);
  const r = (await commands.startRun(join(ws, 'picked.mrl.json'), { confirm: true })) as SweepLaunch;
  await until('running', () => model.get(r.runIds[0])?.status === 'running');
  vs.state.pickAnswers = [(items) => items.find((i: { sweepId: string }) => i.sweepId === r.sweepId)];
  const done = await commands.stopSweep();
  assert.equal(vs.state.picks.at(-1)?.title, 'Stop Sweep');
  assert.deepEqual(vs.state.picks.at(-1)?.labels, ['$(debug-stop) picked']);
  assert.deepEqual(done, { sweepId: r.sweepId, stopped: [r.runIds[0]], dropped: [r.runIds[1]] });
  await until('stopped', () => model.get(r.runIds[0])?.status === 'stopped');
  // A run that is not part of a sweep: said so, nothing stopped.
  writeFileSync(join(ws, 'single.mrl.json'), JSON.stringify({ name: 'single', steps: 3 }));
  const single = (await commands.startRun(join(ws, 'single.mrl.json'))) as string;
  await until('single done', () => model.get(single)?.status === 'completed');
  assert.equal(await commands.stopSweep({ kind: 'run', id: single }), undefined);
  assert.match(vs.state.messages.at(-1)!.text, /is not part of a sweep/);
});

test(
  'a sweep config edited while its runs wait: the queued rest never starts with values nobody queued; said so',
  { timeout: 300_000 },
  async () => {
    vs.state.settings = { maxConcurrentRuns: 1 };
    // Run 0 cannot complete before the edit below, however slow this process is: it waits for `hold`.
    const hold = join(root, 'edited.hold');
    sweepConfig('edited.mrl.json', 'edited', 8, [1, 2, 3], hold);
    const r = (await launcher.start(vs.Uri.file(join(ws, 'edited.mrl.json')) as never, { confirmed: true })) as SweepLaunch;
    await until('the first run running', () => model.get(r.runIds[0])?.status === 'running');
    // The user changes the swept values while run 0 trains: runs 1 and 2 would read the new file.
    sweepConfig('edited.mrl.json', 'edited', 8, [7, 8, 9]);
    writeFileSync(hold, '');
    await until('the first run completed', () => model.get(r.runIds[0])?.status === 'completed');
    await until('the rest dropped', () => launcher.activeSweeps().length === 0);
    assert.deepEqual(launched, [r.runIds[0]], 'only the run that started before the edit');
    assert.deepEqual(folders(), [r.runIds[0]]);
    assert.deepEqual(info(r.runIds[0]).sweep.params, { seed: 1 });
    assert.match(
      vs.state.messages.at(-1)!.text,
      /edited\.mrl\.json changed since the sweep "edited" was queued: its 2 queued runs were not started/,
    );
  },
);

test("Stop Sweep's argument: a sweep node, a run node, a string (sweep or run id); anything else: none", () => {
  const { sweepTargetOf } = require('../../src/host/commands/commandArgs') as typeof import('../../src/host/commands/commandArgs');
  assert.deepEqual(sweepTargetOf({ kind: 'sweep', sweepId: 's1' }), { sweepId: 's1' });
  assert.deepEqual(sweepTargetOf({ kind: 'run', id: 'r1' }), { runId: 'r1' });
  assert.deepEqual(sweepTargetOf({ id: 'r2' }), { runId: 'r2' });
  assert.deepEqual(sweepTargetOf('x'), { id: 'x' });
  for (const junk of [undefined, '', 42, { kind: 'sweep' }, { kind: 'group', id: 'Running' }, null])
    assert.equal(sweepTargetOf(junk), undefined, JSON.stringify(junk));
});

test("matryoshkaLab.pythonPath: a relative path is the workspace folder's (the trainer starts elsewhere); a bare name stays for PATH", () => {
  const { settings } = require('../../src/host/settings') as typeof import('../../src/host/settings');
  vs.state.settings = { pythonPath: '.venv/bin/python' };
  assert.equal(settings().pythonPath, join(ws, '.venv/bin/python'));
  vs.state.settings = { pythonPath: ' python3.11 ' };
  assert.equal(settings().pythonPath, 'python3.11');
  vs.state.settings = { pythonPath: '/opt/py/bin/python' };
  assert.equal(settings().pythonPath, '/opt/py/bin/python');
  vs.state.settings = {};
  assert.equal(settings().pythonPath, '');
});

test(
  "a sweep's failure rules in VS Code: a failed run lets the queue go on; a refused one ends the sweep (its queued runs dropped, said so)",
  { timeout: 300_000 },
  async () => {
    vs.state.settings = { maxConcurrentRuns: 1 };
    sweepConfig('rules.mrl.json', 'rules', 3, [1, 2, 3, 4], undefined, { fail: [2], refuse: [3] });
    const r = (await launcher.start(vs.Uri.file(join(ws, 'rules.mrl.json')) as never, { confirmed: true })) as SweepLaunch;
    const errors = () => vs.state.messages.filter((m) => m.level === 'error').map((m) => m.text);
    await until('the refusal reported', () => errors().some((t) => /could not start/.test(t)));
    // Run 1 failed and run 2 started after it; run 2 was refused, and run 3 was dropped from the queue.
    assert.deepEqual(launched, r.runIds.slice(0, 3));
    assert.equal(model.get(r.runIds[0])?.status, 'completed');
    assert.equal(model.get(r.runIds[1])?.status, 'failed');
    assert.deepEqual(folders().sort(), r.runIds.slice(0, 2).sort(), 'the refused run wrote nothing; the dropped one never started');
    assert.deepEqual(launcher.activeSweeps(), [], 'nothing of the sweep left running or queued');
    assert.equal(errors().length, 2, errors().join('\n'));
    assert.match(errors()[0], /run rules \(sweep run 2 of 4\) failed: the loss is NaN at step 1/);
    assert.match(
      errors()[1],
      /could not start rules \(sweep run 3 of 4\): .*refused \(fake\).* The sweep ends there: its 1 queued run was not started\./,
    );

    // Stop Sweep of that sweep, now over, by every kind of target: nothing signalled, no run.json rewritten, said so.
    const commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
    const files = r.runIds.slice(0, 2).map((id) => join(runsDir, id, 'run.json'));
    const before = files.map((f) => readFileSync(f, 'utf8'));
    const kill = process.kill;
    const signalled: unknown[] = [];
    process.kill = ((pid: number, sig?: string | number) => {
      if (sig !== 0) signalled.push([pid, sig]);
      return kill.call(process, pid, sig);
    }) as typeof process.kill;
    try {
      for (const target of [r.sweepId, r.runIds[0], { kind: 'sweep', sweepId: r.sweepId }, { kind: 'run', id: r.runIds[1] }]) {
        assert.deepEqual(await commands.stopSweep(target), { sweepId: r.sweepId, stopped: [], dropped: [] }, JSON.stringify(target));
        assert.equal(vs.state.messages.at(-1)!.text, `Matryoshka Lab: sweep ${r.sweepId} has no run running or queued.`);
      }
      assert.equal(await commands.stopSweep(), undefined);
      assert.match(vs.state.messages.at(-1)!.text, /no sweep has a run running or queued/);
    } finally {
      process.kill = kill;
    }
    assert.deepEqual(signalled, [], 'no process signalled');
    assert.deepEqual(
      files.map((f) => readFileSync(f, 'utf8')),
      before,
      'no run.json rewritten',
    );
  },
);

test(
  'queued runs: in the runs view with their place and Cancel; one notification for the whole sweep, "run i of n"',
  { timeout: 300_000 },
  async () => {
    vs.state.settings = { maxConcurrentRuns: 1 };
    vs.state.progress = [];
    const { RunsTreeProvider, QUEUED_CONTEXT } = require('../../src/host/runsView/tree') as typeof import('../../src/host/runsView/tree');
    type Node = import('../../src/host/runsView/tree').TreeNode;
    const tree = new RunsTreeProvider(model, launcher);
    let fired = 0;
    tree.onDidChangeTreeData(() => void fired++);
    const commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
    // Run 0 holds its slot until the test says so: the other two, and a plain Start Run, wait behind it.
    const hold = join(root, 'queue3.hold');
    sweepConfig('queue3.mrl.json', 'queue3', 4, [1, 2, 3], hold);
    writeFileSync(join(ws, 'single.mrl.json'), JSON.stringify({ name: 'single', steps: 3 }));
    const r = (await commands.startRun(join(ws, 'queue3.mrl.json'), { confirm: true })) as SweepLaunch;
    const single = (await commands.startRun(join(ws, 'single.mrl.json'))) as string;
    await until('run 0 running', () => model.get(r.runIds[0])?.status === 'running');
    assert.ok(fired > 0, 'the tree was told the queue changed');
    const item = (n: Node) => tree.getTreeItem(n);
    const rows = () => {
      const top = tree.getChildren();
      const sweep = top.find((n) => n.kind === 'sweep' && n.sweepId === r.sweepId)!;
      const queue = top.find((n) => n.kind === 'queue');
      return { top, sweep, queue, kids: tree.getChildren(sweep) };
    };
    let v = rows();
    assert.equal(item(v.sweep).label, 'sweep queue3 · 3 runs (1 running, 2 queued)');
    assert.deepEqual(
      v.kids.map((n) => [
        item(n).label,
        String(item(n).description).startsWith('queued') ? item(n).description : 'run',
        item(n).contextValue,
      ]),
      [
        ['seed=1 · queue3', 'run', 'mrlRun.running'],
        ['seed=2 · queue3', 'queued · 1 of 3', QUEUED_CONTEXT],
        ['seed=3 · queue3', 'queued · 2 of 3', QUEUED_CONTEXT],
      ],
    );
    // The plain Start Run waits in a list of its own, after the sweep's two.
    assert.ok(v.queue, 'a Queued group');
    assert.equal(item(v.queue!).label, 'Queued (1)');
    const [singleNode] = tree.getChildren(v.queue!);
    assert.deepEqual([item(singleNode).label, item(singleNode).description], ['single', 'queued · 3 of 3']);
    assert.equal(tree.getParent(v.kids[1]), v.sweep);
    assert.equal(tree.getParent(singleNode), v.queue);

    // Cancel (the item's inline action) on the sweep's first queued run: it leaves the queue, the rest move up.
    assert.equal(await commands.cancelQueuedRun(v.kids[1]), r.runIds[1]);
    v = rows();
    assert.equal(item(v.sweep).label, 'sweep queue3 · 2 runs (1 running, 1 queued)');
    assert.deepEqual(
      v.kids.slice(1).map((n) => [item(n).label, item(n).description]),
      [['seed=3 · queue3', 'queued · 1 of 2']],
    );
    assert.equal(item(tree.getChildren(v.queue!)[0]).description, 'queued · 2 of 2');
    // Not queued (any more): said so, nothing else happens.
    assert.equal(await commands.cancelQueuedRun(r.runIds[1]), undefined);
    assert.match(vs.state.messages.at(-1)!.text, /is not waiting in the queue/);
    assert.equal(await commands.cancelQueuedRun(r.runIds[0]), undefined);
    assert.match(vs.state.messages.at(-1)!.text, /has started: Stop Run stops it/);

    writeFileSync(hold, '');
    await until('the sweep and the single run done', () =>
      [r.runIds[0], r.runIds[2], single].every((id) => model.get(id)?.status === 'completed'),
    );
    assert.deepEqual(launched, [r.runIds[0], r.runIds[2], single], 'the cancelled run never started');
    assert.ok(!folders().includes(r.runIds[1]));
    assert.equal(
      tree.getChildren().find((n) => n.kind === 'queue'),
      undefined,
      'nothing queued: no Queued group',
    );

    // One notification for the sweep (none per queued run), "run i of 3" as its runs went; the single run its own.
    await until('the notifications closed', () => vs.state.progress.every((p) => p.done));
    const titles = vs.state.progress.map((p) => p.title);
    assert.deepEqual(titles, ['Matryoshka Lab: Sweep queue3', 'Matryoshka Lab: single']);
    const reports = vs.state.progress[0].reports;
    assert.ok(
      reports.some((m) => /^run 1 of 3 · /.test(m)),
      reports.join('\n'),
    );
    assert.ok(
      reports.some((m) => /^run 3 of 3 · .* · 1 cancelled$/.test(m)),
      reports.join('\n'),
    );
  },
);

test(
  'Stop Sweep of a sweep started from a terminal (the real trainer CLI): its current run stops at a checkpoint, the CLI starts no further one',
  { timeout: 300_000 },
  async () => {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const { pathToFileURL } = require('node:url') as typeof import('node:url');
    const { resolve } = require('node:path') as typeof import('node:path');
    const { writePairs, tinyConfig, HANG_GUARD_MS } = require('../trainer/faultHarness') as typeof import('../trainer/faultHarness');
    writeFileSync(join(ws, 'package.json'), '{}'); // the CLI's workspace: its runs go to ws/.mrl/runs, the folder the host reads
    writePairs(join(ws, 'pairs.jsonl'));
    const base = tinyConfig('terminal sweep', 100000) as { training: Record<string, unknown> };
    writeFileSync(
      join(ws, 'terminal.mrl.json'),
      JSON.stringify({ ...base, training: { ...base.training, evalEvery: 0 }, sweep: { method: 'grid', parameters: { seed: [1, 2, 3] } } }),
    );
    const tsx = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
    const cli = spawn(
      process.execPath,
      ['--import', tsx, resolve('src/trainer/cli/main.ts'), '--workers', '0', '--config', join(ws, 'terminal.mrl.json')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
    try {
      const commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
      const first = () => model.list().find((r) => r.info.sweep?.index === 0);
      await until(
        'the terminal sweep training its first run',
        () => first()?.status === 'running' && first()!.info.step! >= 2,
        HANG_GUARD_MS,
      );
      const run = first()!;
      assert.deepEqual(
        launcher.activeSweeps().map((s) => [s.sweepId, s.running, s.queued]),
        [[run.info.sweep!.id, [run.id], []]],
        'a terminal sweep shows its running run (its queue is the CLI’s own)',
      );
      const done = await commands.stopSweep(run.info.sweep!.id);
      assert.deepEqual(done, { sweepId: run.info.sweep!.id, stopped: [run.id], dropped: [] });
      assert.equal(await exit, 0, stderr);
      model.refresh();
      assert.equal(model.get(run.id)?.status, 'stopped');
      assert.ok(existsSync(join(runsDir, run.id, 'checkpoints', `step-${model.get(run.id)!.info.step}`)), 'a checkpoint to resume from');
      assert.deepEqual(folders(), [run.id], 'no further run of the sweep started');
      assert.match(stderr, /SIGTERM: finishing this step/);
      assert.match(stderr, /stopped; no further run started/);
    } finally {
      cli.kill('SIGKILL');
      rmSync(join(ws, 'package.json'), { force: true });
    }
  },
);

test("a sweep notification's text: which runs of how many, the live one's progress, how far overall", () => {
  const { sweepProgressText } = require('../../src/host/launch/launchProgress') as typeof import('../../src/host/launch/launchProgress');
  const q = { phase: 'queued' as const, cancelled: false };
  const done = { phase: 'done' as const, cancelled: false };
  assert.deepEqual(sweepProgressText([q, q, q, q], 2), { message: '4 runs queued, 2 at a time', percent: 0 });
  const running = { phase: 'running' as const, cancelled: false, step: 50, total: 100, live: 'step 50/100 · loss 0.4' };
  assert.deepEqual(sweepProgressText([done, running, q, q], 1), { message: 'run 2 of 4 · step 50/100 · loss 0.4', percent: 37.5 });
  assert.deepEqual(
    sweepProgressText([done, running, { phase: 'starting', cancelled: false }, q], 2).message,
    'runs 2, 3 of 4 · step 50/100 · loss 0.4',
  );
  // A cancelled run counts neither as done nor as left to do.
  assert.deepEqual(sweepProgressText([done, { phase: 'done', cancelled: true }, running, q], 1), {
    message: 'run 3 of 4 · step 50/100 · loss 0.4 · 1 cancelled',
    percent: 50,
  });
});

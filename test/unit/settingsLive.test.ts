// Issue 22 §2, settings changed while the extension runs (the fake `vscode` fires onDidChangeConfiguration,
// hostFakeVscode.ts changeSettings): matryoshkaLab.runsFolder re-points the runs view and the panel, and a
// run queued before the change starts in the new folder (or, with no usable folder, is not started and
// the user told); maxConcurrentRuns raised starts a queued run at once; advisorPercent reaches an open
// panel; the settings read at each launch or stop (nodePath, defaultBackend, workers, stopGraceSeconds)
// apply to the next one. The trainer is a stand-in that records its argv and holds until told to end.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = realpathSync(mkdtempSync(join(tmpdir(), 'mrl-settings-')));
const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');

const ws = join(root, 'ws');
const ext = join(root, 'ext');
const starts = join(root, 'starts.jsonl');
// `--config <f> --out <dir>`: run.json "running", then "completed" once the config's `hold` file exists;
// SIGTERM: "stopped". Each start appends its argv to `starts`.
mkdirSync(join(ext, 'dist'), { recursive: true });
writeFileSync(
  join(ext, 'dist', 'trainer.js'),
  String.raw`
const fs = require('fs'), path = require('path');
const a = process.argv.slice(2); const arg = (k) => a[a.indexOf(k) + 1];
fs.appendFileSync(${JSON.stringify(starts)}, JSON.stringify(a) + '\n');
const dir = arg('--out');
const cfg = JSON.parse(fs.readFileSync(arg('--config'), 'utf8'));
fs.mkdirSync(dir, { recursive: true });
const info = (status) => { const t = path.join(dir, 'run.json.tmp'); fs.writeFileSync(t, JSON.stringify({ id: path.basename(dir), name: cfg.name, status, pid: status === 'running' ? process.pid : null, startedAt: '2026-01-01T00:00:00Z', endedAt: null, backend: 'fake' })); fs.renameSync(t, path.join(dir, 'run.json')); };
info('running');
process.on('SIGTERM', () => { info('stopped'); process.exit(0); });
const timer = setInterval(() => { if (fs.existsSync(cfg.hold)) { clearInterval(timer); info('completed'); } }, 20);
`,
);

/** A config whose run holds until `release(name)`. */
function config(name: string): string {
  const f = join(ws, `${name}.mrl.json`);
  writeFileSync(f, JSON.stringify({ name, hold: join(root, `${name}.done`) }));
  return f;
}
const release = (name: string) => writeFileSync(join(root, `${name}.done`), '');
const startsSeen = (): string[][] =>
  existsSync(starts)
    ? readFileSync(starts, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const validate = async (u: { fsPath: string }) => ({ ok: true, raw: JSON.parse(readFileSync(u.fsPath, 'utf8')), problems: [] });

/** A completed run folder in `runsDir`. */
function finishedRun(runsDir: string, id: string): void {
  mkdirSync(join(runsDir, id), { recursive: true });
  writeFileSync(
    join(runsDir, id, 'run.json'),
    JSON.stringify({ id, name: id, status: 'completed', pid: null, startedAt: '2026-01-01T00:00:00Z', endedAt: null, backend: 'cpu' }),
  );
  writeFileSync(join(runsDir, id, 'config.json'), '{}');
}

let model: InstanceType<typeof RunsModel>;
let launcher: InstanceType<typeof Launcher>;
let problems: string[];
let lines: string[];
let launched: string[];

beforeEach(() => {
  rmSync(ws, { recursive: true, force: true });
  rmSync(starts, { force: true });
  mkdirSync(ws, { recursive: true });
  finishedRun(join(ws, '.mrl/runs'), 'old-folder-run');
  finishedRun(join(ws, 'elsewhere/runs'), 'new-folder-run');
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.settings = { maxConcurrentRuns: 1 };
  vs.state.messages = [];
  vs.state.panels.length = 0;
  launcher?.dispose();
  model?.dispose();
  problems = [];
  lines = [];
  launched = [];
  model = new RunsModel((p) => void problems.push(p));
  const out = { appendLine: (l: string) => void lines.push(l), show() {} } as unknown as import('vscode').OutputChannel;
  launcher = new Launcher(ext, model, out, validate as never, (id) => void launched.push(id));
});
after(() => {
  launcher.dispose();
  model.dispose();
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const until = async (what: string, f: () => boolean) => {
  // No file watcher in the fake: refresh as its events would.
  for (const end = Date.now() + 120_000; void model.refresh(), !f(); await new Promise((r) => setTimeout(r, 20)))
    assert.ok(Date.now() < end, `hang guard: ${what}`);
};
const ids = () => model.list().map((r) => r.id);

test('runsFolder changed at run time: the runs view and the panel follow it; a run queued before the change starts in the new folder', async () => {
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, { appendLine() {} } as never, () => {}));
  try {
    panel.show(['old-folder-run']);
    const webview = vs.state.panels[0];
    webview.send({ type: 'ready', state: null });
    assert.deepEqual(ids(), ['old-folder-run']);
    // One run holds the only slot; a second waits in the queue.
    const a = (await launcher.start(vs.Uri.file(config('a')) as never)) as string;
    const b = (await launcher.start(vs.Uri.file(config('b')) as never)) as string;
    await until('A running', () => model.get(a)?.status === 'running');
    assert.deepEqual(launched, [a]);

    vs.changeSettings({ runsFolder: 'elsewhere/runs' });
    assert.equal(model.dir, join(ws, 'elsewhere/runs'));
    assert.deepEqual(ids(), ['new-folder-run'], 'the old folder’s runs are gone from the view, the new one’s listed');
    const runsMessages = webview.posted.filter((m) => m.type === 'runs');
    assert.deepEqual(
      runsMessages.at(-1).runs.map((r: { id: string }) => r.id),
      ['new-folder-run'],
      'the panel’s run list follows',
    );
    assert.deepEqual(problems, []);

    // A (started before the change) finishes where it started; B, queued, starts in the folder shown now.
    release('a');
    await until('B running', () => model.get(b)?.status === 'running');
    assert.equal(startsSeen()[1][startsSeen()[1].indexOf('--out') + 1], join(ws, 'elsewhere/runs', b));
    assert.ok(existsSync(join(ws, 'elsewhere/runs/.logs', `${b}.log`)), 'its output log beside it');
    assert.equal(JSON.parse(readFileSync(join(ws, '.mrl/runs', a, 'run.json'), 'utf8')).status, 'completed');
    assert.equal(existsSync(join(ws, '.mrl/runs', b)), false);
    release('b');
    await until('B completed', () => model.get(b)?.status === 'completed');
  } finally {
    panel.dispose();
  }
});

test('runsFolder changed to a folder outside the workspace: refused with the reason; a run queued meanwhile is not started, said so', async () => {
  const a = (await launcher.start(vs.Uri.file(config('a2')) as never)) as string;
  const c = (await launcher.start(vs.Uri.file(config('c')) as never)) as string;
  await until('A running', () => model.get(a)?.status === 'running');
  vs.changeSettings({ runsFolder: '../outside/runs' });
  assert.equal(model.dir, undefined);
  assert.deepEqual(ids(), []);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /resolves to .*outside the workspace .*: not read/);
  release('a2');
  await until('C dropped', () => vs.state.messages.some((m) => /could not start c/.test(m.text)));
  assert.match(
    vs.state.messages.at(-1)!.text,
    /^Matryoshka Lab: could not start c: there is no runs folder now \(matryoshkaLab\.runsFolder changed/,
  );
  assert.deepEqual(launched, [a], 'C never spawned');
  assert.equal(startsSeen().length, 1);
  assert.ok(!existsSync(join(root, 'outside')), 'nothing written outside the workspace');
  assert.ok(!readdirSync(join(ws, '.mrl/runs')).includes(c));
  // Back to a folder inside: listed again, and the problem is not repeated for the same reason.
  vs.changeSettings({ runsFolder: '.mrl/runs' });
  assert.deepEqual(ids().sort(), [a, 'old-folder-run'].sort());
  assert.equal(problems.length, 1);
});

test('maxConcurrentRuns raised at run time: a queued run starts at once, without waiting for the running one', async () => {
  const a = (await launcher.start(vs.Uri.file(config('m1')) as never)) as string;
  const b = (await launcher.start(vs.Uri.file(config('m2')) as never)) as string;
  await until('A running', () => model.get(a)?.status === 'running');
  assert.deepEqual(launched, [a]);
  vs.changeSettings({ maxConcurrentRuns: 2 });
  assert.deepEqual(launched, [a, b], 'B started as the setting changed (A still runs: it holds until released)');
  assert.equal(model.get(a)?.status, 'running');
  release('m1');
  release('m2');
  await until('both completed', () => model.get(a)?.status === 'completed' && model.get(b)?.status === 'completed');
});

test('settings read at each launch or stop apply to the next one: nodePath, defaultBackend, workers, stopGraceSeconds', async () => {
  vs.changeSettings({ defaultBackend: 'cpu', workers: '2', maxConcurrentRuns: 4 });
  const a = (await launcher.start(vs.Uri.file(config('s1')) as never)) as string;
  await until('A running', () => model.get(a)?.status === 'running');
  const argv = startsSeen()[0];
  assert.deepEqual(argv.slice(argv.indexOf('--backend'), argv.indexOf('--backend') + 2), ['--backend', 'cpu']);
  assert.deepEqual(argv.slice(argv.indexOf('--workers'), argv.indexOf('--workers') + 2), ['--workers', '2']);
  vs.changeSettings({ stopGraceSeconds: 7 });
  assert.equal(launcher.stop(a), true);
  assert.ok(
    lines.some((l) => l === `[${a}] stop requested (SIGTERM to ${model.get(a)!.info.pid}; SIGKILL after 7 s)`),
    lines.join('\n'),
  );
  await until('A stopped', () => model.get(a)?.status === 'stopped');
  // A Node that is not there: the next launch says so (the setting is read when the trainer is spawned).
  vs.changeSettings({ nodePath: join(root, 'no-such-node') });
  await launcher.start(vs.Uri.file(config('s2')) as never);
  await until('the spawn error', () => vs.state.messages.some((m) => m.level === 'error'));
  assert.match(vs.state.messages.find((m) => m.level === 'error')!.text, /could not start the trainer \(.*no-such-node\): .*ENOENT/);
  assert.equal(startsSeen().length, 1);
});

test('advisorPercent changed at run time: an open panel receives it at once (an invalid value: the default); other settings send nothing', () => {
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, { appendLine() {} } as never, () => {}));
  try {
    panel.show(['old-folder-run']);
    const webview = vs.state.panels[0];
    webview.send({ type: 'ready', state: null });
    const settingsSent = () => webview.posted.filter((m) => m.type === 'settings').map((m) => m.settings);
    vs.changeSettings({ advisorPercent: 80 });
    vs.changeSettings({ workers: '1' });
    vs.changeSettings({ advisorPercent: 30 });
    assert.deepEqual(settingsSent(), [{ advisorPercent: 80 }, { advisorPercent: 95 }]);
  } finally {
    panel.dispose();
  }
});

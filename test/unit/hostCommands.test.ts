// The commands (one method each), the UI wrappers and the launch notification, over the fake `vscode`:
// targets given as arguments skip the pick, and the return values stay what callers rely on
// (startRun → run id, stopRun → stopped ids, resumeRun → boolean).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

useFakeVscode(); // for the whole file

const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { Commands } = require('../../src/host/commands/commands') as typeof import('../../src/host/commands/commands');
const ui = require('../../src/host/ui') as typeof import('../../src/host/ui');
const { LaunchProgress } = require('../../src/host/launch/launchProgress') as typeof import('../../src/host/launch/launchProgress');

type Status = 'running' | 'completed' | 'failed' | 'stopped';
const run = (id: string, status: Status, extra: Record<string, unknown> = {}) => ({
  id,
  dir: `/runs/${id}`,
  status,
  info: { id, name: `name-${id}`, status, pid: null, startedAt: new Date().toISOString(), endedAt: null, backend: 'cpu', ...extra },
  summary: { lastStep: null, loss: null, best: null, samplesPerSec: null, events: 0 },
});

let runs: ReturnType<typeof run>[] = [];
let calls: string[] = [];
const changed = new vs.EventEmitter<unknown>();
const model = {
  dir: '/runs',
  list: () => runs,
  get: (id: string) => runs.find((r) => r.id === id),
  live: () => runs.filter((r) => r.status === 'running'),
  refresh: () => calls.push('refresh'),
  onDidChange: changed.event,
};
const launcher = {
  start: async (u: { fsPath: string }) => {
    calls.push(`start ${u.fsPath}`);
    return 'new-run-id';
  },
  stop: (id: string) => {
    calls.push(`stop ${id}`);
    return model.get(id)?.status === 'running';
  },
  resume: async (r: { id: string }) => {
    calls.push(`resume ${r.id}`);
    return true;
  },
  output: { show: () => calls.push('showLog') },
};
const panel = {
  show: (ids: string[], o: unknown) => calls.push(`show ${ids.join(',')} ${JSON.stringify(o)}`),
  showDiff: (ids: string[]) => calls.push(`diff ${ids.join(',')}`),
};
const commands = new Commands(model as never, launcher as never, panel as never, {} as never, '/ext');

beforeEach(() => {
  runs = [run('a', 'running'), run('b', 'stopped'), run('c', 'completed')];
  calls = [];
  vs.state.messages = [];
  vs.state.picks = [];
  vs.state.pickAnswers = [];
  vs.state.modalAnswers = [];
  vs.state.trusted = true;
  vs.state.workspaceFolders = [{ uri: vs.Uri.file('/ws') }];
});

test('startRun: a Uri, an absolute path or a workspace-relative path; → the run id', async () => {
  assert.equal(await commands.startRun(vs.Uri.file('/x/a.mrl.json') as never), 'new-run-id');
  assert.equal(await commands.startRun('/abs/b.mrl.json'), 'new-run-id');
  assert.equal(await commands.startRun('rel/c.mrl.json'), 'new-run-id');
  assert.deepEqual(calls, ['start /x/a.mrl.json', 'start /abs/b.mrl.json', `start ${join('/ws', 'rel/c.mrl.json')}`]);
  assert.equal(await commands.startRun(42 as never), undefined, 'junk: nothing');
  assert.equal(vs.state.picks.length, 0, 'no pick with a target');
});

test('stopRun: ids, nodes, (clicked, selection); → the stopped ids; a warning for one not running', async () => {
  assert.deepEqual(await commands.stopRun(['a', 'b']), ['a']);
  assert.deepEqual(vs.state.messages, [{ level: 'warning', text: 'Matryoshka Lab: b is not running.' }]);
  assert.deepEqual(await commands.stopRun({ kind: 'run', id: 'a' } as never, [{ id: 'a' }, { id: 'c' }]), ['a']);
  assert.deepEqual(calls, ['stop a', 'stop b', 'stop a', 'stop c']);
  assert.equal(vs.state.picks.length, 0);
});

test('stopRun without a target picks among running runs; none: says so', async () => {
  vs.state.pickAnswers.push((items) => items[0]);
  assert.deepEqual(await commands.stopRun(), ['a']);
  assert.equal(vs.state.picks[0].title, 'Stop Run');
  assert.equal(vs.state.picks[0].labels.length, 1);
  runs = [run('b', 'stopped')];
  assert.deepEqual(await commands.stopRun(), []);
  assert.deepEqual(vs.state.messages.at(-1), { level: 'info', text: 'Matryoshka Lab: no runs to choose from (Stop Run).' });
});

test('resumeRun: → true and the panel shows the run; an unknown id → false with a warning', async () => {
  assert.equal(await commands.resumeRun('b'), true);
  assert.deepEqual(calls, ['resume b', 'show b {"preserveFocus":true}']);
  assert.equal(await commands.resumeRun('zzz'), false);
  assert.deepEqual(vs.state.messages.at(-1), { level: 'warning', text: 'Matryoshka Lab: no run zzz in the runs folder.' });
  assert.equal(await commands.resumeRun(), false, 'pick dismissed');
});

test('resumeRun with an array resumes each run; true only when all were launched', async () => {
  runs.push(run('d', 'failed'));
  assert.equal(await commands.resumeRun(['b', 'd']), true);
  assert.deepEqual(calls, ['resume b', 'resume d', 'show b,d {"preserveFocus":true,"compare":true}']);
  calls = [];
  assert.equal(await commands.resumeRun(['b', 'zzz']), false);
  assert.deepEqual(calls, ['resume b', 'show b {"preserveFocus":true}']);
});

test('diffConfigs: two config Uris as (uri, uri), as [uri, uri] or as the explorer’s (clicked, selection) open the diff without a pick', async () => {
  const validation = { diagnose: (_u: unknown, text: string) => ({ config: JSON.parse(text) }) };
  const withFiles = new Commands(model as never, launcher as never, panel as never, validation as never, '/ext');
  const [x, y] = [vs.Uri.file('/ws/x.mrl.json'), vs.Uri.file('/ws/y.mrl.json')];
  vs.state.executed = [];
  await withFiles.diffConfigs(x, y);
  await withFiles.diffConfigs([x, y]);
  await withFiles.diffConfigs(x, [x, y]);
  assert.deepEqual(
    vs.state.executed.map((e) => [e.command, (e.args[0] as { fsPath: string }).fsPath, (e.args[1] as { fsPath: string }).fsPath]),
    [
      ['vscode.diff', '/ws/x.mrl.json', '/ws/y.mrl.json'],
      ['vscode.diff', '/ws/x.mrl.json', '/ws/y.mrl.json'],
      ['vscode.diff', '/ws/x.mrl.json', '/ws/y.mrl.json'],
    ],
  );
  assert.deepEqual(calls, [
    'diff file:x.mrl.json,file:y.mrl.json',
    'diff file:x.mrl.json,file:y.mrl.json',
    'diff file:x.mrl.json,file:y.mrl.json',
  ]);
  assert.equal(vs.state.picks.length, 0);
});

test('deleteRun / diffConfigs with ids that are not runs say so', async () => {
  await commands.deleteRun('nope');
  assert.deepEqual(vs.state.messages.at(-1), { level: 'warning', text: 'Matryoshka Lab: no run nope in the runs folder.' });
  await commands.diffConfigs('b', 'nope');
  assert.deepEqual(vs.state.messages.at(-1), { level: 'warning', text: 'Matryoshka Lab: no run nope in the runs folder.' });
  assert.deepEqual(calls, []);
});

test('deleteRun: a running run is refused; a dismissed confirmation deletes nothing', async () => {
  await commands.deleteRun(['a', 'b']);
  assert.deepEqual(vs.state.messages.at(-1), { level: 'warning', text: 'Matryoshka Lab: stop name-a before deleting.' });
  vs.state.modalAnswers.push(undefined);
  await commands.deleteRun('b');
  assert.deepEqual(vs.state.messages.at(-1), {
    level: 'warning',
    text: 'Delete run "name-b" (b)? Its folder /runs/b (metrics and checkpoints) is removed from disk.',
  });
  assert.deepEqual(calls, []);
});

test('openPanel / compareRuns / refresh / showLog', async () => {
  await commands.openPanel();
  await commands.openPanel(['b', 'c']);
  await commands.compareRuns(['b', 'c']);
  commands.refresh();
  commands.showLog();
  assert.deepEqual(calls, ['show a {"compare":false}', 'show b,c {"compare":true}', 'show b,c {"compare":true}', 'refresh', 'showLog']);
});

test('ui: messages carry the prefix; confirm; the trust gate', async () => {
  await ui.showError('boom');
  await ui.showWarning('careful');
  await ui.showInfo('fyi');
  assert.deepEqual(
    vs.state.messages.map((m) => m.text),
    ['Matryoshka Lab: boom', 'Matryoshka Lab: careful', 'Matryoshka Lab: fyi'],
  );
  vs.state.modalAnswers.push('Delete');
  assert.equal(await ui.confirm('Sure?', 'Delete'), true);
  assert.equal(await ui.confirm('Sure?', 'Delete'), false);
  assert.equal(ui.refuseIfUntrusted('Starting a run'), false);
  vs.state.trusted = false;
  vs.state.messages = [];
  assert.equal(ui.refuseIfUntrusted('Starting a run'), true);
  assert.match(vs.state.messages[0].text, /^Matryoshka Lab: Starting a run is disabled in Restricted Mode/);
  assert.equal(ui.runItem(run('a', 'running') as never).detail, 'a');
});

test('LaunchProgress: queued, then live progress, closes when the run leaves "running"; Cancel stops', async () => {
  vs.state.progress = [];
  runs = [];
  const stopped: string[] = [];
  const lp = new LaunchProgress(model as never, (id) => (stopped.push(id), true));
  const p = { runId: 'n', label: 'my run', started: false, cancelled: false, exited: undefined as unknown, wake: () => {} };
  const done = lp.track(p);
  await new Promise((r) => setImmediate(r));
  const rec = vs.state.progress[0];
  assert.equal(rec.title, 'Matryoshka Lab: my run');
  assert.match(rec.reports[0], /^queued \(\d+ runs? at a time\)$/);
  p.started = true;
  p.wake();
  assert.equal(rec.reports.at(-1), 'starting…');
  runs = [run('n', 'running', { step: 5, totalSteps: 10 })];
  changed.fire({});
  assert.ok(rec.reports.length >= 3);
  rec.cancel();
  assert.deepEqual(stopped, ['n']);
  assert.equal(rec.reports.at(-1), 'stopping…');
  runs = [run('n', 'stopped')];
  changed.fire({});
  await done;
  assert.equal(rec.done, true);
});

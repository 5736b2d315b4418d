// Issue 22 §2, Restricted Mode for Resume Run and for a sweep, through the commands a user runs (palette,
// tree, panel buttons all call them): refused with a message saying why, before any question is asked and
// with nothing spawned (the trainer here records every start in a file) nor written. The same calls in a
// trusted workspace do start it: the test can tell.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-restricted-'));
const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
const { Commands } = require('../../src/host/commands/commands') as typeof import('../../src/host/commands/commands');
type SweepLaunch = import('../../src/host/launch/launchTypes').SweepLaunch;

const ws = join(root, 'ws');
const ext = join(root, 'ext');
const starts = join(root, 'starts.log');
const runsDir = join(ws, '.mrl/runs');
// The "trainer": records that it was started, and with what, then exits (what it would train is not the point).
mkdirSync(join(ext, 'dist'), { recursive: true });
writeFileSync(
  join(ext, 'dist', 'trainer.js'),
  `require('fs').appendFileSync(${JSON.stringify(starts)}, process.argv.slice(2).join(' ') + '\\n');`,
);
mkdirSync(ws, { recursive: true });
writeFileSync(join(ws, 'sweep.mrl.json'), JSON.stringify({ name: 'sw', sweep: { method: 'grid', parameters: { seed: [1, 2] } } }));
const validate = async (u: { fsPath: string }) => {
  const raw = JSON.parse(readFileSync(u.fsPath, 'utf8'));
  return { ok: true, raw, config: raw, problems: [], sweepRuns: [1, 2].map((seed, index) => ({ index, params: { seed }, name: 'sw' })) };
};

let model: InstanceType<typeof RunsModel>;
let launcher: InstanceType<typeof Launcher>;
let commands: InstanceType<typeof Commands>;
const startsSeen = () => (existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').filter(Boolean) : []);

beforeEach(() => {
  rmSync(starts, { force: true });
  rmSync(runsDir, { recursive: true, force: true });
  // A run that stopped with a checkpoint: what Resume Run continues.
  const run = join(runsDir, 'stopped-run');
  mkdirSync(join(run, 'checkpoints', 'step-2'), { recursive: true });
  writeFileSync(join(run, 'checkpoints', 'step-2', 'state.json'), '{"step": 2, "epoch": 0, "batchInEpoch": 2}');
  writeFileSync(join(run, 'config.json'), '{}');
  writeFileSync(
    join(run, 'run.json'),
    JSON.stringify({
      id: 'stopped-run',
      name: 'stopped',
      status: 'stopped',
      pid: null,
      startedAt: '',
      endedAt: '',
      backend: 'cpu',
      step: 2,
    }),
  );
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.settings = { maxConcurrentRuns: 2 };
  vs.state.messages = [];
  vs.state.modalAnswers = [];
  vs.state.trusted = false;
  launcher?.dispose();
  model?.dispose();
  model = new RunsModel();
  launcher = new Launcher(ext, model, { appendLine() {}, show() {} } as never, validate as never, () => {});
  commands = new Commands(model, launcher, { show() {} } as never, {} as never, ext);
});
after(() => {
  launcher.dispose();
  model.dispose();
  vs.state.trusted = true;
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const until = async (what: string, f: () => boolean) => {
  for (const end = Date.now() + 120_000; !f(); await new Promise((r) => setTimeout(r, 20)))
    assert.ok(Date.now() < end, `hang guard: ${what}`);
};

test('Resume Run in Restricted Mode: refused with the reason, nothing spawned, the run folder untouched; trusted: it starts', async () => {
  const runJson = join(runsDir, 'stopped-run', 'run.json');
  const before = readFileSync(runJson, 'utf8');
  assert.equal(await commands.resumeRun('stopped-run'), false);
  assert.equal(vs.state.messages.length, 1);
  assert.equal(vs.state.messages[0].level, 'warning');
  assert.match(vs.state.messages[0].text, /^Matryoshka Lab: Resuming a run is disabled in Restricted Mode — training runs code/);
  assert.deepEqual(startsSeen(), [], 'no trainer started');
  assert.equal(existsSync(join(runsDir, '.logs')), false, 'no output log opened');
  assert.equal(readFileSync(runJson, 'utf8'), before);
  // The same call, trusted: the trainer is spawned with --resume (so the refusal above was the trust gate).
  vs.state.trusted = true;
  assert.equal(await commands.resumeRun('stopped-run'), true);
  await until('the resume spawned', () => startsSeen().length === 1);
  assert.match(startsSeen()[0], new RegExp(`--resume ${join(runsDir, 'stopped-run')}`));
});

test('a sweep in Restricted Mode: refused before the question "Start the sweep?", nothing queued or spawned; trusted: it runs', async () => {
  for (const opts of [undefined, { confirm: true }]) {
    vs.state.messages = [];
    vs.state.modalAnswers = ['Queue 2 Runs'];
    assert.equal(await commands.startRun(join(ws, 'sweep.mrl.json'), opts), undefined);
    assert.deepEqual(
      vs.state.messages.map((m) => m.level),
      ['warning'],
      'one message, and no modal question',
    );
    assert.match(vs.state.messages[0].text, /^Matryoshka Lab: Starting a run is disabled in Restricted Mode/);
    assert.deepEqual(vs.state.modalAnswers, ['Queue 2 Runs'], 'the sweep question was never asked');
  }
  assert.deepEqual(launcher.activeSweeps(), []);
  assert.deepEqual(startsSeen(), []);
  assert.deepEqual(
    readdirSync(runsDir).filter((n) => n !== 'stopped-run'),
    [],
    'no run folder, no output log',
  );
  // Stop Sweep needs no trust (it only stops): with nothing running it says so and does nothing.
  assert.equal(await commands.stopSweep(), undefined);
  // Trusted, the same command queues both runs (each spawned with its sweep index).
  vs.state.trusted = true;
  const r = (await commands.startRun(join(ws, 'sweep.mrl.json'), { confirm: true })) as SweepLaunch;
  assert.equal(r.runIds.length, 2);
  await until('both sweep runs spawned', () => startsSeen().length === 2);
  assert.deepEqual(
    startsSeen()
      .map((l) => /--sweep-index (\d)/.exec(l)?.[1])
      .sort(),
    ['0', '1'],
  );
});

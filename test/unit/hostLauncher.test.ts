// The Launcher over a fake trainer (same CLI and run-folder contract, ~20 steps, honours SIGTERM):
// max concurrent runs queue, stop, progress, Restricted Mode — with a fake `vscode` module.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

useFakeVscode(); // for the whole file

const root = mkdtempSync(join(tmpdir(), 'mrl-launcher-'));
after(() => rmSync(root, { recursive: true, force: true }));

// The fake trainer: `--config <f> --out <dir>` or `--resume <dir>`; writes run.json atomically.
const FAKE_TRAINER = String.raw`
const fs = require('fs'), path = require('path');
const a = process.argv.slice(2); const arg = (k) => a[a.indexOf(k) + 1];
const dir = a.includes('--resume') ? arg('--resume') : arg('--out');
fs.mkdirSync(dir, { recursive: true });
const cfg = a.includes('--config') ? JSON.parse(fs.readFileSync(arg('--config'), 'utf8')) : JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
if (a.includes('--config')) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
const startedAt = new Date().toISOString();
const info = (status, step) => { const t = path.join(dir, 'run.json.tmp'); fs.writeFileSync(t, JSON.stringify({ id: path.basename(dir), name: cfg.name, status, pid: process.pid, startedAt, endedAt: status === 'running' ? null : new Date().toISOString(), backend: 'fake', step, totalSteps: cfg.steps, argv: a })); fs.renameSync(t, path.join(dir, 'run.json')); };
let step = 0; info('running', 0);
process.on('SIGTERM', () => { info('stopped', step); process.exit(0); });
const timer = setInterval(() => { step++; fs.appendFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify({ step, epoch: 0, time: step / 10, split: 'train', values: { loss: 1 / step } }) + '\n'); info('running', step); if (step >= cfg.steps) { clearInterval(timer); info('completed', step); } }, 50);
`;

let poke = () => {};
const until = async (what: string, f: () => boolean, ms = 120_000) => {
  const end = Date.now() + ms;
  // No file watcher in the fake: refresh the model as its watcher events would.
  while ((poke(), !f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('queue (max 1 concurrent), stop, progress; Restricted Mode refuses', { timeout: 300_000 }, async () => {
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
  const ws = join(root, 'ws');
  const ext = join(root, 'ext');
  mkdirSync(join(ext, 'dist'), { recursive: true });
  writeFileSync(join(ext, 'dist', 'trainer.js'), FAKE_TRAINER);
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'a.mrl.json'), JSON.stringify({ name: 'A', steps: 1000 }));
  writeFileSync(join(ws, 'b.mrl.json'), JSON.stringify({ name: 'B', steps: 10 }));
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.settings = { maxConcurrentRuns: 1, defaultBackend: 'cpu' };

  const model = new RunsModel();
  const lines: string[] = [];
  const out = { appendLine: (s: string) => lines.push(s), show() {} } as unknown as import('vscode').OutputChannel;
  const launched: string[] = [];
  const launcher = new Launcher(
    ext,
    model,
    out,
    async (u) => ({ ok: true, raw: JSON.parse(readFileSync(u.fsPath, 'utf8')), problems: [] }),
    (id) => launched.push(id),
  );
  poke = () => void model.refresh();
  const runsDir = join(ws, '.mrl/runs');
  const info = (id: string) => JSON.parse(readFileSync(join(runsDir, id, 'run.json'), 'utf8'));
  try {
    const a = (await launcher.start(vs.Uri.file(join(ws, 'a.mrl.json')) as never)) as string;
    const b = (await launcher.start(vs.Uri.file(join(ws, 'b.mrl.json')) as never)) as string;
    assert.match(a, /^\d{8}-\d{6}-a-[0-9a-f]{4}$/);
    assert.deepEqual(launched, [a], 'B waits: one run at a time');
    // Running per its own run.json (a folder with config.json alone also reads as running, for a grace).
    await until('A running', () => model.get(a)?.status === 'running' && typeof model.get(a)?.info.pid === 'number');
    assert.deepEqual(
      vs.state.progress.find((p) => p.title.endsWith(': B'))?.reports,
      ['queued (1 run at a time)'],
      JSON.stringify(vs.state.progress),
    );
    assert.ok(!vs.state.progress.find((p) => p.title.endsWith(': A'))?.reports.some((r) => /queued/.test(r)));
    // The backend setting is passed because the config does not choose one.
    assert.deepEqual(info(a).argv.slice(-2), ['--backend', 'cpu']);
    assert.equal(readdirSync(runsDir).filter((d) => !d.startsWith('.')).length, 1);

    // Cancelling A's notification stops it (SIGTERM → the trainer writes "stopped"); then B starts.
    vs.state.progress.find((p) => p.title.endsWith(': A'))!.cancel();
    await until('A stopped', () => model.get(a)?.status === 'stopped');
    await until('B completed', () => model.get(b)?.status === 'completed');
    assert.ok(Date.parse(info(b).startedAt) >= Date.parse(info(a).endedAt), 'B started after A ended');
    await until('progress closed', () => vs.state.progress.every((p) => p.done));
    assert.ok(lines.some((l) => l.includes(a) && /SIGTERM/.test(l)));

    // Restricted Mode: nothing launched, and the user is told why.
    vs.state.trusted = false;
    assert.equal(await launcher.start(vs.Uri.file(join(ws, 'b.mrl.json')) as never), undefined);
    assert.match(vs.state.messages.at(-1)!.text, /disabled in Restricted Mode/);
  } finally {
    vs.state.trusted = true;
    launcher.dispose();
    model.dispose();
  }
});

// Stale and dead runs in the runs folder (a cloned repo, a crashed trainer) never count toward
// maxConcurrentRuns: Start Run launches at once instead of queueing for ever.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-stale-launch-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

// Writes run.json (completed) and exits.
const TRAINER = String.raw`
const fs = require('fs'), path = require('path');
const a = process.argv.slice(2); const dir = a[a.indexOf('--out') + 1];
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'config.json'), '{}');
fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ id: path.basename(dir), name: 'n', status: 'completed', pid: null, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), backend: 'fake' }));
`;

test('a stale folder (config.json, no run.json) and a dead-pid run do not hold the launch queue', { timeout: 30000 }, async () => {
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
  const ws = join(root, 'ws');
  const ext = join(root, 'ext');
  mkdirSync(join(ext, 'dist'), { recursive: true });
  writeFileSync(join(ext, 'dist', 'trainer.js'), TRAINER);
  const runs = join(ws, '.mrl/runs');
  const half = join(runs, '20260101-000000-half-0000');
  mkdirSync(half, { recursive: true });
  writeFileSync(join(half, 'config.json'), JSON.stringify({ name: 'half' }));
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(join(half, 'config.json'), old, old);
  utimesSync(half, old, old);
  const dead = join(runs, '20260101-000000-dead-0000');
  mkdirSync(dead, { recursive: true });
  writeFileSync(
    join(dead, 'run.json'),
    JSON.stringify({ id: 'x', name: 'dead', status: 'running', pid: 999_999, startedAt: '', endedAt: null, backend: 'cpu' }),
  );
  writeFileSync(join(ws, 'a.mrl.json'), JSON.stringify({ name: 'A' }));
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.settings = { maxConcurrentRuns: 1, defaultBackend: 'cpu' };
  vs.state.trusted = true;
  const model = new RunsModel();
  const out = { appendLine() {}, show() {} } as unknown as import('vscode').OutputChannel;
  const launched: string[] = [];
  const launcher = new Launcher(
    ext,
    model,
    out,
    async (u) => ({ ok: true, raw: JSON.parse(readFileSync(u.fsPath, 'utf8')), problems: [] }),
    (id) => launched.push(id),
  );
  try {
    assert.equal(model.get('20260101-000000-half-0000')!.status, 'failed');
    assert.match(model.get('20260101-000000-half-0000')!.reason!, /stale: no run\.json/);
    assert.equal(model.get('20260101-000000-dead-0000')!.status, 'failed');
    assert.deepEqual(model.live(), []);
    const id = await launcher.start(vs.Uri.file(join(ws, 'a.mrl.json')) as never);
    assert.deepEqual(launched, [id], 'launched at once, not queued behind the stale runs');
  } finally {
    launcher.dispose();
    model.dispose();
  }
});

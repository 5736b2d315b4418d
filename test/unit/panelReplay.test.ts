// The panel host with large runs: replays go out in slices (one per tick) with live lines queued after
// them, and a run whose backlog is still being read is not streamed line by line but replayed once read.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-replay-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const line = (step: number) => JSON.stringify({ step, epoch: 0, time: step, split: 'train', values: { loss: 1 / step } }) + '\n';
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
const lastIndex = <T>(a: T[], f: (x: T) => boolean) => {
  for (let i = a.length - 1; i >= 0; i--) if (f(a[i])) return i;
  return -1;
};
const tick = () => new Promise((r) => setTimeout(r, 0));
const stepsOf = (posted: { type: string; runId: string; jsonl?: string; lines: { step: number }[] }[], id: string) =>
  posted
    .filter((m) => m.type === 'metrics' && m.runId === id)
    .flatMap((m) => [...m.lines.map((l) => l.step), ...(m.jsonl ? m.jsonl.split('\n').map((l) => JSON.parse(l).step as number) : [])]);

test('replay in slices of REPLAY_SLICE events; live lines that arrive meanwhile follow the replay', async (t) => {
  const trainer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'fake-trainer']);
  t.after(() => trainer.kill('SIGKILL'));
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel, REPLAY_SLICE } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  const ws = join(root, 'a');
  const dir = join(ws, '.mrl/runs/live');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: 'live',
      name: 'live',
      status: 'running',
      pid: trainer.pid,
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: null,
      backend: 'cpu',
    }),
  );
  writeFileSync(join(dir, 'config.json'), '{}');
  const n = Math.floor(REPLAY_SLICE * 2.5);
  writeFileSync(join(dir, 'metrics.jsonl'), lines(1, n));
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.panels.length = 0;
  const model = new RunsModel();
  while (model.get('live')!.bytesRead! < statSync(join(dir, 'metrics.jsonl')).size) await tick();
  const out = { appendLine() {} } as unknown as import('vscode').OutputChannel;
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, out, () => {}));
  try {
    panel.show(['live']);
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });
    const first = p.posted.filter((m) => m.type === 'metrics');
    assert.equal(first.length, 1, 'one slice now, the rest on later ticks');
    assert.equal(first[0].reset, true);
    assert.equal(first[0].jsonl.split('\n').length, REPLAY_SLICE);
    // A live append while the replay is in flight.
    appendFileSync(join(dir, 'metrics.jsonl'), line(n + 1));
    model.refresh();
    // Wait for the state (the live line went out: it follows the last slice), not for a number of ticks.
    for (const end = Date.now() + 60_000; !stepsOf(p.posted, 'live').includes(n + 1); await tick())
      assert.ok(Date.now() < end, 'the live line was never sent');
    const ms = p.posted.filter((m) => m.type === 'metrics');
    assert.equal(ms.length, 4, '3 replay slices + the queued live line');
    assert.deepEqual(
      ms.slice(1).map((m) => m.reset),
      [undefined, undefined, undefined],
    );
    assert.deepEqual(
      stepsOf(p.posted, 'live'),
      Array.from({ length: n + 1 }, (_, i) => i + 1),
      'in order, nothing lost or doubled',
    );
  } finally {
    panel.dispose();
    model.dispose();
  }
});

test('a backlog being read is not streamed slice by slice: one replay once it is read', async () => {
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  const { REFRESH_BYTES } = require('../../src/runs/store') as typeof import('../../src/runs/store');
  const ws = join(root, 'b');
  const dir = join(ws, '.mrl/runs/big');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: 'big',
      name: 'big',
      status: 'completed',
      pid: null,
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: null,
      backend: 'cpu',
    }),
  );
  writeFileSync(join(dir, 'config.json'), '{}');
  let text = '';
  let n = 0;
  while (text.length < REFRESH_BYTES * 6) text += line(++n);
  writeFileSync(join(dir, 'metrics.jsonl'), text);
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.panels.length = 0;
  const out = { appendLine() {} } as unknown as import('vscode').OutputChannel;
  const model = new RunsModel();
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, out, () => {}));
  try {
    assert.ok(model.get('big')!.bytesRead! < text.length, 'still reading');
    panel.show(['big']);
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });
    while (model.get('big')!.bytesRead! < text.length) await tick();
    for (const end = Date.now() + 60_000; stepsOf(p.posted.slice(lastIndex(p.posted, (m) => m.reset)), 'big').length < n; await tick())
      assert.ok(Date.now() < end, 'the replay never completed');
    const ms = p.posted.filter((m) => m.type === 'metrics');
    // No message carried plain `lines` of a slice: only replays (jsonl), the last one complete.
    assert.ok(
      ms.every((m) => m.lines.length === 0),
      'no slice streamed as lines',
    );
    const lastReset = lastIndex(p.posted, (m) => m.type === 'metrics' && m.reset);
    // Nothing of it is sent while it is being read (no partial replay to redo): one replay, once read.
    assert.equal(p.posted.filter((m) => m.type === 'metrics' && m.reset).length, 1, 'one replay, once the backlog is read');
    assert.deepEqual(
      stepsOf(p.posted.slice(lastReset), 'big'),
      Array.from({ length: n }, (_, i) => i + 1),
    );
  } finally {
    panel.dispose();
    model.dispose();
  }
});

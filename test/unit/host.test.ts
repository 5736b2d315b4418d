// The host's panel routing and runs model over a real runs folder, with a fake `vscode` module.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

// Resolve `vscode` to the fake for everything loaded below (the host modules are CommonJS under tsx).
useFakeVscode(); // for the whole file

const root = mkdtempSync(join(tmpdir(), 'mrl-host-'));
after(() => rmSync(root, { recursive: true, force: true }));

const line = (step: number, loss: number) => JSON.stringify({ step, epoch: 0, time: step, split: 'train', values: { loss } }) + '\n';

test('panel: ready → init + replay; appended lines stream; requestRun replays; bad messages dropped', async (t) => {
  // A live "trainer" process for the running run (liveness checks the pid and its command line).
  const trainer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'fake-trainer']);
  t.after(() => trainer.kill('SIGKILL'));
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(root) }];
  const runs = join(root, '.mrl/runs');
  const mk = (id: string, status: string, startedAt: string, metrics: string) => {
    mkdirSync(join(runs, id), { recursive: true });
    writeFileSync(
      join(runs, id, 'run.json'),
      JSON.stringify({ id, name: id, status, pid: status === 'running' ? trainer.pid : null, startedAt, endedAt: null, backend: 'cpu' }),
    );
    writeFileSync(join(runs, id, 'config.json'), JSON.stringify({ name: id, training: { batchSize: 4 } }));
    writeFileSync(join(runs, id, 'metrics.jsonl'), metrics);
  };
  mk('old', 'completed', '2026-01-01T00:00:00Z', line(1, 2) + line(2, 1));
  mk('live', 'running', '2026-01-02T00:00:00Z', line(1, 3));

  const model = new RunsModel();
  const logged: string[] = [];
  const out = { appendLine: (s: string) => logged.push(s) } as unknown as import('vscode').OutputChannel;
  const diffs: string[][] = [];
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, out, (a, b) => diffs.push([a, b])));
  try {
    assert.deepEqual(
      model.list().map((r) => r.id),
      ['live', 'old'],
    );
    panel.show(['old']);
    const p = vs.state.panels[0];
    assert.ok(p, 'a webview panel was created');
    assert.match(p.webview.html, /Content-Security-Policy/);
    assert.equal(p.posted.length, 0, 'nothing is posted before the webview says ready');

    p.send({ type: 'ready', state: null });
    const init = p.posted.find((m) => m.type === 'init');
    assert.deepEqual(init.showRuns, ['old']);
    assert.deepEqual(
      init.runs.map((r: { id: string }) => r.id),
      ['live', 'old'],
    );
    assert.equal(init.runs[1].config.training.batchSize, 4);
    const replay = p.posted.find((m) => m.type === 'metrics' && m.runId === 'old');
    assert.equal(replay.reset, true);
    // Replays travel as jsonl text (one string instead of many objects); the panel parses it.
    assert.equal(replay.jsonl.split('\n').length, 2);

    // Appends to a run the panel does not show are not sent; after requestRun they stream.
    p.posted.length = 0;
    appendFileSync(join(runs, 'live', 'metrics.jsonl'), line(2, 2.5));
    model.refresh();
    assert.equal(p.posted.filter((m) => m.type === 'metrics').length, 0);
    p.send({ type: 'requestRun', runId: 'live' });
    const replayed = p.posted.at(-1);
    assert.deepEqual({ ...replayed, jsonl: undefined }, { type: 'metrics', runId: 'live', lines: [], jsonl: undefined, reset: true });
    assert.deepEqual(
      replayed.jsonl.split('\n').map((l: string) => JSON.parse(l)),
      [JSON.parse(line(1, 3)), JSON.parse(line(2, 2.5))],
    );
    appendFileSync(join(runs, 'live', 'metrics.jsonl'), line(3, 2) + '{"step":4,"ep');
    model.refresh();
    assert.deepEqual(p.posted.at(-1), { type: 'metrics', runId: 'live', lines: [JSON.parse(line(3, 2))] });

    // Status change → runInfo; a new run folder → runs.
    writeFileSync(
      join(runs, 'live', 'run.json'),
      JSON.stringify({
        id: 'live',
        name: 'live',
        status: 'stopped',
        pid: null,
        startedAt: '2026-01-02T00:00:00Z',
        endedAt: null,
        backend: 'cpu',
      }),
    );
    model.refresh();
    assert.ok(p.posted.some((m) => m.type === 'runInfo' && m.run.id === 'live' && m.run.status === 'stopped'));
    mk('new', 'completed', '2026-01-03T00:00:00Z', '');
    model.refresh();
    assert.deepEqual(
      p.posted
        .filter((m) => m.type === 'runs')
        .at(-1)
        .runs.map((r: { id: string }) => r.id),
      ['new', 'live', 'old'],
    );

    // Webview → host: diff request routed; an invalid message is logged and dropped.
    p.send({ type: 'openConfigDiff', runIds: ['old', 'live'] });
    assert.deepEqual(diffs, [['old', 'live']]);
    p.send({ type: 'openConfigDiff', runIds: ['only-one'] });
    assert.equal(diffs.length, 1);
    assert.ok(logged.some((l) => /dropped an invalid message/.test(l)));

    // Reload: the webview comes back with its persisted state; the host replays those runs.
    p.posted.length = 0;
    p.send({ type: 'ready', state: { version: 1, shownRunIds: ['live', 'gone'] } });
    assert.deepEqual(p.posted.find((m) => m.type === 'init').showRuns, ['live']);
    assert.ok(p.posted.some((m) => m.type === 'metrics' && m.runId === 'live' && m.reset));
  } finally {
    panel.dispose();
    model.dispose();
  }
});

test('status shown for a run whose trainer died: failed, with the reason', () => {
  const { panelRunOf } = require('../../src/host/panel/panelRun') as typeof import('../../src/host/panel/panelRun');
  const { RunSeries } = require('../../src/runs/series') as typeof import('../../src/runs/series');
  const s = new RunSeries();
  const r = panelRunOf({
    id: 'x',
    dir: '/x',
    status: 'failed',
    died: true,
    series: s,
    summary: s.summary(),
    info: { id: 'x', name: 'x', status: 'running', pid: 999999, startedAt: '', endedAt: null, backend: 'cpu' },
    config: () => null,
  });
  assert.equal(r.status, 'failed');
  assert.match(r.error ?? '', /process is gone/);
});

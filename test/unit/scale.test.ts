// A workspace of 500 finished runs (bench/workspaceGen.ts, ~14 MB): the store lists every run with its
// status before reading metrics, reads metrics behind it in bounded passes (newest first, asked-for runs
// first), and the runs tree groups them (running, sweeps, status groups newest first, "Show more…").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateWorkspace } from '../../bench/workspaceGen';
import { layoutRuns, moreLabel, PAGE_SIZE, sweepLabel } from '../../src/host/runsView/treeModel';
import { MIN_CHUNK } from '../../src/runs/tail';
import { REFRESH_BYTES, RunStore } from '../../src/runs/store';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-scale-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const big = generateWorkspace(join(root, 'big'), { runs: 500, sweeps: 3, sweepSize: 12, stopped: 0.05, failed: 0.03 });
const bytesOf = (s: RunStore) => s.list().reduce((a, r) => a + (r.bytesRead ?? 0), 0);

describe('RunStore at scale', () => {
  test('the first refresh lists all 500 runs with their statuses and reads a bounded slice of metrics', () => {
    const s = new RunStore(big.runsDir);
    const r = s.refresh();
    assert.equal(r.added.length, 500);
    assert.deepEqual(
      s.list().map((x) => x.id),
      big.runs.map((x) => x.id),
      'newest first',
    );
    for (const g of big.runs) assert.equal(s.get(g.id)?.status, g.status, g.id);
    const read = bytesOf(s);
    assert.ok(read > 0 && read <= REFRESH_BYTES + MIN_CHUNK, `read ${read} bytes in the first refresh`);
    assert.ok(read < big.bytes / 10);
    // Newest first: the runs read are a prefix of the list.
    const readIds = s.list().map((x) => (x.bytesRead ?? 0) > 0);
    assert.ok(readIds.indexOf(false) > 0 && !readIds.slice(readIds.indexOf(false)).includes(true), 'read newest first');
    assert.equal(r.pending.length, s.list().filter((x) => !s.isRead(x.id)).length, 'every unread run is pending');
  });

  test('drain() completes every summary in bounded passes, without listing the folder again', () => {
    const s = new RunStore(big.runsDir);
    let r = s.refresh();
    // A folder added now is not seen by drain (no readdir), only by the next refresh.
    const late = join(big.runsDir, '20300101-000000-late-0000');
    mkdirSync(late);
    writeFileSync(
      join(late, 'run.json'),
      JSON.stringify({
        id: 'late',
        name: 'late',
        status: 'completed',
        pid: null,
        startedAt: '2030-01-01T00:00:00Z',
        endedAt: null,
        backend: 'cpu',
      }),
    );
    let passes = 0;
    let before = bytesOf(s);
    while (r.pending.length) {
      r = s.drain();
      const now = bytesOf(s);
      assert.ok(now - before <= REFRESH_BYTES + MIN_CHUNK, `one pass read ${now - before} bytes`);
      assert.ok(now > before || r.pending.length === 0, 'each pass makes progress');
      before = now;
      passes++;
      assert.ok(passes < 500);
    }
    assert.equal(s.list().length, 500, 'drain did not list the folder');
    for (const g of big.runs) {
      const x = s.get(g.id)!;
      assert.equal(x.bytesRead, g.metricsBytes, g.id);
      assert.ok(s.isRead(g.id));
      // The latest train loss, as written in the file (read here line by line, not by the store).
      const { readFileSync } = require('node:fs') as typeof import('node:fs');
      const trains = readFileSync(join(big.runsDir, g.id, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((e) => e.split === 'train');
      assert.ok(trains.length > 0 && Number.isFinite(trains.at(-1).values.loss), g.id);
      assert.equal(x.summary.loss, trains.at(-1).values.loss, g.id);
      assert.equal(x.summary.best?.metric, 'ndcg@10');
      assert.equal(x.summary.best?.dim, '64');
    }
    assert.equal(s.refresh().added.length, 1);
    rmSync(late, { recursive: true });
  });

  test('prioritize: the runs asked for are read in the next pass, before newer ones', () => {
    const s = new RunStore(big.runsDir);
    s.refresh();
    const oldest = big.runs.slice(-3).map((x) => x.id);
    assert.ok(oldest.every((id) => !s.isRead(id)));
    s.prioritize(oldest);
    s.drain();
    assert.ok(
      oldest.every((id) => s.isRead(id)),
      'read first',
    );
  });

  test('list() is sorted once per change, not per call', () => {
    const s = new RunStore(big.runsDir);
    s.refresh();
    const a = s.list();
    const b = s.list();
    assert.notEqual(a, b, 'a fresh array each call (callers may change it)');
    assert.deepEqual(a, b);
    // 1000 sorts of 500 runs (Date.parse per comparison) took seconds: count sorts, not milliseconds.
    const sort = Array.prototype.sort;
    let sorts = 0;
    Array.prototype.sort = function (this: unknown[], ...args: Parameters<typeof sort>) {
      sorts++;
      return sort.apply(this, args);
    } as typeof sort;
    try {
      for (let i = 0; i < 1000; i++) s.list();
    } finally {
      Array.prototype.sort = sort;
    }
    assert.equal(sorts, 0, 'no sort while nothing changed');
  });
});

describe('runs tree grouping', () => {
  const run = (id: string, status: 'running' | 'completed' | 'stopped' | 'failed', sweep?: string) => ({
    id,
    status,
    info: { name: sweep ? 'lr-grid' : 'q', ...(sweep ? { sweep: { id: sweep } } : {}) },
  });

  test('layout: sweeps under one node each (a running one first), the rest by status, order kept', () => {
    const l = layoutRuns([
      run('r9', 'completed', 'A'),
      run('r8', 'running'),
      run('r7', 'completed'),
      run('r6', 'running', 'B'),
      run('r5', 'completed', 'B'),
      run('r4', 'failed'),
      run('r3', 'completed', 'A'),
      run('r2', 'stopped', 'A'),
      run('r1', 'completed'),
    ]);
    assert.deepEqual(
      l.groups.map((g) => [g.status, g.runs.map((r) => r.id)]),
      [
        ['running', ['r8']],
        ['completed', ['r7', 'r1']],
        ['failed', ['r4']],
      ],
    );
    assert.deepEqual(
      l.sweeps.map((s) => [s.id, s.runs.map((r) => r.id)]),
      [
        ['B', ['r6', 'r5']],
        ['A', ['r9', 'r3', 'r2']],
      ],
    );
    assert.equal(sweepLabel(l.sweeps[0]), 'sweep lr-grid · 2 runs (1 completed, 1 running)');
    assert.equal(sweepLabel(l.sweeps[1]), 'sweep lr-grid · 3 runs (2 completed, 1 stopped)');
    assert.equal(moreLabel(50, 452), 'Show more… (50 of 452)');
  });

  test('the tree over 500 runs: running first, sweeps, status groups newest first, Show more, getParent', async (t) => {
    const trainer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'fake-trainer']);
    t.after(() => trainer.kill('SIGKILL'));
    const ws = join(root, 'tree');
    const g = generateWorkspace(ws, { runs: 200, sweeps: 2, sweepSize: 12, stopped: 0.05 });
    // One live run, newer than the rest, outside any sweep.
    const liveDir = join(g.runsDir, '20301231-000000-live-0000');
    mkdirSync(liveDir);
    writeFileSync(
      join(liveDir, 'run.json'),
      JSON.stringify({
        id: 'x',
        name: 'live',
        status: 'running',
        pid: trainer.pid,
        startedAt: '2030-12-31T00:00:00Z',
        endedAt: null,
        backend: 'cpu',
      }),
    );
    writeFileSync(join(liveDir, 'config.json'), '{}');

    const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
    const { RunsTreeProvider, SHOW_MORE_COMMAND } =
      require('../../src/host/runsView/tree') as typeof import('../../src/host/runsView/tree');
    type Node = import('../../src/host/runsView/tree').TreeNode;
    const model = new RunsModel();
    const tree = new RunsTreeProvider(model);
    const fired: (Node | Node[] | undefined)[] = [];
    tree.onDidChangeTreeData((e) => void fired.push(e));
    try {
      // A row on screen is read before the rest of the backlog (here the oldest run, read last otherwise):
      // by the very next pass over the backlog, while the run listed just above it is still unread.
      const oldest = g.runs.at(-1)!.id;
      const nextOldest = g.runs.at(-2)!.id;
      assert.ok(!model.isRead(oldest));
      const nextPass = new Promise<{ oldest: boolean; nextOldest: boolean }>((resolve) => {
        const sub = model.onDidChange(() => {
          sub.dispose();
          resolve({ oldest: model.isRead(oldest), nextOldest: model.isRead(nextOldest) });
        });
      });
      tree.getTreeItem(tree.nodeFor(oldest));
      assert.deepEqual(await nextPass, { oldest: true, nextOldest: false }, 'read in the next pass, ahead of the newer runs');

      const top = tree.getChildren();
      const labels = top.map((n) => tree.getTreeItem(n).label);
      const completedLoose = g.runs.filter((r) => r.status === 'completed' && !r.sweep);
      const stoppedLoose = g.runs.filter((r) => r.status === 'stopped' && !r.sweep);
      assert.deepEqual(labels, [
        'Running (1)',
        ...g.sweeps.map((s) =>
          sweepLabel({
            name: s.name,
            runs: s.runIds,
            counts: {
              completed: g.runs.filter((r) => s.runIds.includes(r.id) && r.status === 'completed').length,
              stopped: g.runs.filter((r) => s.runIds.includes(r.id) && r.status === 'stopped').length,
            },
          }),
        ),
        `Completed (${completedLoose.length})`,
        ...(stoppedLoose.length ? [`Stopped (${stoppedLoose.length})`] : []),
      ]);
      const sweepItem = tree.getTreeItem(top[1]);
      assert.equal(sweepItem.contextValue, 'mrlSweep');
      assert.deepEqual(top[1], { kind: 'sweep', sweepId: g.sweeps[0].id });

      // Completed: the newest PAGE_SIZE, then "Show more…", whose command raises the limit.
      const completed = top.find((n) => n.kind === 'group' && n.status === 'completed')!;
      let kids = tree.getChildren(completed);
      assert.equal(kids.length, PAGE_SIZE + 1);
      assert.deepEqual(
        kids.slice(0, PAGE_SIZE).map((n) => (n as { id: string }).id),
        completedLoose.slice(0, PAGE_SIZE).map((r) => r.id),
      );
      const more = kids[PAGE_SIZE];
      const moreItem = tree.getTreeItem(more);
      assert.equal(moreItem.label, moreLabel(PAGE_SIZE, completedLoose.length));
      assert.equal(moreItem.contextValue, 'mrlMore');
      assert.equal(moreItem.command?.command, SHOW_MORE_COMMAND);
      assert.equal(moreItem.command?.arguments?.[0], more);
      fired.length = 0;
      tree.showMore(more);
      assert.deepEqual(fired, [completed], 'only the group refreshes');
      kids = tree.getChildren(completed);
      assert.equal(kids.length, Math.min(2 * PAGE_SIZE, completedLoose.length) + (completedLoose.length > 2 * PAGE_SIZE ? 1 : 0));
      assert.equal(kids.at(-1), more, 'the same "Show more…" node');
      assert.equal(tree.getTreeItem(more).label, moreLabel(2 * PAGE_SIZE, completedLoose.length));

      // getParent of every node kind; a parent's children hold the node; nodes are stable objects.
      const sweepRuns = tree.getChildren(top[1]);
      assert.equal(sweepRuns.length, 12);
      for (const n of [...kids, ...sweepRuns, ...tree.getChildren(top[0])]) {
        const p = tree.getParent(n);
        assert.ok(p, JSON.stringify(n));
        assert.ok(tree.getChildren(p).includes(n), JSON.stringify(n));
      }
      for (const n of top) assert.equal(tree.getParent(n), undefined);
      assert.equal(tree.getChildren()[1], top[1]);
      assert.equal(tree.getChildren(completed)[0], kids[0]);

      // Context values the menus match on are unchanged for runs.
      const stopped = g.runs.find((r) => r.status === 'stopped' && !r.sweep);
      if (stopped) assert.match(String(tree.getTreeItem(tree.nodeFor(stopped.id)).contextValue), /^mrlRun\.stopped/);
      assert.equal(tree.getTreeItem(kids[0]).contextValue, 'mrlRun.completed');
      assert.equal(tree.getTreeItem(tree.getChildren(top[0])[0]).contextValue, 'mrlRun.running');

      // Metrics read in the background refresh only the rows they change, never the whole tree.
      fired.length = 0;
      while (g.runs.some((r) => !model.isRead(r.id))) await new Promise((r) => setTimeout(r, 5));
      assert.ok(fired.length > 0);
      assert.ok(
        fired.every((e) => Array.isArray(e) && e.every((n) => n.kind === 'run')),
        'element refreshes only',
      );
      assert.match(String(tree.getTreeItem(kids[0]).description), /^loss [\d.]+ · ndcg@10@64 [\d.]+ · \d+d ago$/);

      // The runs called "quickstart" differ in their configs (learning rate, mini-batch), read in the
      // background after the rows were shown: then their rows lead with those values (rows refreshed, not the tree).
      const quick = kids.filter((n) => n.kind === 'run' && model.get(n.id)?.info.name === 'quickstart');
      assert.ok(quick.length > 10);
      // In the config's order: loss (mini-batch) before training (learning rate).
      const labelled = () => quick.every((n) => /^miniBatch=\d+ lr=\S+ · quickstart$/.test(String(tree.getTreeItem(n).label)));
      const deadline = Date.now() + 60_000;
      while (!labelled()) {
        if (Date.now() > deadline) assert.fail(`not labelled: ${quick.map((n) => tree.getTreeItem(n).label).join(', ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(
        fired.every((e) => Array.isArray(e)),
        'element refreshes only',
      );
      const first = quick.map((n) => String(tree.getTreeItem(n).label));
      assert.ok(new Set(first).size > 3, `the values tell them apart: ${[...new Set(first)].join(', ')}`);
    } finally {
      model.dispose();
    }
  });
});

test('Compare Runs right after activation on 50 unread runs: read on demand, each replayed once and whole', async () => {
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(join(root, 'big')) }];
  vs.state.panels.length = 0;
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  const model = new RunsModel();
  const out = { appendLine() {} } as unknown as import('vscode').OutputChannel;
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, out, () => {}));
  try {
    const ids = big.runs.slice(-50).map((r) => r.id);
    assert.ok(
      ids.every((id) => !model.isRead(id)),
      'the oldest runs are not read at activation',
    );
    panel.show(ids, { compare: true });
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });
    const replays = () => p.posted.filter((m) => m.type === 'metrics' && m.reset);
    // Read in one pass: the first pass over the backlog after the request reads all 50 and they are
    // replayed then (no replay waits for the background pace); the rest is left to the background.
    const firstPass = new Promise<{ read: number; replayed: number; restUnread: boolean }>((resolve) => {
      const sub = model.onDidChange(() => {
        sub.dispose();
        resolve({
          read: ids.filter((id) => model.isRead(id)).length,
          replayed: replays().length,
          restUnread: big.runs.slice(50, 400).some((r) => !model.isRead(r.id)),
        });
      });
    });
    assert.deepEqual(await firstPass, { read: ids.length, replayed: ids.length, restUnread: true });
    const got = replays();
    assert.deepEqual(got.map((m) => m.runId).sort(), [...ids].sort(), 'one replay per run');
    for (const m of got)
      assert.equal(m.jsonl.length + 1, big.runs.find((r) => r.id === m.runId)!.metricsBytes, `${m.runId}: the whole file`);
  } finally {
    panel.dispose();
    model.dispose();
  }
});

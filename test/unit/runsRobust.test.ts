// Issue 8, reader side: nothing in a runs folder (a huge metrics.jsonl, an unreadable folder, a folder
// without run.json, a dead pid) wedges the store or hides the other runs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MetricsTail } from '../../src/runs/tail';
import { readRunEntry, type RunEntry } from '../../src/runs/runDir';
import { RunSeries } from '../../src/runs/series';
import { RunStore } from '../../src/runs/store';
import type { MetricsEvent } from '../../src/protocol/runFolder';

const root = mkdtempSync(join(tmpdir(), 'mrl-robust-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

function makeRun(runsDir: string, id: string, info: Record<string, unknown> | null, metrics = '', startedAt = '2026-01-01T00:00:00Z') {
  const d = join(runsDir, id);
  mkdirSync(d, { recursive: true });
  if (info)
    writeFileSync(join(d, 'run.json'), JSON.stringify({ id, name: id, pid: null, startedAt, endedAt: null, backend: 'cpu', ...info }));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ name: id }));
  if (metrics) writeFileSync(join(d, 'metrics.jsonl'), metrics);
  return d;
}

/** `count` of the shortest valid metrics lines (~40 bytes each). */
function shortLines(count: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= count; i++) parts.push(`{"step":${i},"time":${i},"split":"train"}\n`);
  return parts.join('');
}

/** Refresh until no run has a backlog; returns the number of refreshes. */
function drain(store: RunStore, max = 10_000): number {
  for (let i = 1; i <= max; i++) if (store.refresh().pending.length === 0) return i;
  throw new Error('backlog never drained');
}

describe('huge metrics.jsonl', () => {
  test('a tail over 300k short lines (8 MiB chunks of >200k lines) reads them all, no RangeError', () => {
    const d = fresh();
    const f = join(d, 'metrics.jsonl');
    writeFileSync(f, shortLines(300_000));
    const t = new MetricsTail(f);
    const r = t.read();
    assert.equal(r.lines.length, 300_000);
    assert.equal(t.offset, statSync(f).size);
    assert.equal((r.lines.at(-1) as MetricsEvent).step, 300_000);
  });

  test('a run with a huge metrics.jsonl does not hide the runs listed after it', () => {
    const runs = fresh();
    // Newest first: "a-big" is listed (and read) before the others.
    makeRun(runs, 'a-big', { status: 'completed' }, shortLines(300_000), '2026-01-03T00:00:00Z');
    makeRun(runs, 'b', { status: 'completed' }, shortLines(3), '2026-01-02T00:00:00Z');
    makeRun(runs, 'c', { status: 'completed' }, '', '2026-01-01T00:00:00Z');
    // The default byte budget (no slicing in one refresh would be needed to show the bug: a whole drain).
    const store = new RunStore(runs, () => false, { bytesPerRefresh: Infinity });
    const res = store.refresh();
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['a-big', 'b', 'c'],
    );
    assert.deepEqual(res.pending, []);
    assert.equal(store.get('a-big')!.series.total, 300_000);
    assert.equal(store.get('b')!.series.total, 3);
    assert.equal(store.get('a-big')!.readError, undefined);
  });

  test('a backlog is read in byte-bounded slices; retained events stay bounded; summary stays exact', () => {
    const runs = fresh();
    const lines: string[] = [];
    for (let i = 1; i <= 60_000; i++) {
      lines.push(JSON.stringify({ step: i, epoch: 0, time: i, split: 'train', values: { loss: 1 / i } }));
      if (i % 100 === 0)
        lines.push(
          JSON.stringify({
            step: i,
            epoch: 0,
            time: i,
            split: 'eval',
            values: {},
            byDim: { '64': { 'ndcg@10': i === 3000 ? 0.99 : 0.5 }, '256': { 'ndcg@10': i === 1000 ? 0.97 : 0.6 } },
          }),
        );
    }
    const text = lines.join('\n') + '\n';
    makeRun(runs, 'big', { status: 'completed' }, text);
    makeRun(runs, 'small', { status: 'completed' }, shortLines(2));
    const budget = 256 * 1024;
    const store = new RunStore(runs, () => false, { bytesPerRefresh: budget, maxSeriesEvents: 4000 });
    const first = store.refresh();
    // Both runs are listed at once; the big one is still being read.
    assert.deepEqual(
      store
        .list()
        .map((r) => r.id)
        .sort(),
      ['big', 'small'],
    );
    assert.ok(first.pending.includes('big'));
    const slices = drain(store) + 1;
    const size = Buffer.byteLength(text);
    // Each refresh consumed at most the budget (plus less than one line): ceil(size / budget) slices at least.
    assert.ok(slices >= Math.ceil(size / (budget + 200)), `${slices} slices for ${size} bytes`);
    const big = store.get('big')!;
    assert.equal(big.series.total, 60_600);
    assert.ok(big.series.events.length <= 4000, `kept ${big.series.events.length}`);
    assert.ok(big.series.decimated);
    // Newest events are kept whole, in order; every eval event of the thinned part survives the first halvings.
    const steps = big.series.events.map((e) => e.step);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
    );
    assert.equal(steps.at(-1), 60_000);
    // Summary over everything read, not only the retained events.
    assert.equal(big.summary.loss, 1 / 60_000);
    assert.deepEqual(big.summary.best, { metric: 'ndcg@10', dim: '256', value: 0.97, step: 1000 });
    assert.equal(big.summary.events, 60_600);
    assert.equal(store.get('small')!.series.total, 2, 'the small run was read too (rotating order)');
  });

  test('RunSeries bounded: memory cap holds under a million pushes', () => {
    const s = new RunSeries(10_000);
    for (let i = 0; i < 1_000_000; i++) s.push([{ step: i, epoch: 0, time: i, split: 'train', values: { loss: i } }]);
    assert.ok(s.events.length <= 10_000);
    assert.equal(s.total, 1_000_000);
    assert.equal(s.events.at(-1)!.step, 999_999);
    assert.equal(s.summary().loss, 999_999);
  });
});

describe('one unreadable run folder never hides the others', () => {
  test('metrics.jsonl that is a directory: the error is shown on that run, the others list and read', () => {
    const runs = fresh();
    makeRun(runs, 'a', { status: 'completed' }, '', '2026-01-03T00:00:00Z');
    mkdirSync(join(runs, 'a', 'metrics.jsonl'));
    makeRun(runs, 'b', { status: 'completed' }, shortLines(5), '2026-01-02T00:00:00Z');
    makeRun(runs, 'c', { status: 'completed' }, shortLines(7), '2026-01-01T00:00:00Z');
    const store = new RunStore(runs, () => false);
    const res = store.refresh();
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['a', 'b', 'c'],
    );
    assert.match(store.get('a')!.readError ?? '', /EISDIR|directory/i);
    assert.equal(store.get('b')!.series.total, 5);
    assert.equal(store.get('c')!.series.total, 7);
    assert.deepEqual(res.added.sort(), ['a', 'b', 'c']);
    // Fixed on disk → the error goes away on the next refresh.
    rmSync(join(runs, 'a', 'metrics.jsonl'), { recursive: true });
    writeFileSync(join(runs, 'a', 'metrics.jsonl'), shortLines(2));
    const res2 = store.refresh();
    assert.equal(store.get('a')!.readError, undefined);
    assert.ok(res2.changed.includes('a'));
    assert.equal(store.get('a')!.series.total, 2);
  });

  test('a reader that throws for one folder: a failed stand-in for it, the others list; refreshRun too', () => {
    const runs = fresh();
    makeRun(runs, 'a', { status: 'completed' }, shortLines(1));
    makeRun(runs, 'b', { status: 'completed' }, shortLines(2));
    makeRun(runs, 'c', { status: 'completed' }, shortLines(3));
    let broken = true;
    const readEntry = (dir: string): RunEntry | null => {
      if (broken && dir.endsWith('b')) throw new Error('EACCES: permission denied');
      return readRunEntry(dir);
    };
    const store = new RunStore(runs, () => false, { readEntry });
    store.refresh();
    assert.deepEqual(
      store
        .list()
        .map((r) => r.id)
        .sort(),
      ['a', 'b', 'c'],
    );
    const b = store.get('b')!;
    assert.equal(b.status, 'failed');
    assert.match(b.readError!, /EACCES/);
    assert.match(b.reason!, /unreadable run folder/);
    assert.equal(store.get('c')!.series.total, 3);
    // refreshRun of a broken run keeps the error on it instead of throwing.
    assert.doesNotThrow(() => store.refreshRun('b'));
    broken = false;
    const res = store.refresh();
    assert.ok(res.changed.includes('b'));
    assert.equal(store.get('b')!.status, 'completed');
    assert.equal(store.get('b')!.readError, undefined);
    assert.equal(store.get('b')!.series.total, 2);
  });
});

describe('stale runs', () => {
  test('config.json without run.json: running for the grace, then failed ("stale: no run.json")', () => {
    const runs = fresh();
    const d = makeRun(runs, 'half', null);
    const last = Math.max(statSync(join(d, 'config.json')).mtimeMs, statSync(d).mtimeMs);
    let now = last + 10_000;
    const store = new RunStore(runs, () => false, { now: () => now, staleGraceMs: 30_000 });
    store.refresh();
    assert.equal(store.get('half')!.status, 'running');
    now = last + 31_000;
    const res = store.refresh();
    const r = store.get('half')!;
    assert.equal(r.status, 'failed');
    assert.match(r.reason!, /^stale: no run\.json/);
    assert.deepEqual(res.changed, ['half']);
    // Later refreshes do not report it changed again (the age in the reason is not a change).
    now += 5000;
    assert.deepEqual(store.refresh().changed, []);
    // A trainer that finally writes run.json brings it back.
    writeFileSync(
      join(d, 'run.json'),
      JSON.stringify({ id: 'half', name: 'half', status: 'completed', pid: null, startedAt: '', endedAt: null, backend: 'cpu' }),
    );
    store.refresh();
    assert.equal(store.get('half')!.status, 'completed');
    assert.equal(store.get('half')!.reason, undefined);
  });

  test('a torn run.json counts as missing: stale after the grace, measured from the last write', () => {
    const runs = fresh();
    const d = makeRun(runs, 'torn', null);
    writeFileSync(join(d, 'run.json'), '{"id": "torn", "sta');
    const old = new Date(Date.now() - 120_000);
    for (const f of [join(d, 'config.json'), join(d, 'run.json'), d]) utimesSync(f, old, old);
    const store = new RunStore(runs, () => false);
    store.refresh();
    assert.equal(store.get('torn')!.status, 'failed');
    assert.match(store.get('torn')!.reason!, /stale: no run\.json/);
  });

  test('a running run whose pid is gone is failed, with the reason', () => {
    const runs = fresh();
    makeRun(runs, 'dead', { status: 'running', pid: 999_999 });
    const store = new RunStore(runs, () => false);
    store.refresh();
    const r = store.get('dead')!;
    assert.equal(r.status, 'failed');
    assert.ok(r.died);
    assert.match(r.reason!, /process is gone/);
  });

  test('a run.json "running" without a pid (a cloned folder) is failed once nothing was written for the no-pid grace', () => {
    const runs = fresh();
    const d = makeRun(runs, 'nopid', { status: 'running', pid: null }, '{"step":1,"time":1,"split":"train"}\n');
    const last = Math.max(statSync(join(d, 'run.json')).mtimeMs, statSync(join(d, 'metrics.jsonl')).mtimeMs, statSync(d).mtimeMs);
    let now = last + 60_000;
    const store = new RunStore(runs, () => false, { now: () => now, noPidGraceMs: 120_000 });
    store.refresh();
    assert.equal(store.get('nopid')!.status, 'running');
    now = last + 121_000;
    store.refresh();
    assert.equal(store.get('nopid')!.status, 'failed');
    assert.match(store.get('nopid')!.reason!, /^stale: running without a pid/);
  });

  test('stale and dead runs are deletable, not stoppable, by the menus in package.json', async () => {
    const { runContextValue } = await import('../../src/host/runsView/treeModel');
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    const items = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const re = (cmd: string) =>
      items.filter((i) => i.command === cmd).map((i) => new RegExp(/viewItem =~ \/(.*?)\/(?:\s|$)/.exec(i.when)![1]));
    const runs = fresh();
    makeRun(runs, 'dead', { status: 'running', pid: 999_999 });
    makeRun(runs, 'half', null);
    const store = new RunStore(runs, () => false, { now: () => Date.now() + 60_000 });
    store.refresh();
    // The menus' conditions there are to match (an empty list would make every check below pass).
    assert.ok(re('matryoshkaLab.deleteRun').length > 0, 'deleteRun has a view/item/context entry');
    assert.ok(re('matryoshkaLab.stopRun').length > 0, 'stopRun has a view/item/context entry');
    for (const id of ['dead', 'half']) {
      const r = store.get(id)!;
      assert.equal(r.status, 'failed', `${id}: stale/dead is shown failed`);
      const cv = runContextValue(r.status, false);
      assert.ok(
        re('matryoshkaLab.deleteRun').every((x) => x.test(cv)),
        `${id}: ${cv} deletable`,
      );
      assert.ok(
        re('matryoshkaLab.stopRun').every((x) => !x.test(cv)),
        `${id}: ${cv} not stoppable`,
      );
    }
  });
});

describe('run.json rewritten twice within one mtime tick', () => {
  test('the second write (running → completed) is still read: the atomic rename is a new inode', () => {
    const runs = fresh();
    const d = makeRun(runs, 'quick', { status: 'running', pid: process.pid, step: 9 });
    const file = join(d, 'run.json');
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
    utimesSync(file, mtime, mtime);
    const store = new RunStore(runs, () => true);
    store.refresh();
    assert.equal(store.get('quick')!.status, 'running');
    // The trainer's last step and its final status, written as it writes them (temp file + rename),
    // land with the same mtime.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({
        id: 'quick',
        name: 'quick',
        status: 'completed',
        pid: null,
        startedAt: '2026-01-01T00:00:00Z',
        endedAt: '2026-01-01T00:01:00Z',
        backend: 'cpu',
        step: 10,
      }),
    );
    utimesSync(`${file}.tmp`, mtime, mtime);
    renameSync(`${file}.tmp`, file);
    assert.equal(statSync(file).mtimeMs, mtime.getTime());
    store.refresh();
    assert.equal(store.get('quick')!.status, 'completed');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { applyResume } from '../../src/insights/metricRules';
import { isSafeRunId, isStrictlyInside, listRuns, newRunId } from '../../src/runs/runDir';
import { liveness } from '../../src/runs/liveness';
import { MetricsTail, readMetricsFrom } from '../../src/runs/tail';
import { RunSeries } from '../../src/runs/series';
import { RunStore } from '../../src/runs/store';
import type { MetricsLine } from '../../src/protocol/runFolder';

const root = mkdtempSync(join(tmpdir(), 'mrl-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const ev = (step: number, loss = 1 / (step + 1), extra: Record<string, unknown> = {}) =>
  JSON.stringify({ step, epoch: 0, time: step, split: 'train', values: { loss }, ...extra }) + '\n';

function makeRun(runsDir: string, id: string, info: Record<string, unknown>, metrics = '') {
  const d = join(runsDir, id);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'run.json'),
    JSON.stringify({ id, name: id, pid: null, startedAt: '2026-01-01T00:00:00Z', endedAt: null, backend: 'cpu', ...info }),
  );
  writeFileSync(join(d, 'config.json'), JSON.stringify({ name: id }));
  if (metrics) writeFileSync(join(d, 'metrics.jsonl'), metrics);
  return d;
}

describe('tail', () => {
  test('reads from an offset and leaves a torn last line for next time', () => {
    const f = join(fresh(), 'metrics.jsonl');
    const full = ev(1) + ev(2);
    writeFileSync(f, full + ev(3).slice(0, 10));
    const r1 = readMetricsFrom(f, 0);
    assert.deepEqual(
      r1.lines.map((l) => (l as { step: number }).step),
      [1, 2],
    );
    assert.equal(r1.offset, Buffer.byteLength(full));
    appendFileSync(f, ev(3).slice(10) + ev(4));
    const r2 = readMetricsFrom(f, r1.offset);
    assert.deepEqual(
      r2.lines.map((l) => (l as { step: number }).step),
      [3, 4],
    );
    assert.equal(r2.reset, false);
  });

  test('a multi-byte character cut by the writer is never decoded half', () => {
    const f = join(fresh(), 'metrics.jsonl');
    const line = JSON.stringify({ step: 1, epoch: 0, time: 1, split: 'eval', values: { 'é—ü': 0.5 } }) + '\n';
    const bytes = Buffer.from(line);
    const cut = bytes.indexOf(Buffer.from('—')) + 1; // inside the 3-byte dash
    writeFileSync(f, bytes.subarray(0, cut));
    const t = new MetricsTail(f);
    assert.equal(t.read().lines.length, 0);
    assert.equal(t.offset, 0);
    appendFileSync(f, bytes.subarray(cut));
    const r = t.read();
    assert.deepEqual(Object.keys((r.lines[0] as { values: object }).values), ['é—ü']);
  });

  test('unknown fields are dropped, junk lines are skipped, final read takes a last line without newline', () => {
    const f = join(fresh(), 'metrics.jsonl');
    writeFileSync(f, ev(1, 1, { gpuTemp: 70 }) + 'not json\n{"foo":1}\n' + ev(2).trimEnd());
    const t = new MetricsTail(f);
    const r = t.read();
    assert.equal(r.lines.length, 1);
    assert.equal(r.skipped, 2);
    // Only the fields of a metrics event travel on (src/protocol/runFolder.ts knownFields).
    assert.equal((r.lines[0] as unknown as { gpuTemp?: number }).gpuTemp, undefined);
    assert.equal((r.lines[0] as { step: number }).step, 1);
    const fin = t.read(true);
    assert.deepEqual(
      fin.lines.map((l) => (l as { step: number }).step),
      [2],
    );
  });

  test('missing file reads empty; a shrunk file is read again from 0 with reset', () => {
    const f = join(fresh(), 'metrics.jsonl');
    const t = new MetricsTail(f);
    assert.deepEqual(t.read().lines, []);
    writeFileSync(f, ev(1) + ev(2) + ev(3));
    assert.equal(t.read().lines.length, 3);
    writeFileSync(f, ev(9));
    const r = t.read();
    assert.equal(r.reset, true);
    assert.deepEqual(
      r.lines.map((l) => (l as { step: number }).step),
      [9],
    );
  });

  test('drains a backlog larger than one chunk', () => {
    const f = join(fresh(), 'metrics.jsonl');
    let s = '';
    for (let i = 0; i < 50; i++) s += ev(i);
    writeFileSync(f, s);
    let off = 0;
    let total = 0;
    for (let k = 0; k < 100; k++) {
      const r = readMetricsFrom(f, off, { maxChunk: 200 });
      total += r.lines.length;
      if (r.offset === off) break;
      off = r.offset;
    }
    assert.equal(total, 50);
  });
});

describe('resume', () => {
  const lines: MetricsLine[] = [1, 2, 3, 4, 5].map((s) => JSON.parse(ev(s)));
  test('drops earlier events with step > fromStep, keeps later ones', () => {
    const all = [...lines, { type: 'resume', fromStep: 3 } as MetricsLine, JSON.parse(ev(4, 0.1)), JSON.parse(ev(5, 0.05))];
    const out = applyResume(all);
    assert.deepEqual(
      out.map((e) => e.step),
      [1, 2, 3, 4, 5],
    );
    assert.equal(out[3].values.loss, 0.1);
  });
  test('incremental series gives the same answer when fed in pieces', () => {
    const s = new RunSeries();
    s.push(lines.slice(0, 4));
    assert.equal(s.push([{ type: 'resume', fromStep: 2 }]), true);
    s.push([JSON.parse(ev(3, 0.2))]);
    assert.deepEqual(
      s.events.map((e) => e.step),
      [1, 2, 3],
    );
    assert.equal(s.summary().loss, 0.2);
  });
  test('summary: latest loss and best metric at the largest dim', () => {
    const s = new RunSeries();
    const evl = (step: number, small: number, big: number) =>
      ({
        step,
        epoch: 0,
        time: step,
        split: 'eval',
        values: {},
        byDim: { '32': { 'ndcg@10': small }, '128': { 'ndcg@10': big } },
      }) as MetricsLine;
    s.push([
      JSON.parse(ev(1, 2.5)),
      evl(1, 0.9, 0.3),
      evl(2, 0.1, 0.6),
      evl(3, 0.1, 0.5),
      JSON.parse(ev(3, 1.5, { values: { loss: 1.5, 'samples/s': 42 } })),
    ]);
    const sum = s.summary();
    assert.equal(sum.loss, 1.5);
    assert.equal(sum.samplesPerSec, 42);
    assert.deepEqual(sum.best, { metric: 'ndcg@10', dim: '128', value: 0.6, step: 2 });
  });
  test('throughput derived from step times and the batch size when no event reports it', () => {
    const s = new RunSeries();
    s.push([1, 2, 3, 4, 5].map((st) => ({ step: st, epoch: 0, time: st * 0.5, split: 'train', values: { loss: 1 } }) as MetricsLine));
    assert.equal(s.summary(32).samplesPerSec, 64);
    assert.equal(s.summary().samplesPerSec, null);
  });
});

describe('liveness', () => {
  test('a running run whose pid is gone died; finished runs are what they say', () => {
    assert.deepEqual(
      liveness({ status: 'running', pid: 123 }, () => false),
      { status: 'failed', died: true },
    );
    assert.deepEqual(
      liveness({ status: 'running', pid: 123 }, () => true),
      { status: 'running', died: false },
    );
    assert.deepEqual(
      liveness({ status: 'completed', pid: 123 }, () => false),
      { status: 'completed', died: false },
    );
    assert.deepEqual(
      liveness({ status: 'running', pid: null }, () => false),
      { status: 'running', died: false },
    );
  });
  test('with the real process table: a live trainer is alive, a reaped pid or an unrelated process is not', () => {
    // This test process is not a trainer: a pid reused after a reboot must not keep a run "running".
    assert.equal(liveness({ status: 'running', pid: process.pid }).died, process.platform === 'linux');
    assert.equal(liveness({ status: 'running', pid: 2 ** 22 + 12345 }).died, true);
    const trainer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', 'dist/trainer.js']);
    try {
      assert.equal(liveness({ status: 'running', pid: trainer.pid! }).died, false);
    } finally {
      trainer.kill('SIGKILL');
    }
  });
});

describe('listing and the store', () => {
  test('lists runs newest first, tolerates junk folders, half-made runs and unknown fields', () => {
    const dir = fresh();
    makeRun(dir, 'a', { status: 'completed', startedAt: '2026-01-01T00:00:00Z', extraField: { x: 1 } });
    makeRun(dir, 'b', { status: 'stopped', startedAt: '2026-01-02T00:00:00Z' });
    mkdirSync(join(dir, 'junk'));
    mkdirSync(join(dir, 'setup'));
    writeFileSync(join(dir, 'setup', 'config.json'), '{"name":"half"}');
    mkdirSync(join(dir, 'torn'));
    writeFileSync(join(dir, 'torn', 'run.json'), '{"id":"torn","sta');
    writeFileSync(join(dir, 'file.txt'), '');
    const runs = listRuns(dir);
    assert.deepEqual(runs.map((r) => r.id).sort(), ['a', 'b', 'setup', 'torn']);
    assert.equal(runs.find((r) => r.id === 'b')!.info.status, 'stopped');
    assert.equal(runs.find((r) => r.id === 'setup')!.info.name, 'half');
    assert.equal(runs.find((r) => r.id === 'setup')!.infoMissing, true);
    assert.equal(listRuns(join(dir, 'nope')).length, 0);
  });

  test('refresh reports added / changed / appended / removed, reading only new bytes', () => {
    const dir = fresh();
    const alive = new Set([4242]);
    const store = new RunStore(dir, (p) => alive.has(p));
    assert.deepEqual(store.refresh().added, []);
    const d = makeRun(dir, 'r1', { status: 'running', pid: 4242 }, ev(1));
    let r = store.refresh();
    assert.deepEqual(r.added, ['r1']);
    assert.equal(r.appended.get('r1')!.lines.length, 1);
    assert.equal(store.refresh().appended.size, 0, 'nothing new, nothing read');
    appendFileSync(join(d, 'metrics.jsonl'), ev(2) + ev(3).slice(0, 5));
    r = store.refresh();
    assert.deepEqual(
      r.appended.get('r1')!.lines.map((l) => (l as { step: number }).step),
      [2],
    );
    alive.delete(4242); // killed -9: run.json still says running
    r = store.refresh();
    assert.deepEqual(r.changed, ['r1']);
    assert.equal(store.get('r1')!.status, 'failed');
    assert.equal(store.get('r1')!.died, true);
    assert.equal(store.get('r1')!.config()!.name, 'r1');
    rmSync(d, { recursive: true });
    assert.deepEqual(store.refresh().removed, ['r1']);
  });
});

describe('paths', () => {
  test('strictly inside, symlinks resolved', () => {
    const dir = fresh();
    const runs = join(dir, 'runs');
    mkdirSync(join(runs, 'x'), { recursive: true });
    mkdirSync(join(dir, 'outside'));
    symlinkSync(join(dir, 'outside'), join(runs, 'link'));
    assert.equal(isStrictlyInside(runs, join(runs, 'x')), true);
    assert.equal(isStrictlyInside(runs, runs), false);
    assert.equal(isStrictlyInside(runs, join(runs, '..', 'outside')), false);
    assert.equal(isStrictlyInside(runs, join(runs, 'link')), false);
    assert.equal(isSafeRunId('20260101-000000-a-00ff'), true);
    assert.equal(isSafeRunId('../x'), false);
    assert.equal(isSafeRunId('a/b'), false);
  });
  test('run ids look like <yyyymmdd-hhmmss>-<slug>-<4 hex>', () => {
    assert.equal(newRunId('Tiny MNRL!', new Date(2026, 0, 2, 3, 4, 5), 0xab), '20260102-030405-tiny-mnrl-00ab');
  });
});

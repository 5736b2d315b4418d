// A very large metrics.jsonl (issue 8): opened a bounded slice at a time, with the event loop free
// between slices, and with a bounded number of events kept in memory. MRL_BIG_METRICS=1 uses ~100 MB
// (the size); the default ~16 MB keeps `npm test` quick — the bounds are the same by construction.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_SERIES_EVENTS } from '../../src/runs/series';
import { REFRESH_BYTES, RunStore } from '../../src/runs/store';
import { useFakeVscode } from './fakeVscode';

const MB = Number(process.env.MRL_BIG_METRICS === '1' ? 100 : 16);
const root = mkdtempSync(join(tmpdir(), 'mrl-big-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A run whose metrics.jsonl is ~`mb` MiB of train events (4 dims) with an eval every 50 steps. */
function bigRun(runsDir: string, id: string, mb: number): { file: string; steps: number; events: number } {
  const d = join(runsDir, id);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'run.json'),
    JSON.stringify({ id, name: id, status: 'completed', pid: null, startedAt: '2026-01-02T00:00:00Z', endedAt: null, backend: 'cpu' }),
  );
  writeFileSync(join(d, 'config.json'), JSON.stringify({ name: id, training: { batchSize: 32 } }));
  const file = join(d, 'metrics.jsonl');
  const fd = openSync(file, 'w');
  let bytes = 0;
  let step = 0;
  let events = 0;
  let parts: string[] = [];
  while (bytes < mb * 1024 * 1024) {
    step++;
    let l =
      JSON.stringify({
        step,
        epoch: 0,
        time: step / 10,
        split: 'train',
        values: { loss: 1 / step, lr: 1e-4 },
        byDim: { '32': { loss: 0.5 }, '64': { loss: 0.4 }, '128': { loss: 0.3 }, '256': { loss: 1 / step } },
      }) + '\n';
    events++;
    if (step % 50 === 0) {
      l +=
        JSON.stringify({
          step,
          epoch: 0,
          time: step / 10,
          split: 'eval',
          values: {},
          byDim: { '64': { 'ndcg@10': 0.5 }, '256': { 'ndcg@10': step === 50 * 777 ? 0.99 : 0.6 } },
        }) + '\n';
      events++;
    }
    parts.push(l);
    bytes += l.length;
    if (parts.length >= 5000) {
      writeSync(fd, parts.join(''));
      parts = [];
    }
  }
  writeSync(fd, parts.join(''));
  closeSync(fd);
  return { file, steps: step, events };
}

test(
  `a ~${MB} MB metrics.jsonl is read in slices of at most REFRESH_BYTES; memory holds at most MAX_SERIES_EVENTS events`,
  { timeout: 600_000 },
  (t) => {
    const runs = join(root, 'store');
    const big = bigRun(runs, 'big', MB);
    const size = statSync(big.file).size;
    const store = new RunStore(runs, () => false);
    let slices = 0;
    let prev = 0;
    let maxBytes = 0;
    const ms: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const a = performance.now();
      const res = store.refresh();
      ms.push(performance.now() - a);
      slices++;
      const read = store.get('big')!.bytesRead ?? 0;
      maxBytes = Math.max(maxBytes, read - prev);
      prev = read;
      if (res.pending.length === 0) break;
      assert.ok(slices < 100_000);
    }
    const total = performance.now() - t0;
    const r = store.get('big')!;
    // By construction: no synchronous refresh consumed more than the budget.
    assert.ok(maxBytes <= REFRESH_BYTES, `a slice read ${maxBytes} bytes`);
    assert.ok(slices >= Math.ceil(size / REFRESH_BYTES), `${slices} slices for ${size} bytes`);
    assert.equal(r.bytesRead, size);
    assert.equal(r.series.total, big.events);
    assert.ok(r.series.events.length <= MAX_SERIES_EVENTS, `kept ${r.series.events.length}`);
    assert.equal(r.series.events.at(-1)!.step, big.steps, 'newest events kept');
    assert.equal(r.summary.lastStep, big.steps);
    assert.deepEqual(r.summary.best, { metric: 'ndcg@10', dim: '256', value: 0.99, step: 50 * 777 });
    ms.sort((x, y) => x - y);
    t.diagnostic(
      `${(size / 1048576).toFixed(1)} MiB, ${big.events} events: ${slices} slices of <= ${REFRESH_BYTES} B; ` +
        `slice ms p50 ${ms[ms.length >> 1].toFixed(1)}, p99 ${ms[Math.floor(ms.length * 0.99)].toFixed(1)}, max ${ms.at(-1)!.toFixed(1)}; ` +
        `total ${Math.round(total)} ms; kept ${r.series.events.length} events; rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
    );
  },
);

test(
  'the host model reads a backlog a slice per event-loop turn (the extension host stays responsive)',
  { timeout: 600_000 },
  async (t) => {
    const restoreVscode = useFakeVscode();
    const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
    const { RunsModel, BACKGROUND_PAUSE_MS } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
    const ws = join(root, 'ws');
    const big = bigRun(join(ws, '.mrl/runs'), 'big', 4);
    const size = statSync(big.file).size;
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = {};
    // The model's timers on a mocked clock: each pass over the backlog is its own timer callback (the event
    // loop is free between two), and the test decides when time passes, not the machine's speed.
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const model = new RunsModel();
    let fired = 0;
    model.onDidChange(() => fired++);
    const read = () => model.get('big')!.bytesRead ?? 0;
    try {
      assert.ok(read() <= REFRESH_BYTES, 'the constructor read one slice only');
      let passes = 0;
      let prev = read();
      while (read() < size) {
        // Slice after slice, one per background pause (not one per 1-5 s refresh tick of the model's timer).
        t.mock.timers.tick(BACKGROUND_PAUSE_MS);
        passes++;
        const now = read();
        assert.ok(now > prev, `pass ${passes}: nothing read after a pause of ${BACKGROUND_PAUSE_MS} ms`);
        assert.ok(now - prev <= REFRESH_BYTES, `pass ${passes} read ${now - prev} bytes: more than a slice in one turn`);
        prev = now;
      }
      const slices = Math.ceil(size / REFRESH_BYTES);
      assert.ok(passes >= slices - 1, `${passes} passes for ${slices} slices`);
      assert.equal(fired, passes, 'one change event per pass');
      assert.equal(model.get('big')!.series.total, big.events);
    } finally {
      model.dispose();
      restoreVscode();
    }
  },
);

// quickSummary (src/runs/quickSummary.ts): a finished run's digest from its evaluation lines and last
// training lines only must equal the full read's (RunSeries over every line): the latest evaluation, the
// best values, the latest loss, the throughput (reported or derived), the last step — on the bench's
// generated runs and on files made to trip a partial reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateWorkspace } from '../../bench/workspaceGen';
import { QUICK_MAX_BYTES, quickSummary } from '../../src/runs/quickSummary';
import { RunSeries } from '../../src/runs/series';
import { MetricsTail } from '../../src/runs/tail';

const root = mkdtempSync(join(tmpdir(), 'mrl-quick-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The full read's digest and summary (all but the event count, which a quick summary does not know). */
function full(file: string, batchSize?: number) {
  const s = new RunSeries();
  s.push(new MetricsTail(file).read(true).lines);
  return { digest: s.evalDigest(), summary: { ...s.summary(batchSize), events: 0 }, total: s.total };
}
function quick(file: string, batchSize?: number) {
  const q = quickSummary(file);
  assert.ok(q, `${file}: summed up`);
  return {
    digest: q.series.evalDigest(),
    summary: { ...q.series.summary(batchSize), events: 0 },
    total: q.series.total,
    kept: q.series.events.length,
  };
}
function same(file: string, batchSize?: number): ReturnType<typeof quick> {
  const f = full(file, batchSize);
  const q = quick(file, batchSize);
  assert.deepEqual(q.digest, f.digest, `${file}: evalDigest`);
  assert.deepEqual(q.summary, f.summary, `${file}: summary`);
  assert.equal(q.total > 0, f.total > 0, `${file}: has events`);
  return q;
}

const ev = (step: number, v: number, extra: Record<string, unknown> = {}) => ({
  step,
  time: step,
  split: 'eval',
  values: { 'funnel:ndcg@10': v, ...extra },
  byDim: { '64': { 'ndcg@10': v, 'mrr@10': v / 2 }, '8': { 'ndcg@10': v / 3 } },
});
const tr = (step: number, values: Record<string, unknown> = { loss: 10 / step }) => ({ step, time: step * 0.5, split: 'train', values });
function file(name: string, lines: (object | string)[], end = '\n'): string {
  const f = join(root, name);
  writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + end);
  return f;
}

test('the bench generator’s runs (completed, stopped, failed, sweeps): the same digest from a fifth of the events', () => {
  const g = generateWorkspace(join(root, 'ws'), { runs: 12, sweeps: 1, sweepSize: 4, steps: 4000, stopped: 0.2, failed: 0.2 });
  for (const r of g.runs) {
    const q = same(join(g.runsDir, r.id, 'metrics.jsonl'), 64);
    const f = full(join(g.runsDir, r.id, 'metrics.jsonl'));
    assert.ok(q.kept < f.total / 4, `${r.id}: ${q.kept} of ${f.total} events kept`);
  }
});

test('edge files: Python spacing, bad and torn lines, resume markers, throughput here and there, loss far back, eval only, empty', () => {
  const trains = (from: number, to: number, values?: (s: number) => Record<string, unknown>) =>
    Array.from({ length: to - from + 1 }, (_, i) => tr(from + i, values?.(from + i)));
  // Python's json.dumps writes `"split": "eval"` (a space after the colon).
  const py = file('py.jsonl', [
    ...trains(1, 30).map((l) => JSON.stringify(l).replace(/":/g, '": ')),
    JSON.stringify(ev(30, 0.4)).replace(/":/g, '": '),
    ...trains(31, 35).map((l) => JSON.stringify(l).replace(/":/g, '": ')),
  ]);
  assert.equal(same(py).digest.evalStep, 30);
  // Unparsable and invalid lines among the last ten training lines, a torn last line (no newline: final).
  same(
    file(
      'bad.jsonl',
      [...trains(1, 20), ev(20, 0.3), 'not json', tr(21), '{"step":"x","split":"train"}', ...trains(22, 25), '', '{"step":26,'],
      '',
    ),
  );
  const torn = file('torn.jsonl', [...trains(1, 20), ev(20, 0.3), tr(21)], '');
  assert.equal(same(torn).summary.lastStep, 21, 'a last line without newline counts: the writer is gone');
  // A resume marker drops the later events (their evaluation too): parsed whole.
  const resumed = file('resume.jsonl', [...trains(1, 40), ev(20, 0.3), ev(40, 0.9), { type: 'resume', fromStep: 20 }, ...trains(21, 30)]);
  const r = same(resumed);
  assert.equal(r.digest.evalStep, 20, 'the evaluation at 40 was dropped by the resume');
  assert.equal(r.digest.best['64']['ndcg@10'], 0.3);
  // Throughput: an old training line reports it, the last ten do not → that one; then an evaluation after it
  // reports one → the evaluation's; then a later training line again.
  const rate = (s: number) => (s === 5 ? { loss: 1, 'samples/s': 55 } : { loss: 1 });
  assert.equal(same(file('rate1.jsonl', [...trains(1, 30, rate), ev(30, 0.5)])).summary.samplesPerSec, 55);
  assert.equal(
    same(file('rate2.jsonl', [...trains(1, 12, rate), ev(12, 0.5, { samplesPerSec: 77 }), ...trains(13, 40)])).summary.samplesPerSec,
    77,
  );
  // …an older evaluation's, the later ones reporting none.
  const older = [...trains(1, 12), ev(12, 0.5, { samplesPerSec: 66 }), ...trains(13, 30), ev(30, 0.6), ...trains(31, 45)];
  assert.equal(same(file('rate4.jsonl', older)).summary.samplesPerSec, 66);
  const later = (s: number) => (s === 20 ? { loss: 1, samples_per_sec: 99 } : s === 21 ? { loss: 1, 'samples/s': null } : { loss: 1 });
  assert.equal(same(file('rate3.jsonl', [ev(1, 0.1, { 'samples/s': 11 }), ...trains(2, 40, later)])).summary.samplesPerSec, 99);
  // No throughput anywhere: derived from the last ten training events and the batch size.
  // (uneven step times: a rate over fewer than the last ten events would differ)
  const uneven = trains(1, 40).map((l) => ({ ...l, time: l.step ** 1.5 }));
  assert.ok(same(file('derived.jsonl', [...uneven, ev(40, 0.5)]), 32).summary.samplesPerSec! > 0);
  // The last fifteen training lines report no loss: the latest loss is further back.
  const noLoss = (s: number) => (s > 25 ? { lr: 0.1 } : { loss: s });
  assert.equal(same(file('noloss.jsonl', trains(1, 40, noLoss))).summary.loss, 25);
  same(file('evalonly.jsonl', [ev(0, 0.1), ev(100, 0.2), ev(200, 0.15)]));
  same(file('empty.jsonl', [], ''));
  assert.equal(quickSummary(join(root, 'missing.jsonl'))!.series.total, 0, 'no file: nothing logged yet');
});

test('a file past QUICK_MAX_BYTES is left to the full read', () => {
  const line = JSON.stringify(tr(1)) + '\n';
  const f = join(root, 'huge.jsonl');
  writeFileSync(f, line.repeat(Math.ceil((QUICK_MAX_BYTES + 1) / line.length)));
  assert.equal(quickSummary(f), undefined);
});

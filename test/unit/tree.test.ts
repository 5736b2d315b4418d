import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmt, formatAge, groupRuns, liveText, runContextValue, runDescription } from '../../src/host/runsView/treeModel';
import { RunSeries } from '../../src/runs/series';

const now = Date.parse('2026-01-01T12:00:00Z');

test('age, numbers', () => {
  assert.equal(formatAge('2026-01-01T11:59:30Z', now), '30s ago');
  assert.equal(formatAge('2026-01-01T11:55:00Z', now), '5m ago');
  assert.equal(formatAge('2025-12-29T12:00:00Z', now), '3d ago');
  assert.equal(formatAge('', now), '');
  assert.equal(fmt(0.123456), '0.123');
  assert.equal(fmt(1234.5), '1230');
  assert.equal(fmt(0.00001234), '1.23e-5');
});

test('description: loss, best metric at the largest dim, age', () => {
  const s = new RunSeries();
  s.push([
    { step: 1, epoch: 0, time: 1, split: 'train', values: { loss: 0.5 } },
    { step: 1, epoch: 0, time: 1, split: 'eval', values: {}, byDim: { '64': { 'ndcg@10': 0.4 }, '256': { 'ndcg@10': 0.71234 } } },
  ]);
  assert.equal(runDescription(s.summary(), '2026-01-01T11:55:00Z', now), 'loss 0.5 · ndcg@10@256 0.712 · 5m ago');
  assert.equal(liveText(s.summary(), 10, 100), 'step 10/100 · loss 0.5');
});

test('a running run: elapsed and remaining time first, from the pace its trainer wrote, ticking on between writes', () => {
  const s = new RunSeries();
  s.push([{ step: 100, epoch: 0, time: 1, split: 'train', values: { loss: 0.5 } }]);
  // Written 30 s ago: 10 min of training, 1.5 s a step, 100 of 800 steps done.
  const info = { step: 100, totalSteps: 800, elapsedSeconds: 600, secondsPerStep: 1.5, progressAt: now - 30_000 };
  assert.equal(
    runDescription(s.summary(), '2026-01-01T11:50:00Z', now, undefined, undefined, info),
    '11 min elapsed · ≈ 17 min left · loss 0.5 · 10m ago',
  );
  assert.equal(liveText(s.summary(), 100, 800, info, now), 'step 100/800 · ≈ 17 min left · loss 0.5');
  // Before the first step: the warm-up's estimate for the whole run.
  const starting = { step: 0, totalSteps: 800, estimate: { secondsPerStep: 1.4, steps: 800, memoryBytes: 2.6 * 2 ** 30 } };
  assert.equal(
    runDescription(new RunSeries().summary(), '2026-01-01T11:59:30Z', now, undefined, undefined, starting),
    '≈ 19 min left · 30s ago',
  );
  // A finished run (no `running` info) keeps the plain description.
  assert.equal(runDescription(s.summary(), '2026-01-01T11:50:00Z', now), 'loss 0.5 · 10m ago');
});

test('grouping by status in a fixed order; context values drive the menus', () => {
  const g = groupRuns([{ status: 'failed' as const }, { status: 'running' as const }, { status: 'failed' as const }]);
  assert.deepEqual(
    g.map((x) => [x.status, x.runs.length]),
    [
      ['running', 1],
      ['failed', 2],
    ],
  );
  assert.equal(runContextValue('stopped', true), 'mrlRun.stopped.resumable');
  assert.equal(runContextValue('stopped', false), 'mrlRun.stopped');
  assert.equal(runContextValue('running', true), 'mrlRun.running');
  assert.equal(runContextValue('completed', true), 'mrlRun.completed');
  assert.equal(runContextValue('completed', true, 'bundled'), 'mrlRun.completed');
  assert.equal(runContextValue('stopped', true, 'sentence-transformers'), 'mrlRun.stopped.external.resumable');
});

test('the runs view offers Export Model on bundled runs that are completed, stopped or running — not failed, not another engine’s', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const items = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const menu = items.find((i) => i.command === 'matryoshkaLab.exportModel');
  assert.ok(menu, 'exportModel has a view/item/context entry');
  const re = new RegExp(/viewItem =~ \/(.*?)\/(?:\s|$)/.exec(menu.when)![1]);
  for (const [status, ckpt] of [
    ['completed', true],
    ['stopped', true],
    ['stopped', false],
    ['running', true],
  ] as const)
    assert.ok(re.test(runContextValue(status, ckpt)), `${status} offered`);
  assert.ok(!re.test(runContextValue('failed', true)), 'failed: not offered');
  assert.ok(!re.test(runContextValue('completed', true, 'sentence-transformers')), 'another engine: not offered');
  assert.match(menu.when, /isWorkspaceTrusted/, 'not in Restricted Mode');
  // Every menu that matches other run states still matches an external run the same way.
  for (const i of items.filter((x) => x.command !== 'matryoshkaLab.exportModel' && /viewItem =~/.test(x.when))) {
    const r = new RegExp(/viewItem =~ \/(.*?)\/(?:\s|$)/.exec(i.when)![1]);
    for (const st of ['completed', 'stopped', 'running', 'failed'] as const)
      assert.equal(r.test(runContextValue(st, true, 'sentence-transformers')), r.test(runContextValue(st, true)), `${i.command} on ${st}`);
  }
});

test('tooltip: names, errors and backend text from a run folder render as text, never links or HTML', async () => {
  const { escapeMarkdown, runTooltipMarkdown } = await import('../../src/host/runsView/treeModel');
  const evil = '[x](command:workbench.action.terminal.new) <img src=x> **b** $(zap)';
  const md = runTooltipMarkdown({
    id: 'r1',
    status: 'failed',
    died: false,
    reason: 'stale: no run.json',
    readError: 'EISDIR <script>',
    info: { name: evil, backend: '[b](https://x)', backendReason: '<b>why</b>', error: 'boom\n\n# heading [l](command:x)' },
  });
  // Every markdown/HTML-significant character is escaped: no link, image, tag, emphasis or icon remains.
  assert.ok(!/(^|[^\\])\[/.test(md), md);
  assert.ok(!/(^|[^\\])</.test(md), md);
  assert.ok(!/(^|[^\\])\*\*b/.test(md), md);
  assert.ok(!/(^|[^\\])\$\(/.test(md), md);
  assert.ok(!/\n#/.test(md), 'a newline in an error cannot start a heading');
  assert.ok(md.includes(escapeMarkdown(evil)));
  assert.ok(md.startsWith('**\\[x\\]\\(command\\:workbench\\.action'), md);
  assert.match(md, /stale\\: no run\\\.json/);
  assert.match(md, /could not read the run folder: EISDIR \\<script\\>/);
  // Unescaping gives the text back as written (newlines folded).
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  assert.equal(unescape(escapeMarkdown(evil)), evil);
  assert.equal(runDescription(new RunSeries().summary(), '', now, 'stale: no run.json'), 'stale: no run.json');
});

test('queued launches: under their sweep (a sweep not started yet gets its node from the queue), the others in a list', async () => {
  const { layoutRuns, sweepLabel, sweepRows, queuedDescription } = await import('../../src/host/runsView/treeModel');
  const run = (id: string, status: 'running' | 'completed', sweep?: string) => ({
    id,
    status,
    info: { name: 'n', sweep: sweep ? { id: sweep } : undefined },
  });
  const q = (runId: string, position: number, sweep?: string) => ({
    runId,
    name: 'n',
    resume: false,
    position,
    total: 4,
    sweep: sweep ? { id: sweep, index: position, params: { seed: position }, name: `sweep-${sweep}` } : undefined,
  });
  const l = layoutRuns(
    [run('done1', 'completed', 'old'), run('r1', 'running', 's1'), run('c1', 'completed', 's1'), run('loose', 'completed')],
    [q('q1', 1, 's1'), q('q2', 2, 's1'), q('q3', 3), q('q4', 4, 'fresh')],
  );
  assert.deepEqual(
    l.sweeps.map((s) => [s.id, s.runs.map((r) => r.id), s.queued.map((x) => x.runId)]),
    [
      ['s1', ['r1', 'c1'], ['q1', 'q2']],
      ['fresh', [], ['q4']],
      ['old', ['done1'], []],
    ],
    'sweeps running or waiting first',
  );
  assert.deepEqual(
    l.queued.map((x) => x.runId),
    ['q3'],
  );
  assert.equal(sweepLabel(l.sweeps[0]), 'sweep n · 4 runs (1 completed, 1 running, 2 queued)');
  assert.equal(sweepLabel(l.sweeps[1]), 'sweep sweep-fresh · 1 run (1 queued)');
  // Running first, then what starts next, then the finished.
  assert.deepEqual(
    sweepRows(l.sweeps[0]).map((x) => ('run' in x ? x.run.id : x.queued.runId)),
    ['r1', 'q1', 'q2', 'c1'],
  );
  assert.equal(queuedDescription({ position: 2, total: 3, resume: false }), 'queued · 2 of 3');
  assert.equal(queuedDescription({ position: 1, total: 1, resume: true }), 'queued (resume) · 1 of 1');
});

test("the tree's labels: runs of one name lead with their swept values, then with the config keys that differ once read", async () => {
  const { TreeLabels } = await import('../../src/host/runsView/treeModel');
  const run = (id: string, name: string, sweep?: Record<string, unknown>) => ({
    id,
    info: { name, sweep: sweep && { id: 's', params: sweep } },
  });
  const runs = [
    run('a', 'quickstart'),
    run('b', 'quickstart'),
    run('c', 'other'),
    run('s0', 'grid', { seed: 1 }),
    run('s1', 'grid', { seed: 2 }),
  ];
  const queued = [
    { runId: 'q', name: 'grid', resume: false, position: 1, total: 1, sweep: { id: 's', index: 2, params: { seed: 3 }, name: 'grid' } },
  ];
  // Before the configs are read: what run.json says (the sweep's values); two plain runs of one name look alike.
  const early = new TreeLabels(runs, queued);
  assert.deepEqual(
    runs.map((r) => early.run(r)),
    ['quickstart', 'quickstart', 'other', 'seed=1 · grid', 'seed=2 · grid'],
  );
  assert.equal(early.queued(queued[0]), 'seed=3 · grid');
  // Once read: the configs' differences too.
  const configs: Record<string, Record<string, unknown>> = {
    a: { name: 'quickstart', training: { learningRate: 0.001 } },
    b: { name: 'quickstart', training: { learningRate: 0.0003 } },
  };
  const late = new TreeLabels(runs, queued, (id) => configs[id]);
  assert.deepEqual(
    runs.slice(0, 3).map((r) => late.run(r)),
    ['lr=1e-3 · quickstart', 'lr=3e-4 · quickstart', 'other'],
  );
  // Only the runs whose name another shares need their config read.
  assert.deepEqual(
    TreeLabels.sharingNames(runs).map((r) => r.id),
    ['a', 'b', 's0', 's1'],
  );
});

test('Cancel Queued Run is an inline action on queued items only (its when-clause matches their contextValue)', async () => {
  const { readFileSync } = await import('node:fs');
  const { QUEUED_CONTEXT } = await import('../../src/host/runsView/treeModel');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'matryoshkaLab.cancelQueuedRun'));
  const items = (pkg.contributes.menus['view/item/context'] as { command: string; when: string; group: string }[]).filter(
    (i) => i.command === 'matryoshkaLab.cancelQueuedRun',
  );
  assert.ok(
    items.some((i) => i.group.startsWith('inline')),
    'inline',
  );
  for (const i of items) assert.equal(i.when, `view == matryoshkaLab.runs && viewItem == ${QUEUED_CONTEXT}`);
  assert.equal(QUEUED_CONTEXT, 'mrlQueued');
  // No run menu matches a queued item (Stop, Resume, Delete… are for run folders).
  const others = (pkg.contributes.menus['view/item/context'] as { command: string; when: string }[]).filter(
    (i) => i.command !== 'matryoshkaLab.cancelQueuedRun',
  );
  for (const i of others) {
    const m = /viewItem =~ \/(.*?)\/(?:\s|$)/.exec(i.when);
    if (m) assert.ok(!new RegExp(m[1]).test(QUEUED_CONTEXT), i.command);
    else assert.ok(!i.when.includes(`viewItem == ${QUEUED_CONTEXT}`), i.command);
  }
});

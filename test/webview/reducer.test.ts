// The message reducer (webview/app/reducer.ts) in Node: host messages and user picks applied to the model,
// with the side effects recorded in the order they happen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reduce, requestMissing, toggleDim, toggleRun, type Effects } from '../../webview/app/reducer';
import { awaitingReplays, createModel, type PanelModel } from '../../webview/app/model';
import { loadState } from '../../webview/app/uiState';
import type { DirtyRequest } from '../../webview/app/scheduler';
import type { HostToWebviewMessage, PanelRun } from '../../src/protocol/panelMessages';
import { genMetrics } from './fixtures/metrics';

type Fx = { kind: string; arg?: unknown };
function recorder(): Effects & { calls: Fx[]; dirty(): DirtyRequest } {
  const calls: Fx[] = [];
  return {
    calls,
    save: () => calls.push({ kind: 'save' }),
    post: (msg) => calls.push({ kind: 'post', arg: msg }),
    log: (level, message) => calls.push({ kind: 'log', arg: `${level}: ${message}` }),
    schedule: (d) => calls.push({ kind: 'schedule', arg: { ...d, metrics: d.metrics ? [...d.metrics].sort() : undefined } }),
    revealDiff: () => calls.push({ kind: 'revealDiff' }),
    /** All schedule requests merged. */
    dirty() {
      const out: Record<string, unknown> = {};
      for (const c of calls) if (c.kind === 'schedule') for (const [k, v] of Object.entries(c.arg as object)) if (v) out[k] = v;
      return out as DirtyRequest;
    },
  };
}

const run = (id: string, startedAt: string, extra: Partial<PanelRun> = {}): PanelRun => ({
  id,
  name: `run ${id}`,
  status: 'completed',
  startedAt,
  ...extra,
});
const RUNS = [run('old', '2026-11-01'), run('new', '2026-11-03'), run('mid', '2026-11-02')];
const posts = (fx: { calls: Fx[] }) => fx.calls.filter((c) => c.kind === 'post').map((c) => c.arg);

function send(m: PanelModel, msg: HostToWebviewMessage) {
  const fx = recorder();
  reduce(m, msg, fx);
  return fx;
}

test('init on a first open: runs sorted newest first, the latest run shown and requested, state saved', () => {
  const m = createModel();
  const fx = send(m, { type: 'init', runs: RUNS });
  assert.deepEqual(
    m.runs.map((r) => r.id),
    ['new', 'mid', 'old'],
  );
  assert.deepEqual(m.state.shownRunIds, ['new']);
  assert.deepEqual(
    fx.calls.map((c) => c.kind),
    ['save', 'post', 'schedule'],
  );
  assert.deepEqual(posts(fx), [{ type: 'requestRun', runId: 'new' }]);
  assert.deepEqual(fx.dirty(), { structural: true, runs: true, diff: true });
});

test("init with the host's choice: shown as asked (unknown ids dropped), not requested again (the host replays them)", () => {
  const m = createModel();
  const fx = send(m, { type: 'init', runs: RUNS, showRuns: ['old', 'ghost', 'mid'], configDiff: ['old', 'mid'] });
  assert.deepEqual(m.state.shownRunIds, ['old', 'mid']);
  assert.deepEqual(m.state.diffRunIds, ['old', 'mid']);
  assert.deepEqual(posts(fx), []);
  assert.ok(m.requested.has('old') && m.requested.has('mid'));
});

test('init after a reload (restored state): keeps its own picks, even none, and requests their data', () => {
  const m = createModel(loadState({ version: 1, shownRunIds: ['old', 'gone'], smoothing: 0.3 }), true);
  const fx = send(m, { type: 'init', runs: RUNS });
  assert.deepEqual(m.state.shownRunIds, ['old']);
  assert.equal(m.state.smoothing, 0.3);
  assert.deepEqual(posts(fx), [{ type: 'requestRun', runId: 'old' }]);
  const none = createModel(loadState({ version: 1, shownRunIds: [] }), true);
  send(none, { type: 'init', runs: RUNS });
  assert.deepEqual(none.state.shownRunIds, []);
});

test('metrics: stored at once; a shown run redraws the touched metrics; a hidden run only its chip on reset', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS });
  let fx = send(m, { type: 'metrics', runId: 'new', lines: genMetrics({ steps: 4, evalEvery: 2 }), reset: true });
  assert.equal(m.requested.has('new'), false);
  assert.equal(m.store.series('new', 'train', 'loss', 64)!.n, 4);
  const d = fx.dirty();
  assert.equal(d.structural, true);
  assert.equal(d.runs, true);
  assert.ok([...d.metrics!].includes('eval/ndcg@10'));
  fx = send(m, { type: 'metrics', runId: 'new', lines: genMetrics({ steps: 5, fromStep: 5 }) });
  assert.deepEqual(fx.dirty(), { metrics: ['train/loss'] });
  fx = send(m, { type: 'metrics', runId: 'old', lines: genMetrics({ steps: 2 }) });
  assert.deepEqual(fx.calls, []);
  fx = send(m, { type: 'metrics', runId: 'old', lines: [], reset: true });
  assert.deepEqual(fx.dirty(), { runs: true });
});

test('metrics as JSONL text: parsed, appended after the lines, unreadable lines and bad dims logged', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS });
  const [l1, l2] = genMetrics({ steps: 2 });
  const jsonl = `${JSON.stringify(l2)}\n{"step": 3, "ti\n${JSON.stringify({ step: 3, epoch: 0, time: 1, split: 'train', byDim: { abc: { loss: 1 } } })}\n`;
  const fx = send(m, { type: 'metrics', runId: 'new', lines: [l1], jsonl });
  assert.deepEqual([...m.store.series('new', 'train', 'loss', null)!.step.slice(0, 2)], [1, 2]);
  assert.deepEqual(
    fx.calls.filter((c) => c.kind === 'log').map((c) => c.arg),
    ['warn: run new: 1 unreadable metrics line(s) skipped', 'warn: run new: 1 byDim entries with a non-numeric dim ignored'],
  );
});

test('runs: a new list drops vanished runs (data, requests, shown ids); runInfo updates one run, keeping its config', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS, showRuns: ['new', 'old'] });
  m.store.ingest('old', genMetrics({ steps: 2 }));
  send(m, { type: 'runs', runs: [RUNS[1], RUNS[2]] });
  assert.deepEqual(m.state.shownRunIds, ['new']);
  assert.equal(m.store.runs.has('old'), false);
  assert.equal(m.requested.has('old'), false);
  m.runs[0].config = { seed: 1 };
  const fx = send(m, { type: 'runInfo', run: { ...RUNS[1], status: 'running', step: 5 } });
  assert.equal(m.runs[0].status, 'running');
  assert.deepEqual(m.runs[0].config, { seed: 1 });
  assert.deepEqual(fx.dirty(), { runs: true, diff: true });
  send(m, { type: 'runInfo', run: run('newest', '2026-12-01') });
  assert.equal(m.runs[0].id, 'newest');
  // a new display name (notes.json) redraws the legends too, not only the chips
  const renamed = send(m, { type: 'runInfo', run: { ...m.runs[0], notes: { displayName: 'Newest!', tags: [], note: '' } } });
  assert.deepEqual(renamed.dirty(), { runs: true, diff: true, structural: true });
  assert.equal(m.runs[0].notes?.displayName, 'Newest!');
});

test('runInfos: many rows in one message (configs kept, new ones added); only the table redraws unless what the chips show changed', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS.map((r) => ({ ...r, metricsLoading: true, config: { seed: r.id } })), showRuns: [] });
  const summary = { evalStep: 9, last: { '64': { 'ndcg@10': 0.3 } }, best: {}, lastValues: {}, loss: 1, pairsPerSec: null, lastStep: 9 };
  const fx = send(m, {
    type: 'runInfos',
    runs: [
      { ...RUNS[0], summary },
      { ...RUNS[2], summary },
    ],
  });
  assert.deepEqual(fx.dirty(), { table: true }, 'summaries only: no chips, legends or diff redrawn');
  const byId = new Map(m.runs.map((r) => [r.id, r]));
  assert.equal(byId.get('old')!.metricsLoading, undefined, 'the row is complete: the loading flag goes with the old object');
  assert.deepEqual(byId.get('old')!.summary, summary);
  assert.deepEqual(byId.get('old')!.config, { seed: 'old' }, 'the config the init carried is kept');
  assert.equal(byId.get('new')!.metricsLoading, true, 'not in the message: unchanged');
  // A status change or a new run among them: the chips and the diff redraw as for runInfo.
  const st = send(m, { type: 'runInfos', runs: [{ ...RUNS[1], status: 'failed', summary }, run('newest', '2026-12-01', { summary })] });
  assert.deepEqual(st.dirty(), { runs: true, diff: true });
  assert.deepEqual(
    m.runs.map((r) => r.id),
    ['newest', 'new', 'mid', 'old'],
  );
});

test('showRuns and compare: shown as asked, compare also diffs them; missing data requested once', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS });
  const fx = send(m, { type: 'showRuns', runIds: ['old', 'mid', 'nope'], compare: true });
  assert.deepEqual(m.state.shownRunIds, ['old', 'mid']);
  assert.deepEqual(m.state.diffRunIds, ['old', 'mid']);
  assert.deepEqual(posts(fx), [
    { type: 'requestRun', runId: 'old' },
    { type: 'requestRun', runId: 'mid' },
  ]);
  const again = recorder();
  requestMissing(m, again);
  assert.deepEqual(posts(again), []);
});

test('configDiff: configs attach to runs, other configs (files) are kept for the table; the table is revealed', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS });
  const fx = send(m, {
    type: 'configDiff',
    runIds: ['file:a.mrl.json', 'mid'],
    configs: { 'file:a.mrl.json': { seed: 1 }, mid: { seed: 2 }, 'file:none': null },
  });
  assert.deepEqual(m.runs.find((r) => r.id === 'mid')!.config, { seed: 2 });
  assert.deepEqual([...m.diffOnlyConfigs], [['file:a.mrl.json', { name: 'a.mrl.json', config: { seed: 1 } }]]);
  assert.deepEqual(m.state.diffRunIds, ['file:a.mrl.json', 'mid']);
  assert.deepEqual(
    fx.calls.map((c) => c.kind),
    ['save', 'schedule', 'revealDiff'],
  );
});

test('user picks: toggling a run shows/hides it and requests its data; toggling a dim hides/shows it', () => {
  const m = createModel();
  send(m, { type: 'init', runs: RUNS });
  let fx = recorder();
  toggleRun(m, 'old', fx);
  assert.deepEqual(m.state.shownRunIds, ['new', 'old']);
  assert.deepEqual(posts(fx), [{ type: 'requestRun', runId: 'old' }]);
  fx = recorder();
  toggleRun(m, 'new', fx);
  assert.deepEqual(m.state.shownRunIds, ['old']);
  assert.deepEqual(
    fx.calls.map((c) => c.kind),
    ['save', 'schedule'],
  );
  fx = recorder();
  toggleDim(m, 64, fx);
  toggleDim(m, 128, fx);
  toggleDim(m, 64, fx);
  assert.deepEqual(m.state.hiddenDims, [128]);
  assert.deepEqual(fx.dirty(), { structural: true });
});

test("a burst of replays: awaited from the host choice (init showRuns) or our requests until each run's first metrics arrive", () => {
  const m = createModel();
  assert.equal(awaitingReplays(m), false);
  send(m, { type: 'init', runs: RUNS, showRuns: ['new', 'old'] });
  assert.equal(awaitingReplays(m), true, 'the host replays the runs it chose');
  send(m, { type: 'metrics', runId: 'new', reset: true, lines: genMetrics({ steps: 20 }) });
  assert.equal(awaitingReplays(m), true, 'one of two arrived');
  // a run not shown arriving does not end it
  send(m, { type: 'metrics', runId: 'mid', reset: true, lines: genMetrics({ steps: 20 }) });
  assert.equal(awaitingReplays(m), true);
  send(m, { type: 'metrics', runId: 'old', reset: true, lines: [] });
  assert.equal(awaitingReplays(m), false, 'every shown run arrived (even with no lines)');
  // a user pick of a run with no data asks for it: awaited again until it arrives
  const m2 = createModel();
  send(m2, { type: 'init', runs: RUNS, showRuns: [] });
  toggleRun(m2, 'mid', recorder());
  assert.equal(awaitingReplays(m2), true);
  // hidden again before it came: nothing shown is awaited
  toggleRun(m2, 'mid', recorder());
  assert.equal(awaitingReplays(m2), false);
});

// The host side of the runs table: run summaries (RunSeries.evalDigest → PanelRun.summary), the advisor
// setting, runAction planning, and the panel host sending summaries (throttled) and running the actions.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';
import { RunSeries } from '../../src/runs/series';
import { RUN_ACTION_COMMANDS } from '../../src/host/commands/commandIds';
import { planRunAction } from '../../src/host/panel/runActions';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-table-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const evalLine = (step: number, v64: number, v128: number, values: Record<string, number> = {}) => ({
  step,
  epoch: 0,
  time: step,
  split: 'eval' as const,
  values,
  byDim: { '64': { 'ndcg@10': v64, loss: 1 - v64 }, '128': { 'ndcg@10': v128, loss: 1 - v128 } },
});
const trainLine = (step: number) => ({ step, epoch: 0, time: step, split: 'train' as const, values: { loss: 1 / step } });

test('evalDigest: the latest eval (per dim and dimension-less), best per dim and metric, resume applied', () => {
  const s = new RunSeries();
  s.push([
    trainLine(1),
    evalLine(10, 0.3, 0.35, { 'funnel:ndcg@10': 0.33, 'funnel:macsSaved': 0.7 }),
    trainLine(11),
    evalLine(20, 0.25, 0.4),
    trainLine(21),
  ]);
  const d = s.evalDigest();
  assert.equal(d.evalStep, 20);
  assert.deepEqual(d.last, { '64': { 'ndcg@10': 0.25, loss: 0.75 }, '128': { 'ndcg@10': 0.4, loss: 0.6 } });
  assert.deepEqual(d.lastValues, {}, 'the latest eval had no funnel values');
  assert.equal(d.best['64']['ndcg@10'], 0.3, 'best: max for a score');
  assert.equal(d.best['64'].loss, 0.7, 'best: min for a loss');
  assert.equal(d.best['128']['ndcg@10'], 0.4);
  // a resume from step 15 drops the step-20 eval: the digest goes back to step 10
  s.push([{ type: 'resume', fromStep: 15 }]);
  const r = s.evalDigest();
  assert.equal(r.evalStep, 10);
  assert.deepEqual(r.lastValues, { 'funnel:ndcg@10': 0.33, 'funnel:macsSaved': 0.7 });
  assert.equal(r.best['128']['ndcg@10'], 0.35);
  assert.deepEqual(new RunSeries().evalDigest(), { evalStep: null, last: {}, lastValues: {}, best: {} });
});

test('advisorPercent setting: 50–100, anything else → 95', () => {
  const { advisorPercent } = require('../../src/host/settings') as typeof import('../../src/host/settings');
  assert.equal(advisorPercent(90), 90);
  assert.equal(advisorPercent(100), 100);
  assert.equal(advisorPercent(50), 50);
  for (const bad of [49, 101, '90', null, NaN, undefined]) assert.equal(advisorPercent(bad), 95, String(bad));
});

test('planRunAction: plot shows, diff of two opens the diff editor and of more the table, commands get the ids', () => {
  const known = (id: string) => id !== 'gone';
  const sweepOf = (id: string) => ({ a: 's1', b: 's1', c: 's2' })[id];
  const C = RUN_ACTION_COMMANDS;
  assert.deepEqual(planRunAction('plot', ['a', 'b', 'a'], known, sweepOf, C), [{ kind: 'show', runIds: ['a', 'b'] }]);
  assert.deepEqual(planRunAction('diff', ['a', 'b'], known, sweepOf, C), [{ kind: 'command', command: C.diffConfigs, args: ['a', 'b'] }]);
  assert.deepEqual(planRunAction('diff', ['a', 'b', 'c'], known, sweepOf, C), [{ kind: 'diffTable', runIds: ['a', 'b', 'c'] }]);
  assert.equal(planRunAction('diff', ['a', 'gone'], known, sweepOf, C)[0].kind, 'none');
  assert.deepEqual(planRunAction('stop', ['a', 'gone'], known, sweepOf, C), [{ kind: 'command', command: C.stopRun, args: [['a']] }]);
  assert.deepEqual(planRunAction('resume', ['c'], known, sweepOf, C), [{ kind: 'command', command: C.resumeRun, args: [['c']] }]);
  assert.deepEqual(planRunAction('delete', ['a', 'c'], known, sweepOf, C), [{ kind: 'command', command: C.deleteRun, args: [['a', 'c']] }]);
  assert.deepEqual(planRunAction('editNotes', ['c', 'a'], known, sweepOf, C), [
    { kind: 'command', command: 'matryoshkaLab.editNotes', args: ['c'] },
  ]);
  assert.deepEqual(planRunAction('stopSweep', ['a', 'b', 'c', 'd'], known, sweepOf, C), [
    { kind: 'command', command: 'matryoshkaLab.stopSweep', args: ['s1'] },
    { kind: 'command', command: 'matryoshkaLab.stopSweep', args: ['s2'] },
  ]);
  assert.match(
    (planRunAction('stopSweep', ['d'], known, sweepOf, C)[0] as { reason: string }).reason,
    /none of the selected runs belongs to a sweep/,
  );
  assert.match((planRunAction('stop', ['gone'], known, sweepOf, C)[0] as { reason: string }).reason, /no such run: gone/);
  assert.deepEqual(planRunAction('export', ['c', 'a'], known, sweepOf, C), [
    { kind: 'command', command: 'matryoshkaLab.exportModel', args: ['c'] },
  ]);
});

test('panel host: init carries settings and run summaries; streaming runs send runInfo at most once a second; runAction runs the commands', async (t) => {
  const trainer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'fake-trainer']);
  t.after(() => trainer.kill('SIGKILL'));
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel, SUMMARY_INTERVAL_MS } =
    require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(root) }];
  vs.state.settings.advisorPercent = 90;
  vs.state.panels.length = 0;
  vs.state.executed.length = 0;
  const runs = join(root, '.mrl/runs');
  const mk = (id: string, status: string, lines: object[], sweep?: object) => {
    mkdirSync(join(runs, id), { recursive: true });
    writeFileSync(
      join(runs, id, 'run.json'),
      JSON.stringify({
        id,
        name: id,
        status,
        pid: status === 'running' ? trainer.pid : null,
        startedAt: '2026-01-01T00:00:00Z',
        endedAt: null,
        backend: 'cpu',
        sweep,
      }),
    );
    writeFileSync(join(runs, id, 'config.json'), JSON.stringify({ name: id, training: { batchSize: 4 } }));
    writeFileSync(join(runs, id, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  };
  mk('done', 'completed', [trainLine(1), evalLine(10, 0.2, 0.3)], { id: 'sw', index: 0, params: {} });
  mk('live', 'running', [trainLine(1), trainLine(2)]);
  const model = new RunsModel();
  const out = { appendLine() {} } as unknown as import('vscode').OutputChannel;
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, out, () => {}));
  try {
    panel.show(['done']);
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });
    const init = p.posted.find((m) => m.type === 'init');
    assert.deepEqual(init.settings, { advisorPercent: 90 });
    const done = init.runs.find((r: { id: string }) => r.id === 'done');
    assert.equal(done.summary.evalStep, 10);
    assert.equal(done.summary.last['128']['ndcg@10'], 0.3);
    assert.equal(done.summary.lastStep, 10);
    assert.deepEqual(done.sweep, { id: 'sw', index: 0, params: {} });
    assert.equal(init.runs.find((r: { id: string }) => r.id === 'live').summary.loss, 0.5);

    // a streaming run that is not shown: its row still updates, throttled (on a mocked clock: the interval
    // is the panel's, whatever the machine's speed)
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    p.posted.length = 0;
    // Metrics-only row updates go out as `runInfos` (one message per refresh, however many rows).
    const infos = () =>
      p.posted
        .flatMap((m) => (m.type === 'runInfo' ? [m] : m.type === 'runInfos' ? m.runs.map((run: unknown) => ({ run })) : []))
        .filter((m: { run: { id: string } }) => m.run.id === 'live');
    appendFileSync(join(runs, 'live', 'metrics.jsonl'), JSON.stringify(evalLine(3, 0.1, 0.2)) + '\n');
    model.refresh();
    assert.equal(infos().length, 1, 'the first change goes out at once');
    assert.equal(infos()[0].run.summary.evalStep, 3);
    assert.equal(infos()[0].run.config, undefined, 'a metrics-only update leaves the config out (the webview keeps its copy)');
    appendFileSync(join(runs, 'live', 'metrics.jsonl'), JSON.stringify(trainLine(4)) + '\n');
    model.refresh();
    t.mock.timers.tick(SUMMARY_INTERVAL_MS / 2);
    appendFileSync(join(runs, 'live', 'metrics.jsonl'), JSON.stringify(trainLine(5)) + '\n');
    model.refresh();
    assert.equal(infos().length, 1, 'within the interval: held back');
    assert.equal(p.posted.filter((m) => m.type === 'metrics' && m.runId === 'live').length, 0, 'no metrics for a run not shown');
    t.mock.timers.tick(SUMMARY_INTERVAL_MS / 2 - 1);
    assert.equal(infos().length, 1, 'still held back 1 ms before the interval ends');
    t.mock.timers.tick(1);
    assert.equal(infos().length, 2, 'one update when the interval ends, with the latest figures');
    assert.equal(infos()[1].run.summary.lastStep, 5);
    t.mock.timers.tick(10 * SUMMARY_INTERVAL_MS);
    assert.equal(infos().length, 2, 'nothing new: nothing more sent');
    t.mock.timers.reset();

    // runAction: the palette's commands with the ids; plot shows the runs
    p.send({ type: 'runAction', action: 'stop', runIds: ['live'] });
    p.send({ type: 'runAction', action: 'diff', runIds: ['done', 'live'] });
    p.send({ type: 'runAction', action: 'stopSweep', runIds: ['done', 'live'] });
    p.send({ type: 'runAction', action: 'editNotes', runIds: ['done'] });
    p.send({ type: 'runAction', action: 'delete', runIds: ['done', 'nope'] });
    assert.deepEqual(vs.state.executed, [
      { command: 'matryoshkaLab.stopRun', args: [['live']] },
      { command: 'matryoshkaLab.diffConfigs', args: ['done', 'live'] },
      { command: 'matryoshkaLab.stopSweep', args: ['sw'] },
      { command: 'matryoshkaLab.editNotes', args: ['done'] },
      { command: 'matryoshkaLab.deleteRun', args: [['done']] },
    ]);
    p.posted.length = 0;
    p.send({ type: 'runAction', action: 'plot', runIds: ['done', 'live'] });
    assert.deepEqual(p.posted.find((m) => m.type === 'showRuns').runIds, ['done', 'live']);
    assert.ok(
      p.posted.some((m) => m.type === 'metrics' && m.runId === 'live' && m.reset),
      'the newly shown run is replayed',
    );
  } finally {
    panel.dispose();
    model.dispose();
  }
});

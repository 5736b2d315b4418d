// The panel host while a workspace's metrics are read in the background (issue 21): a run goes to the panel
// either loading (no summary) or with the summary of its whole metrics.jsonl — never the summary of the
// part read so far, which showed an earlier evaluation as the latest — and the rows that finish loading go
// out together, one `runInfos` per pass. Checked against the files, read independently
// (bench/expectedCells.ts), on the bench's generator with runs read over several passes each.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';
import { expectedCells } from '../../bench/expectedCells';
import { generateWorkspace } from '../../bench/workspaceGen';
import type { PanelRun } from '../../src/protocol/panelMessages';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-panel-loading-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

test('panel opened at activation: rows loading, then each one complete once, never partial; the completions batched', async () => {
  // 30 runs of 4,000 steps (~165 KB of metrics each, ~5 MB): the first pass reads 64 KB, and the passes
  // after it end inside a file, so runs are read over two passes while the panel listens.
  const g = generateWorkspace(join(root, 'ws'), { runs: 30, sweeps: 1, sweepSize: 10, steps: 4000, stopped: 0.1, failed: 0.1 });
  const want = new Map(g.runs.map((r) => [r.id, expectedCells(join(g.runsDir, r.id))]));
  const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(join(root, 'ws')) }];
  vs.state.panels.length = 0;
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
  const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');
  const model = new RunsModel();
  const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, { appendLine() {} } as never, () => {}));
  try {
    panel.show([g.runs[0].id]);
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });
    const init = p.posted.find((m) => m.type === 'init');
    const loadingAtInit = (init.runs as PanelRun[]).filter((r) => r.metricsLoading).map((r) => r.id);
    assert.ok(loadingAtInit.length >= 25, `most runs are not read at activation (${loadingAtInit.length} loading)`);
    for (const r of init.runs as PanelRun[])
      assert.equal(r.metricsLoading === true, r.summary === undefined, `${r.id}: loading ⇔ no summary`);

    // Every row the panel gets, in order: loading or complete.
    const rowsOf = (m: { type: string; runs?: PanelRun[]; run?: PanelRun }): PanelRun[] =>
      m.type === 'init' || m.type === 'runs' || m.type === 'runInfos' ? m.runs! : m.type === 'runInfo' ? [m.run!] : [];
    const lastRow = () => {
      const last = new Map<string, PanelRun>();
      for (const m of p.posted) for (const r of rowsOf(m)) last.set(r.id, r);
      return last;
    };
    for (let i = 0; i < 20_000 && [...lastRow().values()].some((r) => r.metricsLoading); i++) await new Promise((r) => setTimeout(r, 5));

    const states = new Map<string, string[]>();
    for (const m of p.posted) {
      for (const r of rowsOf(m)) {
        const seq = states.get(r.id) ?? [];
        const s = r.metricsLoading ? 'loading' : 'complete';
        if (seq.at(-1) !== s) seq.push(s);
        states.set(r.id, seq);
        if (!r.summary) continue;
        // Any summary sent, at any time, is the whole file's: its latest evaluation and best values.
        const exp = want.get(r.id)!;
        for (const [d, ms] of Object.entries(r.summary.last))
          for (const [metric, v] of Object.entries(ms)) assert.equal(v, exp.get(`${metric}@${d}`), `${r.id} ${metric}@${d} (${m.type})`);
        for (const [d, ms] of Object.entries(r.summary.best))
          for (const [metric, v] of Object.entries(ms)) assert.equal(v, exp.get(`best:${metric}@${d}`), `${r.id} best ${metric}@${d}`);
      }
    }
    for (const r of g.runs) {
      const seq = states.get(r.id);
      assert.deepEqual(seq, loadingAtInit.includes(r.id) ? ['loading', 'complete'] : ['complete'], `${r.id}: ${seq?.join(' → ')}`);
      const last = lastRow().get(r.id)!;
      assert.equal(Object.keys(last.summary!.last).length, 4, `${r.id}: every dim`);
      if (loadingAtInit.includes(r.id)) assert.equal(last.config, undefined, 'a summary update leaves the config out (init carried it)');
    }
    // The rows that finished loading in one pass go out in one message.
    const batches = p.posted.filter((m) => m.type === 'runInfos');
    assert.ok(
      batches.some((m) => m.runs.length > 1),
      `runInfos of ${batches.map((m) => m.runs.length).join(', ')} runs`,
    );
    assert.equal(
      p.posted.filter((m) => m.type === 'runInfo').length,
      0,
      'no run changed status: no runInfo (one per run was the old way of sending summaries)',
    );
  } finally {
    panel.dispose();
    model.dispose();
  }
});

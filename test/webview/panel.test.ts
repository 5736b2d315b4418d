// The metrics panel in real Debian Chromium (playwright-core), served with the real HTML and CSP from
// src/host/panel/html.ts. Assertions read the Chart.js instances through the read-only `window.__mrlPanel` hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser, artifactPath, type OpenedPanel, type ThemeClass } from './harness';
import { genMetrics, baseConfig, run, DIMS } from './fixtures/metrics';

const panels = usePanelBrowser();

const RUNS = [
  run('20261123-180000-base-aaaa', 'mnrl-baseline', 'completed', '2026-11-23T18:00:00Z', baseConfig()),
  run(
    '20261123-183000-lr-bbbb',
    'cached-lr1e-3',
    'running',
    '2026-11-23T18:30:00Z',
    baseConfig({
      name: 'lr',
      'training.learningRate': 0.001,
      'evaluation.funnel': { shortlistDim: 32, rerankDim: 256, shortlistSize: 100 },
    }),
    { step: 600, totalSteps: 2000 },
  ),
];
const [A, B] = RUNS.map((r) => r.id);

/** The panel with both runs loaded (B with funnel points), both shown. */
async function loadedPanel(theme: ThemeClass = 'vscode-dark'): Promise<OpenedPanel> {
  const p = await panels.open(theme);
  await p.send({ type: 'init', runs: RUNS, showRuns: [A] });
  await p.send({ type: 'metrics', runId: A, reset: true, lines: genMetrics({ steps: 1000, evalEvery: 100, seed: 5 }) });
  await p.send({
    type: 'metrics',
    runId: B,
    reset: true,
    lines: genMetrics({ steps: 600, evalEvery: 100, seed: 3, funnel: true, boost: 0.05 }),
  });
  await p.send({ type: 'showRuns', runIds: [A, B] });
  await p.settle();
  return p;
}

const panel = (p: OpenedPanel) => ({
  chart: (id: string) => p.page.evaluate((i) => (window as any).__mrlPanel.chart(i), id),
  mrl: () => p.page.evaluate(() => (window as any).__mrlPanel.mrl()),
  state: () => p.page.evaluate(() => (window as any).__mrlPanel.state()),
  stats: () => p.page.evaluate(() => (window as any).__mrlPanel.stats()),
  chartIds: (): Promise<string[]> => p.page.evaluate(() => (window as any).__mrlPanel.chartIds()),
  diffRows: () => p.page.evaluate(() => (window as any).__mrlPanel.diffRows()),
  csp: () => p.page.evaluate(() => (window as any).__csp),
});

async function close(p: OpenedPanel): Promise<void> {
  await p.page.context().close();
}

test('loads under the real CSP with no violations, says ready, draws nothing before data', async () => {
  const p = await panels.open('vscode-dark');
  await p.settle();
  const posted = await p.posted();
  assert.deepEqual(posted[0], { type: 'ready', state: null });
  const meta = await p.page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(meta!, /default-src 'none'/);
  assert.match(meta!, new RegExp(`script-src 'nonce-${panels.srv.lastNonce}'`));
  // the elements upgraded (custom elements defined, shadow roots rendered)
  assert.equal(
    await p.page.evaluate(() => !!customElements.get('vscode-single-select') && !!document.querySelector('vscode-checkbox')!.shadowRoot),
    true,
  );
  assert.match((await p.page.textContent('#empty')) ?? '', /No runs yet/);
  await p.send({ type: 'init', runs: RUNS });
  await p.send({ type: 'metrics', runId: B, reset: true, lines: genMetrics({ steps: 200, evalEvery: 100 }) });
  await p.settle();
  assert.deepEqual(await panel(p).csp(), []);
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('favicon') && !e.includes('404')),
    [],
  );
  await close(p);
});

test('a first open shows the latest run and asks the host for runs it has no data for', async () => {
  const p = await panels.open();
  await p.send({ type: 'init', runs: RUNS });
  await p.settle();
  // newest run first; the host has sent nothing yet, so the webview asks for it
  assert.deepEqual((await panel(p).state()).shownRunIds, [B]);
  assert.deepEqual(
    (await p.posted()).filter((m) => m.type === 'requestRun'),
    [{ type: 'requestRun', runId: B }],
  );
  assert.match((await p.page.textContent('#empty')) ?? '', /Loading/);
  await p.page.click(`.run-chip[data-run-id="${A}"]`);
  await p.settle();
  assert.deepEqual(
    (await p.posted()).filter((m) => m.type === 'requestRun').map((m) => m.runId),
    [B, A],
  );
  await close(p);
});

test('one run: one line per dim with a legend that says the dim, coloured by dim, best marked', async () => {
  const p = await loadedPanel();
  await p.page.click(`.run-chip[data-run-id="${B}"]`); // A alone
  await p.settle();
  const ids = await panel(p).chartIds();
  assert.deepEqual(ids.slice(0, 3), ['m:train/loss', 'm:eval/loss', 'm:eval/ndcg@10']);
  assert.ok(!ids.includes('m:eval/funnel:rerankDim'), 'funnel parameters are not curves');
  const nd = await panel(p).chart('m:eval/ndcg@10');
  assert.deepEqual(nd.legend, ['dim 32', 'dim 64', 'dim 128', 'dim 256']);
  assert.equal(nd.title, 'ndcg@10 · eval');
  // smoothing on by default, but an eval curve is drawn raw: one line per dim
  assert.equal(nd.datasets.length, 4);
  assert.ok(nd.datasets.every((d: any) => d.role === 'line' && d.points === 10));
  // different dims → different colours
  assert.equal(new Set(nd.datasets.map((d: any) => d.color)).size, 4);
  assert.equal(await p.page.isVisible('#runLegend'), false, 'no run legend for one run');
  assert.equal(await p.page.getAttribute('#dims', 'role'), null, 'the dims bar toggles dims');
  assert.equal(await p.page.locator('.dim-chip .swatch').count(), 4, 'each in its colour');
  const axis = () => p.page.evaluate(() => (window as any).__mrlPanel.chartInstance('m:eval/ndcg@10').options.interaction.axis);
  assert.equal(await axis(), 'x', 'one run: the tooltip lists every dim at the step');
  // best value marked on each curve: max for ndcg (last eval here), min for loss
  assert.equal(nd.best.length, 4);
  for (const b of nd.best) assert.equal(b.step, 1000);
  const loss = await panel(p).chart('m:train/loss');
  assert.ok(loss.legend.includes('all dims'));
  assert.equal(loss.best.length, 5, 'a best point on every loss curve: 4 dims + all dims');
  for (const b of loss.best) assert.ok(b.y < 1.2, `loss best ${b.y}`);
  await close(p);
});

test('two runs: colour = run, one dim plotted (the dims bar picks it), the total in its own chart, a run legend', async () => {
  const p = await loadedPanel();
  // the cards in page order
  const ids = await p.page.$$eval('#charts .chart-card', (cs) => cs.map((c) => (c as HTMLElement).dataset.chartId));
  assert.deepEqual(ids.slice(0, 4), ['m:train/loss', 'm:train/loss|all', 'm:eval/loss', 'm:eval/ndcg@10']);
  assert.ok(ids.includes('m:eval/funnel:ndcg@10'));
  let nd = await panel(p).chart('m:eval/ndcg@10');
  assert.equal(nd.title, 'ndcg@10 · eval · dim 256', 'the largest dim by default');
  assert.deepEqual(nd.legend, ['cached-lr1e-3', 'mnrl-baseline']);
  assert.deepEqual(
    nd.datasets.map((d: any) => [d.runId, d.dim, d.points]),
    [
      [B, 256, 6],
      [A, 256, 10],
    ],
  );
  assert.notEqual(nd.datasets[0].color, nd.datasets[1].color, 'one colour per run');
  assert.deepEqual(nd.datasets[0].dash, [], 'solid lines: colour tells the runs apart');
  const axis = await p.page.evaluate(() => (window as any).__mrlPanel.chartInstance('m:eval/ndcg@10').options.interaction.axis);
  assert.equal(axis, 'xy', 'an overlay: the tooltip names the line nearest the pointer');
  const legend = await p.page.evaluate(() => (window as any).__mrlPanel.runLegend());
  assert.equal(legend.shown, true);
  assert.deepEqual(legend.runIds, [B, A]);
  assert.equal(legend.colors[A], nd.datasets[1].color, 'the run legend uses the charts’ colours');
  assert.equal(legend.colors[B], nd.datasets[0].color);
  // the runs bar's chip draws the run's line in its colour
  assert.equal(await p.page.getAttribute(`.run-chip[data-run-id="${A}"] svg line`, 'stroke'), legend.colors[A]);
  // the dims bar is a choice of one dim
  assert.equal(await p.page.getAttribute('#dims', 'role'), 'radiogroup');
  assert.equal(await p.page.getAttribute('.dim-chip[data-dim="256"]', 'aria-checked'), 'true');
  assert.equal(await p.page.textContent('#dimsLabel'), 'Dim');
  await p.page.click('.dim-chip[data-dim="64"]');
  await p.settle();
  nd = await panel(p).chart('m:eval/ndcg@10');
  assert.equal(nd.title, 'ndcg@10 · eval · dim 64');
  assert.ok(nd.datasets.every((d: any) => d.dim === 64));
  assert.equal(await p.page.getAttribute('.dim-chip[data-dim="64"]', 'aria-checked'), 'true');
  assert.equal(await p.page.getAttribute('.dim-chip[data-dim="256"]', 'aria-checked'), 'false');
  assert.equal((await panel(p).state()).overlayDim, 64);
  assert.deepEqual((await panel(p).state()).hiddenDims, [], 'choosing a dim hides none');
  assert.equal(nd.best.length, 2);
  // the total: one curve per run, smoothed over a faint raw curve (two runs keep the underlay)
  const total = await panel(p).chart('m:train/loss|all');
  assert.equal(total.title, 'loss · train · all dims');
  assert.deepEqual(
    total.datasets.filter((d: any) => d.role === 'smoothed').map((d: any) => [d.runId, d.dim]),
    [
      [B, null],
      [A, null],
    ],
  );
  // the MRL chart: the runs' lines in their colours
  const m = await panel(p).mrl();
  const mrlLine = m.datasets.find((d: any) => d.runId === A && !d.label.includes('funnel'));
  assert.equal(mrlLine.borderColor, legend.colors[A]);
  await close(p);
});

test('toggle: one chart per dim with all metrics', async () => {
  const p = await loadedPanel();
  await p.page.evaluate(() => {
    const s = document.getElementById('viewMode') as any;
    s.value = 'dim';
    s.dispatchEvent(new Event('change'));
  });
  await p.settle();
  const ids = await panel(p).chartIds();
  assert.deepEqual(ids, ['d:32', 'd:64', 'd:128', 'd:256', 'd:none']);
  const c = await panel(p).chart('d:64');
  assert.equal(c.title, 'dim 64');
  assert.ok(c.legend.includes('ndcg@10 · eval') && c.legend.includes('loss · train'));
  assert.equal(c.datasets.length, 18, '2 runs × (train loss raw + smoothed, 7 eval metrics)');
  assert.ok(c.datasets.every((d: any) => d.dim === 64));
  // two runs: colour = run, so the dims bar shows and hides charts without colour swatches
  assert.equal(new Set(c.datasets.map((d: any) => d.color)).size, 2);
  assert.equal(await p.page.getAttribute('#dims', 'role'), null);
  assert.equal(await p.page.locator('.dim-chip .swatch').count(), 0);
  await p.page.screenshot({ path: artifactPath('panel-per-dim-dark.png'), fullPage: true });
  await close(p);
});

test('show/hide dims and runs; hidden dims stay in the legend, struck', async () => {
  const p = await loadedPanel();
  // the dims bar shows and hides dims for one run (for several it picks the one dim plotted)
  await p.page.click(`.run-chip[data-run-id="${B}"]`);
  await p.settle();
  await p.page.click('.dim-chip[data-dim="64"]');
  await p.settle();
  let nd = await panel(p).chart('m:eval/ndcg@10');
  assert.ok(nd.datasets.every((d: any) => d.dim !== 64));
  assert.equal(nd.datasets.filter((d: any) => d.role === 'line').length, 3);
  const hidden = await p.page.evaluate(() =>
    (window as any).__mrlPanel
      .chartInstance('m:eval/ndcg@10')
      .legend.legendItems.filter((i: any) => i.hidden)
      .map((i: any) => i.text),
  );
  assert.deepEqual(hidden, ['dim 64']);
  assert.deepEqual(
    (await panel(p).mrl()).points.filter((pt: any) => pt.dim === 64),
    [],
  );
  // B back, then A hidden through its chip: B alone, its dims but 64
  await p.page.click(`.run-chip[data-run-id="${B}"]`);
  await p.page.click(`.run-chip[data-run-id="${A}"]`);
  await p.settle();
  nd = await panel(p).chart('m:eval/ndcg@10');
  assert.equal(nd.datasets.length, 3, "B's dims but 64");
  assert.ok(nd.datasets.every((d: any) => d.runId === B));
  assert.equal(await p.page.getAttribute(`.run-chip[data-run-id="${A}"]`, 'aria-pressed'), 'false');
  await close(p);
});

test('MRL curve: metric vs dim on a log2 axis, one line per run, step slider, funnel point', async () => {
  const p = await loadedPanel();
  let m = await panel(p).mrl();
  assert.equal(m.metric, 'eval/ndcg@10');
  assert.deepEqual(m.steps, { [A]: 1000, [B]: 600 });
  assert.equal(m.points.length, 8);
  const a = m.points.filter((pt: any) => pt.runId === A).map((pt: any) => pt.dim);
  assert.deepEqual(a, DIMS);
  const xs = await p.page.evaluate(() => (window as any).__mrlPanel.chartInstance('mrl').data.datasets[0].data.map((d: any) => d.x));
  assert.deepEqual(xs, [5, 6, 7, 8]); // log2 of 32..256
  // monotone in dim for this synthetic data
  const ya = m.points.filter((pt: any) => pt.runId === A).map((pt: any) => pt.y);
  for (let i = 1; i < ya.length; i++) assert.ok(ya[i] > ya[i - 1]);
  assert.equal(m.funnel.length, 1);
  assert.equal(m.funnel[0].runId, B);
  assert.equal(m.funnel[0].rerankDim, 256);
  assert.equal(m.funnel[0].shortlistDim, 32);
  assert.ok(m.datasets.some((d: any) => /funnel 32→256/.test(d.label)));
  // slider to the 3rd eval step (300)
  await p.page.evaluate(() => {
    const s = document.getElementById('mrlStep') as HTMLInputElement;
    s.value = '2';
    s.dispatchEvent(new Event('input'));
  });
  await p.settle();
  m = await panel(p).mrl();
  assert.deepEqual(m.steps, { [A]: 300, [B]: 300 });
  assert.equal((await panel(p).state()).mrlStep, 300);
  assert.match((await p.page.textContent('#mrlStepValue')) ?? '', /^300$/);
  // pick another metric
  await p.page.evaluate(() => {
    const s = document.getElementById('mrlMetric') as any;
    s.value = 'eval/recall@1';
    s.dispatchEvent(new Event('change'));
  });
  await p.settle();
  assert.equal((await panel(p).mrl()).metric, 'eval/recall@1');
  await close(p);
});

test('live: appended points show up in the same Chart.js instance; status changes visible', async () => {
  const p = await loadedPanel();
  await p.page.evaluate(() => {
    (window as any).__chartBefore = (window as any).__mrlPanel.chartInstance('m:train/loss');
  });
  const before = await panel(p).chart('m:train/loss');
  const nB = before.seriesLength.find((s: any) => s.runId === B && s.dim === 256).n;
  assert.equal(nB, 600);
  await p.send({ type: 'metrics', runId: B, lines: genMetrics({ steps: 700, fromStep: 601, evalEvery: 100, seed: 11, funnel: true }) });
  await p.send({ type: 'runInfo', run: { ...RUNS[1], step: 700 } });
  await p.settle();
  const after = await panel(p).chart('m:train/loss');
  assert.equal(after.seriesLength.find((s: any) => s.runId === B && s.dim === 256).n, 700);
  assert.equal(
    await p.page.evaluate(() => (window as any).__chartBefore === (window as any).__mrlPanel.chartInstance('m:train/loss')),
    true,
  );
  assert.equal((await panel(p).mrl()).steps[B], 700, 'MRL follows the latest step');
  assert.match((await p.page.textContent(`.run-chip[data-run-id="${B}"] .status`)) ?? '', /running · 700\/2000/);
  // failure: the error is shown in full
  await p.send({ type: 'runInfo', run: { ...RUNS[1], status: 'failed', error: 'loss became NaN at step 701' } });
  await p.settle();
  assert.match((await p.page.textContent(`.run-chip[data-run-id="${B}"] .status`)) ?? '', /failed/);
  assert.match((await p.page.textContent(`.banner[data-run-id="${B}"]`)) ?? '', /cached-lr1e-3 failed: loss became NaN at step 701/);
  await p.send({ type: 'runInfo', run: { ...RUNS[1], status: 'stopped' } });
  await p.settle();
  assert.equal(await p.page.locator('.banner').count(), 0);
  assert.equal(await p.page.locator(`.run-chip.status-stopped[data-run-id="${B}"]`).count(), 1);
  await close(p);
});

test('a reset replay of a shown run replaces what the charts hold', async () => {
  const p = await loadedPanel();
  await p.send({ type: 'metrics', runId: B, reset: true, lines: genMetrics({ steps: 300, evalEvery: 100, seed: 4 }) });
  await p.settle();
  for (const id of ['m:train/loss', 'm:train/loss|all']) {
    const c = await panel(p).chart(id);
    assert.deepEqual(
      c.seriesLength.filter((s: any) => s.runId === B).map((s: any) => s.n),
      [300],
      id,
    );
    const drawn = await p.page.evaluate(
      ([chartId, b]) => {
        const ch = (window as any).__mrlPanel.chartInstance(chartId);
        return ch.data.datasets
          .filter((d: any) => d._info.curve.runId === b && d._info.role === 'smoothed')
          .map((d: any) => d.data[d.data.length - 1].x);
      },
      [id, B],
    );
    assert.deepEqual(drawn, [300], id);
  }
  assert.equal((await panel(p).mrl()).steps[B], 300);
  await close(p);
});

test('resume event: points after fromStep are dropped, then re-written', async () => {
  const p = await loadedPanel();
  await p.send({ type: 'metrics', runId: B, lines: [{ type: 'resume', fromStep: 400 }] });
  await p.settle();
  let c = await panel(p).chart('m:eval/ndcg@10');
  assert.equal(c.seriesLength.find((s: any) => s.runId === B && s.dim === 256).n, 4);
  assert.equal((await panel(p).mrl()).steps[B], 400);
  // the resumed run's lines as raw metrics.jsonl text, with a torn last line (a writer mid-append)
  const text =
    genMetrics({ steps: 500, fromStep: 401, evalEvery: 100, seed: 2 })
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n{"step": 501, "ep';
  await p.send({ type: 'metrics', runId: B, lines: [], jsonl: text });
  await p.settle();
  c = await panel(p).chart('m:eval/ndcg@10');
  assert.equal(c.seriesLength.find((s: any) => s.runId === B && s.dim === 256).n, 5);
  assert.equal((await panel(p).chart('m:train/loss')).seriesLength.find((s: any) => s.runId === B && s.dim === 256).n, 500);
  const warn = (await p.posted()).filter((m) => m.type === 'log').map((m) => m.message);
  assert.deepEqual(warn, [`run ${B}: 1 unreadable metrics line(s) skipped`]);
  await close(p);
});

test('config diff table: changed keys only, dotted paths, side by side, highlighted; toggle shows all', async () => {
  const p = await loadedPanel();
  await p.send({ type: 'configDiff', runIds: [A, B] });
  await p.settle();
  const rows = await panel(p).diffRows();
  const paths = rows.map((r: any) => r.path);
  assert.deepEqual(paths, [
    'name',
    'training.learningRate',
    'evaluation.funnel',
    'evaluation.funnel.shortlistDim',
    'evaluation.funnel.rerankDim',
    'evaluation.funnel.shortlistSize',
  ]);
  const dom = await p.page.$$eval('#diffTable tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(dom[1], ['training.learningRate', '0.0005', '0.001']);
  assert.equal(await p.page.locator('#diffTable tbody tr.changed').count(), 6);
  assert.equal(await p.page.locator('#diffTable td.differs').count(), 6);
  assert.deepEqual(await p.page.$$eval('#diffTable thead th', (ths) => ths.map((t) => t.textContent)), [
    'key',
    'mnrl-baseline',
    'cached-lr1e-3',
  ]);
  // "diff only" off → all keys, unchanged ones not highlighted
  await p.page.evaluate(() => {
    const c = document.getElementById('diffOnly') as any;
    c.checked = false;
    c.dispatchEvent(new Event('change'));
  });
  await p.settle();
  const all = await panel(p).diffRows();
  assert.ok(all.length > 30);
  assert.equal(all.filter((r: any) => r.changed).length, 6);
  assert.ok(all.some((r: any) => r.path === 'model.scratch.hiddenSize' && !r.changed));
  // three runs
  const C = run('c', 'third', 'completed', '2026-11-20T00:00:00Z', baseConfig({ seed: 7 }));
  await p.send({ type: 'runs', runs: [...RUNS, C] });
  await p.send({ type: 'configDiff', runIds: [A, B, 'c'] });
  await p.page.evaluate(() => {
    const c = document.getElementById('diffOnly') as any;
    c.checked = true;
    c.dispatchEvent(new Event('change'));
  });
  await p.settle();
  const three = await panel(p).diffRows();
  assert.deepEqual(three.find((r: any) => r.path === 'seed').values, ['42', '42', '7']);
  assert.equal(await p.page.locator('#diffTable thead th').count(), 4);
  // "open diff editor" only for exactly two
  assert.equal(await p.page.isVisible('#openDiff'), false);
  await close(p);
});

test('config diff of two config files (configs that belong to no run) fills the table', async () => {
  const p = await loadedPanel();
  await p.send({
    type: 'configDiff',
    runIds: ['file:a.mrl.json', 'file:b.mrl.json'],
    configs: { 'file:a.mrl.json': baseConfig(), 'file:b.mrl.json': baseConfig({ seed: 9, 'training.batchSize': 128 }) },
  });
  await p.settle();
  const rows = await panel(p).diffRows();
  assert.deepEqual(rows.map((r: any) => r.path).sort(), ['seed', 'training.batchSize']);
  assert.deepEqual(await p.page.$$eval('#diffTable thead th', (ths) => ths.map((t) => t.textContent)), ['key', 'a.mrl.json', 'b.mrl.json']);
  await close(p);
});

test('malformed messages are logged and ignored; the panel keeps working', async () => {
  const p = await loadedPanel();
  const before = await panel(p).chart('m:train/loss');
  const junk = [
    null,
    'metrics',
    { type: 'metrics', runId: B, lines: [{ step: 'x' }] },
    { type: 'metrics', runId: B, lines: 'nope' },
    { type: 'init', runs: [{ id: 1 }] },
    { type: 'runInfo', run: { id: B, name: 'x', status: 'exploded' } },
    { type: 'showRuns' },
    { type: 'launchMissiles' },
  ];
  for (const j of junk) await p.send(j);
  await p.settle();
  const st = await panel(p).stats();
  assert.equal(st.rejected, junk.length);
  const logs = (await p.posted()).filter((m) => m.type === 'log' && m.level === 'warn');
  assert.equal(logs.length, junk.length);
  assert.match(logs[2].message, /malformed message \(type: metrics\)/);
  const after = await panel(p).chart('m:train/loss');
  assert.deepEqual(after.seriesLength, before.seriesLength);
  assert.equal((await p.page.evaluate(() => (window as any).__mrlPanel.runs()))[0].status, 'running');
  // and still takes good messages
  await p.send({ type: 'metrics', runId: B, lines: genMetrics({ steps: 610, fromStep: 601 }) });
  await p.settle();
  assert.equal((await panel(p).chart('m:train/loss')).seriesLength.find((s: any) => s.runId === B && s.dim === 256).n, 610);
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
  await close(p);
});

test('UI state survives a reload (getState/setState), and ready carries it to the host', async () => {
  const p = await loadedPanel();
  await p.page.click('.dim-chip[data-dim="64"]'); // two runs: the dim plotted
  await p.settle();
  const colors = (await panel(p).state()).runColors;
  assert.deepEqual(Object.keys(colors).sort(), [A, B].sort(), 'each shown run holds a colour slot');
  await p.page.click(`.run-chip[data-run-id="${A}"]`); // hide A
  await p.settle();
  await p.page.click('.dim-chip[data-dim="32"]'); // one run: hide dim 32
  await p.page.evaluate(() => {
    const s = document.getElementById('smoothing') as HTMLInputElement;
    s.value = '0.85';
    s.dispatchEvent(new Event('input'));
    const c = document.getElementById('logY') as any;
    c.checked = true;
    c.dispatchEvent(new Event('change'));
    const x = document.getElementById('xAxis') as any;
    x.value = 'relative';
    x.dispatchEvent(new Event('change'));
  });
  await p.settle();
  await p.page.reload();
  await p.page.waitForFunction(() => (window as any).__mrlPanel !== undefined);
  const ready = (await p.posted())[0];
  assert.equal(ready.type, 'ready');
  assert.deepEqual(ready.state.shownRunIds, [B]);
  // the host answers from ready.state: init with those runs, then their replay (no requestRun needed)
  await p.send({ type: 'init', runs: RUNS, showRuns: ready.state.shownRunIds });
  await p.send({ type: 'metrics', runId: B, reset: true, lines: genMetrics({ steps: 600, evalEvery: 100, seed: 3 }) });
  await p.settle();
  assert.deepEqual(
    (await p.posted()).filter((m) => m.type === 'requestRun'),
    [],
  );
  const st = await panel(p).state();
  assert.deepEqual(st.shownRunIds, [B]);
  assert.deepEqual(st.hiddenDims, [32]);
  assert.equal(st.overlayDim, 64);
  assert.deepEqual(st.runColors, colors, 'colour slots survive the reload');
  assert.equal(st.smoothing, 0.85);
  assert.equal(st.logY, true);
  assert.equal(st.xAxis, 'relative');
  assert.equal(await p.page.inputValue('#smoothing'), '0.85');
  const c = await panel(p).chart('m:train/loss');
  assert.equal(c.y.type, 'logarithmic');
  assert.equal(c.datasets.length, 8, "B's dims but 32, and all dims: raw + smoothed each");
  assert.ok(c.datasets.every((d: any) => d.dim !== 32 && d.runId === B));
  assert.equal(c.seriesLength[0].firstX, 0.5); // relative time (s) on x, not the step
  await close(p);
});

test('controls: smoothing off leaves one line per curve; log-y; wall-time axis; zoom, pan, reset', async () => {
  const p = await loadedPanel();
  await p.page.evaluate(() => {
    const s = document.getElementById('smoothing') as HTMLInputElement;
    s.value = '0';
    s.dispatchEvent(new Event('input'));
  });
  await p.settle();
  let c = await panel(p).chart('m:train/loss');
  assert.ok(c.datasets.every((d: any) => d.role === 'line'));
  assert.equal(c.datasets.length, 2); // 2 runs × the dim plotted
  await p.page.evaluate(() => {
    const x = document.getElementById('xAxis') as any;
    x.value = 'wall';
    x.dispatchEvent(new Event('change'));
  });
  await p.settle();
  c = await panel(p).chart('m:train/loss');
  assert.ok(c.x.min >= Date.UTC(2026, 10, 23, 18, 0, 0) - 1 && c.x.max < Date.UTC(2026, 10, 24));
  // drag a box over the middle of the plot → x zoom
  const card = p.page.locator('[data-chart-id="m:train/loss"] canvas');
  const box = (await card.boundingBox())!;
  const y = box.y + box.height * 0.4;
  await p.page.mouse.move(box.x + box.width * 0.4, y);
  await p.page.mouse.down();
  await p.page.mouse.move(box.x + box.width * 0.55, y, { steps: 4 });
  await p.page.mouse.up();
  await p.settle();
  c = await panel(p).chart('m:train/loss');
  assert.ok(c.zoom, 'zoomed');
  const width = c.zoom.max - c.zoom.min;
  assert.ok(c.x.min === c.zoom.min && c.x.max === c.zoom.max);
  // fewer raw points inside the window than in the whole runs
  assert.ok(c.rawPoints < 1000 + 600);
  // shift+drag pans: same width, shifted window
  await p.page.keyboard.down('Shift');
  await p.page.mouse.move(box.x + box.width * 0.5, y);
  await p.page.mouse.down();
  await p.page.mouse.move(box.x + box.width * 0.3, y, { steps: 4 });
  await p.page.mouse.up();
  await p.page.keyboard.up('Shift');
  await p.settle();
  const panned = await panel(p).chart('m:train/loss');
  assert.ok(Math.abs(panned.zoom.max - panned.zoom.min - width) < width * 1e-6);
  assert.ok(panned.zoom.min > c.zoom.min);
  await p.page.click('[data-chart-id="m:train/loss"] [data-action="reset"]');
  await p.settle();
  assert.equal((await panel(p).chart('m:train/loss')).zoom, null);
  await close(p);
});

test('export: CSV at full resolution and PNG go to the host', async () => {
  const p = await loadedPanel();
  await p.page.click('[data-chart-id="m:eval/ndcg@10"] [data-action="csv"]');
  await p.page.click('[data-chart-id="m:eval/ndcg@10"] [data-action="png"]');
  const posted = await p.posted();
  const csv = posted.find((m) => m.type === 'exportCsv');
  assert.equal(csv.suggestedName, 'eval_ndcg@10.csv');
  const lines = csv.csv.trim().split('\n');
  assert.equal(lines[0], 'run_id,run_name,split,metric,dim,step,time_s,wall_time_ms,value,smoothed,smoothing');
  assert.equal(lines.length - 1, 10 + 6, 'what the chart draws: each run at the dim plotted');
  assert.ok(lines.some((l: string) => l.startsWith(`${A},mnrl-baseline,eval,ndcg@10,256,1000,`)));
  const png = posted.find((m) => m.type === 'exportPng');
  assert.match(png.dataUrl, /^data:image\/png;base64,/);
  assert.ok(png.dataUrl.length > 5000);
  await close(p);
});

test('theme: light, dark and high contrast read from --vscode-* and re-read on change; screenshots', async () => {
  const p = await loadedPanel('vscode-light');
  await p.send({ type: 'configDiff', runIds: [A, B] });
  await p.settle();
  const light = await p.page.evaluate(() => (window as any).__mrlPanel.theme());
  assert.equal(light.kind, 'light');
  assert.equal(light.bg, '#ffffff');
  const lightColors = (await panel(p).chart('m:eval/ndcg@10')).datasets.map((d: any) => d.color);
  await p.page.evaluate(() => window.scrollTo(0, 0));
  await p.page.screenshot({ path: artifactPath('panel-light.png'), fullPage: true });
  await p.page.locator('#diff').screenshot({ path: artifactPath('panel-diff-light.png') });
  await p.page.evaluate(() => document.body.classList.replace('vscode-light', 'vscode-dark'));
  await p.settle();
  const dark = await p.page.evaluate(() => (window as any).__mrlPanel.theme());
  assert.equal(dark.kind, 'dark');
  assert.equal(dark.bg, '#1f1f1f');
  const darkColors = (await panel(p).chart('m:eval/ndcg@10')).datasets.map((d: any) => d.color);
  assert.notDeepEqual(darkColors, lightColors);
  const tickColor = await p.page.evaluate(() => (window as any).__mrlPanel.chartInstance('m:eval/ndcg@10').options.scales.x.ticks.color);
  assert.equal(tickColor, '#9d9d9d');
  await p.page.evaluate(() => window.scrollTo(0, 0));
  await p.page.screenshot({ path: artifactPath('panel-dark.png'), fullPage: true });
  await p.page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-high-contrast'));
  await p.settle();
  assert.equal((await p.page.evaluate(() => (window as any).__mrlPanel.theme())).kind, 'high-contrast');
  await p.page.evaluate(() => window.scrollTo(0, 0));
  await p.page.screenshot({ path: artifactPath('panel-high-contrast.png'), fullPage: true });
  assert.deepEqual(await panel(p).csp(), []);
  await close(p);
});

test('100k points per curve × 8 dims: decimated to about a point per pixel, full data kept', async () => {
  const p = await panels.open();
  const dims = [8, 16, 32, 64, 128, 256, 512, 1024];
  await p.send({ type: 'init', runs: [run('big', 'big', 'running', '2026-11-23T18:00:00Z')], showRuns: ['big'] });
  // build the 100k lines in the page (cheaper than shipping them over CDP)
  await p.page.evaluate((ds) => {
    const lines: any[] = [];
    for (let s = 1; s <= 100000; s++) {
      const byDim: any = {};
      for (const d of ds) byDim[d] = { loss: 1 / Math.log2(d) + Math.exp(-s / 20000) + 0.05 * Math.sin(s * 0.37 + d) };
      lines.push({ step: s, epoch: 0, time: s * 0.1, split: 'train', values: {}, byDim });
    }
    window.postMessage({ type: 'metrics', runId: 'big', reset: true, lines }, '*');
  }, dims);
  await p.settle();
  const c = await panel(p).chart('m:train/loss');
  assert.equal(c.rawPoints, 800000);
  assert.equal(c.legend.length, 8);
  const perDataset = c.datasets.map((d: any) => d.points);
  assert.ok(Math.max(...perDataset) <= 2000, `decimated: ${Math.max(...perDataset)}`);
  // about one point per pixel for the curve read, half that for the faint raw one under it
  const smooth = c.datasets.filter((d: any) => d.role === 'smoothed').map((d: any) => d.points);
  const raw = c.datasets.filter((d: any) => d.role === 'raw').map((d: any) => d.points);
  assert.ok(Math.min(...smooth) >= 300, `enough detail: ${Math.min(...smooth)}`);
  assert.ok(Math.min(...raw) >= 150 && Math.max(...raw) < Math.min(...smooth), `raw ${raw} vs smoothed ${smooth}`);
  assert.equal(c.best.length, 8);
  await p.page.screenshot({ path: artifactPath('panel-100k.png') });
  await close(p);
});

test('resizing the panel re-decimates to the new width', async () => {
  const p = await panels.open('vscode-dark', { width: 900, height: 900 }); // one chart column
  await p.send({ type: 'init', runs: [run('w', 'w', 'completed', '2026-11-23T18:00:00Z')], showRuns: ['w'] });
  await p.send({ type: 'metrics', runId: 'w', reset: true, lines: genMetrics({ steps: 20000, logEvery: 2, dims: [64, 128] }) });
  await p.settle();
  const wide = Math.max(...(await panel(p).chart('m:train/loss')).datasets.map((d: any) => d.points));
  const wideWidth: number = await p.page.evaluate(() => (window as any).__mrlPanel.chartInstance('m:train/loss').width);
  await p.page.setViewportSize({ width: 500, height: 900 });
  // Chart.js resizes through a ResizeObserver: wait for the chart to have its new width, then for the
  // frame after it (the re-decimation runs in the frame after the resize).
  await p.page.waitForFunction((w) => (window as any).__mrlPanel.chartInstance('m:train/loss').width < w, wideWidth);
  await p.settle();
  const narrow = Math.max(...(await panel(p).chart('m:train/loss')).datasets.map((d: any) => d.points));
  assert.ok(narrow < wide * 0.7, `narrow ${narrow} vs wide ${wide}`);
  await close(p);
});

test('init without showRuns after a reload keeps the restored runs and requests their data', async () => {
  const p = await loadedPanel();
  await p.page.click(`.run-chip[data-run-id="${B}"]`); // hide B → shown: [A]
  await p.settle();
  await p.page.reload();
  await p.page.waitForFunction(() => (window as any).__mrlPanel !== undefined);
  await p.send({ type: 'init', runs: RUNS });
  await p.settle();
  assert.deepEqual((await panel(p).state()).shownRunIds, [A]);
  assert.deepEqual(
    (await p.posted()).filter((m) => m.type === 'requestRun'),
    [{ type: 'requestRun', runId: A }],
  );
  await close(p);
});

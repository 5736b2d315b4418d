// The panel at issue 10 in real Chromium: the dim advisor on the metric-vs-dim chart, eval curves drawn
// raw, no charts for the funnel's constants, whole-step ticks on a short run, and a compact run legend
// that keeps the charts on screen with 200 runs. Read through the read-only `window.__mrlPanel` hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsLine } from '../../src/protocol/runFolder';
import { usePanelBrowser, artifactPath, type OpenedPanel } from './harness';
import { baseConfig, run } from './fixtures/metrics';

const panels = usePanelBrowser();

const hook = <T = any>(p: OpenedPanel, fn: string, arg?: unknown): Promise<T> =>
  p.page.evaluate(([f, a]) => (a === undefined ? (window as any).__mrlPanel[f as string]() : (window as any).__mrlPanel[f as string](a)), [
    fn,
    arg,
  ] as const);

/** A short run with known numbers: train loss at steps 1..3, eval at 1, 2, 3 on dims 16/32/64. */
function knownRun(evals: Record<string, number>[], funnel?: Record<string, number>): MetricsLine[] {
  const out: MetricsLine[] = [];
  evals.forEach((ev, i) => {
    const step = i + 1;
    out.push({
      step,
      epoch: 0,
      time: step,
      split: 'train',
      values: { loss: 2 - step * 0.3 },
      byDim: { '16': { loss: 2.2 - step * 0.3 }, '32': { loss: 2.1 - step * 0.3 }, '64': { loss: 2 - step * 0.3 } },
    });
    const byDim: Record<string, Record<string, number>> = {};
    for (const [d, v] of Object.entries(ev)) byDim[d] = { 'ndcg@10': v };
    out.push({ step, epoch: 0, time: step, split: 'eval', values: funnel ? { ...funnel, 'funnel:ndcg@10': ev['64'] * 0.97 } : {}, byDim });
  });
  return out;
}

const RA = run('20261124-100000-a-aaaa', 'run-a', 'completed', '2026-11-24T10:00:00Z', baseConfig());
const RB = run('20261124-110000-b-bbbb', 'run-b', 'completed', '2026-11-24T11:00:00Z', baseConfig(), {
  notes: { displayName: 'Run B (shipped)', tags: ['prod'], note: '' },
});
// A: full 0.27 at 64 → 95 % = 0.2565: dim 32 (0.26) reaches it. B: full 0.28 → 0.266: only 64 does.
const A_EVALS = [
  { '16': 0.1, '32': 0.15, '64': 0.16 },
  { '16': 0.15, '32': 0.22, '64': 0.23 },
  { '16': 0.18, '32': 0.26, '64': 0.27 },
];
const B_EVALS = [
  { '16': 0.1, '32': 0.12, '64': 0.2 },
  { '16': 0.15, '32': 0.2, '64': 0.25 },
  { '16': 0.2, '32': 0.24, '64': 0.28 },
];
const FUNNEL = { 'funnel:macsSaved': 0.67, 'funnel:shortlistDim': 16, 'funnel:rerankDim': 64 };

async function knownPanel(): Promise<OpenedPanel> {
  const p = await panels.open();
  await p.send({ type: 'init', runs: [RA, RB], showRuns: [RA.id, RB.id] });
  await p.send({ type: 'metrics', runId: RA.id, reset: true, lines: knownRun(A_EVALS, FUNNEL) });
  await p.send({ type: 'metrics', runId: RB.id, reset: true, lines: knownRun(B_EVALS) });
  await p.settle();
  return p;
}

test('dim advisor: a p % line and the chosen dim per run on the metric-vs-dim chart, and the comparison under it', async () => {
  const p = await knownPanel();
  const m = await hook(p, 'mrl');
  assert.equal(m.metric, 'eval/ndcg@10');
  const byRun = Object.fromEntries(m.advice.map((a: any) => [a.runId, a]));
  assert.equal(byRun[RA.id].advice.dim, 32);
  assert.equal(byRun[RB.id].advice.dim, 64);
  assert.ok(Math.abs(byRun[RA.id].advice.threshold - 0.27 * 0.95) < 1e-12);
  assert.equal(byRun[RA.id].step, 3);
  // the marks are drawn where the scales put the threshold and the chosen dim
  assert.equal(m.advisorMarks.length, 2);
  const px = await p.page.evaluate((marks) => {
    const c = (window as any).__mrlPanel.chartInstance('mrl');
    return marks.map((k: any) => [
      c.scales.y.getPixelForValue(k.threshold),
      c.scales.x.getPixelForValue(Math.log2(k.dim)),
      c.chartArea.top,
      c.chartArea.bottom,
    ]);
  }, m.advisorMarks);
  m.advisorMarks.forEach((k: any, i: number) => {
    assert.ok(Math.abs(k.thresholdPx - px[i][0]) < 0.5 && Math.abs(k.dimPx - px[i][1]) < 0.5);
    assert.ok(k.thresholdPx > px[i][2] && k.thresholdPx < px[i][3], 'the p % line lies inside the plot');
  });
  // newest first: B (shown by its display name) then A
  assert.equal(m.adviceText[0], 'Run B (shipped) reaches 95 % at dim 64, run-a needs 32');
  assert.equal(m.adviceText[1], 'run-a funnel 16→64: 97 % of full at the cost of dim 21 (reaches 95 %)');
  assert.equal(await p.page.textContent('#mrlAdvice > div'), m.adviceText[0]);
  assert.ok(m.legend.some((t: string) => t.startsWith('Run B (shipped) @ step 3')));
  await p.page.locator('#mrl').screenshot({ path: artifactPath('panel-mrl-advisor.png') });
  // one run: the full description; the slider's step is the step advised on
  await p.page.click(`.run-chip[data-run-id="${RB.id}"]`);
  await p.settle();
  await p.page.evaluate(() => {
    const s = document.getElementById('mrlStep') as HTMLInputElement;
    s.value = '1';
    s.dispatchEvent(new Event('input'));
  });
  await p.settle();
  const one = await hook(p, 'mrl');
  assert.equal(one.advice.length, 1);
  // step 2: full 0.23 → 0.2185: dim 32 (0.22)
  assert.match(
    one.adviceText[0],
    /^run-a reaches 95 % of ndcg@10 at dim 32 \(0\.22 of 0\.23 at 64\): 50 % fewer index bytes \(128 B float32 \/ 32 B int8 per vector\) and multiply-adds per query \(step 2\)$/,
  );
  assert.equal(one.advisorMarks.length, 1);
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  ); // the page asks for a favicon
  await p.page.context().close();
});

test('eval curves are drawn raw (the last point is the measured value); train curves smoothed; no funnel-constant charts', async () => {
  const p = await knownPanel();
  const ids: string[] = await hook(p, 'chartIds');
  assert.ok(ids.includes('m:eval/funnel:ndcg@10'), 'funnel quality still charts');
  for (const c of ['macsSaved', 'shortlistDim', 'rerankDim']) assert.ok(!ids.some((id) => id.includes(c)), `no chart for funnel:${c}`);
  const nd = await hook(p, 'chart', 'm:eval/ndcg@10');
  assert.ok(
    nd.datasets.every((d: any) => d.role === 'line'),
    'eval: one raw line per curve at smoothing 0.6',
  );
  const last = await p.page.evaluate((a) => {
    const c = (window as any).__mrlPanel.chartInstance('m:eval/ndcg@10');
    const d = c.data.datasets.find((x: any) => x._info.curve.runId === a && x._info.curve.dim === 64);
    return d.data[d.data.length - 1];
  }, RA.id);
  assert.deepEqual(last, { x: 3, y: 0.27 });
  const loss = await hook(p, 'chart', 'm:train/loss');
  assert.ok(loss.datasets.some((d: any) => d.role === 'smoothed') && loss.datasets.some((d: any) => d.role === 'raw'));
  assert.match((await p.page.getAttribute('label.smoothing', 'title')) ?? '', /Eval curves .* raw/);
  await p.page.click('[data-chart-id="m:eval/ndcg@10"] [data-action="csv"]');
  const csv = (await p.posted()).find((x: any) => x.type === 'exportCsv').csv as string;
  const rows = csv.trim().split('\n');
  assert.ok(rows[0].endsWith(',smoothed,smoothing'));
  assert.ok(
    rows.slice(1).every((r) => r.endsWith(',0')),
    'eval rows say smoothing 0',
  );
  await p.page.context().close();
});

test('the step axis of a short run has whole-step ticks only', async () => {
  const p = await knownPanel();
  for (const id of ['m:train/loss', 'm:eval/ndcg@10']) {
    const c = await hook(p, 'chart', id);
    assert.ok(c.xTicks.length >= 2, `${id}: ticks ${c.xTicks}`);
    for (const t of c.xTicks) assert.match(t, /^\d+$/, `${id}: tick ${t}`);
    assert.equal(new Set(c.xTicks).size, c.xTicks.length, `${id}: no repeated tick label in ${c.xTicks}`);
  }
  // zoomed to a fractional window: still whole steps
  const box = (await p.page.locator('[data-chart-id="m:train/loss"] canvas').boundingBox())!;
  await p.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await p.page.mouse.down();
  await p.page.mouse.move(box.x + box.width * 0.85, box.y + box.height * 0.4, { steps: 4 });
  await p.page.mouse.up();
  await p.settle();
  const z = await hook(p, 'chart', 'm:train/loss');
  assert.ok(z.zoom && !Number.isInteger(z.zoom.min), 'a fractional zoom window');
  for (const t of z.xTicks) assert.match(t, /^\d+$/);
  assert.equal(new Set(z.xTicks).size, z.xTicks.length);
  await p.page.context().close();
});

test('200 runs: the runs bar and legends stay compact, the charts stay in the viewport', async () => {
  const viewport = { width: 1280, height: 800 };
  const p = await panels.open('vscode-dark', viewport);
  const runs = Array.from({ length: 200 }, (_, i) =>
    run(`r${String(i).padStart(3, '0')}`, `run-${i}`, 'completed', new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString()),
  );
  await p.send({ type: 'init', runs, showRuns: runs.map((r) => r.id) });
  await p.settle();
  // still loading: compact chips say so by class (the dot pulses), and their tooltip
  const loading = await p.page.locator('.run-chip.loading').count();
  assert.ok(loading > 0 && loading <= 24, `loading chips: ${loading}`);
  // every run's metrics in one go (built in the page: 200 messages over CDP cost more than the drawing)
  await p.page.evaluate(
    (ids) => {
      ids.forEach((id, k) => {
        const lines: any[] = [];
        for (let step = 1; step <= 10; step++) {
          lines.push({
            step,
            epoch: 0,
            time: step,
            split: 'train',
            values: { loss: 2 / step + k * 1e-3 },
            byDim: { '32': { loss: 2.2 / step }, '64': { loss: 2 / step } },
          });
          if (step % 5 === 0)
            lines.push({
              step,
              epoch: 0,
              time: step,
              split: 'eval',
              values: {},
              byDim: { '32': { 'ndcg@10': 0.2 + step * 0.01 }, '64': { 'ndcg@10': 0.22 + step * 0.01 + k * 1e-4 } },
            });
        }
        window.postMessage({ type: 'metrics', runId: id, reset: true, lines }, '*');
      });
    },
    runs.map((r) => r.id),
  );
  await p.settle();
  const chips = await p.page.locator('#runs .run-chip').count();
  assert.equal(chips, 24);
  assert.equal(await p.page.textContent('#runs [data-action="more"]'), '+ 176 more');
  const inView = async () => {
    const first = await p.page.locator('#charts .chart-card').first().boundingBox();
    const mrl = await p.page.locator('#mrl').boundingBox();
    const bar = await p.page.locator('#runs').boundingBox();
    return { first: first!, mrl: mrl!, bar: bar! };
  };
  let v = await inView();
  assert.ok(v.bar.height <= 90, `runs bar ${v.bar.height}px`);
  assert.ok(v.mrl.y < viewport.height / 2, `metric-vs-dim chart at ${v.mrl.y}`);
  assert.ok(v.first.y + 100 < viewport.height, `first chart at ${v.first.y}`);
  const c = await hook(p, 'chart', 'm:train/loss');
  assert.deepEqual(c.legend, [], 'no run entries in a chart of 200 runs: the run legend above the charts has them');
  assert.equal(new Set(c.seriesLength.map((s: any) => s.runId)).size, 200, 'every run is drawn');
  const legend = await hook(p, 'runLegend');
  assert.equal(legend.runIds.length, 200, 'the run legend lists every run');
  assert.equal(new Set(Object.values(legend.colors)).size, 200, 'each in a colour of its own');
  const legendBox = (await p.page.locator('#runLegend').boundingBox())!;
  assert.ok(legendBox.height <= 130, `run legend ${legendBox.height}px: a bounded box that scrolls`);
  const m = await hook(p, 'mrl');
  assert.deepEqual(m.legend, [], 'the metric-vs-dim chart names no runs either');
  assert.match(m.adviceText[0], /\+ 192 more runs$/);
  assert.equal(m.advisorMarks.length, 8, 'advisor marks for the runs the legend names');
  // expanded: every chip, in a box that scrolls; the charts move down by the bar's growth only, the first
  // chart's header still on screen (under the run legend's bounded box, which an overlay adds)
  const collapsed = v;
  await p.page.click('#runs [data-action="more"]');
  assert.equal(await p.page.locator('#runs .run-chip').count(), 200);
  v = await inView();
  assert.ok(v.bar.height <= 162, `expanded runs bar ${v.bar.height}px`);
  assert.ok(
    v.first.y - collapsed.first.y <= v.bar.height - collapsed.bar.height + 1,
    `first chart moved ${v.first.y - collapsed.first.y}px`,
  );
  assert.ok(v.first.y + 30 < viewport.height, `first chart at ${v.first.y} with the bar expanded`);
  await p.page.screenshot({ path: artifactPath('panel-200-runs.png') });
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  ); // the page asks for a favicon
  await p.page.context().close();
});

// Fifty runs overlaid in real Chromium (issue 21): each run its own colour on every chart, a run legend that
// lists all fifty with a search box, a highlight that dims the other runs, the dim plotted chosen in the dims
// bar, and dense train series (3,000 steps of loss, lr, gradNorm per run) downsampled per series with their
// extremes kept. Screenshots in test-artifacts/overlay-50-runs*.png. Read through `window.__mrlPanel`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactPath, usePanelBrowser, type OpenedPanel } from './harness';
import { run } from './fixtures/metrics';
import { overlayPointBudget } from '../../webview/charts/downsample';
import { HIGHLIGHT } from '../../webview/charts/timeDatasets';

const panels = usePanelBrowser();

const N = 50;
const STEPS = 3000;
const DIMS = [16, 32, 64, 128];
const RUNS = Array.from({ length: N }, (_, i) =>
  run(
    `20261125-${String(100000 + i * 100).padStart(6, '0')}-r${i}`,
    `lr-sweep-${String(i).padStart(2, '0')}`,
    'completed',
    `2026-11-25T10:${String(i).padStart(2, '0')}:00Z`,
  ),
);
const IDS = RUNS.map((r) => r.id);

const hook = <T = any>(p: OpenedPanel, fn: string, arg?: unknown): Promise<T> =>
  p.page.evaluate(([f, a]) => (a === undefined ? (window as any).__mrlPanel[f as string]() : (window as any).__mrlPanel[f as string](a)), [
    fn,
    arg,
  ] as const);

/**
 * The fifty runs' metrics, built in the page (fifty 3,000-line messages over CDP cost more than the drawing):
 * a train line every step (per-dim loss, total, lr, a noisy gradNorm with one spike and one dip per run at
 * a step of its own), an eval line every 300 steps. Returns each run's gradNorm min and max.
 */
async function loadFifty(p: OpenedPanel): Promise<{ min: number; max: number; spikeStep: number }[]> {
  await p.send({ type: 'init', runs: RUNS, showRuns: IDS });
  const extremes = await p.page.evaluate(
    ({ ids, steps, dims }) => {
      let s = 12345;
      const rand = () => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s / 2147483648;
      };
      return ids.map((id, k) => {
        const lines: any[] = [];
        const spikeStep = 500 + k * 37;
        const dipStep = 2000 + k * 13;
        let min = Infinity;
        let max = -Infinity;
        for (let step = 1; step <= steps; step++) {
          const byDim: Record<string, Record<string, number>> = {};
          for (const d of dims) byDim[d] = { loss: 0.6 + 16 / d + 2 * Math.exp(-step / (300 + 20 * k)) + 0.05 * rand() };
          let g = 1 + 0.5 * Math.exp(-step / 800) + 0.3 * rand() + 0.01 * k;
          if (step === spikeStep) g = 20 + k;
          if (step === dipStep) g = 0.05;
          min = Math.min(min, g);
          max = Math.max(max, g);
          lines.push({
            step,
            epoch: 0,
            time: step * 0.1,
            split: 'train',
            values: { loss: byDim[dims[0]].loss, lr: 1e-3 * (1 - step / steps), gradNorm: g },
            byDim,
          });
          if (step % 300 === 0) {
            const ev: Record<string, Record<string, number>> = {};
            for (const d of dims) ev[d] = { 'ndcg@10': (0.3 + 0.004 * k) * (1 - Math.exp(-step / 900)) * (0.7 + (0.3 * Math.log2(d)) / 7) };
            lines.push({ step, epoch: 0, time: step * 0.1, split: 'eval', values: {}, byDim: ev });
          }
        }
        window.postMessage({ type: 'metrics', runId: id, reset: true, lines }, '*');
        return { min, max, spikeStep };
      });
    },
    { ids: IDS, steps: STEPS, dims: DIMS },
  );
  await p.settle();
  return extremes;
}

/** Set the smoothing slider (0: the raw series are drawn, so their extremes can be checked). */
async function setSmoothing(p: OpenedPanel, v: number): Promise<void> {
  await p.page.evaluate((x) => {
    const s = document.getElementById('smoothing') as HTMLInputElement;
    s.value = String(x);
    s.dispatchEvent(new Event('input'));
  }, v);
  await p.settle();
}

/** Wait until every chart near the viewport shows the highlight asked for (it is applied in the next frame). */
async function waitHighlight(p: OpenedPanel, ids: string[]): Promise<void> {
  await p.page.waitForFunction(
    (want) => {
      const h = (window as any).__mrlPanel.runLegend().highlighted as string[];
      if (h.length !== want.length || !want.every((id) => h.includes(id))) return false;
      const c = (window as any).__mrlPanel.chart('m:train/gradNorm');
      return c.datasets.every((d: any) => (d.order === 0) === (want.length > 0 && want.includes(d.runId)));
    },
    ids,
    { polling: 50 },
  );
}

test('fifty runs overlaid: fifty colours, every run in the legend, search, highlight, dim choice, downsampled series with their extremes', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 1000 });
  try {
    const extremes = await loadFifty(p);

    // ------------------------------------------------ colour = run: fifty distinct colours on every chart
    for (const id of ['m:train/loss', 'm:train/gradNorm', 'm:train/lr']) {
      await p.page.evaluate((i) => document.querySelector(`.chart-card[data-chart-id="${i}"]`)!.scrollIntoView({ block: 'center' }), id);
      await p.page.waitForFunction((i) => (window as any).__mrlPanel.chart(i).drawn === true, id);
      const c = await hook(p, 'chart', id);
      assert.equal(c.datasets.length, N, `${id}: one curve per run (no raw underlay past 8 runs)`);
      assert.equal(new Set(c.datasets.map((d: any) => d.runId)).size, N, id);
      assert.equal(new Set(c.datasets.map((d: any) => d.color)).size, N, `${id}: fifty colours`);
      assert.ok(
        c.datasets.every((d: any) => d.borderColor === d.color),
        `${id}: drawn in the run's colour`,
      );
      assert.deepEqual(c.legend, [], `${id}: no "+ N more runs" in the chart: the run legend names them`);
    }
    // the same run, the same colour on every chart (and in the legend and the runs bar)
    const legend = await hook(p, 'runLegend');
    const gn = await hook(p, 'chart', 'm:train/gradNorm');
    for (const d of gn.datasets) assert.equal(legend.colors[d.runId], d.color);
    const loss = await hook(p, 'chart', 'm:train/loss');
    for (const d of loss.datasets) assert.equal(legend.colors[d.runId], d.color);
    assert.equal(await p.page.getAttribute(`.run-chip[data-run-id="${IDS[49]}"] svg line`, 'stroke'), legend.colors[IDS[49]]);
    const mrl = await hook(p, 'mrl');
    const mrlLines = mrl.datasets.filter((d: any) => d.runId);
    assert.equal(new Set(mrlLines.map((d: any) => d.borderColor)).size, N, 'the metric-vs-dim chart: fifty colours');

    // ------------------------------------------------ the legend: all fifty, a search box that filters
    assert.equal(legend.shown, true);
    assert.equal(legend.runIds.length, N);
    assert.equal(await p.page.locator('#runLegend .legend-run').count(), N);
    assert.equal(await p.page.textContent('#runLegend .run-legend-count'), `${N} runs`);
    await p.page.fill('#runLegendSearch', 'sweep-1');
    await waitHighlight(p, IDS.slice(10, 20));
    let l = await hook(p, 'runLegend');
    assert.deepEqual(l.visibleIds.sort(), IDS.slice(10, 20).sort(), 'lr-sweep-10 … 19');
    assert.equal(await p.page.locator('#runLegend .legend-run:visible').count(), 10);
    assert.equal(await p.page.textContent('#runLegend .run-legend-count'), `10 of ${N} runs`);
    // the runs the search matches are highlighted on the charts, the others faint
    let c = await hook(p, 'chart', 'm:train/gradNorm');
    for (const d of c.datasets) {
      const lit = IDS.slice(10, 20).includes(d.runId);
      if (lit) {
        assert.equal(d.borderColor, d.color);
        assert.ok(d.borderWidth > 2, `highlighted ${d.borderWidth}`);
        assert.equal(d.order, 0);
      } else {
        assert.match(d.borderColor, new RegExp(`^rgba\\(\\d+, \\d+, \\d+, ${HIGHLIGHT.dimmedAlpha}\\)$`));
        assert.ok(d.borderWidth <= 1);
        assert.equal(d.order, 1);
      }
    }
    await p.page.fill('#runLegendSearch', '');
    await waitHighlight(p, []);
    assert.equal((await hook(p, 'runLegend')).visibleIds.length, N);

    // ------------------------------------------------ hover highlights one run, click pins it
    const target = IDS[23];
    await p.page.hover(`#runLegend .legend-run[data-run-id="${target}"]`);
    await waitHighlight(p, [target]);
    c = await hook(p, 'chart', 'm:train/gradNorm');
    const lit = c.datasets.filter((d: any) => d.runId === target);
    const faint = c.datasets.filter((d: any) => d.runId !== target);
    assert.equal(lit.length, 1);
    assert.equal(lit[0].borderColor, lit[0].color);
    assert.ok(lit[0].borderWidth >= 1.75 + HIGHLIGHT.extraWidth - 1e-9);
    assert.equal(faint.length, N - 1);
    assert.ok(faint.every((d: any) => d.borderColor.endsWith(`, ${HIGHLIGHT.dimmedAlpha})`) && d.borderWidth <= 1 && d.order === 1));
    assert.equal(c.best.length, 1, 'only the highlighted run’s best value is ringed');
    const mrlLit = (await hook(p, 'mrl')).datasets.filter((d: any) => d.runId);
    assert.ok(mrlLit.filter((d: any) => d.runId !== target).every((d: any) => d.borderColor.startsWith('rgba(')));
    assert.ok(mrlLit.filter((d: any) => d.runId === target).every((d: any) => d.borderColor === legend.colors[target]));
    await p.page.click(`#runLegend .legend-run[data-run-id="${target}"]`);
    await p.page.mouse.move(5, 5); // leave the legend: the pin holds
    await waitHighlight(p, [target]);
    assert.equal(await p.page.getAttribute(`#runLegend .legend-run[data-run-id="${target}"]`, 'aria-pressed'), 'true');
    l = await hook(p, 'runLegend');
    assert.deepEqual(l.pinned, [target]);
    await p.page.evaluate(() => window.scrollTo(0, 0));
    await p.page.evaluate(() => document.querySelector('.chart-card[data-chart-id="m:train/loss"]')!.scrollIntoView({ block: 'start' }));
    await p.settle();
    await p.page.screenshot({ path: artifactPath('overlay-50-runs-highlight.png') });
    await p.page.click('#runLegend [data-action="clear-highlight"]');
    await waitHighlight(p, []);
    c = await hook(p, 'chart', 'm:train/gradNorm');
    assert.ok(c.datasets.every((d: any) => d.borderColor === d.color && d.order === 1));

    // ------------------------------------------------ downsampled: ≤ the budget per series, extremes kept
    await setSmoothing(p, 0);
    await p.page.evaluate(() =>
      document.querySelector('.chart-card[data-chart-id="m:train/gradNorm"]')!.scrollIntoView({ block: 'center' }),
    );
    await p.page.waitForFunction(() => (window as any).__mrlPanel.chart('m:train/gradNorm').drawn === true);
    c = await hook(p, 'chart', 'm:train/gradNorm');
    const plotWidth: number = await p.page.evaluate(() => {
      const a = (window as any).__mrlPanel.chartInstance('m:train/gradNorm').chartArea;
      return a.right - a.left;
    });
    const budget = overlayPointBudget(plotWidth, N);
    assert.ok(budget < STEPS / 4, `budget ${budget} points per series`);
    assert.equal(c.rawPoints, N * STEPS, 'every point held');
    for (const d of c.datasets) {
      const k = IDS.indexOf(d.runId);
      assert.equal(d.role, 'line', 'smoothing off: the raw series');
      assert.ok(d.points <= budget && d.points > budget / 2, `${d.runId}: ${d.points} points (budget ${budget})`);
      assert.equal(d.maxY, extremes[k].max, `${d.runId}: the spike kept`);
      assert.equal(d.minY, extremes[k].min, `${d.runId}: the dip kept`);
    }
    assert.ok(c.drawnPoints <= N * budget);

    // ------------------------------------------------ the dims: a choice, not colours
    assert.equal(await p.page.getAttribute('#dims', 'role'), 'radiogroup');
    assert.equal((await hook(p, 'chart', 'm:train/loss')).title, 'loss · train · dim 128', 'the largest dim by default');
    await p.page.click('.dim-chip[data-dim="16"]');
    await p.settle();
    const l16 = await hook(p, 'chart', 'm:train/loss');
    assert.equal(l16.title, 'loss · train · dim 16');
    assert.ok(l16.datasets.every((d: any) => d.dim === 16));
    assert.equal(new Set(l16.datasets.map((d: any) => d.color)).size, N, 'still a colour per run');
    // the faint raw curve per run is gone past 8 runs, and each 16-dim series is downsampled too
    assert.ok(l16.datasets.every((d: any) => d.points <= budget));
    const nd = await hook(p, 'chart', 'm:eval/ndcg@10');
    assert.ok(
      nd.datasets.every((d: any) => d.dim === 16 && d.points === STEPS / 300),
      'eval curves: few points, all drawn',
    );

    // ------------------------------------------------ the screenshot: the top of the panel, smoothing back on
    await p.page.click('.dim-chip[data-dim="128"]');
    await setSmoothing(p, 0.6);
    // a viewport as tall as the page, so every chart is near it and drawn with the smoothing back on
    const height: number = await p.page.evaluate(() => document.documentElement.scrollHeight);
    await p.page.setViewportSize({ width: 1280, height: Math.min(2400, height + 40) });
    await p.page.evaluate(() => window.scrollTo(0, 0));
    await p.settle();
    await p.page.waitForFunction(() => {
      const h = (window as any).__mrlPanel;
      return h.chartIds().every((id: string) => h.chart(id).drawn);
    });
    assert.ok((await hook(p, 'chart', 'm:train/gradNorm')).datasets.every((d: any) => d.role === 'smoothed'));
    await p.page.screenshot({ path: artifactPath('overlay-50-runs.png'), fullPage: true });
    assert.deepEqual(
      p.errors.filter((e) => !e.includes('404')),
      [],
    );
    assert.deepEqual(await p.page.evaluate(() => (window as any).__csp), [], 'no CSP violations (the legend styles through CSSOM)');
  } finally {
    await p.page.context().close();
  }
});

test('fifty runs in the light theme: the palette changes with the theme, one run keeps the dims as colours', async () => {
  const p = await panels.open('vscode-light', { width: 1280, height: 900 });
  try {
    await loadFifty(p);
    const legend = await hook(p, 'runLegend');
    assert.equal(new Set(Object.values(legend.colors)).size, N);
    const light = legend.colors[IDS[0]];
    await p.page.evaluate(() => document.body.classList.replace('vscode-light', 'vscode-dark'));
    await p.settle();
    const dark = (await hook(p, 'runLegend')).colors[IDS[0]];
    assert.notEqual(dark, light, 'a colour per theme');
    const slots = (await hook(p, 'state')).runColors;
    // a run keeps its colour when others are hidden (the runs table's Plot of three of them)
    await p.send({ type: 'showRuns', runIds: [IDS[5], IDS[30], IDS[44]] });
    await p.settle();
    const three = await hook(p, 'runLegend');
    assert.deepEqual(three.runIds.sort(), [IDS[5], IDS[30], IDS[44]].sort());
    const before = (await hook(p, 'state')).runColors;
    for (const id of [IDS[5], IDS[30], IDS[44]]) {
      assert.equal(before[id], slots[id], `${id} keeps its slot`);
      assert.equal(three.colors[id], (await hook(p, 'runLegend')).colors[id]);
    }
    // one run: no legend, the dims bar toggles dims, the dims are colours again
    await p.send({ type: 'showRuns', runIds: [IDS[5]] });
    await p.settle();
    assert.equal((await hook(p, 'runLegend')).shown, false);
    const one = await hook(p, 'chart', 'm:eval/ndcg@10');
    assert.equal(one.datasets.length, DIMS.length);
    assert.equal(new Set(one.datasets.map((d: any) => d.color)).size, DIMS.length);
    assert.equal(await p.page.getAttribute('#dims', 'role'), null);
  } finally {
    await p.page.context().close();
  }
});

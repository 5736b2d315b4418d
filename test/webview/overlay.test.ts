// Compare Runs on 50 runs in real Chromium: the panel gets `init` (showRuns: the 50) and then the 50 replays
// (jsonl, reset) the host sends, as fast as they come, with metrics shaped like the bench's 500-run workspace
// (bench/workspaceGen.ts). What must hold whatever the machine's speed: while replays are still arriving the
// charts are redrawn at most once per BURST_DRAW_INTERVAL_MS (not once per frame), charts far below the
// viewport are not drawn until scrolled near, and at the end every chart holds every run's curves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser } from './harness';
import { run } from './fixtures/metrics';
import { metricsText, DIMS } from '../../bench/workspaceGen';
import { mulberry32 } from '../../src/common/random';
import { BURST_DRAW_INTERVAL_MS } from '../../webview/app/scheduler';
import { NEAR_VIEWPORT_PX } from '../../webview/charts/chartGrid';

const panels = usePanelBrowser();

const N = 50;
const T0 = Date.parse('2026-11-20T08:00:00Z');
const RUNS = Array.from({ length: N }, (_, i) => run(`20261120-${String(80000 + i * 100).padStart(6, '0')}-ov${i}`, `overlay-${i}`, 'completed', new Date(T0 + i * 60_000).toISOString()));
const IDS = RUNS.map((r) => r.id);
const rand = mulberry32(11);
const STEPS = 600;
const JSONL = RUNS.map((r, i) => metricsText(rand, [1e-4, 3e-4, 1e-3][i % 3], STEPS, STEPS, T0 + i * 60_000));

test('an overlay of 50 runs: charts redrawn at most once per burst interval while replays arrive, off-screen charts drawn when scrolled near, every curve there at the end', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 900 });
  try {
    await p.settle();
    // What the host posts on `ready` for Compare Runs on 50: init with showRuns, then one replay per run.
    const { messageTimes, before } = await p.page.evaluate(
      ({ runs, ids, jsonl }) => {
        const w = window as any;
        const before = w.__mrlPanel.stats().chartFrames as number;
        const messageTimes: number[] = [];
        const done = new Promise<number[]>((resolve) => {
          window.addEventListener('message', () => {
            messageTimes.push(performance.now());
            if (messageTimes.length === ids.length + 1) resolve(messageTimes);
          });
        });
        window.postMessage({ type: 'init', runs, showRuns: ids }, '*');
        ids.forEach((id: string, i: number) => window.postMessage({ type: 'metrics', runId: id, lines: [], jsonl: jsonl[i], reset: true }, '*'));
        return done.then((t) => ({ messageTimes: t, before }));
      },
      { runs: RUNS, ids: IDS, jsonl: JSONL },
    );
    await p.settle();
    const stats = await p.page.evaluate(() => (window as any).__mrlPanel.stats());
    assert.equal(stats.received, N + 1, 'init and the 50 replays all received');
    // While replays were arriving, chart passes were spaced by the burst interval (not one per frame).
    const lastReplay = messageTimes[messageTimes.length - 1];
    const inBurst: number[] = stats.burstChartFrameTimes.filter((t: number) => t >= messageTimes[0] && t <= lastReplay);
    for (let i = 1; i < inBurst.length; i++) {
      assert.ok(inBurst[i] - inBurst[i - 1] >= BURST_DRAW_INTERVAL_MS, `chart passes ${inBurst[i - 1]} and ${inBurst[i]} during the burst are less than ${BURST_DRAW_INTERVAL_MS} ms apart`);
    }
    // Every chart pass since init: those of the burst, the one at its end, and possibly the MRL curve's
    // deferred live update — bounded by the burst's length, not by the number of frames or messages.
    const passes = stats.chartFrames - before;
    const bound = 3 + Math.ceil((lastReplay - messageTimes[0]) / BURST_DRAW_INTERVAL_MS);
    assert.ok(passes <= bound, `${passes} chart passes for a burst of ${Math.round(lastReplay - messageTimes[0])} ms (at most ${bound})`);

    const ids: string[] = await p.page.evaluate(() => (window as any).__mrlPanel.chartIds());
    assert.ok(ids.includes('m:train/loss') && ids.includes('m:eval/ndcg@10') && ids.includes('m:eval/funnel:map@100'), ids.join(', '));
    assert.ok(!ids.some((id) => /funnel:(macsSaved|shortlistDim|rerankDim)$/.test(id)), 'funnel parameters are not charts');
    const boxes: Record<string, { top: number; bottom: number }> = await p.page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll<HTMLElement>('.chart-card[data-chart-id]')].map((c) => {
        const r = c.getBoundingClientRect();
        return [c.dataset.chartId!, { top: r.top, bottom: r.bottom }];
      })),
    );
    const chart = (id: string) => p.page.evaluate((i) => (window as any).__mrlPanel.chart(i), id);
    const near = ids.filter((id) => boxes[id].top < 900 + NEAR_VIEWPORT_PX);
    const far = ids.filter((id) => boxes[id].top >= 900 + NEAR_VIEWPORT_PX);
    assert.ok(near.includes('m:train/loss'), 'the first chart is on screen');
    assert.ok(far.length > 0, `some charts lie below the viewport (${ids.length} charts)`);

    // The charts near the viewport: drawn, every run's curves in them.
    const loss = await chart('m:train/loss');
    assert.equal(loss.drawn, true);
    const lossRuns = new Set(loss.datasets.map((d: any) => d.runId));
    assert.equal(lossRuns.size, N, 'every run in the train loss chart');
    // per run: one curve per dim plus the total, smoothed; with this many runs without the faint raw curves
    assert.equal(loss.datasets.length, N * (DIMS.length + 1));
    assert.ok(loss.datasets.every((d: any) => d.role === 'smoothed'), 'no raw underlay past RAW_UNDERLAY_MAX_RUNS runs');
    assert.ok(loss.datasets.every((d: any) => d.points > 0), 'every train curve drawn with points');
    assert.equal(loss.legend.at(-1), `+ ${N - 8} more runs`, 'the legend lists 8 runs, then a count');
    for (const id of near) assert.equal((await chart(id)).drawn, true, `${id} (near the viewport) is drawn`);

    // The charts below: their latest curves not drawn yet (handed over, not decimated or drawn). Those well
    // below (the first pass laid the page out a little differently: fewer chips) were never drawn at all.
    for (const id of far) {
      const c = await chart(id);
      assert.equal(c.drawn, false, `${id} lies below the viewport and is not drawn yet`);
      if (boxes[id].top > 900 + NEAR_VIEWPORT_PX + 300) assert.equal(c.draws, 0, `${id} was never drawn`);
    }
    assert.ok(far.some((id) => boxes[id].top > 900 + NEAR_VIEWPORT_PX + 300), 'some charts lie well below the viewport');
    // Scrolled into view, the last one is drawn, with every run's per-dim curves.
    const last = far[far.length - 1];
    await p.page.evaluate((id) => document.querySelector(`.chart-card[data-chart-id="${id}"]`)!.scrollIntoView({ block: 'center' }), last);
    await p.page.waitForFunction((id) => (window as any).__mrlPanel.chart(id).drawn === true, last);
    const c = await chart(last);
    assert.equal(new Set(c.datasets.map((d: any) => d.runId)).size, N);
    assert.ok(c.datasets.length >= N, `${last}: ${c.datasets.length} curves`);
    assert.ok(c.datasets.every((d: any) => d.points > 0), `${last}: every curve drawn with points`);
    assert.equal(c.seriesLength.length, c.datasets.length, 'eval curves drawn raw: one dataset per curve');
    assert.ok(c.x.max >= STEPS - 1, `${last}: x axis spans the runs (${c.x.max})`);
    assert.deepEqual(p.errors.filter((e) => !e.includes('favicon') && !e.includes('404')), []);
  } finally {
    await p.page.context().close();
  }
});

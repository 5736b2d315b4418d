// Compare Runs on 50 runs in real Chromium: the panel gets `init` (showRuns: the 50) and then the 50 replays
// (jsonl, reset) the host sends, as fast as they come, with metrics shaped like the bench's 500-run workspace
// (bench/workspaceGen.ts). The burst runs on the page's clock faked by Playwright, so what is asserted holds
// whatever the machine's speed: while replays are still arriving the charts are redrawn at most once per
// BURST_DRAW_INTERVAL_MS (not once per frame or message) and at once when the last one arrives; charts far
// below the viewport are not drawn until scrolled near, and at the end every chart holds every run's curves.
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
const RUNS = Array.from({ length: N }, (_, i) =>
  run(`20261120-${String(80000 + i * 100).padStart(6, '0')}-ov${i}`, `overlay-${i}`, 'completed', new Date(T0 + i * 60_000).toISOString()),
);
const IDS = RUNS.map((r) => r.id);
const rand = mulberry32(11);
const STEPS = 600;
const JSONL = RUNS.map((r, i) => metricsText(rand, [1e-4, 3e-4, 1e-3][i % 3], STEPS, STEPS, T0 + i * 60_000));

test('an overlay of 50 runs: charts redrawn at most once per burst interval while replays arrive, off-screen charts drawn when scrolled near, every curve there at the end', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 900 });
  try {
    await p.settle();
    // From here the page's clock is Playwright's fake one: frames and timers run only as the test advances
    // it, so when the charts are drawn is decided by the scheduler alone, not by how fast this machine is.
    const clock = p.page.clock;
    const realNow = await p.page.evaluate(() => performance.now());
    await clock.install();
    await clock.pauseAt(Date.now() + Math.ceil(realNow) + 1000); // past every time the scheduler has seen
    const FRAME = 16; // the fake clock's animation frames
    const stats = () => p.page.evaluate(() => (window as any).__mrlPanel.stats());
    // Deliver messages as the host does and return once the page has received them all (message events do
    // not wait for the clock; the frames they ask for do).
    const post = (msgs: unknown[]) =>
      p.page.evaluate(
        (ms) =>
          new Promise<void>((resolve) => {
            let left = ms.length;
            const on = () => {
              if (--left > 0) return;
              window.removeEventListener('message', on);
              resolve();
            };
            window.addEventListener('message', on);
            for (const m of ms) window.postMessage(m, '*');
          }),
        msgs,
      );
    const replays = (from: number, to: number) =>
      IDS.slice(from, to).map((id, i) => ({ type: 'metrics', runId: id, lines: [], jsonl: JSONL[from + i], reset: true }));
    const s0 = await stats();
    // What the host posts on `ready` for Compare Runs on 50: init with showRuns, then one replay per run.
    // Half of them have arrived: the burst is under way.
    await post([{ type: 'init', runs: RUNS, showRuns: IDS }, ...replays(0, 25)]);
    await clock.runFor(FRAME);
    let s = await stats();
    assert.equal(s.chartFrames, s0.chartFrames, 'the first frame of the burst holds the charts');
    assert.ok(s.heldFrames > s0.heldFrames, 'a frame was drawn without its chart part');
    await clock.runFor(BURST_DRAW_INTERVAL_MS - 2 * FRAME);
    assert.equal((await stats()).chartFrames, s0.chartFrames, 'no chart pass before the burst interval is over');
    await clock.runFor(3 * FRAME);
    s = await stats();
    assert.equal(s.chartFrames, s0.chartFrames + 1, 'one chart pass once the interval is over, not one per frame or message');
    assert.equal(s.burstChartFrameTimes.length, s0.burstChartFrameTimes.length + 1, 'drawn while the burst is still under way');
    // More replays within the next interval: held again.
    await post(replays(25, 40));
    await clock.runFor(2 * FRAME);
    assert.equal((await stats()).chartFrames, s0.chartFrames + 1, 'held again until the next interval');
    // The last replays end the burst: drawn in the next frame, without waiting for the interval.
    await post(replays(40, N));
    await clock.runFor(FRAME);
    s = await stats();
    assert.equal(s.chartFrames, s0.chartFrames + 2, 'the burst end is drawn at once');
    assert.equal(s.received - s0.received, N + 1, 'init and the 50 replays all received');
    await clock.resume();
    await p.settle();

    const ids: string[] = await p.page.evaluate(() => (window as any).__mrlPanel.chartIds());
    assert.ok(ids.includes('m:train/loss') && ids.includes('m:eval/ndcg@10') && ids.includes('m:eval/funnel:map@100'), ids.join(', '));
    assert.ok(!ids.some((id) => /funnel:(macsSaved|shortlistDim|rerankDim)$/.test(id)), 'funnel parameters are not charts');
    const boxes: Record<string, { top: number; bottom: number }> = await p.page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll<HTMLElement>('.chart-card[data-chart-id]')].map((c) => {
          const r = c.getBoundingClientRect();
          return [c.dataset.chartId!, { top: r.top, bottom: r.bottom }];
        }),
      ),
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
    // per run: one curve, at the dim plotted (the largest), smoothed; with this many runs without the faint raw curves
    assert.equal(loss.datasets.length, N);
    assert.ok(loss.datasets.every((d: any) => d.dim === Math.max(...DIMS)));
    assert.equal(new Set(loss.datasets.map((d: any) => d.color)).size, N, 'a colour per run');
    assert.ok(
      loss.datasets.every((d: any) => d.role === 'smoothed'),
      'no raw underlay past RAW_UNDERLAY_MAX_RUNS runs',
    );
    assert.ok(
      loss.datasets.every((d: any) => d.points > 0),
      'every train curve drawn with points',
    );
    assert.deepEqual(loss.legend, [], 'the run legend above the charts names the runs, all of them');
    assert.equal((await p.page.evaluate(() => (window as any).__mrlPanel.runLegend())).runIds.length, N);
    for (const id of near) assert.equal((await chart(id)).drawn, true, `${id} (near the viewport) is drawn`);

    // The charts below: their latest curves not drawn yet (handed over, not decimated or drawn). Those well
    // below (the first pass laid the page out a little differently: fewer chips) were never drawn at all.
    for (const id of far) {
      const c = await chart(id);
      assert.equal(c.drawn, false, `${id} lies below the viewport and is not drawn yet`);
      if (boxes[id].top > 900 + NEAR_VIEWPORT_PX + 300) assert.equal(c.draws, 0, `${id} was never drawn`);
    }
    assert.ok(
      far.some((id) => boxes[id].top > 900 + NEAR_VIEWPORT_PX + 300),
      'some charts lie well below the viewport',
    );
    // Scrolled into view, the last one is drawn, with every run's per-dim curves.
    const last = far[far.length - 1];
    await p.page.evaluate((id) => document.querySelector(`.chart-card[data-chart-id="${id}"]`)!.scrollIntoView({ block: 'center' }), last);
    await p.page.waitForFunction((id) => (window as any).__mrlPanel.chart(id).drawn === true, last);
    const c = await chart(last);
    assert.equal(new Set(c.datasets.map((d: any) => d.runId)).size, N);
    assert.ok(c.datasets.length >= N, `${last}: ${c.datasets.length} curves`);
    assert.ok(
      c.datasets.every((d: any) => d.points > 0),
      `${last}: every curve drawn with points`,
    );
    assert.equal(c.seriesLength.length, c.datasets.length, 'eval curves drawn raw: one dataset per curve');
    assert.ok(c.x.max >= STEPS - 1, `${last}: x axis spans the runs (${c.x.max})`);
    assert.deepEqual(
      p.errors.filter((e) => !e.includes('favicon') && !e.includes('404')),
      [],
    );
  } finally {
    await p.page.context().close();
  }
});

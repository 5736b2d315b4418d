// The frontier chart (quality vs bytes per vector, every dim × precision) in real Chromium, on the
// hand-worked metrics of test/webview/fixtures/precisionMetrics.ts: the cheapest point and its ring, the
// Pareto front, the sentence under the chart, the p % line moving with the advisor setting, two runs
// overlaid, the Precision select of the time charts, and the runs table's frontier columns. Screenshot:
// test-artifacts/frontier.png. Read through the read-only `window.__mrlPanel` hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser, artifactPath, type OpenedPanel } from './harness';
import { baseConfig, run } from './fixtures/metrics';
import { A_FUNNEL, A_TABLE, B_TABLE, precisionRun } from './fixtures/precisionMetrics';
import { summaryOf } from './fixtures/tableRuns';

const panels = usePanelBrowser();

const hook = <T = any>(p: OpenedPanel, fn: string, arg?: unknown): Promise<T> =>
  p.page.evaluate(([f, a]) => (a === undefined ? (window as any).__mrlPanel[f as string]() : (window as any).__mrlPanel[f as string](a)), [
    fn,
    arg,
  ] as const);

const cfg = baseConfig({ 'evaluation.funnel': { shortlistDim: 32, rerankDim: 256 } });
const LINES_A = precisionRun(A_TABLE, A_FUNNEL);
const LINES_B = precisionRun(B_TABLE);
const RA = run('20261124-100000-a-aaaa', 'run-a', 'completed', '2026-11-24T10:00:00Z', cfg, { summary: summaryOf(LINES_A) });
const RB = run('20261124-110000-b-bbbb', 'run-b', 'completed', '2026-11-24T11:00:00Z', baseConfig(), { summary: summaryOf(LINES_B) });

async function knownPanel(showRuns: string[]): Promise<OpenedPanel> {
  const p = await panels.open();
  await p.send({ type: 'init', runs: [RA, RB], showRuns, settings: { advisorPercent: 95 } });
  await p.send({ type: 'metrics', runId: RA.id, reset: true, lines: LINES_A });
  await p.send({ type: 'metrics', runId: RB.id, reset: true, lines: LINES_B });
  await p.settle();
  return p;
}

/** The pixel a point of the frontier chart lies at, from the chart's own scales. */
function pixelOf(p: OpenedPanel, bytes: number, percent: number): Promise<[number, number]> {
  return p.page.evaluate(
    ([b, q]) => {
      const c = (window as any).__mrlPanel.chartInstance('frontier');
      return [c.scales.x.getPixelForValue(Math.log2(b)), c.scales.y.getPixelForValue(q)] as [number, number];
    },
    [bytes, percent] as const,
  );
}

test('one run: the cheapest point reaching 95 % ringed, the Pareto front joined, the funnel on the same scale, the sentence; screenshot', async () => {
  const p = await knownPanel([RA.id]);
  const f = await hook(p, 'frontier');
  assert.ok(f, 'the frontier card is shown');
  assert.equal(f.metric, 'ndcg@10');
  assert.equal(f.percent, 95);
  const a = f.runs[0];
  assert.equal(a.step, 3);
  assert.deepEqual([a.point.dim, a.point.precision, a.point.rescore, a.point.bytesPerVector], [256, 'binary', true, 32]);
  assert.deepEqual(
    a.front.map((q: any) => [q.bytesPerVector, q.key]),
    [
      [4, 'binary+rescore:ndcg@10'],
      [8, 'binary+rescore:ndcg@10'],
      [16, 'binary+rescore:ndcg@10'],
      [32, 'binary+rescore:ndcg@10'],
      [256, 'int8+rescore:ndcg@10'],
    ],
  );
  assert.equal(a.points.length, 20);
  assert.deepEqual(a.funnel, { shortlistDim: 32, rerankDim: 256, bytesPerVector: 1152, value: 0.39, ratio: 0.39 / 0.4 });
  // the datasets: the front line (its 5 points), one per precision (4 dims each), the funnel
  const front = f.datasets.find((d: any) => d.kind === 'front');
  assert.equal(front.points, 5);
  assert.deepEqual(
    f.datasets.filter((d: any) => d.kind === 'points').map((d: any) => [d.variant, d.points]),
    [
      ['float32', 4],
      ['int8+rescore', 4],
      ['int8', 4],
      ['binary+rescore', 4],
      ['binary', 4],
    ],
  );
  assert.deepEqual(f.legend, ['float32', 'int8 + rescore', 'int8', 'binary + rescore', 'binary', 'funnel']);
  // the ring is where the scales put the chosen point; the p % line where they put 95 %
  assert.equal(f.marks.length, 1);
  const [px, py] = await pixelOf(p, 32, 98);
  assert.ok(Math.abs(f.marks[0].px - px) < 0.5 && Math.abs(f.marks[0].py - py) < 0.5, JSON.stringify(f.marks[0]));
  const [, ty] = await pixelOf(p, 32, 95);
  assert.ok(Math.abs(f.thresholdPx - ty) < 0.5);
  assert.ok(f.marks[0].py < f.thresholdPx, 'the chosen point (98 %) lies above the 95 % line (pixel rows grow downwards)');
  // the text under the chart, on screen
  assert.deepEqual(f.text, [
    'run-a reaches 95 % at 32 bytes/vector: binary at dim 256, rescored (ndcg@10 0.392, 98 % of float32 at 256) (step 3)',
    'funnel 32→256: 98 % of float32 at 1152 bytes/vector',
  ]);
  assert.equal(await p.page.textContent('#frontierAdvice > div'), f.text[0]);
  assert.equal(await p.page.textContent('#frontierWhat'), 'ndcg@10 · step 3 (latest)');
  // the ring is drawn in the accent colour: read the canvas on the ring's left edge
  const ringPixel = await p.page.evaluate(
    ([x, y]) => {
      const c = (window as any).__mrlPanel.chartInstance('frontier');
      const d = c.ctx.getImageData(Math.round(x - 10) - 1, Math.round(y) - 1, 3, 3).data;
      let best = 0;
      for (let i = 0; i < d.length; i += 4) best = Math.max(best, d[i + 3]);
      return best;
    },
    [f.marks[0].px, f.marks[0].py] as const,
  );
  assert.ok(ringPixel > 100, `ring drawn (alpha ${ringPixel})`);
  await p.page.locator('#frontier').scrollIntoViewIfNeeded();
  await p.page.locator('#frontier').screenshot({ path: artifactPath('frontier.png') });
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
  await p.page.context().close();
});

test('the p % line moves with matryoshkaLab.advisorPercent, and so do the chosen points', async () => {
  const p = await knownPanel([RA.id, RB.id]);
  const before = await hook(p, 'frontier');
  await p.send({ type: 'settings', settings: { advisorPercent: 90 } });
  await p.settle();
  const after = await hook(p, 'frontier');
  assert.equal(after.percent, 90);
  const [, ty] = await pixelOf(p, 32, 90);
  assert.ok(Math.abs(after.thresholdPx - ty) < 0.5);
  assert.ok(after.thresholdPx > before.thresholdPx, `the line moved down: ${before.thresholdPx} → ${after.thresholdPx}`);
  const byRun = Object.fromEntries(after.runs.map((r: any) => [r.runId, r.point]));
  assert.deepEqual([byRun[RA.id].key, byRun[RA.id].dim, byRun[RA.id].bytesPerVector], ['binary+rescore:ndcg@10', 128, 16]);
  assert.deepEqual([byRun[RB.id].key, byRun[RB.id].dim, byRun[RB.id].bytesPerVector], ['int8+rescore:ndcg@10', 64, 64]);
  assert.match(
    after.text[0],
    /^run-b reaches 90 % at 64 bytes\/vector: int8 at dim 64, rescored; run-a needs 16 bytes: binary at dim 128, rescored$/,
  );
  await p.page.context().close();
});

test('two runs overlaid: a front per run (its dash), a ring per run, the comparison under the chart; legend toggles a run', async () => {
  const p = await knownPanel([RA.id, RB.id]);
  const f = await hook(p, 'frontier');
  assert.deepEqual(
    f.runs.map((r: any) => r.runId),
    [RB.id, RA.id],
  ); // newest first
  assert.equal(f.datasets.filter((d: any) => d.kind === 'front').length, 2);
  assert.equal(f.marks.length, 2);
  const mb = f.marks.find((k: any) => k.runId === RB.id);
  assert.deepEqual([mb.dim, mb.variant, mb.bytesPerVector], [128, 'int8+rescore', 128]);
  const [px, py] = await pixelOf(p, 128, (0.409 / 0.42) * 100);
  assert.ok(Math.abs(mb.px - px) < 0.5 && Math.abs(mb.py - py) < 0.5);
  assert.equal(
    f.text[0],
    'run-b reaches 95 % at 128 bytes/vector: int8 at dim 128, rescored; run-a needs 32 bytes: binary at dim 256, rescored',
  );
  assert.deepEqual(f.legend.slice(0, 2), ['run-b @ step 3', 'run-a @ step 3']);
  await p.page.locator('#frontier').screenshot({ path: artifactPath('frontier-compare.png') });
  // a click on run-b's legend entry hides its points, its front and its ring
  const box = (await p.page.locator('#frontierCanvas').boundingBox())!;
  const hit = await p.page.evaluate(() => {
    const c = (window as any).__mrlPanel.chartInstance('frontier');
    const h = c.legend.legendHitBoxes[0];
    return { x: h.left + h.width / 2, y: h.top + h.height / 2 };
  });
  await p.page.mouse.click(box.x + hit.x, box.y + hit.y);
  await p.settle();
  const hidden = await p.page.evaluate(() => {
    const c = (window as any).__mrlPanel.chartInstance('frontier');
    c.draw();
    return c.data.datasets.map((d: any, i: number) => [d._run, c.isDatasetVisible(i)]);
  });
  assert.ok(
    hidden.every(([r, v]: [number, boolean]) => (r === 0 ? !v : v)),
    JSON.stringify(hidden),
  );
  const g = await hook(p, 'frontier');
  assert.deepEqual(
    g.marks.map((k: any) => k.runId),
    [RA.id],
  );
  await p.page.context().close();
});

test('float32 views stay float32: MRL metrics, time charts; the Precision select shows a variant', async () => {
  const p = await knownPanel([RA.id]);
  const m = await hook(p, 'mrl');
  assert.equal(m.metric, 'eval/ndcg@10');
  const options = await p.page.$$eval('#mrlMetric vscode-option', (os) => os.map((o) => o.getAttribute('value')));
  assert.ok(!options.some((o) => o!.includes(':')), `MRL metrics: ${options}`);
  let ids: string[] = await hook(p, 'chartIds');
  assert.ok(ids.includes('m:eval/ndcg@10') && !ids.some((id) => /int8|binary/.test(id)), `${ids}`);
  assert.equal(await p.page.isVisible('#precisionField'), true);
  const opts = await p.page.$$eval('#precision vscode-option', (os) => os.map((o) => o.getAttribute('value')));
  assert.deepEqual(opts, ['float32', 'int8+rescore', 'int8', 'binary+rescore', 'binary']);
  await p.page.evaluate(() => {
    const s = document.getElementById('precision') as any;
    s.value = 'binary';
    s.dispatchEvent(new Event('change'));
  });
  await p.settle();
  ids = await hook(p, 'chartIds');
  assert.ok(ids.includes('m:eval/binary:ndcg@10') && !ids.includes('m:eval/ndcg@10') && ids.includes('m:train/loss'), `${ids}`);
  assert.equal((await hook(p, 'state')).precision, 'binary');
  const c = await hook(p, 'chart', 'm:eval/binary:ndcg@10');
  assert.equal(c.title, 'binary:ndcg@10 · eval');
  assert.equal(c.datasets.length, 4, 'one line per dim');
  // the frontier and metric-vs-dim cards are unchanged by the time charts' precision
  assert.equal((await hook(p, 'mrl')).metric, 'eval/ndcg@10');
  assert.equal((await hook(p, 'frontier')).runs[0].point.bytesPerVector, 32);
  await p.page.context().close();
});

test('runs table: frontier columns shown, sorted and filtered on their keys', async () => {
  const p = await knownPanel([]);
  await p.page.click('#tabRuns');
  await p.settle();
  let t = await hook(p, 'table');
  for (const k of ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'])
    assert.ok(
      t.columns.some((c: any) => c.key === k),
      `${k} shown`,
    );
  const row = (id: string) => t.rows.find((r: any) => r.id === id).cells;
  assert.deepEqual(
    ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'].map((k) => row(RA.id)[k]),
    ['32', '256', 'binary+rescore', '98 %'],
  );
  assert.deepEqual(
    ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality'].map((k) => row(RB.id)[k]),
    ['128', '128', 'int8+rescore', '97.4 %'],
  );
  assert.ok(t.allColumnKeys.includes('binary+rescore:ndcg@10@256'));
  assert.ok(!t.columns.some((c: any) => c.key === 'binary+rescore:ndcg@10@256'), 'precision metric columns are in the chooser');
  // sort by bytes: a header click
  await p.page.click('th[data-key="frontier:bytes"]');
  await p.settle();
  t = await hook(p, 'table');
  assert.deepEqual(
    t.rows.map((r: any) => r.id),
    [RA.id, RB.id],
  );
  await p.page.click('th[data-key="frontier:bytes"]');
  await p.settle();
  t = await hook(p, 'table');
  assert.deepEqual(
    t.rows.map((r: any) => r.id),
    [RB.id, RA.id],
  );
  // filter on a frontier key
  await p.page.fill('#tableFilter', 'frontier:precision = int8+rescore');
  await p.settle();
  t = await hook(p, 'table');
  assert.equal(t.filterError, null);
  assert.deepEqual(
    t.rows.map((r: any) => r.id),
    [RB.id],
  );
  const csv: string = await hook(p, 'tableCsv');
  const head = csv.split('\n')[0].split(',');
  for (const k of ['frontier:bytes', 'frontier:dim', 'frontier:precision', 'frontier:quality']) assert.ok(head.includes(k), `CSV has ${k}`);
  await p.page.context().close();
});

// Runs that look alike (issue 21), in real Chromium: a sweep's runs share their config's name, so the runs
// table, the chart legends, the run chips and Compare's changed-keys table lead with what differs between
// them (`lr=3e-4 · my-sweep`); and the table's status and name columns stay in view when it scrolls sideways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser, artifactPath, type OpenedPanel } from './harness';
import { genMetrics } from './fixtures/metrics';
import { manyRuns, tableRun } from './fixtures/tableRuns';

const panels = usePanelBrowser();

/** A sweep over the learning rate: three runs called "my-sweep", and a run of another name. */
const sweepRun = (i: number, lr: number) =>
  tableRun({
    id: `sw-${i}`,
    name: 'my-sweep',
    status: 'completed',
    startedAt: `2026-11-2${i}T10:00:00Z`,
    over: { 'training.learningRate': lr },
    gen: { steps: 200, logEvery: 10, evalEvery: 100, seed: i + 1 },
    extra: { sweep: { id: 'sw', index: i, params: { 'training.learningRate': lr } } },
  });
const RUNS = [
  sweepRun(0, 0.001),
  sweepRun(1, 0.0003),
  sweepRun(2, 0.0001),
  tableRun({
    id: 'base',
    name: 'baseline',
    status: 'completed',
    startedAt: '2026-11-19T10:00:00Z',
    gen: { steps: 200, logEvery: 10, evalEvery: 100 },
  }),
];
const LABEL: Record<string, string> = {
  'sw-0': 'lr=1e-3 · my-sweep',
  'sw-1': 'lr=3e-4 · my-sweep',
  'sw-2': 'lr=1e-4 · my-sweep',
  base: 'baseline',
};

const hook = (p: OpenedPanel) => ({
  table: () => p.page.evaluate(() => (window as any).__mrlPanel.table()),
  chart: (id: string) => p.page.evaluate((i) => (window as any).__mrlPanel.chart(i), id),
});

async function close(p: OpenedPanel): Promise<void> {
  await p.page.context().close();
}

test('runs of one name: the table, the legends, the chips and the Compare headers lead with what differs', async () => {
  const p = await panels.open('vscode-dark');
  await p.send({ type: 'init', runs: RUNS, showRuns: [] });
  for (const r of RUNS)
    await p.send({ type: 'metrics', runId: r.id, reset: true, lines: genMetrics({ steps: 200, evalEvery: 100, seed: 3 }) });
  await p.settle();
  await p.page.click('#tabRuns');
  await p.settle();
  const t = await hook(p).table();
  assert.deepEqual(Object.fromEntries(t.rows.map((r: any) => [r.id, r.cells.name])), LABEL);
  // The name cells on screen say the same (the title keeps the run's own name and id).
  assert.equal(await p.page.textContent('tr[data-id="sw-1"] td.frozen-1'), LABEL['sw-1']);
  assert.match((await p.page.getAttribute('tr[data-id="sw-1"] td.frozen-1', 'title')) ?? '', /^my-sweep \(sw-1\)/);

  // Two of the sweep's runs compared: every legend and chip tells them apart, and so do the diff's headers.
  await p.send({ type: 'showRuns', runIds: ['sw-0', 'sw-1'], compare: true });
  await p.settle();
  await p.page.click('#tabCharts');
  await p.settle();
  const loss = await hook(p).chart('m:train/loss');
  assert.ok(
    [LABEL['sw-0'], LABEL['sw-1']].every((l) => loss.legend.some((x: string) => x.includes(l))),
    `legend: ${loss.legend.join(' | ')}`,
  );
  assert.ok(!loss.legend.some((x: string) => /^my-sweep\b/.test(x)), 'no legend entry starts with the shared name');
  const chips = await p.page.$$eval('.run-chip', (els) => els.map((e) => e.textContent ?? ''));
  for (const id of ['sw-0', 'sw-1', 'sw-2'])
    assert.ok(
      chips.some((c) => c.includes(LABEL[id])),
      `chip ${LABEL[id]}: ${chips.join(' | ')}`,
    );
  await p.page.locator('#diffTable').scrollIntoViewIfNeeded();
  const heads = await p.page.$$eval('#diffTable thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(heads, ['key', LABEL['sw-0'], LABEL['sw-1']]);

  // A run of the same name arrives (runInfo): it is labelled with its value, and the others keep theirs.
  const late = sweepRun(3, 0.003);
  await p.send({ type: 'runInfo', run: late });
  await p.page.click('#tabRuns');
  await p.settle();
  const after = await hook(p).table();
  assert.equal(after.rows.find((r: any) => r.id === 'sw-3').cells.name, 'lr=3e-3 · my-sweep');
  assert.equal(after.rows.find((r: any) => r.id === 'sw-0').cells.name, LABEL['sw-0']);
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
  await close(p);
});

test('the status and name columns stay in view when the table scrolls sideways to a metric it is sorted by', async () => {
  const p = await panels.open('vscode-dark', { width: 900, height: 700 });
  await p.send({ type: 'init', runs: manyRuns(60), showRuns: [] });
  await p.settle();
  await p.page.click('#tabRuns');
  await p.settle();
  const t = await hook(p).table();
  const far = t.columns.at(-1).key as string;
  // Scroll to the far right, then sort by the last column (a metric or an advisor column): the table
  // stays scrolled there, as a user sorting by it sees it.
  const scrollRight = () =>
    p.page.evaluate(() => {
      const w = document.querySelector('.runs-table-wrap')!;
      w.scrollLeft = w.scrollWidth;
    });
  await scrollRight();
  await p.settle();
  await p.page.click(`th[data-key="${CSS_ESCAPE(far)}"]`);
  await p.settle();
  await scrollRight();
  await p.settle();
  // Wait for the scroll's frame to draw the column window (a requestAnimationFrame after the scroll event).
  await p.page.waitForFunction(() => {
    const w = document.querySelector('.runs-table-wrap')!;
    return w.scrollLeft > 0 && w.scrollLeft + w.clientWidth >= w.scrollWidth - 1;
  });
  await p.settle();
  const seen = await p.page.evaluate(() => {
    const wrap = document.querySelector('.runs-table-wrap')!;
    const box = wrap.getBoundingClientRect();
    const inView = (el: Element | null) => {
      if (!el) return { ok: false, why: 'not drawn' };
      const r = el.getBoundingClientRect();
      const x = r.left + Math.min(20, r.width / 2);
      const y = r.top + r.height / 2;
      // Inside the scroll window, and on top there (not under a scrolled cell): the user sees it.
      const top = document.elementFromPoint(x, y);
      const ok = r.left >= box.left - 1 && r.right <= box.right + 1 && !!top && el.contains(top);
      return { ok, why: `rect ${r.left}–${r.right} in ${box.left}–${box.right}, top ${top?.tagName}.${top?.className}` };
    };
    const rows = [...document.querySelectorAll<HTMLTableRowElement>('#runsTable tbody tr.run-row')].slice(0, 5);
    return {
      scrolled: wrap.scrollLeft,
      head: inView(document.querySelector('#runsTable thead th[data-key="name"]')),
      cells: rows.map((tr) => {
        const cells = [...tr.cells];
        const name = cells.find((td) => td.classList.contains('frozen-1')) ?? null;
        return { id: tr.dataset.id, text: name?.textContent ?? '', status: inView(cells[1] ?? null), name: inView(name) };
      }),
    };
  });
  assert.ok(seen.scrolled > 500, `scrolled sideways: ${seen.scrolled}px`);
  assert.ok(seen.head.ok, `the name header: ${seen.head.why}`);
  assert.equal(seen.cells.length, 5);
  const sorted = (await hook(p).table()).rows.slice(0, 5);
  for (const [i, c] of seen.cells.entries()) {
    assert.ok(c.name.ok, `${c.id}'s name: ${c.name.why}`);
    assert.ok(c.status.ok, `${c.id}'s status: ${c.status.why}`);
    assert.equal(c.id, sorted[i].id, 'the rows drawn are the sorted ones');
    assert.equal(c.text, sorted[i].cells.name);
  }
  await p.page.screenshot({ path: artifactPath('runs-table-frozen-name.png') });
  assert.deepEqual(
    p.errors.filter((e) => !e.includes('404')),
    [],
  );
  await close(p);
});

/** A column key in an attribute selector ("ndcg@10@64" is fine, a quote is not). */
function CSS_ESCAPE(key: string): string {
  return key.replace(/["\\]/g, '\\$&');
}

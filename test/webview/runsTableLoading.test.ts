// The runs table while the host reads a workspace's metrics (issue 21), in real Chromium: the cells of a
// run whose metrics are not read show loading (never blank, never a value of a part of its file), the
// counter says "metrics n/N", a filter or sort on such a column says it is provisional, and all of it
// clears as the host's `runInfos` bring the summaries. Screenshots: the table loading and complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { formatNumber, LOADING_CELL } from '../../webview/runsTable/cellFormat';
import { usePanelBrowser, artifactPath, type OpenedPanel } from './harness';
import { tableRun } from './fixtures/tableRuns';

const panels = usePanelBrowser();

const COMPLETE: PanelRun[] = [1, 2, 3, 4].map((i) =>
  tableRun({
    id: `r${i}`,
    name: `run-${i}`,
    status: 'completed',
    startedAt: `2026-11-2${i}T10:00:00Z`,
    over: { 'training.learningRate': i * 0.001 },
    gen: { steps: 300, logEvery: 10, evalEvery: 100, seed: i, boost: i * 0.05, funnel: true },
    extra: { endedAt: `2026-11-2${i}T10:20:00Z` },
  }),
);
/** As the host sends a run it has not read yet: no summary, `metricsLoading`. */
const loading = (r: PanelRun): PanelRun => {
  const { summary: _summary, ...rest } = r;
  return { ...rest, metricsLoading: true };
};
const KEY = 'ndcg@10@64';
const value = (id: string) => formatNumber(COMPLETE.find((r) => r.id === id)!.summary!.last['64']['ndcg@10']);

/** The drawn cell of a row under a column (scrolled into the drawn columns first), with its class and title. */
async function cell(p: OpenedPanel, id: string, key: string): Promise<{ text: string; loading: boolean; title: string }> {
  await p.page.evaluate(
    (k) => document.querySelector(`#runsTable thead th[data-key="${CSS.escape(k)}"]`)!.scrollIntoView({ inline: 'center' }),
    key,
  );
  await p.settle();
  await p.settle();
  return p.page.evaluate(
    ({ id, key }) => {
      const ths = [...document.querySelectorAll<HTMLElement>('#runsTable thead th[data-key]')];
      const target = ths.findIndex((th) => th.dataset.key === key);
      const tr = document.querySelector<HTMLTableRowElement>(`#runsTable tr.run-row[data-id="${CSS.escape(id)}"]`)!;
      let col = 0;
      for (const td of [...tr.cells].slice(1)) {
        if (td.classList.contains('blank')) col += td.colSpan;
        else if (col++ === target) return { text: td.textContent ?? '', loading: td.classList.contains('loading'), title: td.title };
      }
      throw new Error(`${key} of ${id} is not drawn`);
    },
    { id, key },
  );
}
const text = (p: OpenedPanel, sel: string) => p.page.evaluate((s) => document.querySelector<HTMLElement>(s)?.textContent ?? '', sel);
const hidden = (p: OpenedPanel, sel: string) => p.page.evaluate((s) => document.querySelector<HTMLElement>(s)!.hidden, sel);
const thClass = (p: OpenedPanel, key: string) =>
  p.page.evaluate((k) => document.querySelector<HTMLElement>(`#runsTable thead th[data-key="${CSS.escape(k)}"]`)!.className, key);

test('loading cells, "metrics n/N", provisional filter and sort; all clear as the summaries arrive; screenshots', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 520 });
  // The host's init while it reads: r4 read (complete), the three others loading.
  await p.send({ type: 'init', runs: [COMPLETE[3], ...COMPLETE.slice(0, 3).map(loading)], showRuns: [], settings: { advisorPercent: 95 } });
  await p.settle();
  await p.page.click('#tabRuns');
  await p.settle();

  assert.equal(await text(p, '#tableCount'), '4 runs · metrics 1/4');
  assert.equal(await p.page.getAttribute('#runsTable', 'aria-busy'), 'true');
  const wait = await cell(p, 'r2', KEY);
  assert.deepEqual(wait, { text: LOADING_CELL, loading: true, title: wait.title });
  assert.match(wait.title, /still reading this run’s metrics/);
  // Columns of run.json are no metrics: shown at once.
  assert.equal((await cell(p, 'r2', 'name')).text, 'run-2');
  assert.equal((await cell(p, 'r2', 'name')).loading, false);
  assert.deepEqual(await cell(p, 'r4', KEY), { text: value('r4'), loading: false, title: '' });
  assert.equal(await hidden(p, '#tableProvisional'), true, 'nothing filtered or sorted: nothing provisional');

  // A filter on a metric: loading rows match no condition, and the table says the answer is provisional.
  await p.page.fill('#tableFilter', `${KEY} > 0`);
  await p.settle();
  assert.equal(await text(p, '#tableCount'), '1 of 4 runs · metrics 1/4');
  assert.equal(await hidden(p, '#tableProvisional'), false);
  assert.match(await text(p, '#tableProvisional'), new RegExp(`^Provisional: filter on ${KEY} — 3 runs’ metrics are still loading`));
  assert.match(await thClass(p, KEY), /\bprovisional\b/);
  // A free-text term or a run.json column is not provisional.
  await p.page.fill('#tableFilter', 'run');
  await p.settle();
  assert.equal(await hidden(p, '#tableProvisional'), true);
  await p.page.fill('#tableFilter', '');
  await p.settle();

  // A sort on a metric (the loading rows last) is provisional too; on the name it is not.
  await p.page.click(`#runsTable thead th[data-key="name"]`);
  await p.settle();
  assert.equal(await hidden(p, '#tableProvisional'), true);
  await p.page.click(`#runsTable thead th[data-key="${KEY}"]`);
  await p.settle();
  assert.match(await text(p, '#tableProvisional'), new RegExp(`sort by ${KEY}`));
  const t = await p.page.evaluate(() => (window as any).__mrlPanel.table());
  assert.equal(t.loading, 3);
  assert.deepEqual(t.provisional, { filter: [], sort: KEY });
  assert.equal(t.rows[0].id, 'r4', 'the one run with a value first, the loading ones after');
  assert.deepEqual(
    t.rows.map((r: { loading: boolean }) => r.loading),
    [false, true, true, true],
  );
  await p.page.evaluate(() => (document.querySelector('#runsTable')!.closest('.runs-table-wrap') as HTMLElement).scrollTo(0, 0));
  await p.settle();
  await p.page.screenshot({ path: artifactPath('runs-table-loading.png') });
  await p.page.fill('#tableFilter', `${KEY} > 0 loss < 100`);
  await p.settle();
  assert.match(await text(p, '#tableProvisional'), new RegExp(`^Provisional: filter on ${KEY}, loss and sort by ${KEY} — `));

  // The host read two more: one message for both. r1 is still loading.
  await p.send({ type: 'runInfos', runs: [COMPLETE[1], COMPLETE[2]].map(({ config: _c, ...r }) => r) });
  await p.settle();
  assert.equal(await text(p, '#tableCount'), '3 of 4 runs · metrics 3/4');
  assert.equal((await cell(p, 'r2', KEY)).text, value('r2'));
  assert.equal(await p.page.locator('#runsTable tr.run-row[data-id="r1"]').count(), 0, 'still loading: no value, matches no condition');
  // …the last one: the counter, the marks and the busy state clear; the filter's answer is final.
  await p.send({ type: 'runInfos', runs: [COMPLETE[0]].map(({ config: _c, ...r }) => r) });
  await p.settle();
  assert.equal(await text(p, '#tableCount'), '4 runs');
  assert.equal(await hidden(p, '#tableProvisional'), true);
  assert.doesNotMatch(await thClass(p, KEY), /provisional/);
  assert.equal(await p.page.getAttribute('#runsTable', 'aria-busy'), 'false');
  for (const r of COMPLETE) assert.deepEqual(await cell(p, r.id, KEY), { text: value(r.id), loading: false, title: '' });
  // The config the init carried is kept (runInfos come without it): the param columns still read it.
  assert.equal((await cell(p, 'r1', 'training.learningRate')).text, '0.001');
  await p.page.evaluate(() => (document.querySelector('#runsTable')!.closest('.runs-table-wrap') as HTMLElement).scrollTo(0, 0));
  await p.settle();
  await p.page.screenshot({ path: artifactPath('runs-table-complete.png') });
  const errors = p.errors.filter((e) => !e.includes('404'));
  assert.deepEqual(errors, []);
});

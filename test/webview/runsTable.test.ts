// The runs table (Runs tab of the metrics panel) in real Chromium: sort by header, filter expressions,
// multi-select → Plot overlays in the charts, runAction messages, CSV, grouping, the dim advisor columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usePanelBrowser, artifactPath, type OpenedPanel, type ThemeClass } from './harness';
import { genMetrics } from './fixtures/metrics';
import { manyRuns, tableRun } from './fixtures/tableRuns';

const panels = usePanelBrowser();

// Four runs: a 2-run sweep over the learning rate and two lone runs with another mini-batch size.
const RUNS = [
  tableRun({
    id: 'r1-base',
    name: 'base',
    status: 'completed',
    startedAt: '2026-11-20T10:00:00Z',
    gen: { steps: 400, logEvery: 10, evalEvery: 100, seed: 1 },
    extra: { notes: { tags: ['baseline'], note: 'the reference' }, endedAt: '2026-11-20T10:20:00Z' },
  }),
  tableRun({
    id: 'r2-lr',
    name: 'lr-high',
    status: 'running',
    startedAt: '2026-11-21T10:00:00Z',
    over: { 'training.learningRate': 0.001 },
    gen: { steps: 300, logEvery: 10, evalEvery: 100, seed: 2, boost: 0.08, funnel: true },
    extra: { sweep: { id: 'sw-7', index: 0, params: { 'training.learningRate': 0.001 } } },
  }),
  tableRun({
    id: 'r3-lr',
    name: 'lr-low',
    status: 'stopped',
    startedAt: '2026-11-22T10:00:00Z',
    over: { 'training.learningRate': 0.0001 },
    gen: { steps: 200, logEvery: 10, evalEvery: 100, seed: 3, boost: -0.3 },
    extra: {
      sweep: { id: 'sw-7', index: 1, params: { 'training.learningRate': 0.0001 } },
      notes: { displayName: 'Low LR', tags: ['sweep', 'baseline'], note: '' },
    },
  }),
  tableRun({
    id: 'r4-mb',
    name: 'mb32',
    status: 'failed',
    startedAt: '2026-11-23T10:00:00Z',
    over: { 'loss.loss.miniBatchSize': 32 },
    gen: { steps: 100, logEvery: 10, evalEvery: 0, seed: 4 },
    extra: { error: 'out of memory' },
  }),
];

const hook = (p: OpenedPanel) => ({
  table: () => p.page.evaluate(() => (window as any).__mrlPanel.table()),
  state: () => p.page.evaluate(() => (window as any).__mrlPanel.state()),
  chart: (id: string) => p.page.evaluate((i) => (window as any).__mrlPanel.chart(i), id),
  csv: (): Promise<string> => p.page.evaluate(() => (window as any).__mrlPanel.tableCsv()),
});

async function tablePanel(theme: ThemeClass = 'vscode-dark'): Promise<OpenedPanel> {
  const p = await panels.open(theme);
  await p.send({ type: 'init', runs: RUNS, showRuns: [], settings: { advisorPercent: 95 } });
  await p.settle();
  await p.page.click('#tabRuns');
  await p.settle();
  return p;
}
/** Page errors, less the favicon 404 every plain-browser page load logs. */
const pageErrors = (p: OpenedPanel) => p.errors.filter((e) => !e.includes('404'));
const ids = async (p: OpenedPanel) => ((await hook(p).table()).rows as { id: string }[]).map((r) => r.id);
async function filter(p: OpenedPanel, text: string): Promise<void> {
  await p.page.fill('#tableFilter', text);
  await p.settle();
}
/** RFC 4180 rows (quoted fields may hold commas, quotes doubled). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}
const last64 = (id: string) => RUNS.find((r) => r.id === id)!.summary!.last['64']?.['ndcg@10'];

test('one row per run with status, name, tags, the differing params and per-dim metric columns', async () => {
  const p = await tablePanel();
  const t = await hook(p).table();
  // newest first, as the run list
  assert.deepEqual(
    t.rows.map((r: any) => r.id),
    ['r4-mb', 'r3-lr', 'r2-lr', 'r1-base'],
  );
  const keys: string[] = t.columns.map((c: any) => c.key);
  for (const k of ['status', 'name', 'tags', 'started', 'duration', 'pairsPerSec', 'backend']) assert.ok(keys.includes(k), k);
  // params: exactly the config values that differ among the rows (not the run's config name)
  assert.deepEqual(
    t.columns.filter((c: any) => c.group === 'param').map((c: any) => c.key),
    ['loss.loss.miniBatchSize', 'training.learningRate'],
  );
  assert.ok(keys.includes('ndcg@10@64') && keys.includes('best:ndcg@10@64') && keys.includes('ndcg@10@256'));
  assert.equal(t.columns.find((c: any) => c.key === 'ndcg@10@64').label, 'ndcg@10 @64');
  assert.equal(t.columns.find((c: any) => c.key === 'best:ndcg@10@64').label, 'best ndcg@10 @64');
  assert.ok(keys.includes('funnel:ndcg@10') && keys.includes('funnel:macsSaved'), 'funnel figures');
  assert.ok(
    keys.includes('advisor:dim') && keys.includes('advisor:float32') && keys.includes('advisor:int8') && keys.includes('advisor:macsSaved'),
  );
  const low = t.rows.find((r: any) => r.id === 'r3-lr').cells;
  assert.equal(low.name, 'Low LR');
  assert.equal(low.tags, 'sweep, baseline');
  assert.equal(low['training.learningRate'], '0.0001');
  assert.equal(Number(low['ndcg@10@64']), Number(last64('r3-lr')!.toPrecision(4)));
  // the failed run without evals has no metric values, and says why it failed in its status cell
  const failed = t.rows.find((r: any) => r.id === 'r4-mb').cells;
  assert.equal(failed['ndcg@10@64'], '');
  assert.equal(await p.page.getAttribute('tr[data-id="r4-mb"] td:nth-child(2)', 'title'), 'out of memory');
  assert.deepEqual(pageErrors(p), []);
  await p.page.context().close();
});

test('sort by clicking a header (asc, desc), by Enter on a focused header; missing values last', async () => {
  const p = await tablePanel();
  const byValue = RUNS.filter((r) => last64(r.id) !== undefined)
    .sort((a, b) => last64(a.id)! - last64(b.id)!)
    .map((r) => r.id);
  await p.page.click('th[data-key="ndcg@10@64"]');
  await p.settle();
  assert.deepEqual(await ids(p), [...byValue, 'r4-mb']);
  assert.equal(await p.page.getAttribute('th[data-key="ndcg@10@64"]', 'aria-sort'), 'ascending');
  await p.page.click('th[data-key="ndcg@10@64"]');
  await p.settle();
  assert.deepEqual(await ids(p), [...byValue].reverse().concat('r4-mb'), 'descending, the run without a value still last');
  // keyboard: focus the name header and press Enter, then Space
  await p.page.focus('th[data-key="name"]');
  await p.page.keyboard.press('Enter');
  await p.settle();
  assert.deepEqual(await ids(p), ['r1-base', 'r3-lr', 'r2-lr', 'r4-mb'], 'base, Low LR, lr-high, mb32');
  await p.page.keyboard.press(' ');
  await p.settle();
  assert.deepEqual(await ids(p), ['r4-mb', 'r2-lr', 'r3-lr', 'r1-base']);
  assert.deepEqual((await hook(p).state()).table.sort, { key: 'name', dir: 'desc' }, 'persisted in the UI state');
  // numbers sort numerically, not as text (0.0001 < 0.0005 < 0.001)
  await p.page.click('th[data-key="training.learningRate"]');
  await p.settle();
  assert.deepEqual(await ids(p), ['r3-lr', 'r4-mb', 'r1-base', 'r2-lr'], 'equal values (0.0005) keep the run-list order');
  await p.page.context().close();
});

test('filter expressions: numeric condition, status:, tag:, sweep:, free text; a bad one says why', async () => {
  const p = await tablePanel();
  await filter(p, 'ndcg@10@64 > 0.2');
  const expected = RUNS.filter((r) => (last64(r.id) ?? -1) > 0.2).map((r) => r.id);
  assert.ok(expected.length > 0 && expected.length < RUNS.length, `the fixture splits on 0.2: ${expected}`);
  assert.deepEqual((await ids(p)).sort(), expected.sort());
  await filter(p, 'status:running');
  assert.deepEqual(await ids(p), ['r2-lr']);
  await filter(p, 'status:stopped tag:baseline');
  assert.deepEqual(await ids(p), ['r3-lr'], 'terms AND together');
  await filter(p, 'tag:baseline');
  assert.deepEqual(await ids(p), ['r3-lr', 'r1-base']);
  await filter(p, 'sweep:sw-7 training.learningRate<=0.0005');
  assert.deepEqual(await ids(p), ['r3-lr']);
  await filter(p, 'reference');
  assert.deepEqual(await ids(p), ['r1-base'], 'free text finds the note');
  assert.match((await p.page.textContent('#tableCount')) ?? '', /1 of 4 runs/);
  // invalid: the message names the problem; the rows stay unfiltered; nothing thrown
  await filter(p, 'ndcg@10@64 >');
  let t = await hook(p).table();
  assert.match(t.filterError, /value is missing/);
  assert.equal(t.rows.length, 4);
  assert.equal(await p.page.isVisible('#tableFilterError'), true);
  await filter(p, 'nosuch@1 > 0.2');
  assert.match((await hook(p).table()).filterError, /no column with the key "nosuch@1"/);
  await filter(p, 'status:exploded');
  assert.match((await hook(p).table()).filterError, /running, completed, failed, stopped/);
  await filter(p, '');
  t = await hook(p).table();
  assert.equal(t.filterError, null);
  assert.equal(await p.page.isVisible('#tableFilterError'), false);
  assert.deepEqual(pageErrors(p), []);
  await p.page.context().close();
});

test('multi-select (click, Ctrl-click, Shift-click, keyboard) → Plot overlays exactly those runs in the charts', async () => {
  const p = await tablePanel();
  await p.page.click('tr[data-id="r4-mb"] td:nth-child(3)');
  await p.page.click('tr[data-id="r2-lr"] td:nth-child(3)', { modifiers: ['Shift'] });
  assert.deepEqual((await hook(p).table()).selected, ['r4-mb', 'r3-lr', 'r2-lr'], 'shift: the range');
  await p.page.click('tr[data-id="r3-lr"] td:nth-child(3)', { modifiers: ['Control'] });
  assert.deepEqual((await hook(p).table()).selected, ['r4-mb', 'r2-lr'], 'ctrl: toggles one');
  // keyboard: arrow to the last row, Space adds it
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press(' ');
  assert.deepEqual((await hook(p).table()).selected, ['r4-mb', 'r2-lr', 'r1-base']);
  assert.equal(await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.id), 'r1-base');
  await p.page.click('button[data-action="plot"]');
  // the host replays the runs it was asked for
  for (const m of (await p.posted()).filter((x) => x.type === 'requestRun')) {
    const seed = Number(m.runId.slice(1, 2));
    await p.send({ type: 'metrics', runId: m.runId, reset: true, lines: genMetrics({ steps: 200, evalEvery: 100, seed }) });
  }
  await p.settle();
  const st = await hook(p).state();
  assert.equal(st.tab, 'charts');
  assert.deepEqual([...st.shownRunIds].sort(), ['r1-base', 'r2-lr', 'r4-mb']);
  assert.equal(await p.page.isVisible('#chartsPane'), true);
  assert.equal(await p.page.isVisible('#runsPane'), false);
  const loss = await hook(p).chart('m:train/loss');
  assert.deepEqual(
    [...new Set(loss.seriesLength.map((s: any) => s.runId))].sort(),
    ['r1-base', 'r2-lr', 'r4-mb'],
    'the chart draws exactly the selected runs',
  );
  const posted = await p.posted();
  assert.deepEqual(
    posted.filter((m) => m.type === 'runAction'),
    [{ type: 'runAction', action: 'plot', runIds: ['r4-mb', 'r2-lr', 'r1-base'] }],
  );
  await p.page.context().close();
});

test('Stop, Delete, Diff, Edit notes, Stop sweep, Export model post runAction with the selected ids; buttons fit the selection', async () => {
  const p = await tablePanel();
  await p.page.click('#selectAllRuns');
  assert.deepEqual((await hook(p).table()).selected, ['r4-mb', 'r3-lr', 'r2-lr', 'r1-base']);
  assert.equal(await p.page.isDisabled('button[data-action="delete"]'), true, 'a running run is selected');
  assert.equal(await p.page.isDisabled('button[data-action="editNotes"]'), true, 'one run at a time');
  assert.equal(await p.page.isDisabled('button[data-action="export"]'), true, 'one run exported at a time');
  await p.page.click('button[data-action="stop"]');
  await p.page.click('button[data-action="diff"]');
  await p.page.click('button[data-action="stopSweep"]');
  await p.page.click('tr[data-id="r1-base"] td:nth-child(3)');
  await p.page.click('tr[data-id="r4-mb"] td:nth-child(3)', { modifiers: ['Control'] });
  await p.page.click('button[data-action="delete"]');
  await p.page.click('tr[data-id="r3-lr"] td:nth-child(3)');
  assert.equal(await p.page.isDisabled('button[data-action="stop"]'), true, 'a stopped run cannot stop');
  await p.page.click('button[data-action="editNotes"]');
  await p.page.click('button[data-action="resume"]');
  await p.page.click('button[data-action="export"]');
  const acts = (await p.posted()).filter((m) => m.type === 'runAction');
  // the host answers Diff configs of three or more runs with the changed-keys table: on the Charts tab
  await p.send({ type: 'configDiff', runIds: ['r1-base', 'r2-lr', 'r4-mb'] });
  await p.settle();
  assert.equal(await p.page.isVisible('#diff'), true, 'the diff table is shown, its tab opened');
  assert.equal((await hook(p).state()).tab, 'charts');
  assert.deepEqual(acts, [
    { type: 'runAction', action: 'stop', runIds: ['r4-mb', 'r3-lr', 'r2-lr', 'r1-base'] },
    { type: 'runAction', action: 'diff', runIds: ['r4-mb', 'r3-lr', 'r2-lr', 'r1-base'] },
    { type: 'runAction', action: 'stopSweep', runIds: ['r4-mb', 'r3-lr', 'r2-lr', 'r1-base'] },
    { type: 'runAction', action: 'delete', runIds: ['r4-mb', 'r1-base'] },
    { type: 'runAction', action: 'editNotes', runIds: ['r3-lr'] },
    { type: 'runAction', action: 'resume', runIds: ['r3-lr'] },
    { type: 'runAction', action: 'export', runIds: ['r3-lr'] },
  ]);
  await p.page.context().close();
});

test('Export CSV: the table as shown (filter, order, visible columns) via exportCsv', async () => {
  const p = await tablePanel();
  await filter(p, 'tag:baseline');
  await p.page.click('th[data-key="training.learningRate"]');
  await p.settle();
  await p.page.click('#tableCsv');
  const msg = (await p.posted()).find((m) => m.type === 'exportCsv');
  assert.match(msg.suggestedName, /^runs-\d{8}-\d{4}\.csv$/);
  const lines = parseCsv(msg.csv);
  const header = lines[0];
  const t = await hook(p).table();
  assert.deepEqual(header, ['id', ...t.columns.map((c: any) => c.key)]);
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.slice(1).map((l) => l[0]),
    ['r3-lr', 'r1-base'],
    'sorted by learning rate',
  );
  assert.ok(
    lines.every((l) => l.length === header.length),
    'every row has every column',
  );
  const row = Object.fromEntries(header.map((h: string, i: number) => [h, lines[1][i]]));
  assert.equal(row['training.learningRate'], '0.0001');
  assert.equal(Number(row['ndcg@10@64']), last64('r3-lr'), 'full precision in the CSV');
  assert.equal(row.started, '2026-11-22T10:00:00.000Z');
  assert.equal(row.tags, 'sweep, baseline');
  assert.match(msg.csv, /,"sweep, baseline",/, 'quoted where CSV needs it');
  assert.equal(msg.csv, await hook(p).csv());
  await p.page.context().close();
});

test('group by sweep, column chooser, live rows (runInfo/runs), advisor setting; screenshot', async () => {
  const p = await tablePanel();
  await p.page.check('#groupBySweep');
  await p.settle();
  let t = await hook(p).table();
  assert.deepEqual(t.groups, [
    { sweepId: 'sw-7', count: 2 },
    { sweepId: null, count: 2 },
  ]);
  assert.deepEqual(
    t.rows.map((r: any) => r.id),
    ['r3-lr', 'r2-lr', 'r4-mb', 'r1-base'],
  );
  assert.match((await p.page.textContent('tr.group-row[data-sweep="sw-7"]')) ?? '', /Sweep sw-7 · 2 runs/);
  // the column chooser: add a param that does not differ, hide a metric column
  await p.page.click('#columnChooserButton');
  await p.page.check('#columnChooser input[data-key="training.batchSize"]');
  await p.page.uncheck('#columnChooser input[data-key="best:ndcg@10@32"]');
  t = await hook(p).table();
  const keys = t.columns.map((c: any) => c.key);
  assert.ok(keys.includes('training.batchSize') && !keys.includes('best:ndcg@10@32'));
  assert.deepEqual((await hook(p).state()).table.columns, { shown: ['training.batchSize'], hidden: ['best:ndcg@10@32'] });
  // live: a runInfo with a new summary updates its row; a `runs` message removes a deleted run
  const r2 = RUNS[1];
  const newer = { ...r2, summary: { ...r2.summary!, last: { ...r2.summary!.last, '64': { ...r2.summary!.last['64'], 'ndcg@10': 0.9 } } } };
  await p.send({ type: 'runInfo', run: newer });
  await p.settle();
  t = await hook(p).table();
  assert.equal(t.rows.find((r: any) => r.id === 'r2-lr').cells['ndcg@10@64'], '0.9');
  // the advisor follows the setting: at 50 % a small dim suffices
  const dim95 = t.rows.find((r: any) => r.id === 'r1-base').cells['advisor:dim'];
  await p.send({ type: 'settings', settings: { advisorPercent: 50 } });
  await p.settle();
  t = await hook(p).table();
  assert.ok(t.columns.some((c: any) => c.label === 'dim for 50 %'));
  assert.ok(Number(t.rows.find((r: any) => r.id === 'r1-base').cells['advisor:dim']) < Number(dim95), 'a lower target, a smaller dim');
  await p.page.click('#columnChooserButton');
  await p.page.click('tr[data-id="r2-lr"] td:nth-child(3)');
  await p.page.screenshot({ path: artifactPath('runs-table-dark.png'), fullPage: true });
  await p.send({ type: 'runs', runs: RUNS.filter((r) => r.id !== 'r4-mb') });
  await p.settle();
  assert.deepEqual((await ids(p)).sort(), ['r1-base', 'r2-lr', 'r3-lr']);
  // the tab survives a reload (persisted UI state)
  await p.page.reload();
  await p.page.waitForFunction(() => (window as any).__mrlPanel !== undefined);
  await p.send({ type: 'init', runs: RUNS, settings: { advisorPercent: 95 } });
  await p.settle();
  assert.equal(await p.page.isVisible('#runsPane'), true);
  assert.equal(await p.page.isChecked('#groupBySweep'), true);
  assert.deepEqual(pageErrors(p), []);
  await p.page.context().close();
  const light = await tablePanel('vscode-light');
  await light.page.screenshot({ path: artifactPath('runs-table-light.png'), fullPage: true });
  await light.page.context().close();
});

test('tabs are keyboard reachable: arrows move between Charts and Runs', async () => {
  const p = await panels.open();
  await p.send({ type: 'init', runs: RUNS, showRuns: [] });
  await p.settle();
  await p.page.focus('#tabCharts');
  await p.page.keyboard.press('ArrowRight');
  assert.equal(await p.page.evaluate(() => document.activeElement?.id), 'tabRuns');
  assert.equal(await p.page.getAttribute('#tabRuns', 'aria-selected'), 'true');
  assert.equal(await p.page.isVisible('#runsTable'), true);
  await p.page.keyboard.press('ArrowLeft');
  assert.equal(await p.page.isVisible('#chartsPane'), true);
  await p.page.context().close();
});

test('500 runs: only the rows and columns in view are drawn; scrolling and End reach the last run', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 900 });
  const runs = manyRuns(500);
  await p.send({ type: 'init', runs, showRuns: [] });
  await p.settle();
  await p.page.click('#tabRuns');
  const drawn = () => p.page.evaluate(() => document.querySelectorAll('#runsTable tbody tr.run-row').length);
  const t = await hook(p).table();
  assert.equal(t.rows.length, 500);
  const n = await drawn();
  assert.ok(n > 20 && n < 120, `a window of rows is drawn, not all 500: ${n}`);
  const cells = await p.page.evaluate(
    () => document.querySelector('#runsTable tbody tr.run-row')!.querySelectorAll('td:not(.blank)').length,
  );
  assert.ok(cells < t.columns.length, `columns far out of view are not drawn: ${cells} of ${t.columns.length}`);
  // scroll to the bottom: the oldest run's row is drawn
  await p.page.evaluate(() => {
    const w = document.querySelector('.runs-table-wrap')!;
    w.scrollTop = w.scrollHeight;
  });
  await p.page.waitForSelector('tr[data-id="run-0000"]');
  // keyboard: Home goes back to the newest run, End to the oldest, focus follows
  await p.page.click('tr[data-id="run-0000"] td:nth-child(3)');
  await p.page.keyboard.press('Home');
  await p.page.waitForFunction(() => (document.activeElement as HTMLElement)?.dataset?.id === 'run-0499');
  await p.page.keyboard.press('End');
  await p.page.waitForFunction(() => (document.activeElement as HTMLElement)?.dataset?.id === 'run-0000');
  // scroll right: the advisor's columns are drawn with values (a selected row, for the screenshot)
  await p.page.click('tr.run-row:nth-child(4) td:nth-child(3)');
  await p.page.evaluate(() => {
    const w = document.querySelector('.runs-table-wrap')!;
    w.scrollLeft = w.scrollWidth;
  });
  await p.page.waitForFunction(() => {
    const keys = [...document.querySelectorAll<HTMLElement>('#runsTable thead th[data-key]')].map((th) => th.dataset.key);
    const i = keys.indexOf('advisor:dim');
    const cell = document.querySelector<HTMLTableRowElement>('#runsTable tbody tr.run-row');
    if (!cell) return false;
    // cells before it: the select cell, a blank spanning the skipped columns, then the drawn ones
    let col = 0;
    for (const td of cell.cells) {
      if (col - 1 === i) return /^\d+$/.test(td.textContent ?? '');
      col += td.colSpan;
    }
    return false;
  });
  // every header in view has its cells drawn (the column window matches the real column positions)
  const undrawn = await p.page.evaluate(() => {
    const wrap = document.querySelector('.runs-table-wrap')!.getBoundingClientRect();
    const ths = [...document.querySelectorAll<HTMLElement>('#runsTable thead th[data-key]')];
    const row = document.querySelector<HTMLTableRowElement>('#runsTable tbody tr.run-row')!;
    const drawnKeys = new Set<string>();
    let col = 0;
    for (const td of row.cells) {
      if (col > 0 && !td.classList.contains('blank')) drawnKeys.add(ths[col - 1].dataset.key!);
      col += td.colSpan;
    }
    return ths
      .filter((th) => {
        const r = th.getBoundingClientRect();
        return r.right > wrap.left && r.left < wrap.right && !drawnKeys.has(th.dataset.key!);
      })
      .map((th) => th.dataset.key);
  });
  assert.deepEqual(undrawn, []);
  await p.page.screenshot({ path: artifactPath('runs-table-500-advisor-dark.png') });
  assert.deepEqual(pageErrors(p), []);
  await p.page.context().close();
});

test('500 runs: a new sort or filter refills the drawn rows in place (no rows rebuilt), with the right runs and cells', async () => {
  const p = await panels.open('vscode-dark', { width: 1280, height: 900 });
  await p.send({ type: 'init', runs: manyRuns(500), showRuns: [] });
  await p.settle();
  await p.page.click('#tabRuns');
  // tag every drawn row element, then sort by another column
  const before = await p.page.evaluate(() => {
    const rows = [...document.querySelectorAll<HTMLElement>('#runsTable tbody tr.run-row')];
    rows.forEach((tr, i) => ((tr as any).__tag = i + 1));
    return rows.map((tr) => tr.dataset.id);
  });
  await p.page.click('#runsTable th[data-key="name"]');
  const dom = () =>
    p.page.evaluate(() =>
      [...document.querySelectorAll<HTMLTableRowElement>('#runsTable tbody tr.run-row')].map((tr) => ({
        id: tr.dataset.id!,
        tagged: !!(tr as any).__tag,
        cells: [...tr.cells]
          .filter((td) => !td.classList.contains('blank') && !td.classList.contains('select-col'))
          .map((td) => td.textContent!.trim()),
      })),
    );
  const check = async (what: string) => {
    const t = await hook(p).table();
    const drawn = await dom();
    assert.ok(drawn.length > 20, `${what}: a window of rows drawn (${drawn.length})`);
    assert.deepEqual(
      drawn.map((r) => r.id),
      t.rows.slice(0, drawn.length).map((r: { id: string }) => r.id),
      `${what}: the rows drawn are the first rows in order`,
    );
    for (const [i, r] of drawn.entries()) {
      const want = t.columns.slice(0, r.cells.length).map((c: { key: string }) => String(t.rows[i].cells[c.key]).trim());
      assert.deepEqual(r.cells, want, `${what}: row ${r.id} shows its own cells`);
    }
    return drawn;
  };
  const sorted = await check('sorted by name');
  assert.notDeepEqual(
    sorted.map((r) => r.id),
    before,
    'the order changed',
  );
  assert.ok(
    sorted.every((r) => r.tagged),
    'the same row elements, refilled',
  );
  const columnsBefore = (await hook(p).table()).columns.map((c: { key: string }) => c.key);
  await filter(p, 'status:completed');
  const filtered = await check('filtered');
  assert.ok((await hook(p).table()).rows.length < 500);
  // This filter keeps the columns (rows are rebuilt only when the columns drawn change): every row refilled.
  assert.deepEqual(
    (await hook(p).table()).columns.map((c: { key: string }) => c.key),
    columnsBefore,
    'the same columns after the filter',
  );
  assert.ok(
    filtered.every((r) => r.tagged),
    'the same row elements, refilled',
  );
  assert.deepEqual(pageErrors(p), []);
  await p.page.context().close();
});

// CSV export (webview/charts/exportCsv.ts) in Node: full-resolution rows, CSV quoting, and neutralised formula cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsv, csvCell, csvFileName, CSV_HEADER, safeName } from '../../webview/charts/exportCsv';
import { MetricsStore } from '../../webview/app/store';

/** A minimal RFC 4180 reader: enough to check that what we write parses back to the intended cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

test('csvCell: text that a spreadsheet would run as a formula gets a leading quote', () => {
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(csvCell('+1+1'), "'+1+1");
  assert.equal(csvCell('-2+3'), "'-2+3");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('\t=1'), "'\t=1");
  assert.equal(csvCell('\r=1'), `"'\r=1"`); // CR forces quoting too
  // ordinary text is left alone; the characters are only dangerous first
  assert.equal(csvCell('mnrl-baseline'), 'mnrl-baseline');
  assert.equal(csvCell('ndcg@10'), 'ndcg@10');
  assert.equal(csvCell('a=b'), 'a=b');
  assert.equal(csvCell(''), '');
});

test('csvCell: numbers stay numbers, negative ones included; text that looks negative is still text', () => {
  assert.equal(csvCell(-0.5), '-0.5');
  assert.equal(csvCell(-3), '-3');
  assert.equal(csvCell(1e-7), '1e-7');
  assert.equal(csvCell(42), '42');
  assert.equal(csvCell('-0.5'), "'-0.5"); // a run name, not a value
});

test('csvCell: commas, quotes and newlines are quoted as CSV requires', () => {
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('plain'), 'plain');
});

test('buildCsv: every point at full resolution, long format, smoothed column, hostile names neutralised', () => {
  const store = new MetricsStore();
  const line = (step: number, v: number) => ({
    step,
    epoch: 0,
    time: step / 2,
    wallTime: 1_700_000_000_000 + step,
    split: 'train' as const,
    values: { '=cmd|calc': v },
    byDim: { '64': { loss: -v } },
  });
  store.ingest('=run', [line(1, 0.5), line(2, NaN), line(3, 0.25)]);
  const total = store.series('=run', 'train', '=cmd|calc', null)!;
  const dim = store.series('=run', 'train', 'loss', 64)!;
  const names: Record<string, string> = { '=run': '+evil, "quoted" name' };
  const csv = buildCsv(
    [
      { runId: '=run', series: total },
      { runId: '=run', series: dim },
    ],
    0,
    (id) => names[id],
  );
  assert.ok(csv.endsWith('\n'));
  const rows = parseCsv(csv);
  assert.equal(rows[0].join(','), CSV_HEADER);
  assert.equal(rows.length, 1 + 3 + 3);
  // every text cell a spreadsheet could evaluate starts with the quote
  assert.deepEqual(rows[1].slice(0, 5), ["'=run", `'+evil, "quoted" name`, 'train', "'=cmd|calc", '']);
  assert.deepEqual(rows[1].slice(5), ['1', '0.5', '1700000000001', '0.5', '0.5', '0']);
  // a missing value (NaN: a gap) is an empty cell, not "NaN"
  assert.deepEqual(rows[2].slice(8), ['', '', '0']);
  // values are plain numbers, negative ones too (dim 64 holds -v)
  assert.deepEqual(rows[4].slice(4), ['64', '1', '0.5', '1700000000001', '-0.5', '-0.5', '0']);
  assert.equal(rows[6][8], '-0.25');
  for (const r of rows.slice(1)) assert.equal(r.length, 11);
});

test('buildCsv: smoothing fills the smoothed column of train curves and says so; unknown runs are named by their id', () => {
  const store = new MetricsStore();
  store.ingest(
    'r1',
    [1, 2, 3, 4].map((step) => ({ step, epoch: 0, time: step, split: 'train' as const, values: { acc: step % 2 } })),
  );
  const s = store.series('r1', 'train', 'acc', null)!;
  const rows = parseCsv(buildCsv([{ runId: 'r1', series: s }], 0.9, () => undefined));
  assert.equal(rows.length, 5);
  assert.equal(rows[1][1], 'r1');
  // The debiased EMA with weight 0.9 over 1, 0, 1, 0 (evenly spaced steps), worked by hand:
  // 0.1·1 / 0.1 = 1;  0.09 / 0.19 = 9/19;  (0.081 + 0.1) / (0.171 + 0.1) = 181/271;  0.1629 / 0.3439 = 9/19.
  const expected = [1, 9 / 19, 181 / 271, 9 / 19];
  rows
    .slice(1)
    .forEach((r, i) => assert.ok(Math.abs(Number(r[9]) - expected[i]) < 1e-12, `row ${i + 1}: smoothed ${r[9]}, expected ${expected[i]}`));
  assert.notEqual(rows[2][9], rows[2][8]);
  assert.ok(rows.slice(1).every((r) => r[10] === '0.9'));
});

test('buildCsv: eval curves are exported raw (as drawn) whatever the slider, and the smoothing column says 0', () => {
  const store = new MetricsStore();
  store.ingest(
    'r1',
    [100, 200, 300].map((step, i) => ({
      step,
      epoch: 0,
      time: step,
      split: 'eval' as const,
      values: {},
      byDim: { '64': { 'ndcg@10': [0.1, 0.2, 0.27][i] } },
    })),
  );
  const s = store.series('r1', 'eval', 'ndcg@10', 64)!;
  const rows = parseCsv(buildCsv([{ runId: 'r1', series: s }], 0.6, () => 'run'));
  assert.deepEqual(
    rows.slice(1).map((r) => [r[8], r[9], r[10]]),
    [
      ['0.1', '0.1', '0'],
      ['0.2', '0.2', '0'],
      ['0.27', '0.27', '0'],
    ],
  );
});

test('file names: chart ids become safe file names', () => {
  assert.equal(csvFileName('m:eval/ndcg@10'), 'eval_ndcg@10.csv');
  assert.equal(csvFileName('d:64'), '64.csv');
  assert.equal(safeName('../../etc/passwd'), '.._.._etc_passwd');
  assert.equal(safeName('///'), 'chart');
});

// The panel's pure pieces, in Node: protocol guards, the metrics store (resume, best, smoothing), LTTB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHostToWebviewMessage, isWebviewToHostMessage } from '../../src/protocol/panelMessages';
import { isMetricsLine, parseMetricsJsonl } from '../../src/protocol/runFolder';
import { toPanelRun } from '../../src/host/panel/panelRun';
import { renderPanelHtml, panelCsp, createNonce } from '../../src/host/panel/html';
import { MetricsStore } from '../../webview/app/store';
import { lttb, visibleRange } from '../../webview/charts/lttb';
import { dimColor } from '../../webview/charts/colors';
import { genMetrics } from './fixtures/metrics';

test('guards accept every host message shape and reject malformed ones', () => {
  const run = { id: 'a', name: 'A', status: 'running' };
  const ok = [
    { type: 'init', runs: [run] },
    { type: 'init', runs: [], showRuns: ['a'], configDiff: ['a', 'b'] },
    { type: 'runs', runs: [{ ...run, status: 'failed', error: 'NaN loss', config: { seed: 1 } }] },
    { type: 'metrics', runId: 'a', lines: genMetrics({ steps: 3, evalEvery: 2 }), reset: true },
    {
      type: 'metrics',
      runId: 'a',
      lines: [
        { type: 'resume', fromStep: 2 },
        { step: 3, epoch: 0, time: 1, split: 'train', values: { loss: null }, extra: 'x' },
      ],
    },
    { type: 'runInfo', run: { ...run, step: 4, totalSteps: 10, endedAt: null } },
    { type: 'showRuns', runIds: ['a'], compare: true },
    { type: 'configDiff', runIds: ['a', 'b'], configs: { a: { x: 1 }, b: null } },
  ];
  for (const m of ok) assert.equal(isHostToWebviewMessage(m), true, JSON.stringify(m).slice(0, 80));
  const bad: unknown[] = [
    null,
    42,
    'init',
    [],
    {},
    { type: 'nope' },
    { type: 'init' },
    { type: 'init', runs: [{ id: 'a', name: 'A', status: 'exploded' }] },
    { type: 'metrics', runId: 'a' },
    { type: 'metrics', runId: 7, lines: [] },
    { type: 'metrics', runId: 'a', lines: [{ step: '1', time: 0, split: 'train', values: {} }] },
    { type: 'metrics', runId: 'a', lines: [{ step: 1, time: 0, split: 'test', values: {} }] },
    { type: 'metrics', runId: 'a', lines: [{ step: 1, time: 0, split: 'eval', byDim: { 64: { ndcg: 'high' } } }] },
    { type: 'metrics', runId: 'a', lines: [{ type: 'resume' }] },
    { type: 'runInfo', run: { id: 'a' } },
    { type: 'showRuns', runIds: 'a' },
    { type: 'configDiff', runIds: ['a'], configs: { a: 3 } },
  ];
  for (const m of bad) assert.equal(isHostToWebviewMessage(m), false, JSON.stringify(m));
  assert.equal(isMetricsLine({ type: 'resume', fromStep: 5 }), true);
});

test('guards for webview → host messages', () => {
  assert.equal(isWebviewToHostMessage({ type: 'ready' }), true);
  assert.equal(isWebviewToHostMessage({ type: 'ready', state: { version: 1, shownRunIds: ['a'], smoothing: 0.5 } }), true);
  assert.equal(isWebviewToHostMessage({ type: 'ready', state: { shownRunIds: ['a'] } }), false);
  assert.equal(isWebviewToHostMessage({ type: 'requestRun', runId: 'a' }), true);
  assert.equal(isWebviewToHostMessage({ type: 'exportCsv', suggestedName: 'x.csv', csv: 'a,b\n' }), true);
  assert.equal(isWebviewToHostMessage({ type: 'exportPng', suggestedName: 'x.png', dataUrl: 'data:image/png;base64,AAAA' }), true);
  assert.equal(isWebviewToHostMessage({ type: 'exportPng', suggestedName: 'x.png', dataUrl: 'javascript:alert(1)' }), false);
  assert.equal(isWebviewToHostMessage({ type: 'openConfigDiff', runIds: ['a', 'b'] }), true);
  assert.equal(isWebviewToHostMessage({ type: 'openConfigDiff', runIds: ['a'] }), false);
  assert.equal(isWebviewToHostMessage({ type: 'log', level: 'debug', message: 'x' }), false);
  const pr = toPanelRun(
    { id: 'r', name: 'n', status: 'failed', pid: null, startedAt: 't', endedAt: 'u', backend: 'wasm', error: 'boom', step: 3 },
    { seed: 1 },
  );
  assert.deepEqual(pr, {
    id: 'r',
    name: 'n',
    status: 'failed',
    error: 'boom',
    startedAt: 't',
    endedAt: 'u',
    step: 3,
    backend: 'wasm',
    config: { seed: 1 },
  });
});

test('panel HTML: strict CSP with nonce, no inline/eval, escaped attributes', () => {
  const nonce = createNonce();
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  assert.notEqual(createNonce(), nonce);
  const html = renderPanelHtml({
    cspSource: 'https://x.vscode-cdn.net',
    nonce,
    scriptUri: 'https://x/dist/webview.js',
    styleUri: 'https://x/media/panel.css?a=1&b="2"',
  });
  const csp = panelCsp('https://x.vscode-cdn.net', nonce);
  assert.ok(html.includes(csp.replace(/'/g, "'")));
  assert.match(csp, /^default-src 'none'/);
  assert.ok(!/unsafe-(inline|eval)/.test(csp));
  assert.ok(csp.includes(`script-src 'nonce-${nonce}'`));
  assert.ok(html.includes(`<script nonce="${nonce}" src="https://x/dist/webview.js">`));
  assert.ok(html.includes('a=1&amp;b=&quot;2&quot;'));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(!/ style=/.test(html));
});

test('store: per-dim series, resume drops later points, best tracked, dims are byDim keys', () => {
  const s = new MetricsStore();
  s.ingest('r', genMetrics({ steps: 100, evalEvery: 50 }));
  assert.deepEqual(
    [...s.dims].sort((a, b) => a - b),
    [32, 64, 128, 256],
  );
  assert.deepEqual([...s.metrics.keys()].sort().slice(0, 3), ['eval/loss', 'eval/map@100', 'eval/mrr@10']);
  const loss64 = s.series('r', 'train', 'loss', 64)!;
  assert.equal(loss64.n, 100);
  assert.equal(s.series('r', 'train', 'loss', null)!.n, 100);
  const nd = s.series('r', 'eval', 'ndcg@10', 256)!;
  assert.equal(nd.best, 1); // rising curve: best at the last eval
  // resume from 60: drop steps 61..100 (and eval at 100), then the resumed run rewrites them
  const res = s.ingest('r', [{ type: 'resume', fromStep: 60 }, ...genMetrics({ steps: 70, fromStep: 61, evalEvery: 0, seed: 9 })]);
  assert.ok(res.structural);
  assert.equal(loss64.n, 70);
  assert.equal(loss64.step[59], 60);
  assert.equal(loss64.step[60], 61);
  assert.equal(nd.n, 1);
  assert.equal(nd.best, 0);
  assert.deepEqual(s.runs.get('r')!.evalSteps, [50]);
  // a reset replay starts over
  s.ingest('r', genMetrics({ steps: 10 }), true);
  assert.equal(s.series('r', 'train', 'loss', 64)!.n, 10);
  assert.equal(s.series('r', 'eval', 'ndcg@10', 64), undefined);
});

test('store: time-weighted EMA is debiased, incremental, and decays more over gaps', () => {
  const s = new MetricsStore();
  const line = (step: number, v: number) => ({ step, epoch: 0, time: step, split: 'train' as const, values: { loss: v } });
  s.ingest('r', [line(1, 1), line(2, 1), line(3, 1)]);
  const ser = s.series('r', 'train', 'loss', null)!;
  const sm = ser.smoothed(0.9);
  assert.deepEqual([...sm.slice(0, 3)], [1, 1, 1]); // debiased: a constant stays constant from the first point
  s.ingest('r', [line(4, 0)]);
  const inc = ser.smoothed(0.9)[3];
  // same as a from-scratch computation
  const fresh = new MetricsStore();
  fresh.ingest('r', [line(1, 1), line(2, 1), line(3, 1), line(4, 0)]);
  assert.equal(fresh.series('r', 'train', 'loss', null)!.smoothed(0.9)[3], inc);
  assert.ok(inc > 0.6 && inc < 0.8, String(inc));
  // a 10-step gap forgets more of the history than a 1-step one
  const gap = new MetricsStore();
  gap.ingest('r', [line(1, 1), line(2, 1), line(3, 1), line(13, 0)]);
  assert.ok(gap.series('r', 'train', 'loss', null)!.smoothed(0.9)[3] < inc);
});

test('lttb keeps endpoints and extremes, visibleRange brackets the window', () => {
  const n = 10000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = i;
    ys[i] = Math.sin(i / 50);
  }
  ys[5000] = 10; // a spike must survive decimation
  const out = lttb(xs, ys, 0, n, 500);
  assert.ok(out.length <= 500 && out.length > 400);
  assert.equal(out[0].x, 0);
  assert.equal(out[out.length - 1].x, n - 1);
  assert.ok(out.some((p) => p.y === 10));
  for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x);
  assert.deepEqual(visibleRange(xs, n, 100.5, 200.5), [100, 202]);
  assert.deepEqual(visibleRange(xs, n, -Infinity, Infinity), [0, n]);
  const few = lttb(xs, ys, 10, 20, 500);
  assert.equal(few.length, 10);
});

test('dim colours run along a sequential scale, full width strongest in each theme', () => {
  const dims = [32, 64, 128, 256];
  const lum = (hex: string) => {
    const v = parseInt(hex.slice(1), 16);
    return 0.2126 * ((v >> 16) & 255) + 0.7152 * ((v >> 8) & 255) + 0.0722 * (v & 255);
  };
  const light = dims.map((d) => lum(dimColor(d, dims, 'light')));
  const dark = dims.map((d) => lum(dimColor(d, dims, 'dark')));
  for (let i = 1; i < dims.length; i++) {
    assert.ok(light[i] < light[i - 1], 'light theme: bigger dim darker');
    assert.ok(dark[i] > dark[i - 1], 'dark theme: bigger dim brighter');
  }
});

test('parseMetricsJsonl: valid lines in order, blank lines ignored, torn/invalid lines counted', () => {
  const good = genMetrics({ steps: 3 });
  const text = [
    JSON.stringify(good[0]),
    '',
    JSON.stringify({ type: 'resume', fromStep: 1 }),
    '{"step": 2, "split": "bogus", "time": 0}',
    JSON.stringify(good[1]),
    '{"step": 3, "ti',
  ].join('\n');
  const r = parseMetricsJsonl(text);
  assert.equal(r.invalid, 2);
  assert.deepEqual(r.lines, [good[0], { type: 'resume', fromStep: 1 }, good[1]]);
  assert.equal(isHostToWebviewMessage({ type: 'metrics', runId: 'a', lines: [], jsonl: text }), true);
  assert.equal(isHostToWebviewMessage({ type: 'metrics', runId: 'a', lines: [], jsonl: 5 }), false);
});

test('store: a clock restarted by a resumed trainer keeps relative time monotonic', () => {
  const s = new MetricsStore();
  const line = (step: number, time: number) => ({ step, epoch: 0, time, split: 'train' as const, values: { loss: 1 } });
  s.ingest('r', [line(1, 10), line(2, 20), line(3, 30), { type: 'resume', fromStep: 2 }, line(3, 0.5), line(4, 1.5)]);
  const ser = s.series('r', 'train', 'loss', null)!;
  assert.deepEqual([...ser.step.slice(0, ser.n)], [1, 2, 3, 4]);
  const t = [...ser.time.slice(0, ser.n)];
  for (let i = 1; i < t.length; i++) assert.ok(t[i] >= t[i - 1], `time runs backwards: ${t}`);
  assert.deepEqual(t, [10, 20, 20, 21]); // resumed at step 2 (t=20): its clock restarts at 0.5 → shifted
});

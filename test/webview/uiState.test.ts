// Persisted UI state (webview/app/uiState.ts) and the DOM skeleton's ids (webview/app/template.ts), in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultState, loadState } from '../../webview/app/uiState';
import { ELEMENT_IDS, PANEL_HTML } from '../../webview/app/template';

test('loadState: defaults for no or foreign state; each field of the wrong type falls back alone', () => {
  assert.deepEqual(loadState(undefined), defaultState());
  assert.deepEqual(loadState({ shownRunIds: ['a'] }), defaultState(), 'no version: not our state');
  const s = loadState({
    version: 1,
    shownRunIds: ['a', 'b'],
    hiddenDims: [64, 'x'],
    viewMode: 'dim',
    smoothing: 1.5,
    logY: true,
    xAxis: 'wall',
    mrlMetric: 'eval/mrr@10',
    mrlStep: 'latest',
    diffOnly: false,
    diffRunIds: ['a', 'b'],
  });
  assert.deepEqual(s, {
    ...defaultState(),
    shownRunIds: ['a', 'b'],
    viewMode: 'dim',
    logY: true,
    xAxis: 'wall',
    mrlMetric: 'eval/mrr@10',
    diffOnly: false,
    diffRunIds: ['a', 'b'],
  });
  assert.equal(loadState({ version: 1, shownRunIds: [], smoothing: 0.25 }).smoothing, 0.25);
  assert.equal(loadState({ version: 1, shownRunIds: [], xAxis: 'epoch' }).xAxis, 'step');
});

test('loadState: the overlay’s dim and the run colour slots; a wrong value falls back alone', () => {
  const s = loadState({ version: 1, shownRunIds: ['a'], overlayDim: 64, runColors: { a: 0, b: 3 } });
  assert.equal(s.overlayDim, 64);
  assert.deepEqual(s.runColors, { a: 0, b: 3 });
  const bad = loadState({ version: 1, shownRunIds: [], overlayDim: 'max', runColors: { a: -1 } });
  assert.equal(bad.overlayDim, null);
  assert.deepEqual(bad.runColors, {});
  assert.deepEqual(loadState({ version: 1, shownRunIds: [], overlayDim: 1.5, runColors: [0, 1] }).runColors, {});
  assert.equal(loadState({ version: 1, shownRunIds: [], overlayDim: 1.5 }).overlayDim, null);
});

test('loadState copies: changing the loaded state leaves the stored one alone', () => {
  const raw = { version: 1, shownRunIds: ['a'] };
  const s = loadState(raw);
  s.shownRunIds.push('b');
  assert.deepEqual(raw.shownRunIds, ['a']);
});

test('template: every element the panel addresses is in the markup, once', () => {
  for (const id of Object.values(ELEMENT_IDS)) {
    assert.equal(PANEL_HTML.split(`id="${id}"`).length - 1, 1, id);
  }
  assert.ok(!/\son\w+=/.test(PANEL_HTML), 'no inline handlers (the CSP forbids them)');
  assert.ok(!/ style=/.test(PANEL_HTML), 'no inline styles (the CSP forbids them)');
  assert.ok(!PANEL_HTML.includes('vscode-button'), 'plain buttons: vscode-button is not loaded');
});

/**
 * Metrics panel webview entry (bundled by esbuild as an iife for the browser; no Node, no vscode import).
 * Speaks only src/protocol/panelMessages.ts. The host owns the data (no retainContextWhenHidden): on load we
 * send `ready` with our persisted state and the host replays the runs. Incoming points are stored at once
 * and drawn once per animation frame, only in the charts they touch.
 *
 * This file only wires the parts together: the model and its reducer (model.ts, reducer.ts), what the
 * charts show (chartSpecs.ts, mrlData.ts, diffTable.ts), the DOM (template.ts, chips.ts, chartGrid.ts,
 * mrlView.ts), exports (exportCsv.ts, exportPng.ts), the frame scheduler and the theme.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { ConfigDiffRow } from '../src/config/diff';
import { isHostToWebviewMessage, isPanelState } from '../src/protocol/panelMessages';
import { connectHost } from './app/bridge';
import { ChartGrid } from './charts/chartGrid';
import type { PanelTheme } from './charts/chartSetup';
import { buildSpecs } from './charts/chartSpecs';
import { renderDims, renderRuns } from './charts/chips';
import { installDebugHook } from './debugHook';
import { diffRunIds, diffTableModel, renderDiffTable } from './diff/diffTable';
import { buildCsv, csvFileName } from './charts/exportCsv';
import { pngMessage } from './charts/exportPng';
import { awaitingReplays, createModel, runById, shownRuns } from './app/model';
import { currentMrlMetric, mrlStepAtSlider } from './mrl/mrlData';
import { MrlView } from './mrl/mrlView';
import { plotRuns, reduce, toggleDim, toggleRun, type Effects } from './app/reducer';
import { RunsTableView } from './runsTable/view';
import { browserFrameEnv, FrameScheduler, type Dirty, type DirtyRequest } from './app/scheduler';
import { mountPanel, selectOption } from './app/template';
import { trackTheme } from './app/theme';
import type { TimeChart } from './charts/timeChart';
import { loadState, type PanelTab } from './app/uiState';

// ---------------------------------------------------------------- host bridge, state, model

const host = connectHost();
const restored = host.getState();
const model = createModel(loadState(restored), isPanelState(restored));
const { state, store } = model;
const counters = { received: 0, rejected: 0 };

// ---------------------------------------------------------------- DOM

const el = mountPanel();
const grid = new ChartGrid(
  el.charts,
  {
    onLegendClick,
    onExportPng: (ch) => {
      ch.flush();
      exportPng(ch.chart.canvas, ch.id);
    },
    onExportCsv: (ch) => host.post({ type: 'exportCsv', suggestedName: csvFileName(ch.id), csv: chartCsv(ch) }),
  },
  // a chart with changes scrolled near the viewport: draw it in the next frame (draw() → drawPending)
  () => sched.schedule({}),
);
const mrl = new MrlView({ section: el.mrl, metric: el.mrlMetric, step: el.mrlStep, stepValue: el.mrlStepValue, canvas: el.mrlCanvas });
let lastDiffRows: ConfigDiffRow[] = [];

const sched = new FrameScheduler(
  draw,
  (err) => host.log('error', `draw failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`),
  browserFrameEnv(),
  () => awaitingReplays(model),
);
const fx: Effects = {
  save: () => host.setState(state),
  post: (msg) => host.post(msg),
  log: (level, message) => host.log(level, message),
  schedule: (d) => sched.schedule(d),
  revealDiff: () => {
    // The diff card is on the Charts tab (the runs table's Diff configs of three or more runs lands here).
    showTab('charts');
    requestAnimationFrame(() => el.diff.scrollIntoView({ block: 'nearest' }));
  },
};
let theme: PanelTheme = trackTheme((next) => {
  theme = next;
  mrl.setTheme(theme);
  sched.schedule({ view: true, structural: true });
});

function syncControls(): void {
  selectOption(el.viewMode, state.viewMode);
  selectOption(el.xAxis, state.xAxis);
  el.smoothing.value = String(state.smoothing);
  el.smoothingValue.value = state.smoothing.toFixed(2);
  el.logY.checked = state.logY;
  el.diffOnly.checked = state.diffOnly;
}
syncControls();

/** A control changed the state: persist it and redraw what it affects. */
function changed(d: DirtyRequest): void {
  fx.save();
  sched.schedule(d);
}

el.viewMode.addEventListener('change', () => {
  const v = el.viewMode.value;
  if (v !== 'metric' && v !== 'dim') return;
  state.viewMode = v;
  changed({ structural: true });
});
el.xAxis.addEventListener('change', () => {
  const v = el.xAxis.value;
  if (v !== 'step' && v !== 'relative' && v !== 'wall') return;
  state.xAxis = v;
  changed({ view: true });
});
el.smoothing.addEventListener('input', () => {
  state.smoothing = Math.min(0.99, Math.max(0, Number(el.smoothing.value) || 0));
  el.smoothingValue.value = state.smoothing.toFixed(2);
  changed({ view: true });
});
el.logY.addEventListener('change', () => {
  state.logY = !!el.logY.checked;
  changed({ view: true });
});
el.diffOnly.addEventListener('change', () => {
  state.diffOnly = !!el.diffOnly.checked;
  changed({ diff: true });
});
el.mrlMetric.addEventListener('change', () => {
  if (!el.mrlMetric.value || el.mrlMetric.value === state.mrlMetric) return;
  state.mrlMetric = el.mrlMetric.value;
  changed({ mrl: true });
});
el.mrlStep.addEventListener('input', () => {
  state.mrlStep = mrlStepAtSlider(mrl.steps(model), Number(el.mrlStep.value));
  changed({ mrl: true });
});
el.mrlLatest.addEventListener('click', () => {
  state.mrlStep = null;
  changed({ mrl: true });
});
el.mrlPng.addEventListener('click', () => {
  if (mrl.chart) exportPng(mrl.chart.chart.canvas, 'mrl-curve');
});
el.openDiff.addEventListener('click', () => {
  const ids = diffRunIds(model);
  if (ids.length === 2) host.post({ type: 'openConfigDiff', runIds: [ids[0], ids[1]] });
});

// ---------------------------------------------------------------- tabs and the runs table

const table = new RunsTableView(el.runsPane, state.table, {
  save: () => fx.save(),
  action: (action, runIds) => {
    if (action === 'plot') {
      plotRuns(model, runIds, fx);
      showTab('charts');
    } else host.post({ type: 'runAction', action, runIds });
  },
  exportCsv: (suggestedName, csv) => host.post({ type: 'exportCsv', suggestedName, csv }),
});
/** The table is drawn only while its tab is open; changes meanwhile draw it when it opens. */
let tableStale = true;

function showTab(tab: PanelTab, focus = false): void {
  const changedTab = state.tab !== tab;
  state.tab = tab;
  const runs = tab === 'runs';
  el.chartsPane.hidden = runs;
  el.runsPane.hidden = !runs;
  for (const [b, on] of [[el.tabCharts, !runs], [el.tabRuns, runs]] as const) {
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  }
  if (focus) (runs ? el.tabRuns : el.tabCharts).focus();
  if (changedTab) fx.save();
  if (runs && tableStale) {
    tableStale = false;
    table.update(model.runs, model.settings);
  }
  // Charts hidden meanwhile were laid out at zero size: redraw them at their size.
  if (!runs && changedTab) sched.schedule({ view: true, structural: true });
}
el.tabCharts.addEventListener('click', () => showTab('charts'));
el.tabRuns.addEventListener('click', () => showTab('runs'));
for (const b of [el.tabCharts, el.tabRuns]) {
  b.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      showTab(state.tab === 'runs' ? 'charts' : 'runs', true);
    }
  });
}
showTab(state.tab);

function onLegendClick(key: string): void {
  if (key.startsWith('dim:')) toggleDim(model, Number(key.slice(4)), fx);
  else if (key.startsWith('run:')) toggleRun(model, key.slice(4), fx);
}

// ---------------------------------------------------------------- drawing (once per frame)

function draw(d: Dirty): void {
  if (d.runs) renderRuns(el.runs, el.banners, model, (id) => toggleRun(model, id, fx));
  if (d.structural || d.view) {
    renderDims(el.dims, model, theme, (dim) => toggleDim(model, dim, fx));
    grid.reconcile(buildSpecs(model, theme), { smoothing: state.smoothing, logY: state.logY, xAxis: state.xAxis, theme }, d.view);
    d.mrl = true;
  } else if (d.metrics.size) {
    grid.refreshTouched(d.metrics);
    const mm = currentMrlMetric(store, state);
    if (mm === null || d.metrics.has(mm) || [...d.metrics].some((m) => m.includes('funnel:'))) d.mrlData = true;
  }
  grid.drawPending();
  if (d.mrl || (d.mrlData && sched.mrlLiveDue())) {
    sched.noteMrlDrawn();
    mrl.render(model, theme);
  }
  if (d.diff || d.runs) renderDiff();
  if (d.runs) {
    tableStale = true;
    if (state.tab === 'runs') {
      tableStale = false;
      table.update(model.runs, model.settings);
    }
  }
  renderEmpty();
}

function renderDiff(): void {
  const table = diffTableModel(model);
  el.diff.hidden = !table;
  el.openDiff.hidden = table?.columns.length !== 2;
  lastDiffRows = table?.rows ?? [];
  if (table) renderDiffTable(el.diffTable, table);
}

function renderEmpty(): void {
  const shown = shownRuns(model);
  let msg = '';
  if (model.runs.length === 0) msg = 'No runs yet. Start one with “Matryoshka Lab: Start Run”, or from a terminal with npm run train.';
  else if (shown.length === 0) msg = 'Pick one or more runs above to plot them.';
  else if (shown.every((r) => !store.runs.get(r.id)?.loaded)) msg = 'Loading metrics…';
  else if (grid.size === 0) msg = 'No metrics logged yet. Points appear here as the trainer writes them.';
  el.empty.hidden = !msg;
  el.empty.textContent = msg;
}

// ---------------------------------------------------------------- export

function exportPng(canvas: HTMLCanvasElement, name: string): void {
  host.post(pngMessage(canvas, name, theme.bg));
}

function chartCsv(chart: TimeChart): string {
  return buildCsv(chart.getCurves(), state.smoothing, (id) => runById(model.runs, id)?.name);
}

// ---------------------------------------------------------------- messages

window.addEventListener('message', (e: MessageEvent) => {
  counters.received++;
  const data: unknown = e.data;
  if (!isHostToWebviewMessage(data)) {
    counters.rejected++;
    const t = typeof data === 'object' && data !== null ? String((data as { type?: unknown }).type) : typeof data;
    host.log('warn', `ignored a malformed message (type: ${t})`);
    return;
  }
  try {
    if (data.type === 'metrics') sched.markPending();
    reduce(model, data, fx);
  } catch (err) {
    host.log('error', `message ${data.type} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
});

// ---------------------------------------------------------------- read-only debug hook (tests, bench), go

installDebugHook({
  state,
  runs: () => model.runs,
  theme: () => theme,
  counters,
  scheduler: sched,
  grid,
  mrl,
  mrlMetric: () => currentMrlMetric(store, state),
  mrlSteps: () => mrl.steps(model),
  diffRows: () => lastDiffRows,
  csv: chartCsv,
  table,
  settings: () => model.settings,
});

sched.schedule({ structural: true, runs: true, diff: true });
host.post({ type: 'ready', state: model.hadState ? state : null });

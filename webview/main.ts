/**
 * Metrics panel webview entry (bundled by esbuild as an iife for the browser; no Node, no vscode import).
 * Speaks only src/protocol/panelMessages.ts. The host owns the data (no retainContextWhenHidden): on load we
 * send `ready` with our persisted state and the host replays the runs. Incoming points are stored at once
 * and drawn once per animation frame, only in the charts they touch.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import {
  isHostToWebviewMessage,
  isPanelState,
  parseMetricsJsonl,
  type HostToWebviewMessage,
  type PanelRun,
  type PanelState,
  type WebviewToHostMessage,
} from '../src/protocol/panelMessages';
import { diffConfigs, formatConfigValue, type ConfigDiffRow } from '../src/config/diff';
import { applyChartDefaults, readTheme, type PanelTheme } from './chartSetup';
import { dimColor, metricColor, RUN_DASHES, RUN_MARKERS } from './colors';
import { MetricsStore, metricId } from './store';
import { TimeChart, xColumn, type Curve, type LegendEntry, type XAxisMode } from './timeChart';
import { MrlChart, hexOf } from './mrlChart';

// ---------------------------------------------------------------- host bridge

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode: VsCodeApi =
  typeof acquireVsCodeApi === 'function'
    ? acquireVsCodeApi()
    : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };

function post(msg: WebviewToHostMessage): void {
  vscode.postMessage(msg);
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  if (level === 'error') console.error(`[mrl-panel] ${message}`);
  else if (level === 'warn') console.warn(`[mrl-panel] ${message}`);
  post({ type: 'log', level, message });
}

// ---------------------------------------------------------------- UI state (persisted)

interface UiState extends PanelState {
  hiddenDims: number[];
  viewMode: 'metric' | 'dim';
  smoothing: number;
  logY: boolean;
  xAxis: XAxisMode;
  /** MRL chart metric id (`eval/ndcg@10`); null = pick a sensible default. */
  mrlMetric: string | null;
  /** MRL chart step; null = follow the latest step. */
  mrlStep: number | null;
  diffOnly: boolean;
  diffRunIds: string[] | null;
}

function defaultState(): UiState {
  return {
    version: 1,
    shownRunIds: [],
    hiddenDims: [],
    viewMode: 'metric',
    smoothing: 0.6,
    logY: false,
    xAxis: 'step',
    mrlMetric: null,
    mrlStep: null,
    diffOnly: true,
    diffRunIds: null,
  };
}

/** Restore what we can from a persisted state; a field of the wrong type falls back to its default. */
function loadState(raw: unknown): UiState {
  const s = defaultState();
  if (!isPanelState(raw)) return s;
  const r = raw as Record<string, unknown>;
  s.shownRunIds = [...raw.shownRunIds];
  if (Array.isArray(r.hiddenDims) && r.hiddenDims.every((d) => typeof d === 'number')) s.hiddenDims = r.hiddenDims as number[];
  if (r.viewMode === 'metric' || r.viewMode === 'dim') s.viewMode = r.viewMode;
  if (typeof r.smoothing === 'number' && r.smoothing >= 0 && r.smoothing < 1) s.smoothing = r.smoothing;
  if (typeof r.logY === 'boolean') s.logY = r.logY;
  if (r.xAxis === 'step' || r.xAxis === 'relative' || r.xAxis === 'wall') s.xAxis = r.xAxis;
  if (typeof r.mrlMetric === 'string') s.mrlMetric = r.mrlMetric;
  if (typeof r.mrlStep === 'number') s.mrlStep = r.mrlStep;
  if (typeof r.diffOnly === 'boolean') s.diffOnly = r.diffOnly;
  if (Array.isArray(r.diffRunIds) && r.diffRunIds.every((x) => typeof x === 'string')) s.diffRunIds = r.diffRunIds as string[];
  return s;
}

const restored = vscode.getState();
const state: UiState = loadState(restored);
/** Whether this load restored a state (a reload): then, without a host choice, we keep our own picks. */
const hadState = isPanelState(restored);

function saveState(): void {
  vscode.setState(state);
}

// ---------------------------------------------------------------- model

const store = new MetricsStore();
let runs: PanelRun[] = [];
const requested = new Set<string>();
let theme: PanelTheme = readTheme();
applyChartDefaults(theme);
const stats = { received: 0, rejected: 0, frames: 0, lastMessageToDrawnMs: NaN, lastFlushMs: NaN };

const METRIC_ORDER = ['loss', 'ndcg@10', 'mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100', 'spearman'];
function metricRank(split: string, metric: string): [number, number, string] {
  const fun = metric.startsWith('funnel:') ? 1 : 0;
  const i = METRIC_ORDER.indexOf(metric);
  return [fun * 10 + (split === 'train' ? 0 : 1), i < 0 ? 99 : i, metric];
}
function compareMetricIds(a: string, b: string): number {
  const ma = store.metrics.get(a)!;
  const mb = store.metrics.get(b)!;
  const ra = metricRank(ma.split, ma.metric);
  const rb = metricRank(mb.split, mb.metric);
  return ra[0] - rb[0] || ra[1] - rb[1] || ra[2].localeCompare(rb[2]);
}

/** Funnel settings ride along as values (`funnel:shortlistDim` …) but are parameters, not curves. */
const FUNNEL_PARAMS = /^funnel:(shortlistDim|rerankDim|shortlistSize|shortlist|rerank)$/;
function isPlottedMetric(mid: string): boolean {
  return !FUNNEL_PARAMS.test(store.metrics.get(mid)!.metric);
}

function runById(id: string): PanelRun | undefined {
  return runs.find((r) => r.id === id);
}

/** Shown runs in run-list order; their index picks the dash/marker. */
function shownRuns(): PanelRun[] {
  const set = new Set(state.shownRunIds);
  return runs.filter((r) => set.has(r.id));
}

function sortRuns(list: PanelRun[]): PanelRun[] {
  return [...list].sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.name.localeCompare(b.name));
}

function allDimsSorted(): number[] {
  return [...store.dims].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- DOM skeleton

const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
app.removeAttribute('aria-busy');
app.innerHTML = `
<header class="toolbar" role="toolbar" aria-label="Chart options">
  <label class="field"><span>View</span>
    <vscode-single-select id="viewMode" aria-label="Chart layout">
      <vscode-option value="metric">Chart per metric</vscode-option>
      <vscode-option value="dim">Chart per dim</vscode-option>
    </vscode-single-select>
  </label>
  <label class="field"><span>X axis</span>
    <vscode-single-select id="xAxis" aria-label="X axis">
      <vscode-option value="step">Step</vscode-option>
      <vscode-option value="relative">Relative time</vscode-option>
      <vscode-option value="wall">Wall time</vscode-option>
    </vscode-single-select>
  </label>
  <label class="field smoothing"><span>Smoothing</span>
    <input id="smoothing" type="range" min="0" max="0.99" step="0.01" aria-label="Smoothing (time-weighted EMA)">
    <output id="smoothingValue" for="smoothing"></output>
  </label>
  <vscode-checkbox id="logY" label="Log y"></vscode-checkbox>
  <span class="hint">Drag: zoom · Shift+drag: pan · Ctrl+wheel: zoom · Double-click: reset</span>
</header>
<section class="bar runs-bar" aria-label="Runs"><span class="bar-label">Runs</span><div id="runs" class="chips"></div></section>
<section class="bar dims-bar" aria-label="Dimensions"><span class="bar-label">Dims</span><div id="dims" class="chips"></div></section>
<div id="banners"></div>
<div id="empty" class="empty" hidden></div>
<section id="mrl" class="chart-card mrl-card" hidden>
  <header class="chart-head">
    <h3>Metric vs dimension</h3>
    <vscode-single-select id="mrlMetric" aria-label="Metric"></vscode-single-select>
    <label class="field step-field"><span>Step</span>
      <input id="mrlStep" type="range" min="0" max="0" step="1" aria-label="Eval step">
      <output id="mrlStepValue" for="mrlStep"></output>
    </label>
    <button type="button" class="icon-btn" id="mrlLatest" title="Follow the latest step">Latest</button>
    <button type="button" class="icon-btn" id="mrlPng" title="Export PNG">PNG</button>
  </header>
  <div class="chart-box mrl-box"><canvas id="mrlCanvas" role="img" aria-label="Metric against embedding dimension"></canvas></div>
</section>
<div id="charts" class="charts"></div>
<section id="diff" class="diff-card" hidden>
  <header class="chart-head">
    <h3>Config diff</h3>
    <vscode-checkbox id="diffOnly" label="Changed keys only"></vscode-checkbox>
    <button type="button" class="icon-btn" id="openDiff" title="Open the two config.json files in VS Code's diff editor">Open diff editor</button>
  </header>
  <div class="table-wrap"><table id="diffTable"><thead></thead><tbody></tbody></table></div>
</section>`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const runsEl = $('runs');
const dimsEl = $('dims');
const bannersEl = $('banners');
const emptyEl = $('empty');
const chartsEl = $('charts');
const mrlEl = $('mrl');
const diffEl = $('diff');
const viewModeEl = $<HTMLElement & { value: string }>('viewMode');
const xAxisEl = $<HTMLElement & { value: string }>('xAxis');
const smoothingEl = $<HTMLInputElement>('smoothing');
const smoothingValueEl = $<HTMLOutputElement>('smoothingValue');
const logYEl = $<HTMLElement & { checked: boolean }>('logY');
const mrlMetricEl = $<HTMLElement & { value: string }>('mrlMetric');
const mrlStepEl = $<HTMLInputElement>('mrlStep');
const mrlStepValueEl = $<HTMLOutputElement>('mrlStepValue');
const diffOnlyEl = $<HTMLElement & { checked: boolean }>('diffOnly');

function selectOption(sel: HTMLElement, value: string): void {
  for (const o of sel.querySelectorAll('vscode-option')) {
    if (o.getAttribute('value') === value) o.setAttribute('selected', '');
    else o.removeAttribute('selected');
  }
  (sel as HTMLElement & { value: string }).value = value;
}

function syncControls(): void {
  selectOption(viewModeEl, state.viewMode);
  selectOption(xAxisEl, state.xAxis);
  smoothingEl.value = String(state.smoothing);
  smoothingValueEl.value = state.smoothing.toFixed(2);
  logYEl.checked = state.logY;
  diffOnlyEl.checked = state.diffOnly;
}
syncControls();

viewModeEl.addEventListener('change', () => {
  const v = viewModeEl.value;
  if (v !== 'metric' && v !== 'dim') return;
  state.viewMode = v;
  saveState();
  schedule({ structural: true });
});
xAxisEl.addEventListener('change', () => {
  const v = xAxisEl.value;
  if (v !== 'step' && v !== 'relative' && v !== 'wall') return;
  state.xAxis = v;
  saveState();
  schedule({ view: true });
});
smoothingEl.addEventListener('input', () => {
  state.smoothing = Math.min(0.99, Math.max(0, Number(smoothingEl.value) || 0));
  smoothingValueEl.value = state.smoothing.toFixed(2);
  saveState();
  schedule({ view: true });
});
logYEl.addEventListener('change', () => {
  state.logY = !!logYEl.checked;
  saveState();
  schedule({ view: true });
});
diffOnlyEl.addEventListener('change', () => {
  state.diffOnly = !!diffOnlyEl.checked;
  saveState();
  schedule({ diff: true });
});
mrlMetricEl.addEventListener('change', () => {
  if (!mrlMetricEl.value || mrlMetricEl.value === state.mrlMetric) return;
  state.mrlMetric = mrlMetricEl.value;
  saveState();
  schedule({ mrl: true });
});
mrlStepEl.addEventListener('input', () => {
  const steps = mrlSteps();
  const i = Number(mrlStepEl.value);
  state.mrlStep = i >= steps.length - 1 ? null : steps[i] ?? null;
  saveState();
  schedule({ mrl: true });
});
$('mrlLatest').addEventListener('click', () => {
  state.mrlStep = null;
  saveState();
  schedule({ mrl: true });
});
$('mrlPng').addEventListener('click', () => {
  if (mrl) exportPng(mrl.chart.canvas, 'mrl-curve');
});
$('openDiff').addEventListener('click', () => {
  const ids = diffRunIds();
  if (ids.length === 2) post({ type: 'openConfigDiff', runIds: [ids[0], ids[1]] });
});

// ---------------------------------------------------------------- frame scheduling

interface Dirty { structural: boolean; view: boolean; mrl: boolean; mrlData: boolean; runs: boolean; diff: boolean; metrics: Set<string> }
const dirty: Dirty = { structural: false, view: false, mrl: false, mrlData: false, runs: false, diff: false, metrics: new Set() };
/** New points move the MRL curve at most this often (it re-reads every dim; a user action is immediate). */
const MRL_LIVE_INTERVAL_MS = 250;
let lastMrlRender = -Infinity;
let mrlTimer = 0;
let frameRequested = false;
let pendingSince = NaN;
const settleWaiters: (() => void)[] = [];
const drawnListeners: ((info: { messageToDrawnMs: number; flushMs: number }) => void)[] = [];

function schedule(p: Partial<Omit<Dirty, 'metrics'>> & { metrics?: Iterable<string> }): void {
  if (p.structural) dirty.structural = true;
  if (p.view) dirty.view = true;
  if (p.mrl) dirty.mrl = true;
  if (p.runs) dirty.runs = true;
  if (p.diff) dirty.diff = true;
  if (p.metrics) for (const m of p.metrics) dirty.metrics.add(m);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flush);
  }
}

function flush(): void {
  frameRequested = false;
  const t0 = performance.now();
  try {
    if (dirty.runs) renderRuns();
    if (dirty.structural || dirty.view) {
      renderDims();
      reconcileCharts(dirty.view);
      dirty.mrl = true;
    } else if (dirty.metrics.size) {
      for (const c of charts.values()) {
        if (c.getCurves().some((cv) => dirty.metrics.has(metricId(cv.series.key.split, cv.series.key.metric)))) c.refresh();
      }
      const mm = currentMrlMetric();
      if (mm === null || dirty.metrics.has(mm) || [...dirty.metrics].some((m) => m.includes('funnel:'))) dirty.mrlData = true;
    }
    if (dirty.mrl) renderMrl();
    else if (dirty.mrlData) {
      const wait = lastMrlRender + MRL_LIVE_INTERVAL_MS - performance.now();
      if (wait <= 0 || settleWaiters.length) renderMrl(); // a settle() caller wants everything drawn
      else if (!mrlTimer) mrlTimer = window.setTimeout(() => {
        mrlTimer = 0;
        schedule({ mrl: true });
      }, wait);
    }
    if (dirty.diff || dirty.runs) renderDiff();
    renderEmpty();
  } catch (err) {
    log('error', `draw failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  }
  dirty.structural = dirty.view = dirty.mrl = dirty.mrlData = dirty.runs = dirty.diff = false;
  dirty.metrics.clear();
  const t1 = performance.now();
  stats.frames++;
  stats.lastFlushMs = t1 - t0;
  const m2d = t1 - pendingSince;
  if (Number.isFinite(pendingSince)) stats.lastMessageToDrawnMs = m2d;
  pendingSince = NaN;
  for (const l of drawnListeners) l({ messageToDrawnMs: m2d, flushMs: t1 - t0 });
  for (const w of settleWaiters.splice(0)) w();
}

// ---------------------------------------------------------------- runs and dims bars

function dashSvg(dash: number[], color?: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '26');
  svg.setAttribute('height', '8');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('dash');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('x2', '25');
  line.setAttribute('y1', '4');
  line.setAttribute('y2', '4');
  line.setAttribute('stroke-width', '2');
  if (color) line.setAttribute('stroke', color);
  if (dash.length) line.setAttribute('stroke-dasharray', dash.join(' '));
  svg.append(line);
  return svg;
}

const STATUS_TEXT: Record<string, string> = { running: 'running', completed: 'completed', failed: 'failed', stopped: 'stopped' };

function renderRuns(): void {
  runsEl.replaceChildren();
  const shown = shownRuns();
  for (const r of runs) {
    const on = state.shownRunIds.includes(r.id);
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `chip run-chip status-${r.status}`;
    b.dataset.runId = r.id;
    b.setAttribute('aria-pressed', String(on));
    const idx = shown.findIndex((s) => s.id === r.id);
    const dot = document.createElement('span');
    dot.className = 'status-dot';
    dot.setAttribute('aria-hidden', 'true');
    b.append(dot);
    if (on) b.append(dashSvg(RUN_DASHES[idx % RUN_DASHES.length]));
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = r.name;
    const st = document.createElement('span');
    st.className = 'status';
    const progress = typeof r.step === 'number' ? ` · ${r.step}${typeof r.totalSteps === 'number' ? `/${r.totalSteps}` : ''}` : '';
    st.textContent = `${STATUS_TEXT[r.status] ?? r.status}${progress}`;
    b.append(name, st);
    const loading = on && !store.runs.get(r.id)?.loaded;
    if (loading) b.classList.add('loading');
    b.title = `${r.name} (${r.id})\n${r.status}${r.error ? `: ${r.error}` : ''}${r.backend ? `\nbackend: ${r.backend}` : ''}\nClick to ${on ? 'hide' : 'show'}`;
    b.addEventListener('click', () => toggleRun(r.id));
    runsEl.append(b);
  }
  // Failed runs say why, in full, where it cannot be missed.
  bannersEl.replaceChildren();
  for (const r of shown) {
    if (r.status !== 'failed') continue;
    const d = document.createElement('div');
    d.className = 'banner error';
    d.setAttribute('role', 'alert');
    d.dataset.runId = r.id;
    d.textContent = `${r.name} failed${r.error ? `: ${r.error}` : ''}`;
    bannersEl.append(d);
  }
}

function toggleRun(id: string): void {
  if (state.shownRunIds.includes(id)) state.shownRunIds = state.shownRunIds.filter((x) => x !== id);
  else state.shownRunIds = [...state.shownRunIds, id];
  saveState();
  requestMissing();
  schedule({ structural: true, runs: true, diff: true });
}

/** Ask the host for shown runs we hold no metrics for (once per run and load). */
function requestMissing(): void {
  for (const id of state.shownRunIds) {
    if (!runById(id) || store.runs.get(id)?.loaded || requested.has(id)) continue;
    requested.add(id);
    post({ type: 'requestRun', runId: id });
  }
}

function renderDims(): void {
  dimsEl.replaceChildren();
  const dims = allDimsSorted();
  for (const d of dims) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip dim-chip';
    b.dataset.dim = String(d);
    const on = !state.hiddenDims.includes(d);
    b.setAttribute('aria-pressed', String(on));
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.backgroundColor = dimColor(d, dims, theme.kind); // CSSOM: allowed by the CSP (no inline style attribute)
    b.append(sw, document.createTextNode(String(d)));
    b.title = `${on ? 'Hide' : 'Show'} dim ${d}`;
    b.addEventListener('click', () => toggleDim(d));
    dimsEl.append(b);
  }
  (dimsEl.parentElement as HTMLElement).hidden = dims.length === 0;
}

function toggleDim(d: number): void {
  state.hiddenDims = state.hiddenDims.includes(d) ? state.hiddenDims.filter((x) => x !== d) : [...state.hiddenDims, d];
  saveState();
  schedule({ structural: true });
}

// ---------------------------------------------------------------- time-series charts

const charts = new Map<string, TimeChart>();
const chartSignature = new Map<string, string>();

interface ChartSpec { id: string; title: string; curves: Curve[]; legend: LegendEntry[] }

function prettyMetric(split: string, metric: string): string {
  return `${metric} · ${split}`;
}

function buildSpecs(): ChartSpec[] {
  const shown = shownRuns().filter((r) => store.runs.has(r.id));
  const multi = shown.length > 1;
  const dims = allDimsSorted();
  const hidden = new Set(state.hiddenDims);
  const specs: ChartSpec[] = [];
  const runLegend: LegendEntry[] = multi
    ? shown.map((r, i) => ({ key: `run:${r.id}`, text: r.name, color: hexOf(theme.fg), dash: RUN_DASHES[i % RUN_DASHES.length].length ? RUN_DASHES[i % RUN_DASHES.length] : [1, 0], hidden: false }))
    : [];
  const metricIds = [...store.metrics.keys()].filter(isPlottedMetric).sort(compareMetricIds);
  const totalColor = hexOf(theme.muted);
  if (state.viewMode === 'metric') {
    for (const mid of metricIds) {
      const m = store.metrics.get(mid)!;
      const curves: Curve[] = [];
      const presentDims = new Set<number>();
      let hasTotal = false;
      shown.forEach((r, i) => {
        const dash = RUN_DASHES[i % RUN_DASHES.length];
        const marker = RUN_MARKERS[i % RUN_MARKERS.length];
        const prefix = multi ? `${r.name} · ` : '';
        for (const d of [...m.dims].sort((a, b) => a - b)) {
          const s = store.series(r.id, m.split, m.metric, d);
          if (!s) continue;
          presentDims.add(d);
          if (hidden.has(d)) continue;
          curves.push({ id: `${r.id}|${d}`, series: s, runId: r.id, dim: d, label: `${prefix}dim ${d}`, color: dimColor(d, dims, theme.kind), dash, marker, legendKey: `dim:${d}` });
        }
        const t = store.series(r.id, m.split, m.metric, null);
        if (t) {
          hasTotal = true;
          curves.push({ id: `${r.id}|all`, series: t, runId: r.id, dim: null, label: `${prefix}${m.dims.size ? 'all dims' : m.metric}`, color: m.dims.size ? totalColor : hexOf(theme.fg), dash, marker, legendKey: 'total' });
        }
      });
      if (!presentDims.size && !hasTotal) continue;
      const legend: LegendEntry[] = [...presentDims].sort((a, b) => a - b).map((d) => ({ key: `dim:${d}`, text: `dim ${d}`, color: dimColor(d, dims, theme.kind), hidden: hidden.has(d) }));
      if (hasTotal && presentDims.size) legend.push({ key: 'total', text: 'all dims', color: totalColor, hidden: false });
      specs.push({ id: `m:${mid}`, title: prettyMetric(m.split, m.metric), curves, legend: [...legend, ...runLegend] });
    }
  } else {
    const withDim = metricIds.filter((mid) => store.metrics.get(mid)!.dims.size > 0);
    const dimless = metricIds.filter((mid) => store.metrics.get(mid)!.dimless);
    const perDim = dims.filter((d) => !hidden.has(d)).map((d) => ({ id: `d:${d}`, title: `dim ${d}`, dim: d as number | null, mids: withDim }));
    if (dimless.length) perDim.push({ id: 'd:none', title: 'all dims / dimension-less', dim: null, mids: dimless });
    for (const spec of perDim) {
      const curves: Curve[] = [];
      const present = new Set<string>();
      shown.forEach((r, i) => {
        const dash = RUN_DASHES[i % RUN_DASHES.length];
        const marker = RUN_MARKERS[i % RUN_MARKERS.length];
        const prefix = multi ? `${r.name} · ` : '';
        spec.mids.forEach((mid) => {
          const m = store.metrics.get(mid)!;
          const s = store.series(r.id, m.split, m.metric, spec.dim);
          if (!s) return;
          present.add(mid);
          curves.push({ id: `${r.id}|${mid}`, series: s, runId: r.id, dim: spec.dim, label: `${prefix}${prettyMetric(m.split, m.metric)}`, color: metricColor(metricIds.indexOf(mid)), dash, marker, legendKey: `metric:${mid}` });
        });
      });
      if (!curves.length) continue;
      const legend = [...present].map((mid) => {
        const m = store.metrics.get(mid)!;
        return { key: `metric:${mid}`, text: prettyMetric(m.split, m.metric), color: metricColor(metricIds.indexOf(mid)), hidden: false };
      });
      specs.push({ id: spec.id, title: spec.title, curves, legend: [...legend, ...runLegend] });
    }
  }
  return specs;
}

function viewOpts() {
  return { smoothing: state.smoothing, logY: state.logY, xAxis: state.xAxis, theme };
}

function reconcileCharts(viewChanged: boolean): void {
  const specs = buildSpecs();
  const keep = new Set(specs.map((s) => s.id));
  for (const [id, c] of charts) {
    if (!keep.has(id)) {
      c.destroy();
      charts.delete(id);
      chartSignature.delete(id);
    }
  }
  const v = viewOpts();
  specs.forEach((spec, i) => {
    let c = charts.get(spec.id);
    const sig = JSON.stringify([spec.curves.map((cv) => [cv.id, cv.series.uid, cv.color, cv.dash, cv.label]), spec.legend]);
    if (!c) {
      c = new TimeChart(chartsEl, spec.id, spec.title, v, { onLegendClick, onExportPng: (ch) => exportPng(ch.chart.canvas, ch.id), onExportCsv: exportCsv });
      charts.set(spec.id, c);
      c.setCurves(spec.curves, spec.legend);
    } else {
      if (viewChanged) c.setView(v);
      if (sig !== chartSignature.get(spec.id)) c.setCurves(spec.curves, spec.legend);
      else if (!viewChanged) c.refresh();
    }
    chartSignature.set(spec.id, sig);
    if (chartsEl.children[i] !== c.card) chartsEl.insertBefore(c.card, chartsEl.children[i] ?? null);
  });
}

function onLegendClick(key: string): void {
  if (key.startsWith('dim:')) toggleDim(Number(key.slice(4)));
  else if (key.startsWith('run:')) toggleRun(key.slice(4));
}

// ---------------------------------------------------------------- MRL curve

let mrl: MrlChart | null = null;

/** Metrics that have dims (candidates for the MRL chart), eval first. */
function mrlCandidates(): string[] {
  return [...store.metrics.keys()].filter((mid) => store.metrics.get(mid)!.dims.size > 1).sort((a, b) => {
    const sa = store.metrics.get(a)!.split === 'eval' ? 0 : 1;
    const sb = store.metrics.get(b)!.split === 'eval' ? 0 : 1;
    return sa - sb || compareMetricIds(a, b);
  });
}

function currentMrlMetric(): string | null {
  const c = mrlCandidates();
  if (state.mrlMetric && c.includes(state.mrlMetric)) return state.mrlMetric;
  return c.find((m) => m === 'eval/ndcg@10') ?? c[0] ?? null;
}

/** Steps at which the shown runs have the MRL metric (union, sorted); cached until a series grows. */
let mrlStepsCache: { key: string; steps: number[] } = { key: '', steps: [] };
function mrlSteps(): number[] {
  const mid = currentMrlMetric();
  if (!mid) return [];
  const m = store.metrics.get(mid)!;
  const cols: { step: Float64Array; n: number }[] = [];
  let key = mid;
  for (const r of shownRuns()) {
    for (const d of m.dims) {
      const s = store.series(r.id, m.split, m.metric, d);
      if (!s) continue;
      cols.push({ step: s.step, n: s.n });
      key += `|${r.id}:${s.generation}:${s.n}`;
      break; // every dim is evaluated at the same steps; one is enough
    }
  }
  if (key === mrlStepsCache.key) return mrlStepsCache.steps;
  let steps: number[];
  if (cols.length === 1) steps = Array.from(cols[0].step.subarray(0, cols[0].n));
  else {
    const set = new Set<number>();
    for (const c of cols) for (let i = 0; i < c.n; i++) set.add(c.step[i]);
    steps = [...set].sort((a, b) => a - b);
  }
  mrlStepsCache = { key, steps };
  return steps;
}

let mrlOptionsSig = '';
function renderMrl(): void {
  lastMrlRender = performance.now();
  const mid = currentMrlMetric();
  mrlEl.hidden = !mid || shownRuns().length === 0;
  if (!mid || mrlEl.hidden) return;
  const cands = mrlCandidates();
  const sig = cands.join('\n') + '\n' + mid;
  if (sig !== mrlOptionsSig) {
    mrlOptionsSig = sig;
    mrlMetricEl.replaceChildren(
      ...cands.map((c) => {
        const o = document.createElement('vscode-option');
        o.setAttribute('value', c);
        const m = store.metrics.get(c)!;
        o.textContent = prettyMetric(m.split, m.metric);
        if (c === mid) o.setAttribute('selected', '');
        return o;
      }),
    );
    mrlMetricEl.value = mid;
  }
  const steps = mrlSteps();
  const follow = state.mrlStep === null;
  let idx = steps.length - 1;
  if (!follow) {
    idx = 0;
    for (let i = 0; i < steps.length; i++) if (steps[i] <= state.mrlStep!) idx = i;
  }
  mrlStepEl.max = String(Math.max(0, steps.length - 1));
  mrlStepEl.value = String(Math.max(0, idx));
  mrlStepEl.disabled = steps.length < 2;
  const step = follow ? Infinity : steps[idx] ?? Infinity;
  mrlStepValueEl.value = steps.length ? `${steps[idx]}${follow ? ' (latest)' : ''}` : '—';
  if (!mrl) mrl = new MrlChart($<HTMLCanvasElement>('mrlCanvas'), theme);
  const m = store.metrics.get(mid)!;
  const dims = allDimsSorted().filter((d) => !state.hiddenDims.includes(d));
  const shown = shownRuns();
  mrl.update(store, shown.map((r, index) => ({ id: r.id, name: r.name, index, config: r.config })), m.split, m.metric, step, dims, allDimsSorted());
}

// ---------------------------------------------------------------- config diff table

/** Configs the host sent for diffing that belong to no run (config files). */
const diffOnlyConfigs = new Map<string, { name: string; config: Record<string, unknown> }>();

function diffEntry(id: string): { name: string; config: Record<string, unknown> } | undefined {
  const r = runById(id);
  if (r?.config) return { name: r.name, config: r.config };
  return diffOnlyConfigs.get(id);
}

function diffRunIds(): string[] {
  // In the order asked for (configDiff's order, else the order the runs were turned on): the first
  // column is the reference the others are compared with.
  const ids = state.diffRunIds ?? state.shownRunIds;
  return ids.filter((id) => !!diffEntry(id));
}

let lastDiffRows: ConfigDiffRow[] = [];
function renderDiff(): void {
  const ids = diffRunIds();
  diffEl.hidden = ids.length < 2;
  ($('openDiff') as HTMLButtonElement).hidden = ids.length !== 2;
  if (ids.length < 2) {
    lastDiffRows = [];
    return;
  }
  const rs = ids.map((id) => ({ id, ...diffEntry(id)! }));
  lastDiffRows = diffConfigs(rs.map((r) => r.config), { all: !state.diffOnly });
  const table = $<HTMLTableElement>('diffTable');
  const head = document.createElement('tr');
  const th0 = document.createElement('th');
  th0.textContent = 'key';
  th0.scope = 'col';
  head.append(th0);
  for (const r of rs) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = r.name;
    th.title = r.id;
    head.append(th);
  }
  table.tHead!.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren();
  if (lastDiffRows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = rs.length + 1;
    td.className = 'muted';
    td.textContent = 'The configs are identical.';
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of lastDiffRows) {
    const tr = document.createElement('tr');
    if (row.changed) tr.className = 'changed';
    const k = document.createElement('th');
    k.scope = 'row';
    k.textContent = row.path;
    tr.append(k);
    row.values.forEach((v, i) => {
      const td = document.createElement('td');
      td.textContent = formatConfigValue(v);
      if (v === undefined) td.classList.add('absent');
      if (row.changed && i > 0 && JSON.stringify(v) !== JSON.stringify(row.values[0])) td.classList.add('differs');
      tr.append(td);
    });
    body.append(tr);
  }
}

function renderEmpty(): void {
  const shown = shownRuns();
  let msg = '';
  if (runs.length === 0) msg = 'No runs yet. Start one with “Matryoshka Lab: Start Run”, or from a terminal with npm run train.';
  else if (shown.length === 0) msg = 'Pick one or more runs above to plot them.';
  else if (shown.every((r) => !store.runs.get(r.id)?.loaded)) msg = 'Loading metrics…';
  else if (charts.size === 0) msg = 'No metrics logged yet. Points appear here as the trainer writes them.';
  emptyEl.hidden = !msg;
  emptyEl.textContent = msg;
}

// ---------------------------------------------------------------- export

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9@._-]+/g, '_').replace(/^_+|_+$/g, '') || 'chart';
}

/** PNG with the editor background painted in (a transparent canvas is unreadable in the other theme). */
function exportPng(canvas: HTMLCanvasElement, name: string): void {
  const c = document.createElement('canvas');
  c.width = canvas.width;
  c.height = canvas.height;
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = theme.bg;
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.drawImage(canvas, 0, 0);
  post({ type: 'exportPng', suggestedName: `${safeName(name)}.png`, dataUrl: c.toDataURL('image/png') });
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Full-resolution points of the chart's curves (not the decimated ones), long format. */
function buildCsv(chart: TimeChart): string {
  const lines = ['run_id,run_name,split,metric,dim,step,time_s,wall_time_ms,value,smoothed'];
  for (const c of chart.getCurves()) {
    const s = c.series;
    const sm = state.smoothing > 0 ? s.smoothed(state.smoothing) : s.y;
    const name = runById(c.runId)?.name ?? c.runId;
    const pre = `${csvCell(c.runId)},${csvCell(name)},${s.key.split},${csvCell(s.key.metric)},${s.key.dim ?? ''}`;
    for (let i = 0; i < s.n; i++) {
      lines.push(`${pre},${s.step[i]},${s.time[i]},${Number.isFinite(s.wall[i]) ? s.wall[i] : ''},${Number.isFinite(s.y[i]) ? s.y[i] : ''},${Number.isFinite(sm[i]) ? sm[i] : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

function exportCsv(chart: TimeChart): void {
  post({ type: 'exportCsv', suggestedName: `${safeName(chart.id.replace(/^[md]:/, ''))}.csv`, csv: buildCsv(chart) });
}

// ---------------------------------------------------------------- messages

function setRuns(list: PanelRun[]): void {
  const ids = new Set(list.map((r) => r.id));
  for (const id of [...store.runs.keys()]) if (!ids.has(id)) store.remove(id);
  for (const id of [...requested]) if (!ids.has(id)) requested.delete(id);
  runs = sortRuns(list);
  for (const r of runs) store.setStartedAt(r.id, r.startedAt);
}

function handle(msg: HostToWebviewMessage): void {
  switch (msg.type) {
    case 'init': {
      setRuns(msg.runs);
      const known = ids();
      // The host decides what to show (a command's runs, else the shownRunIds our `ready` carried, else the
      // latest run) and replays those runs right after init, so we do not request them again.
      if (msg.showRuns) {
        state.shownRunIds = msg.showRuns.filter((id) => known.has(id));
        for (const id of state.shownRunIds) if (!store.runs.get(id)?.loaded) requested.add(id);
      } else {
        state.shownRunIds = state.shownRunIds.filter((id) => known.has(id));
        if (state.shownRunIds.length === 0 && runs.length && !hadState) state.shownRunIds = [runs[0].id];
      }
      if (msg.configDiff) state.diffRunIds = msg.configDiff;
      saveState();
      requestMissing();
      schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'runs': {
      setRuns(msg.runs);
      state.shownRunIds = state.shownRunIds.filter((id) => ids().has(id));
      saveState();
      schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'runInfo': {
      const i = runs.findIndex((r) => r.id === msg.run.id);
      if (i >= 0) runs[i] = { ...msg.run, config: msg.run.config !== undefined ? msg.run.config : runs[i].config };
      else runs = sortRuns([...runs, msg.run]);
      store.setStartedAt(msg.run.id, msg.run.startedAt);
      schedule({ runs: true, diff: true });
      break;
    }
    case 'metrics': {
      if (Number.isNaN(pendingSince)) pendingSince = performance.now();
      requested.delete(msg.runId);
      let lines = msg.lines;
      if (msg.jsonl !== undefined) {
        const parsed = parseMetricsJsonl(msg.jsonl);
        if (parsed.invalid) log('warn', `run ${msg.runId}: ${parsed.invalid} unreadable metrics line(s) skipped`);
        lines = lines.length ? [...lines, ...parsed.lines] : parsed.lines;
      }
      const res = store.ingest(msg.runId, lines, msg.reset);
      if (res.dropped) log('warn', `run ${msg.runId}: ${res.dropped} byDim entries with a non-numeric dim ignored`);
      const shown = state.shownRunIds.includes(msg.runId);
      if (!shown) {
        if (msg.reset) schedule({ runs: true });
        break;
      }
      schedule({ structural: res.structural, metrics: res.touched, runs: msg.reset === true });
      break;
    }
    case 'showRuns': {
      const known = ids();
      state.shownRunIds = msg.runIds.filter((id) => known.has(id));
      if (msg.compare) state.diffRunIds = [...state.shownRunIds];
      saveState();
      requestMissing();
      schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'configDiff': {
      if (msg.configs) {
        for (const [id, cfg] of Object.entries(msg.configs)) {
          const r = runById(id);
          // Configs that are not runs (two config files, `file:<name>`) are diffed too, not dropped.
          if (r) r.config = cfg;
          else if (cfg) diffOnlyConfigs.set(id, { name: id.replace(/^file:/, ''), config: cfg });
        }
      }
      state.diffRunIds = msg.runIds;
      saveState();
      schedule({ diff: true });
      requestAnimationFrame(() => diffEl.scrollIntoView({ block: 'nearest' }));
      break;
    }
  }
}

function ids(): Set<string> {
  return new Set(runs.map((r) => r.id));
}

window.addEventListener('message', (e: MessageEvent) => {
  stats.received++;
  const data: unknown = e.data;
  if (!isHostToWebviewMessage(data)) {
    stats.rejected++;
    const t = typeof data === 'object' && data !== null ? String((data as { type?: unknown }).type) : typeof data;
    log('warn', `ignored a malformed message (type: ${t})`);
    return;
  }
  try {
    handle(data);
  } catch (err) {
    log('error', `message ${data.type} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
});

// ---------------------------------------------------------------- theme

function applyTheme(): void {
  const next = readTheme();
  if (JSON.stringify(next) === JSON.stringify(theme)) return;
  theme = next;
  applyChartDefaults(theme);
  mrl?.setTheme(theme);
  schedule({ view: true, structural: true });
}
new MutationObserver(applyTheme).observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

// ---------------------------------------------------------------- read-only debug hook (tests, bench)

const debug = {
  state: () => structuredClone(state),
  stats: () => ({ ...stats }),
  runs: () => runs.map((r) => ({ id: r.id, name: r.name, status: r.status, error: r.error })),
  theme: () => ({ ...theme }),
  chartIds: () => [...charts.keys()],
  /** The Chart.js instance behind a chart (read it, do not mutate it). */
  chartInstance: (id: string) => (id === 'mrl' ? mrl?.chart : charts.get(id)?.chart),
  chart: (id: string) => {
    const c = charts.get(id);
    if (!c) return null;
    const sc = c.chart.scales;
    return {
      id,
      title: c.card.querySelector('h3')?.textContent ?? '',
      legend: c.legendTexts(),
      datasets: c.datasetInfos(),
      rawPoints: c.lastRawPoints,
      drawnPoints: c.lastDrawnPoints,
      best: c.bestPoints(),
      zoom: c.getZoom(),
      x: { min: sc.x?.min, max: sc.x?.max, type: sc.x?.type },
      y: { min: sc.y?.min, max: sc.y?.max, type: sc.y?.type },
      seriesLength: c.getCurves().map((cv) => ({ runId: cv.runId, dim: cv.dim, n: cv.series.n, firstX: cv.series.n ? xColumn(cv.series, state.xAxis)[0] : null })),
    };
  },
  mrl: () => (mrl && !mrlEl.hidden ? { points: mrl.points.map((p) => ({ ...p })), funnel: mrl.funnel.map((f) => ({ ...f })), steps: Object.fromEntries(mrl.shownSteps), datasets: mrl.chart.data.datasets.map((d) => ({ label: String(d.label), points: d.data.length })), metric: currentMrlMetric(), availableSteps: mrlSteps() } : null),
  diffRows: () => lastDiffRows.map((r) => ({ path: r.path, values: r.values.map(formatConfigValue), changed: r.changed })),
  csv: (id: string) => {
    const c = charts.get(id);
    return c ? buildCsv(c) : null;
  },
  /** Resolves after the next frame's draw (everything received so far is on screen). */
  settle: () =>
    new Promise<void>((resolve) => {
      settleWaiters.push(resolve);
      if (mrlTimer) {
        // a live MRL update waiting for its interval: draw it now, "settled" means everything is on screen
        clearTimeout(mrlTimer);
        mrlTimer = 0;
        dirty.mrl = true;
      }
      if (!frameRequested) {
        frameRequested = true;
        requestAnimationFrame(flush);
      }
    }),
  onDrawn: (cb: (info: { messageToDrawnMs: number; flushMs: number }) => void) => {
    drawnListeners.push(cb);
    return () => {
      const i = drawnListeners.indexOf(cb);
      if (i >= 0) drawnListeners.splice(i, 1);
    };
  },
};
Object.defineProperty(window, '__mrlPanel', { value: Object.freeze(debug), writable: false, configurable: false });

// ---------------------------------------------------------------- go

schedule({ structural: true, runs: true, diff: true });
post({ type: 'ready', state: hadState ? state : null });

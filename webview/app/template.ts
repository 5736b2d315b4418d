/**
 * The panel's DOM skeleton (toolbar, run/dim bars, MRL card, frontier card, chart list, config diff card) and typed
 * handles on its elements. Static markup only: every dynamic text goes in through textContent.
 */
import { SMOOTHING_TITLE } from '../charts/smoothingRule';

export const PANEL_HTML = `
<nav class="tabs" role="tablist" aria-label="Panel views">
  <button type="button" role="tab" id="tabCharts" class="tab" aria-controls="chartsPane" aria-selected="true">Charts</button>
  <button type="button" role="tab" id="tabRuns" class="tab" aria-controls="runsPane" aria-selected="false" tabindex="-1">Runs</button>
</nav>
<section id="runsPane" class="tab-pane runs-pane" role="tabpanel" aria-labelledby="tabRuns" hidden></section>
<div id="chartsPane" class="tab-pane" role="tabpanel" aria-labelledby="tabCharts">
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
  <label class="field smoothing" title="${SMOOTHING_TITLE}"><span>Smoothing</span>
    <input id="smoothing" type="range" min="0" max="0.99" step="0.01" aria-label="${SMOOTHING_TITLE}">
    <output id="smoothingValue" for="smoothing"></output>
  </label>
  <label class="field" id="precisionField" hidden title="Eval metrics at one precision: float32, or the quantised index (int8, binary), with or without rescoring"><span>Precision</span>
    <vscode-single-select id="precision" aria-label="Precision of the eval metrics"></vscode-single-select>
  </label>
  <vscode-checkbox id="logY" label="Log y"></vscode-checkbox>
  <span class="hint">Drag: zoom · Shift+drag: pan · Ctrl+wheel: zoom · Double-click: reset</span>
</header>
<section class="bar runs-bar" aria-label="Runs"><span class="bar-label">Runs</span><div id="runs" class="chips"></div></section>
<section class="bar dims-bar" aria-label="Dimensions"><span class="bar-label" id="dimsLabel">Dims</span><div id="dims" class="chips"></div></section>
<section id="runLegend" hidden></section>
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
<section id="frontier" class="chart-card frontier-card" hidden>
  <header class="chart-head">
    <h3>Quality vs bytes per vector</h3>
    <span id="frontierWhat" class="chart-sub"></span>
    <button type="button" class="icon-btn" id="frontierPng" title="Export PNG">PNG</button>
  </header>
  <div class="chart-box frontier-box"><canvas id="frontierCanvas" role="img" aria-label="Retrieval quality against index bytes per vector, per dim and precision"></canvas></div>
  <div id="frontierAdvice" class="mrl-advice" aria-live="polite"></div>
</section>
<div id="charts" class="charts"></div>
<section id="diff" class="diff-card" hidden>
  <header class="chart-head">
    <h3>Config diff</h3>
    <vscode-checkbox id="diffOnly" label="Changed keys only"></vscode-checkbox>
    <button type="button" class="icon-btn" id="openDiff" title="Open the two config.json files in VS Code's diff editor">Open diff editor</button>
  </header>
  <div class="table-wrap"><table id="diffTable"><thead></thead><tbody></tbody></table></div>
</section>
</div>`;

type Valued = HTMLElement & { value: string };
type Checked = HTMLElement & { checked: boolean };

/** Every element the panel code addresses, by id. */
export const ELEMENT_IDS = {
  runs: 'runs',
  dims: 'dims',
  dimsLabel: 'dimsLabel',
  runLegend: 'runLegend',
  banners: 'banners',
  empty: 'empty',
  charts: 'charts',
  mrl: 'mrl',
  diff: 'diff',
  viewMode: 'viewMode',
  xAxis: 'xAxis',
  smoothing: 'smoothing',
  smoothingValue: 'smoothingValue',
  logY: 'logY',
  mrlMetric: 'mrlMetric',
  mrlStep: 'mrlStep',
  mrlStepValue: 'mrlStepValue',
  mrlLatest: 'mrlLatest',
  mrlPng: 'mrlPng',
  mrlCanvas: 'mrlCanvas',
  precision: 'precision',
  precisionField: 'precisionField',
  frontier: 'frontier',
  frontierWhat: 'frontierWhat',
  frontierPng: 'frontierPng',
  frontierCanvas: 'frontierCanvas',
  frontierAdvice: 'frontierAdvice',
  diffOnly: 'diffOnly',
  openDiff: 'openDiff',
  diffTable: 'diffTable',
  tabCharts: 'tabCharts',
  tabRuns: 'tabRuns',
  chartsPane: 'chartsPane',
  runsPane: 'runsPane',
} as const;

export interface PanelElements {
  runs: HTMLElement;
  dims: HTMLElement;
  dimsLabel: HTMLElement;
  runLegend: HTMLElement;
  banners: HTMLElement;
  empty: HTMLElement;
  charts: HTMLElement;
  mrl: HTMLElement;
  diff: HTMLElement;
  viewMode: Valued;
  xAxis: Valued;
  smoothing: HTMLInputElement;
  smoothingValue: HTMLOutputElement;
  logY: Checked;
  mrlMetric: Valued;
  mrlStep: HTMLInputElement;
  mrlStepValue: HTMLOutputElement;
  mrlLatest: HTMLButtonElement;
  mrlPng: HTMLButtonElement;
  mrlCanvas: HTMLCanvasElement;
  precision: Valued;
  precisionField: HTMLElement;
  frontier: HTMLElement;
  frontierWhat: HTMLElement;
  frontierPng: HTMLButtonElement;
  frontierCanvas: HTMLCanvasElement;
  frontierAdvice: HTMLElement;
  diffOnly: Checked;
  openDiff: HTMLButtonElement;
  diffTable: HTMLTableElement;
  tabCharts: HTMLButtonElement;
  tabRuns: HTMLButtonElement;
  chartsPane: HTMLElement;
  runsPane: HTMLElement;
}

/** Puts the skeleton into #app (made if missing) and returns its elements. */
export function mountPanel(doc: Document = document): PanelElements {
  const app = doc.getElementById('app') ?? doc.body.appendChild(doc.createElement('div'));
  app.removeAttribute('aria-busy');
  app.innerHTML = PANEL_HTML;
  const els: Record<string, HTMLElement> = {};
  for (const [key, id] of Object.entries(ELEMENT_IDS)) els[key] = doc.getElementById(id) as HTMLElement;
  return els as unknown as PanelElements;
}

/** Select the option with `value` in a vscode-single-select (and mark it, for a select not yet upgraded). */
export function selectOption(sel: HTMLElement, value: string): void {
  for (const o of sel.querySelectorAll('vscode-option')) {
    if (o.getAttribute('value') === value) o.setAttribute('selected', '');
    else o.removeAttribute('selected');
  }
  (sel as Valued).value = value;
}

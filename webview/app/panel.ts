/**
 * The metrics panel, started: speaks only src/protocol/panelMessages.ts. The host owns the data (no
 * retainContextWhenHidden): on start we send `ready` with our persisted state and the host replays the
 * runs. Incoming points are stored at once and drawn once per animation frame, only in the charts they
 * touch.
 *
 * This module only wires the parts together: the model and its reducer (model.ts, reducer.ts), the
 * DOM skeleton (template.ts), the controls (controls.ts), the tabs (tabs.ts), what a frame draws
 * (frame.ts), the host's messages (hostMessages.ts), the charts (chartGrid.ts, mrlView.ts), the runs
 * table, exports, the frame scheduler and the theme. It returns the parts, for a read-only look from
 * outside (the browser tests' hook is added by test/webview/panelWithHook.ts, not by the shipped entry).
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { ConfigDiffRow } from '../../src/config/diff';
import { isPanelState, type PanelRun, type PanelSettings } from '../../src/protocol/panelMessages';
import { ChartGrid } from '../charts/chartGrid';
import type { PanelTheme } from '../charts/chartSetup';
import { buildCsv, csvFileName } from '../charts/exportCsv';
import { pngMessage } from '../charts/exportPng';
import { RunLegend } from '../charts/runLegend';
import { runsBandSource, setRepeatBandSource } from '../charts/repeatBands';
import { RepeatBandsToggle } from '../charts/repeatBandsToggle';
import type { TimeChart } from '../charts/timeChart';
import { diffRunIds } from '../diff/diffTable';
import { currentMrlMetric } from '../mrl/mrlData';
import { FrontierView } from '../mrl/frontierView';
import { MrlView } from '../mrl/mrlView';
import { RunsTableView } from '../runsTable/view';
import { SweepShapeView } from '../sweepShape/sweepShapeView';
import { connectHost } from './bridge';
import { syncControls, wireControls } from './controls';
import { PanelFrame } from './frame';
import { receiveHostMessages, type MessageCounters } from './hostMessages';
import { awaitingReplays, createModel, runById } from './model';
import { plotRuns, reduce, toggleDim, toggleRun, type Effects } from './reducer';
import { browserFrameEnv, FrameScheduler, type DirtyRequest } from './scheduler';
import { PanelTabs } from './tabs';
import { mountPanel } from './template';
import { trackTheme } from './theme';
import { loadState, type UiState } from './uiState';

/** The running panel's parts (read them, do not change them). */
export interface PanelParts {
  state: UiState;
  runs(): PanelRun[];
  theme(): PanelTheme;
  counters: MessageCounters;
  scheduler: FrameScheduler;
  grid: ChartGrid;
  legend: RunLegend;
  mrl: MrlView;
  frontier: FrontierView;
  mrlMetric(): string | null;
  mrlSteps(): number[];
  diffRows(): ConfigDiffRow[];
  /** The CSV a chart's CSV button would export. */
  csv(chart: TimeChart): string;
  table: RunsTableView;
  shape: SweepShapeView;
  settings(): PanelSettings;
}

export function startPanel(): PanelParts {
  // ------------------------------------------------------------ host bridge, state, model
  const host = connectHost();
  const restored = host.getState();
  const model = createModel(loadState(restored), isPanelState(restored));
  const { state, store } = model;
  const counters: MessageCounters = { received: 0, rejected: 0 };

  // ------------------------------------------------------------ DOM and its parts
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
  // The run legend's highlight reaches the charts once per animation frame (hovering along the list
  // restyles every chart: one pass per frame, not per mouse event).
  let highlightFrame = 0;
  const legend = new RunLegend(el.runLegend, {
    highlightChanged: () => {
      if (highlightFrame) return;
      highlightFrame = requestAnimationFrame(() => {
        highlightFrame = 0;
        grid.setHighlight(legend.highlighted);
        mrl.setHighlight(legend.highlighted);
        frontier.setHighlight(legend.highlighted);
      });
    },
  });
  legend.stickBelow(el.chartsPane.querySelector<HTMLElement>('.toolbar')!);
  const mrl = new MrlView({ section: el.mrl, metric: el.mrlMetric, step: el.mrlStep, stepValue: el.mrlStepValue, canvas: el.mrlCanvas });
  const frontier = new FrontierView(
    { section: el.frontier, what: el.frontierWhat, canvas: el.frontierCanvas, advice: el.frontierAdvice },
    { get: (m) => mrl.steps(m) },
  );

  const sched = new FrameScheduler(
    (d) => frame.draw(d),
    (err) => host.log('error', `draw failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
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
      tabs.show('charts');
      requestAnimationFrame(() => el.diff.scrollIntoView({ block: 'nearest' }));
    },
  };
  let theme: PanelTheme = trackTheme((next) => {
    theme = next;
    mrl.setTheme(theme);
    frontier.setTheme(theme);
    shape.setTheme(theme);
    sched.schedule({ view: true, structural: true });
  });

  // ------------------------------------------------------------ controls, runs table, tabs

  /** A control changed the state: persist it and redraw what it affects. */
  const changed = (d: DirtyRequest): void => {
    fx.save();
    sched.schedule(d);
  };
  syncControls(el, state);
  wireControls(el, state, {
    changed,
    mrlSteps: () => mrl.steps(model),
    exportMrlPng: () => {
      if (mrl.chart) exportPng(mrl.chart.chart.canvas, 'mrl-curve');
    },
    exportFrontierPng: () => {
      if (frontier.chart) exportPng(frontier.chart.chart.canvas, 'frontier');
    },
    openDiff: () => {
      const ids = diffRunIds(model);
      if (ids.length === 2) host.post({ type: 'openConfigDiff', runIds: [ids[0], ids[1]] });
    },
  });

  // Repeats of a sweep combination: their mean and band on the time charts, while the switch is on.
  setRepeatBandSource(
    runsBandSource(
      () => model.runs,
      () => state.repeatBands,
    ),
  );
  const bandsToggle = new RepeatBandsToggle(el.chartsPane.querySelector('.toolbar')!, state, () => changed({ view: true }));
  // The sweep shape sits above the runs table (it prepends itself); its brushes keep the table to their runs.
  const shape = new SweepShapeView(el.runsPane, state.sweepShape, theme, {
    save: () => fx.save(),
    filterTable: (ids) => table.setOnly(ids),
    selectedIds: () => table.selectedIds(),
  });
  const table = new RunsTableView(el.runsPane, state.table, {
    save: () => fx.save(),
    action: (action, runIds) => {
      if (action === 'plot') {
        plotRuns(model, runIds, fx);
        tabs.show('charts');
      } else host.post({ type: 'runAction', action, runIds });
    },
    exportCsv: (suggestedName, csv) => host.post({ type: 'exportCsv', suggestedName, csv }),
  });
  const tabs = new PanelTabs(el, state, {
    save: () => fx.save(),
    drawTable: () => {
      table.update(model.runs, model.settings);
      shape.update(model.runs, model.settings);
    },
    redrawCharts: () => sched.schedule({ view: true, structural: true }),
  });
  tabs.show(state.tab);

  function onLegendClick(key: string): void {
    if (key.startsWith('dim:')) toggleDim(model, Number(key.slice(4)), fx);
    else if (key.startsWith('run:')) legend.togglePin(key.slice(4));
  }

  // ------------------------------------------------------------ drawing (once per frame), export

  const frame = new PanelFrame({
    el,
    model,
    grid,
    mrl,
    frontier,
    sched,
    tabs,
    theme: () => theme,
    legend,
    toggleRun: (id) => toggleRun(model, id, fx),
    toggleDim: (dim) => toggleDim(model, dim, fx),
    chooseDim: (dim) => {
      state.overlayDim = dim;
      changed({ structural: true });
    },
    save: () => fx.save(),
  });

  function exportPng(canvas: HTMLCanvasElement, name: string): void {
    host.post(pngMessage(canvas, name, theme.bg));
  }

  function chartCsv(chart: TimeChart): string {
    return buildCsv(chart.getCurves(), state.smoothing, (id) => runById(model.runs, id)?.name);
  }

  // ------------------------------------------------------------ messages, go

  receiveHostMessages(host, counters, (msg) => {
    if (msg.type === 'metrics') sched.markPending();
    reduce(model, msg, fx);
    if (msg.type !== 'metrics') bandsToggle.sync(model.runs);
  });

  sched.schedule({ structural: true, runs: true, diff: true });
  host.post({ type: 'ready', state: model.hadState ? state : null });

  return {
    state,
    runs: () => model.runs,
    theme: () => theme,
    counters,
    scheduler: sched,
    grid,
    legend,
    mrl,
    frontier,
    mrlMetric: () => currentMrlMetric(store, state),
    mrlSteps: () => mrl.steps(model),
    diffRows: () => frame.diffRows,
    csv: chartCsv,
    table,
    shape,
    settings: () => model.settings,
  };
}

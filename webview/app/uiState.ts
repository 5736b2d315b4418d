/**
 * The panel's UI state: what the user picked (runs, dims, layout, smoothing …). Persisted with the
 * webview's getState/setState and sent to the host in `ready`, so it survives hide/show and reloads.
 * Pure: no DOM.
 */
import { isPanelState, type PanelState } from '../../src/protocol/panelMessages';
import type { XAxisMode } from '../charts/axes';
import { defaultTableState, loadTableState, type TableUiState } from '../runsTable/tableModel';
import { defaultShapeState, loadShapeState, type SweepShapeState } from '../sweepShape/shapeState';

export type PanelTab = 'charts' | 'runs';

export interface UiState extends PanelState {
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
  /** The precision the time charts show (webview/app/precision.ts): `float32`, `int8+rescore`, … */
  precision: string;
  /** Several runs on the charts, chart per metric: the one dim plotted (null: the largest). */
  overlayDim: number | null;
  /** Each run's colour slot on the charts (webview/charts/runPalette.ts): kept while others come and go. */
  runColors: Record<string, number>;
  /** Which tab is open, and the runs table's sort, filter, grouping and columns. */
  tab: PanelTab;
  table: TableUiState;
  /** The Runs tab's sweep shape (source, metric, scatter parameter, open). */
  sweepShape: SweepShapeState;
  /** The time charts draw the mean of a combination's repeats with a band (charts/repeatBands.ts). */
  repeatBands: boolean;
}

export function defaultState(): UiState {
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
    precision: 'float32',
    overlayDim: null,
    runColors: {},
    tab: 'charts',
    table: defaultTableState(),
    sweepShape: defaultShapeState(),
    repeatBands: true,
  };
}

/** Restore what we can from a persisted state; a field of the wrong type falls back to its default. */
export function loadState(raw: unknown): UiState {
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
  if (r.tab === 'charts' || r.tab === 'runs') s.tab = r.tab;
  if (typeof r.precision === 'string') s.precision = r.precision;
  if (typeof r.overlayDim === 'number' && Number.isInteger(r.overlayDim) && r.overlayDim > 0) s.overlayDim = r.overlayDim;
  if (isSlotRecord(r.runColors)) s.runColors = { ...r.runColors };
  s.table = loadTableState(r.table);
  s.sweepShape = loadShapeState(r.sweepShape);
  if (typeof r.repeatBands === 'boolean') s.repeatBands = r.repeatBands;
  return s;
}

function isSlotRecord(v: unknown): v is Record<string, number> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)
  );
}

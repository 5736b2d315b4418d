/**
 * Messages between the extension host and the metrics panel webview (docs/architecture.md#one-run-from-config-to-chart).
 * Both ends validate with the guards below: a message that fails its guard is logged and dropped.
 *
 * Conversation:
 *   webview → host   `ready` (on every (re)load; carries the webview's persisted PanelState, if any)
 *   host → webview   `init` (run list + which runs to show) and then `metrics` with `reset: true` for every
 *                    run the webview should draw (the shown runs; the latest run if none was chosen)
 *   host → webview   live: `metrics` (appended lines), `runInfo` (status/progress of one run), `runs`
 *                    (whole list changed: a run started or was deleted), `showRuns`, `configDiff`
 *   webview → host   `requestRun` when the user turns on a run whose metrics it does not hold yet; the host
 *                    answers with `metrics` reset:true and keeps streaming that run's appends from then on.
 *                    `exportCsv` / `exportPng` (the host shows a save dialog), `openConfigDiff`, `log`.
 *
 * Keep this module free of vscode and Node imports: the webview bundles it for the browser.
 */
import {
  isDataProvenance,
  isGitProvenance,
  isMetricsLine,
  type BestCheckpoint,
  type ByDim,
  type DataProvenance,
  type GitProvenance,
  type MetricsLine,
  type RunNotes,
  type RunStatus,
  type SweepRef,
} from './runFolder';

// ---------------------------------------------------------------- shared shapes

/** One run as the panel sees it. `config` is the run's resolved config.json (for the diff table). */
export interface PanelRun {
  id: string;
  name: string;
  status: RunStatus;
  /** Why a failed run failed (run.json `error`). */
  error?: string;
  startedAt?: string;
  endedAt?: string | null;
  step?: number;
  totalSteps?: number;
  backend?: string;
  /** The resolved RunConfig, or null when config.json is missing/unreadable. Typed loosely on purpose:
   *  the panel diffs whatever the file holds. */
  config?: Record<string, unknown> | null;
  /** "bundled" when absent. */
  engine?: string;
  /** run.json `sweep`: the sweep this run is one combination of. */
  sweep?: SweepRef;
  /** notes.json (display name, tags, note), when the user wrote any. */
  notes?: RunNotes;
  /** What the runs table shows of the metrics; absent until the host has read them (read lazily). */
  summary?: PanelRunSummary;
  /** run.json `bestCheckpoints` (training.keepBest): per dim the metric, step and value of the best checkpoint kept. */
  bestCheckpoints?: Record<string, BestCheckpoint>;
  /** run.json `git`: the commit of the config's work tree when the run started. */
  git?: GitProvenance;
  /** run.json `data`: each split's source (file path + SHA-256, or the builtin data set's package version). */
  data?: DataProvenance[];
}

/**
 * A run's metrics digest for the runs table and the dim advisor, computed by the host from the whole
 * metrics.jsonl (resume markers applied), so the table needs no replay of every run.
 */
export interface PanelRunSummary {
  /** Step of the latest eval event, null when there is none. */
  evalStep: number | null;
  /** The latest eval event's per-dim values: last["64"]["ndcg@10"], every precision (`int8+rescore:ndcg@10`):
   *  the table's frontier columns are computed from it (src/insights/frontier.ts adviseFrontier). */
  last: ByDim;
  /** Best value per dim and metric over every eval event (max, or min for lower-is-better metrics). */
  best: ByDim;
  /** The latest eval event's dimension-less values (`funnel:ndcg@10`, `funnel:macsSaved`, …). */
  lastValues: Record<string, number>;
  /** Latest training loss. */
  loss: number | null;
  /** Training pairs (samples) per second, as the tree's status line computes it. */
  pairsPerSec: number | null;
  /** Last step written. */
  lastStep: number | null;
}

/** Settings of the extension the panel uses (sent in `init` and again when they change). */
export interface PanelSettings {
  /** The dim advisor's target: smallest dim reaching this % of the full-dim metric (default 95). */
  advisorPercent: number;
}

/**
 * What the webview persists through `vscode.setState` (and what a WebviewPanelSerializer receives as
 * `state` after a window reload). Only `shownRunIds` is a contract for the host: replay those runs.
 * Everything else is UI state private to the webview (may change without notice).
 */
export interface PanelState {
  version: 1;
  shownRunIds: string[];
  [uiState: string]: unknown;
}

export const METRICS_PANEL_VIEW_TYPE = 'matryoshkaLab.metricsPanel';

// ---------------------------------------------------------------- host → webview

export interface InitMessage {
  type: 'init';
  runs: PanelRun[];
  /** Runs to overlay, chosen by the host: a command's runs, else `ready.state.shownRunIds`, else the latest
   *  run. The host replays exactly these right after `init` (the webview does not `requestRun` them).
   *  Absent: the webview keeps its restored choice (first open: the latest run, which it requests). */
  showRuns?: string[];
  /** Runs whose configs to diff (opens the table), as `configDiff` would. */
  configDiff?: string[];
  settings?: PanelSettings;
}
/** The settings changed. */
export interface SettingsMessage {
  type: 'settings';
  settings: PanelSettings;
}
/** The whole run list (a run was added or deleted). Runs no longer listed disappear from the panel. */
export interface RunsMessage {
  type: 'runs';
  runs: PanelRun[];
}
/** Lines of one run's metrics.jsonl, in file order. `reset`: drop what the panel holds for the run first
 *  (full replay). Resume events are applied by the webview (drops earlier points with step > fromStep). */
export interface MetricsMessage {
  type: 'metrics';
  runId: string;
  lines: MetricsLine[];
  reset?: boolean;
  /** Optional raw metrics.jsonl text, taken as further lines after `lines` (send `lines: []` with it).
   *  Preferred for big replays: one string crosses postMessage as a block, where 100k line objects cost
   *  seconds of structured cloning. The webview parses it, skips torn/invalid lines and logs a count. */
  jsonl?: string;
}
/** One run changed (status, progress, error). Upsert: an unknown id is added to the list. */
export interface RunInfoMessage {
  type: 'runInfo';
  run: PanelRun;
}
/** Which runs to overlay ("Compare Runs"). `compare: true` also opens the config diff table for them. */
export interface ShowRunsMessage {
  type: 'showRuns';
  runIds: string[];
  compare?: boolean;
}
/** Show the changed-keys table for these runs (2 or more). `configs` overrides/extends the configs
 *  carried by the run list (key = run id). */
export interface ConfigDiffMessage {
  type: 'configDiff';
  runIds: string[];
  configs?: Record<string, Record<string, unknown> | null>;
}

export type HostToWebviewMessage =
  InitMessage | RunsMessage | MetricsMessage | RunInfoMessage | ShowRunsMessage | ConfigDiffMessage | SettingsMessage;

// ---------------------------------------------------------------- webview → host

export interface ReadyMessage {
  type: 'ready';
  state?: PanelState | null;
}
/** Send me this run's metrics (reset:true replay) and keep streaming its appends. */
export interface RequestRunMessage {
  type: 'requestRun';
  runId: string;
}
/** Save this CSV (host shows a save dialog; `suggestedName` is a bare file name). */
export interface ExportCsvMessage {
  type: 'exportCsv';
  suggestedName: string;
  csv: string;
}
/** Save this PNG; `dataUrl` is `data:image/png;base64,…`. */
export interface ExportPngMessage {
  type: 'exportPng';
  suggestedName: string;
  dataUrl: string;
}
/** Open VS Code's diff editor on two runs' config.json. */
export interface OpenConfigDiffMessage {
  type: 'openConfigDiff';
  runIds: [string, string];
}
export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}
/** What the runs table asks the host to do with the selected runs (the host runs the same commands as
 *  the palette, with their confirmations). */
export type RunAction = 'plot' | 'diff' | 'stop' | 'resume' | 'delete' | 'editNotes' | 'stopSweep' | 'export';
export const RUN_ACTIONS: readonly RunAction[] = ['plot', 'diff', 'stop', 'resume', 'delete', 'editNotes', 'stopSweep', 'export'];
export interface RunActionMessage {
  type: 'runAction';
  action: RunAction;
  runIds: string[];
}

export type WebviewToHostMessage =
  ReadyMessage | RequestRunMessage | ExportCsvMessage | ExportPngMessage | OpenConfigDiffMessage | LogMessage | RunActionMessage;

// ---------------------------------------------------------------- runtime guards

const RUN_STATUSES: readonly string[] = ['running', 'completed', 'failed', 'stopped'];

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isStr(x: unknown): x is string {
  return typeof x === 'string';
}
function isStrArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every(isStr);
}
function optional(x: unknown, check: (v: unknown) => boolean): boolean {
  return x === undefined || check(x);
}
export function isPanelRun(x: unknown): x is PanelRun {
  return (
    isObj(x) &&
    isStr(x.id) &&
    isStr(x.name) &&
    isStr(x.status) &&
    RUN_STATUSES.includes(x.status) &&
    optional(x.error, isStr) &&
    optional(x.startedAt, isStr) &&
    optional(x.endedAt, (v) => v === null || isStr(v)) &&
    optional(x.step, (v) => typeof v === 'number') &&
    optional(x.totalSteps, (v) => typeof v === 'number') &&
    optional(x.backend, isStr) &&
    optional(x.config, (v) => v === null || isObj(v)) &&
    optional(x.engine, isStr) &&
    optional(x.sweep, isSweepRef) &&
    optional(x.notes, isRunNotes) &&
    optional(x.summary, isObj) &&
    optional(x.bestCheckpoints, isBestCheckpoints) &&
    optional(x.git, isGitProvenance) &&
    optional(x.data, isDataProvenance)
  );
}
/** run.json `bestCheckpoints`: dim (decimal string) → {metric, step, value}. */
export function isBestCheckpoints(x: unknown): x is Record<string, BestCheckpoint> {
  return (
    isObj(x) &&
    Object.entries(x).every(
      ([d, b]) => /^\d+$/.test(d) && isObj(b) && isStr(b.metric) && Number.isInteger(b.step) && typeof b.value === 'number',
    )
  );
}
export function isSweepRef(x: unknown): x is SweepRef {
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  return (
    isObj(x) && isStr(x.id) && typeof x.index === 'number' && isObj(x.params) && optional(x.combination, count) && optional(x.repeat, count)
  );
}
export function isRunNotes(x: unknown): x is RunNotes {
  return isObj(x) && isStrArray(x.tags) && isStr(x.note) && optional(x.displayName, isStr);
}
export function isPanelSettings(x: unknown): x is PanelSettings {
  return isObj(x) && typeof x.advisorPercent === 'number';
}

function isConfigRecord(x: unknown): boolean {
  if (!isObj(x)) return false;
  for (const k in x) if (x[k] !== null && !isObj(x[k])) return false;
  return true;
}

export function isHostToWebviewMessage(x: unknown): x is HostToWebviewMessage {
  if (!isObj(x) || !isStr(x.type)) return false;
  switch (x.type) {
    case 'init':
      return (
        Array.isArray(x.runs) &&
        x.runs.every(isPanelRun) &&
        optional(x.showRuns, isStrArray) &&
        optional(x.configDiff, isStrArray) &&
        optional(x.settings, isPanelSettings)
      );
    case 'settings':
      return isPanelSettings(x.settings);
    case 'runs':
      return Array.isArray(x.runs) && x.runs.every(isPanelRun);
    case 'metrics':
      return (
        isStr(x.runId) &&
        Array.isArray(x.lines) &&
        x.lines.every(isMetricsLine) &&
        optional(x.reset, (v) => typeof v === 'boolean') &&
        optional(x.jsonl, isStr)
      );
    case 'runInfo':
      return isPanelRun(x.run);
    case 'showRuns':
      return isStrArray(x.runIds) && optional(x.compare, (v) => typeof v === 'boolean');
    case 'configDiff':
      return isStrArray(x.runIds) && optional(x.configs, isConfigRecord);
    default:
      return false;
  }
}

export function isPanelState(x: unknown): x is PanelState {
  return isObj(x) && x.version === 1 && isStrArray(x.shownRunIds);
}

export function isWebviewToHostMessage(x: unknown): x is WebviewToHostMessage {
  if (!isObj(x) || !isStr(x.type)) return false;
  switch (x.type) {
    case 'ready':
      return x.state === undefined || x.state === null || isPanelState(x.state);
    case 'requestRun':
      return isStr(x.runId);
    case 'exportCsv':
      return isStr(x.suggestedName) && isStr(x.csv);
    case 'exportPng':
      return isStr(x.suggestedName) && isStr(x.dataUrl) && x.dataUrl.startsWith('data:image/png;base64,');
    case 'openConfigDiff':
      return isStrArray(x.runIds) && x.runIds.length === 2;
    case 'log':
      return (x.level === 'info' || x.level === 'warn' || x.level === 'error') && isStr(x.message);
    case 'runAction':
      return isStr(x.action) && (RUN_ACTIONS as readonly string[]).includes(x.action) && isStrArray(x.runIds);
    default:
      return false;
  }
}

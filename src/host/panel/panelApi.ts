/**
 * The metrics panel host's boundary with the rest of the extension host: what it takes (MetricsPanelDeps,
 * wired in src/host/extension.ts) and what it offers (MetricsPanelView, all that commands and the
 * launcher's callback see of it). src/host/panel/ imports nothing of src/host outside this folder, so the
 * host's sub-folders depend on one another without a cycle (test/unit/boundaries.test.ts; the layout is
 * described in docs/architecture.md).
 */
import type * as vscode from 'vscode';
import type { PanelSettings } from '../../protocol/panelMessages';
import type { RefreshResult, RunDigest, RunState } from '../../runs/store';
import type { RunActionCommands } from './runActions';

/** The runs the panel shows and streams: the host's RunsModel. */
export interface PanelRuns {
  /** Fires after every refresh that changed something. */
  readonly onDidChange: vscode.Event<RefreshResult>;
  list(): RunState[];
  get(id: string): RunState | undefined;
  /** Whether the run's metrics written so far are all read. */
  isRead(id: string): boolean;
  /** Read these runs' metrics before the rest of the backlog, at once (the panel waits to draw them). */
  prioritize(ids: readonly string[]): void;
  /** While on, every finished run whose metrics are not read yet gets a quick summary, pass after pass (the
   *  panel's runs table shows every run's figures); the refreshes name them in `summarized`. */
  readSummaries(on: boolean): void;
  /** The run's metrics as far as they are complete (the full read's, or a finished run's quick summary);
   *  undefined while loading. */
  digestOf(id: string): RunDigest | undefined;
}

/** How the panel carries out runs-table actions: the commands to run, and how to execute one. */
export interface PanelActions {
  commands: RunActionCommands;
  execute(command: string, ...args: unknown[]): Thenable<unknown>;
}

/** Everything the panel host needs from outside src/host/panel/. */
export interface MetricsPanelDeps {
  /** The extension's folder: dist/webview.js and media/ are served from it. */
  extensionUri: vscode.Uri;
  runs: PanelRuns;
  log: vscode.OutputChannel;
  /** The settings the panel uses, as they are now (sent in `init` and when they change). */
  settings(): PanelSettings;
  /** Calls `listener` whenever one of those settings changed. */
  onDidChangeSettings(listener: () => void): vscode.Disposable;
  /** Open VS Code's diff editor on two runs' config.json (the webview's `openConfigDiff`). */
  openConfigDiff(a: string, b: string): void;
  actions: PanelActions;
}

export interface PanelShowOptions {
  /** Also open the config diff table for these runs. */
  compare?: boolean;
  /** Runs whose configs to diff once the page is ready. */
  diff?: string[];
  preserveFocus?: boolean;
  /** Open beside the active editor (beside a diff editor, not over it). */
  beside?: boolean;
}

/** The panel as the rest of the host uses it (commands, the launcher's "launched" callback). */
export interface MetricsPanelView {
  /** Open (or reveal) the panel and overlay these runs. */
  show(runIds: string[], opts?: PanelShowOptions): void;
  /** Show the changed-keys table for these runs (Diff Run Configs); `configs` for config files (not runs). */
  showDiff(runIds: string[], configs?: Record<string, Record<string, unknown> | null>): void;
}

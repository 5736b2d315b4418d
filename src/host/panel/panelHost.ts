/**
 * The metrics panel host: one webview panel, fed from the runs it is given (the host's RunsModel, through
 * MetricsPanelDeps in ./panelApi.ts, wired in src/host/extension.ts). On `ready` it sends `init` and a
 * full replay (`metrics` reset:true) of the runs to draw, then streams only appended lines of those runs.
 * A WebviewPanelSerializer restores the panel after a window reload with the runs it showed.
 */
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  type HostToWebviewMessage,
  isWebviewToHostMessage,
  METRICS_PANEL_VIEW_TYPE,
  type PanelRun,
  type PanelState,
  type RunActionMessage,
  type WebviewToHostMessage,
} from '../../protocol/panelMessages';
import type { MetricsLine } from '../../protocol/runFolder';
import type { RunState } from '../../runs/store';
import { createNonce, renderPanelHtml } from './html';
import type { MetricsPanelDeps, MetricsPanelView, PanelRuns, PanelShowOptions } from './panelApi';
import { panelRunOf } from './panelRun';
import { planRunAction } from './runActions';

/** Events per replay message (one per tick): 1000 events serialise in ~5-30 ms (measured, loaded 2-core box). */
export const REPLAY_SLICE = 1000;

/** A streaming run's summary goes to the panel at most this often (runs table rows; the charts get lines). */
export const SUMMARY_INTERVAL_MS = 1000;

export class MetricsPanel implements MetricsPanelView, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** Runs whose appends we stream (the webview holds their replay). */
  private streamed = new Set<string>();
  private ready = false;
  /** What to show once the webview says ready (a command arrived before the page loaded). */
  private pendingShow: { runIds: string[]; compare?: boolean; diff?: string[] } | undefined;
  private subs: vscode.Disposable[] = [];

  private readonly extensionUri: vscode.Uri;
  private readonly model: PanelRuns;
  private readonly log: vscode.OutputChannel;

  constructor(private readonly deps: MetricsPanelDeps) {
    this.extensionUri = deps.extensionUri;
    this.model = deps.runs;
    this.log = deps.log;
    this.subs.push(
      deps.onDidChangeSettings(() => {
        if (this.panel && this.ready) this.post({ type: 'settings', settings: deps.settings() });
      }),
      this.model.onDidChange((r) => {
        if (!this.panel || !this.ready) {
          // Not loaded yet: `ready` will send everything, including runs that appeared meanwhile.
          if (this.pendingShow) for (const id of r.added) if (this.awaiting.delete(id)) this.pendingShow.runIds.push(id);
          return;
        }
        if (r.added.length || r.removed.length) this.post({ type: 'runs', runs: this.model.list().map((s) => this.panelRun(s)) });
        for (const id of r.removed) {
          this.streamed.delete(id);
          this.loadingSent.delete(id);
        }
        for (const id of r.changed) {
          const s = this.model.get(id);
          if (s && !r.added.includes(id)) this.postRunInfo(s);
        }
        // New metrics move the runs table's figures: the rows whose metrics are now all read go out together
        // in one message; a streaming run's row at most once per SUMMARY_INTERVAL_MS.
        const now: string[] = [];
        for (const [id, a] of r.appended) if (!r.changed.includes(id) && !r.added.includes(id)) this.summaryChanged(id, now, a.reset);
        // Rows that were loading and are complete now: summed up (quick summaries), or read to their end (in
        // a pass that may have found no new line: an empty metrics.jsonl).
        for (const id of this.loadingSent) if (!now.includes(id) && this.model.digestOf(id)) now.push(id);
        this.postRunInfos(now);
        const pending = new Set(r.pending);
        for (const [id, a] of r.appended) {
          if (!this.streamed.has(id)) continue;
          if (pending.has(id)) {
            // A backlog (a large file seen for the first time) is being read a slice per tick: do not
            // stream it line by line; replay the (bounded) series once it is read.
            this.backfill.add(id);
            continue;
          }
          if (a.reset || this.backfill.has(id)) this.replay(id);
          else if (a.lines.length) this.sendLines(id, a.lines);
        }
        for (const id of [...this.backfill]) if (!pending.has(id)) this.replay(id);
        // A run started from a terminal or the palette shows up in the panel on its own if nothing was chosen.
        for (const id of r.added) {
          const s = this.model.get(id);
          if (this.awaiting.delete(id)) this.show([id], { preserveFocus: true });
          else if (s?.status === 'running' && this.streamed.size === 0) this.show([id], { preserveFocus: true });
        }
      }),
      vscode.window.registerWebviewPanelSerializer(METRICS_PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const st = state as PanelState | undefined;
          this.adopt(panel);
          if (st?.shownRunIds?.length) this.pendingShow = { runIds: st.shownRunIds.filter((id) => this.model.get(id)) };
        },
      }),
    );
  }

  get visible(): boolean {
    return !!this.panel?.visible;
  }

  /** Runs asked for before their folder appeared (a launch): shown as soon as the store sees them. */
  private awaiting = new Set<string>();

  /** Open (or reveal) the panel and overlay these runs. */
  show(runIds: string[], opts: PanelShowOptions = {}): void {
    for (const id of runIds) if (!this.model.get(id) && !id.startsWith('file:')) this.awaiting.add(id);
    if (!this.panel) {
      const column = opts.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
      const panel = vscode.window.createWebviewPanel(
        METRICS_PANEL_VIEW_TYPE,
        'Matryoshka Lab — Metrics',
        { viewColumn: column, preserveFocus: opts.preserveFocus },
        this.options(),
      );
      this.adopt(panel);
    } else this.panel.reveal(undefined, opts.preserveFocus);
    if (!this.ready) {
      this.pendingShow = { runIds, compare: opts.compare, diff: opts.diff };
      return;
    }
    this.sendShow(runIds, opts.compare, opts.diff);
  }

  /** Show the changed-keys table for these runs (Diff Run Configs). */
  showDiff(runIds: string[], configs?: Record<string, Record<string, unknown> | null>): void {
    if (!this.panel || !this.ready) {
      // Beside the diff editor, not over it.
      this.show(
        runIds.filter((id) => !id.startsWith('file:')),
        { diff: runIds, preserveFocus: true, beside: true },
      );
      if (configs) this.pendingConfigs = configs;
      return;
    }
    if (!this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, true);
    this.post({ type: 'configDiff', runIds, configs });
  }
  private pendingConfigs: Record<string, Record<string, unknown> | null> | undefined;

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // The webview keeps its state through getState/setState, so it need not stay alive when hidden.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const w = panel.webview;
    w.html = renderPanelHtml({
      cspSource: w.cspSource,
      nonce: createNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css')).toString(),
    });
    const subs = [
      w.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        /* the webview re-sends `ready` when it reloads */
      }),
    ];
    panel.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      if (this.panel === panel) {
        this.panel = undefined;
        this.ready = false;
        this.model.readSummaries(false);
        this.streamed.clear();
        this.replaying.clear();
        this.backfill.clear();
        this.clearSummaryTimers();
      }
    });
  }

  /** When each run's row was last sent, and the runs waiting for their next summary slot. */
  private infoSentAt = new Map<string, number>();
  private summaryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Runs last sent with `metricsLoading` (their rows show loading cells until their figures are known). */
  private loadingSent = new Set<string>();

  /**
   * A run as the panel sees it, loading or with its summary (as far as RunStore.digestOf knows it complete);
   * remembers which was sent.
   * `update`: a row update (runInfo, runInfos), which starts the run's SUMMARY_INTERVAL_MS.
   */
  private panelRun(s: RunState, withConfig = true, update = false): PanelRun {
    const run = panelRunOf(s, this.model.digestOf(s.id) ?? null);
    if (!withConfig) delete run.config;
    if (run.metricsLoading) this.loadingSent.add(s.id);
    else this.loadingSent.delete(s.id);
    if (update) {
      this.infoSentAt.set(s.id, Date.now());
      const t = this.summaryTimers.get(s.id);
      if (t) clearTimeout(t);
      this.summaryTimers.delete(s.id);
    }
    return run;
  }

  private postRunInfo(s: RunState): void {
    this.post({ type: 'runInfo', run: this.panelRun(s, true, true) });
  }

  /** Metrics-only updates of these runs' rows, in one message; the webview keeps the configs it holds. */
  private postRunInfos(ids: readonly string[]): void {
    const runs: PanelRun[] = [];
    for (const id of ids) {
      const s = this.model.get(id);
      // Still loading (a slice of its file read): its row already says so; the full summary follows.
      if (s && (this.model.digestOf(id) || !this.loadingSent.has(id))) runs.push(this.panelRun(s, false, true));
    }
    if (runs.length) this.post({ type: 'runInfos', runs });
  }

  /**
   * A run's metrics grew: its row goes out with this refresh's batch (`now`) when its metrics are complete
   * for the first time or its interval passed, else once SUMMARY_INTERVAL_MS has passed since the last. A
   * finished run already shown complete (from its quick summary) is not sent again as its full read goes
   * on: a finished run's file does not change (`reset`: it was replaced).
   */
  private summaryChanged(id: string, now: string[], reset: boolean): void {
    if (this.summaryTimers.has(id)) return;
    if (this.loadingSent.has(id)) {
      if (this.model.digestOf(id)) now.push(id);
      return;
    }
    if (!reset && this.model.get(id)?.status !== 'running') return;
    const wait = (this.infoSentAt.get(id) ?? -Infinity) + SUMMARY_INTERVAL_MS - Date.now();
    if (wait <= 0) now.push(id);
    else
      this.summaryTimers.set(
        id,
        setTimeout(() => {
          this.summaryTimers.delete(id);
          if (this.panel && this.ready) this.postRunInfos([id]);
        }, wait),
      );
  }

  private clearSummaryTimers(): void {
    for (const t of this.summaryTimers.values()) clearTimeout(t);
    this.summaryTimers.clear();
    this.infoSentAt.clear();
    this.loadingSent.clear();
  }

  private post(m: HostToWebviewMessage): void {
    void this.panel?.webview.postMessage(m);
  }

  /** Runs whose appends are held back while the store reads their backlog. */
  private backfill = new Set<string>();
  /** Replays in progress (sent a slice per tick), with the live lines that arrived meanwhile. */
  private replaying = new Map<string, { gen: number; queued: MetricsLine[] }>();
  private replayGen = 0;

  /** Live lines of a streamed run, after any replay of it in progress. */
  private sendLines(id: string, lines: MetricsLine[]): void {
    const rp = this.replaying.get(id);
    if (rp) for (const l of lines) rp.queued.push(l);
    else this.post({ type: 'metrics', runId: id, lines });
  }

  private replay(id: string): void {
    const s = this.model.get(id);
    if (!s) return;
    this.streamed.add(id);
    if (!this.model.isRead(id)) {
      // Metrics not read yet (a workspace of many runs is read in the background): read this run next,
      // and replay it once read, rather than a part now and the rest line by line.
      this.backfill.add(id);
      this.model.prioritize([id]);
      return;
    }
    this.backfill.delete(id);
    // The series already has resume markers applied and is bounded (RunSeries thins old events past
    // MAX_SERIES_EVENTS): a replay of its events is the file's meaning, at a size the panel can draw.
    // As jsonl text (one string crosses into the webview far faster than line objects), in slices of
    // REPLAY_SLICE events, one per tick, so serialising never blocks the extension host for long.
    const events = s.series.events.slice();
    const gen = ++this.replayGen;
    const rp = { gen, queued: [] as MetricsLine[] };
    this.replaying.set(id, rp);
    const send = (from: number) => {
      if (this.replaying.get(id) !== rp || !this.panel) return;
      const to = Math.min(events.length, from + REPLAY_SLICE);
      const jsonl = events
        .slice(from, to)
        .map((e) => JSON.stringify(e))
        .join('\n');
      this.post({ type: 'metrics', runId: id, lines: [], jsonl, reset: from === 0 ? true : undefined });
      if (to < events.length) {
        setTimeout(() => send(to), 0);
        return;
      }
      this.replaying.delete(id);
      if (rp.queued.length) this.post({ type: 'metrics', runId: id, lines: rp.queued });
    };
    send(0);
  }

  private sendShow(runIds: string[], compare?: boolean, diff?: string[]): void {
    const ids = runIds.filter((id) => this.model.get(id));
    this.model.prioritize(ids);
    for (const id of ids) if (!this.streamed.has(id)) this.replay(id);
    this.post({ type: 'showRuns', runIds: ids, compare });
    if (diff && diff.length >= 2) {
      this.post({ type: 'configDiff', runIds: diff, configs: this.pendingConfigs });
      this.pendingConfigs = undefined;
    }
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewToHostMessage(raw)) {
      this.log.appendLine(`[panel] dropped an invalid message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m: WebviewToHostMessage = raw;
    switch (m.type) {
      case 'ready': {
        // A (re)loaded page holds nothing: replays in flight to the old one are abandoned with it.
        this.ready = true;
        // The runs table shows every run's figures: sum up the runs not read yet now (quick summaries), not
        // at the pace of the full read behind.
        this.model.readSummaries(true);
        this.streamed.clear();
        this.replaying.clear();
        this.backfill.clear();
        const runs = this.model.list();
        const want = this.pendingShow;
        this.pendingShow = undefined;
        const fromState = m.state?.shownRunIds?.filter((id) => this.model.get(id)) ?? [];
        const wanted = [...new Set(want?.runIds ?? [])].filter((id) => this.model.get(id));
        const show = wanted.length ? wanted : fromState.length ? fromState : runs[0] ? [runs[0].id] : [];
        this.post({
          type: 'init',
          runs: runs.map((s) => this.panelRun(s)),
          showRuns: show,
          configDiff: want?.diff && want.diff.length >= 2 ? want.diff : undefined,
          settings: this.deps.settings(),
        });
        this.model.prioritize(show);
        for (const id of show) this.replay(id);
        if (want?.compare) this.post({ type: 'showRuns', runIds: show, compare: true });
        if (want?.diff && this.pendingConfigs) {
          this.post({ type: 'configDiff', runIds: want.diff, configs: this.pendingConfigs });
          this.pendingConfigs = undefined;
        }
        break;
      }
      case 'requestRun':
        this.replay(m.runId);
        break;
      case 'exportCsv':
      case 'exportPng':
        void this.save(
          m.suggestedName,
          m.type === 'exportCsv' ? Buffer.from(m.csv, 'utf8') : Buffer.from(m.dataUrl.slice(m.dataUrl.indexOf(',') + 1), 'base64'),
          m.type === 'exportCsv' ? 'CSV' : 'PNG',
        );
        break;
      case 'openConfigDiff':
        this.deps.openConfigDiff(m.runIds[0], m.runIds[1]);
        break;
      case 'log':
        this.log.appendLine(`[panel:${m.level}] ${m.message}`);
        break;
      case 'runAction':
        this.runAction(m.action, m.runIds);
        break;
    }
  }

  /** The runs table's buttons: the same commands as the palette (with their confirmations). */
  private runAction(action: RunActionMessage['action'], runIds: string[]): void {
    const steps = planRunAction(
      action,
      runIds,
      (id) => !!this.model.get(id),
      (id) => this.model.get(id)?.info.sweep?.id,
      this.deps.actions.commands,
    );
    for (const st of steps) {
      if (st.kind === 'show') this.show(st.runIds, { preserveFocus: true });
      else if (st.kind === 'diffTable') this.showDiff(st.runIds);
      else if (st.kind === 'none') this.log.appendLine(`[panel] ${action}: ${st.reason}`);
      else {
        void Promise.resolve(this.deps.actions.execute(st.command, ...st.args)).catch((e: unknown) => {
          this.log.appendLine(`[panel] ${st.command} failed: ${e instanceof Error ? e.message : String(e)}`);
        });
      }
    }
  }

  private async save(name: string, data: Buffer, kind: 'CSV' | 'PNG'): Promise<void> {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const safe = name.replace(/[\\/:*?"<>|]+/g, '_');
    const uri = await vscode.window.showSaveDialog({
      defaultUri: base ? vscode.Uri.joinPath(base, safe) : undefined,
      filters: kind === 'CSV' ? { CSV: ['csv'] } : { PNG: ['png'] },
    });
    if (!uri) return;
    try {
      if (uri.scheme === 'file') writeFileSync(uri.fsPath, data);
      else await vscode.workspace.fs.writeFile(uri, data);
    } catch (e) {
      // A folder gone or read-only, a full disk: said so, never an unhandled rejection in the extension host.
      this.log.appendLine(`[panel] export ${kind} to ${uri.fsPath} failed: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Matryoshka Lab: could not save ${uri.fsPath}: ${(e as Error).message}`);
      return;
    }
    void vscode.window.showInformationMessage(`Matryoshka Lab: saved ${uri.fsPath}`);
  }

  dispose(): void {
    this.clearSummaryTimers();
    this.subs.forEach((s) => s.dispose());
    this.panel?.dispose();
  }
}

/**
 * The metrics panel host: one webview panel, fed from the RunsModel. On `ready` it sends `init` and a
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
  toPanelRun,
  type WebviewToHostMessage,
} from '../protocol/panelMessages';
import type { MetricsLine } from '../protocol/runFolder';
import type { RunState } from '../runs';

/** Events per replay message (one per tick): 1000 events serialise in ~5-30 ms (measured, loaded 2-core box). */
export const REPLAY_SLICE = 1000;
import type { RunsModel } from '../host/runsModel';
import { createNonce, renderPanelHtml } from './html';

export function panelRunOf(r: RunState): PanelRun {
  // The status shown is the effective one (a dead "running" run is failed), with the reason.
  const why = r.readError ? `could not read the run folder: ${r.readError}` : r.status !== r.info.status ? r.reason : undefined;
  const run = toPanelRun({ ...r.info, status: r.status, error: r.died ? r.info.error ?? r.reason ?? 'the trainer process is gone (killed or crashed)' : why ?? r.info.error }, r.config());
  if (run.step === undefined && r.summary.lastStep !== null) run.step = r.summary.lastStep;
  if (r.notes) run.notes = r.notes;
  return run;
}

export class MetricsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** Runs whose appends we stream (the webview holds their replay). */
  private streamed = new Set<string>();
  private ready = false;
  /** What to show once the webview says ready (a command arrived before the page loaded). */
  private pendingShow: { runIds: string[]; compare?: boolean; diff?: string[] } | undefined;
  private subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: RunsModel,
    private readonly log: vscode.OutputChannel,
    private readonly openConfigDiff: (a: string, b: string) => void,
  ) {
    this.subs.push(
      model.onDidChange((r) => {
        if (!this.panel || !this.ready) {
          // Not loaded yet: `ready` will send everything, including runs that appeared meanwhile.
          if (this.pendingShow) for (const id of r.added) if (this.awaiting.delete(id)) this.pendingShow.runIds.push(id);
          return;
        }
        if (r.added.length || r.removed.length) this.post({ type: 'runs', runs: this.model.list().map(panelRunOf) });
        for (const id of r.removed) this.streamed.delete(id);
        for (const id of r.changed) {
          const s = this.model.get(id);
          if (s && !r.added.includes(id)) this.post({ type: 'runInfo', run: panelRunOf(s) });
        }
        for (const [id, a] of r.appended) {
          if (!this.streamed.has(id)) continue;
          if (r.pending.includes(id)) {
            // A backlog (a large file seen for the first time) is being read a slice per tick: do not
            // stream it line by line; replay the (bounded) series once it is read.
            this.backfill.add(id);
            continue;
          }
          if (a.reset || this.backfill.has(id)) this.replay(id);
          else if (a.lines.length) this.sendLines(id, a.lines);
        }
        for (const id of [...this.backfill]) if (!r.pending.includes(id)) this.replay(id);
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
  show(runIds: string[], opts: { compare?: boolean; diff?: string[]; preserveFocus?: boolean; beside?: boolean } = {}): void {
    for (const id of runIds) if (!this.model.get(id) && !id.startsWith('file:')) this.awaiting.add(id);
    if (!this.panel) {
      const column = opts.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
      const panel = vscode.window.createWebviewPanel(METRICS_PANEL_VIEW_TYPE, 'Matryoshka Lab — Metrics', { viewColumn: column, preserveFocus: opts.preserveFocus }, this.options());
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
      this.show(runIds.filter((id) => !id.startsWith('file:')), { diff: runIds, preserveFocus: true, beside: true });
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
        this.streamed.clear();
        this.replaying.clear();
        this.backfill.clear();
      }
    });
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
      const jsonl = events.slice(from, to).map((e) => JSON.stringify(e)).join('\n');
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
        this.streamed.clear();
        this.replaying.clear();
        this.backfill.clear();
        const runs = this.model.list();
        const want = this.pendingShow;
        this.pendingShow = undefined;
        const fromState = m.state?.shownRunIds?.filter((id) => this.model.get(id)) ?? [];
        const wanted = [...new Set(want?.runIds ?? [])].filter((id) => this.model.get(id));
        const show = wanted.length ? wanted : fromState.length ? fromState : runs[0] ? [runs[0].id] : [];
        this.post({ type: 'init', runs: runs.map(panelRunOf), showRuns: show, configDiff: want?.diff && want.diff.length >= 2 ? want.diff : undefined });
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
        void this.save(m.suggestedName, m.type === 'exportCsv' ? Buffer.from(m.csv, 'utf8') : Buffer.from(m.dataUrl.slice(m.dataUrl.indexOf(',') + 1), 'base64'), m.type === 'exportCsv' ? 'CSV' : 'PNG');
        break;
      case 'openConfigDiff':
        this.openConfigDiff(m.runIds[0], m.runIds[1]);
        break;
      case 'log':
        this.log.appendLine(`[panel:${m.level}] ${m.message}`);
        break;
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
    if (uri.scheme === 'file') writeFileSync(uri.fsPath, data);
    else await vscode.workspace.fs.writeFile(uri, data);
    void vscode.window.showInformationMessage(`Matryoshka Lab: saved ${uri.fsPath}`);
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
    this.panel?.dispose();
  }
}

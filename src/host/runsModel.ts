/**
 * The host's live view of the runs folder: a RunStore (src/runs, no vscode) refreshed on file-watcher
 * events (debounced) and on a timer — the timer because watchers drop events (network drives, folders
 * outside the workspace, remote file systems). A refresh only stats files and reads appended bytes.
 * Metrics not read yet (a workspace opened with hundreds of finished runs) are read in the background, a
 * byte budget per event-loop turn (`drain`), after every run is listed: the tree is complete at once and
 * its descriptions fill in.
 */
import * as vscode from 'vscode';
import { RunStore, type RefreshResult, type RunDigest, type RunState } from '../runs/store';
import { runsDirStatus } from './settings';

/** Metrics bytes read at activation, with the listing: all of a few small runs, a few ms at most. */
export const FIRST_PASS_BYTES = 64 * 1024;
/** Bytes one pass reads when the panel waits for runs: 50 typical runs (~1.4 MB) in one go, tens of ms. */
export const URGENT_PASS_BYTES = 4 * 1024 * 1024;
/** Pause between two background passes over the metrics backlog (no one waiting for those runs): the
 *  extension host stays free for the tree's requests and other extensions starting up. */
export const BACKGROUND_PAUSE_MS = 50;
/** Bytes of metrics.jsonl one quick-summary pass reads (`readSummaries`, src/runs/quickSummary.ts: about
 *  5 ms of CPU a MB), then a turn of the event loop. */
export const SUMMARY_PASS_BYTES = 2 * 1024 * 1024;

export class RunsModel implements vscode.Disposable {
  private store: RunStore | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private readonly emitter = new vscode.EventEmitter<RefreshResult>();
  /** Fires after every refresh that changed something. */
  readonly onDidChange = this.emitter.event;
  private disposables: vscode.Disposable[] = [];
  /** Why there is no runs folder (it escapes the workspace), once shown. */
  private problem: string | undefined;

  /** `onProblem`: told (once per reason) why there is no runs folder (src/host/settings.ts runsDirStatus). */
  constructor(private readonly onProblem: (message: string) => void = () => {}) {
    this.reset();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('matryoshkaLab.runsFolder')) this.reset();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reset()),
    );
  }

  get dir(): string | undefined {
    return this.store?.runsDir;
  }
  list(): RunState[] {
    return this.store?.list() ?? [];
  }
  get(id: string): RunState | undefined {
    return this.store?.get(id);
  }
  live(): RunState[] {
    return this.list().filter((r) => r.status === 'running');
  }
  /**
   * Read these runs' metrics before the rest of the backlog. `urgent` (the panel is waiting to draw them):
   * pass after pass at once; else (rows the tree shows) at the background pace.
   */
  prioritize(ids: readonly string[], urgent = true): void {
    const store = this.store;
    if (!store) return;
    const unread = ids.filter((id) => !store.isRead(id));
    if (!unread.length) return;
    store.prioritize(unread, !urgent);
    if (urgent) for (const id of unread) this.urgent.add(id);
    this.scheduleDrain(urgent);
  }
  /** Runs someone waits for (the panel): the backlog is read without pauses until they are read. */
  private urgent = new Set<string>();
  /** Whether someone shows every run's figures (the panel's runs table): finished runs not read yet get
   *  a quick summary each, pass after pass, while the full read goes on at its pace. */
  private summarize = false;
  private scanTimer: ReturnType<typeof setTimeout> | undefined;
  /** See PanelRuns.readSummaries. */
  readSummaries(on: boolean): void {
    this.summarize = on;
    if (on) this.scheduleScan();
  }
  /** The run's metrics as far as they are complete (RunStore.digestOf); undefined while loading. */
  digestOf(id: string): RunDigest | undefined {
    return this.store?.digestOf(id);
  }
  private scheduleScan(): void {
    if (this.scanTimer || !this.summarize) return;
    this.scanTimer = setTimeout(() => {
      this.scanTimer = undefined;
      if (!this.store || !this.summarize) return;
      let r: { ids: string[]; more: boolean };
      try {
        r = this.store.scanSummaries(SUMMARY_PASS_BYTES);
      } catch (e) {
        console.error('[matryoshka-lab] summaries failed', e);
        return;
      }
      if (r.ids.length) this.emitter.fire({ added: [], removed: [], changed: [], appended: new Map(), pending: [], summarized: r.ids });
      if (r.more) this.scheduleScan();
    }, 0);
  }
  /** Whether the run's metrics written so far are all read. */
  isRead(id: string): boolean {
    return this.store?.isRead(id) ?? false;
  }

  private reset(): void {
    this.watcher?.dispose();
    if (this.timer) clearInterval(this.timer);
    const { dir, problem } = runsDirStatus();
    if (problem && problem !== this.problem) this.onProblem(problem);
    this.problem = problem;
    const had = this.store?.list().map((r) => r.id) ?? [];
    this.store = dir ? new RunStore(dir) : undefined;
    if (had.length) this.emitter.fire({ added: [], removed: had, changed: [], appended: new Map(), pending: [] });
    if (!dir) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '**/*'));
    const poke = () => this.schedule();
    this.watcher.onDidChange(poke);
    this.watcher.onDidCreate(poke);
    this.watcher.onDidDelete(poke);
    // Fast while something runs (live charts), slow otherwise (to notice runs started from a terminal).
    let tick = 0;
    this.timer = setInterval(() => {
      tick++;
      if (this.live().length > 0 || tick % 5 === 0) this.refresh();
    }, 1000);
    // At activation: list every run (run.json) so the tree is complete at once, with a small slice of
    // metrics (a small workspace is read whole); the rest is read right after, in the background.
    this.run(() => this.store!.refresh(FIRST_PASS_BYTES));
  }

  /** Coalesce bursts of watcher events (every metrics line is one). */
  schedule(delayMs = 150): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.refresh();
    }, delayMs);
  }

  refresh(): RefreshResult | undefined {
    return this.run(() => this.store!.refresh());
  }

  /** One more budget of the metrics backlog (no listing). */
  private drain(): RefreshResult | undefined {
    // The runs table's quick summaries first: the full read behind (charts, tree) waits for them, unless
    // someone waits for it (the panel's shown runs).
    if (this.scanTimer && !this.urgent.size) {
      this.scheduleDrain(false);
      return undefined;
    }
    // Runs the panel waits for are read in one pass (up to URGENT_PASS_BYTES), so their replays reach
    // the panel together and it draws the overlay once, not once per slice.
    return this.run(() => (this.urgent.size ? this.store!.drain(URGENT_PASS_BYTES, true) : this.store!.drain()));
  }

  private run(pass: () => RefreshResult): RefreshResult | undefined {
    if (!this.store) return undefined;
    let r: RefreshResult;
    try {
      r = pass();
    } catch (e) {
      console.error('[matryoshka-lab] refresh failed', e);
      return undefined;
    }
    // Also fire when a backlog just finished (the panel then replays the run it held back).
    const drained = this.hadPending && r.pending.length === 0;
    this.hadPending = r.pending.length > 0;
    if (r.added.length || r.removed.length || r.changed.length || r.appended.size || drained) this.emitter.fire(r);
    // A backlog (a large metrics.jsonl, or many runs seen for the first time) is read a slice per pass:
    // yield to the event loop between slices so the extension host stays responsive.
    for (const id of this.urgent) if (this.store!.isRead(id) || !this.store!.get(id)) this.urgent.delete(id);
    if (r.pending.length) this.scheduleDrain(this.urgent.size > 0);
    // Runs that appeared (or ended) meanwhile get their quick summary too.
    if (r.added.length || r.changed.length) this.scheduleScan();
    return r;
  }

  /** The next pass over the backlog: at once when someone waits for it (`urgent`: the panel), else after
   *  a pause, so the extension host (tree requests, other extensions starting) is never starved by it. */
  private scheduleDrain(urgent = false): void {
    if (this.backlog && (!urgent || this.backlogUrgent)) return;
    if (this.backlog) clearTimeout(this.backlog);
    this.backlogUrgent = urgent;
    this.backlog = setTimeout(
      () => {
        this.backlog = undefined;
        this.drain();
      },
      urgent ? 0 : BACKGROUND_PAUSE_MS,
    );
  }
  private backlog: ReturnType<typeof setTimeout> | undefined;
  private backlogUrgent = false;
  private hadPending = false;

  dispose(): void {
    this.watcher?.dispose();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    if (this.backlog) clearTimeout(this.backlog);
    if (this.scanTimer) clearTimeout(this.scanTimer);
    this.emitter.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}

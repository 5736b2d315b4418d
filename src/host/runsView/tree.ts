// The Runs tree view: running runs first, then the launches waiting in the queue, one node per sweep (its
// queued runs in it), then the other runs by status, newest first; each list shows PAGE_SIZE rows and a
// "Show more…" item. Spinning icon while running, menus by status, Cancel on a queued launch.
import * as vscode from 'vscode';
import type { RunStatus } from '../../protocol/runFolder';
import { hasCheckpoint } from '../../runs/runDir';
import type { RefreshResult, RunState } from '../../runs/store';
import type { RunsModel } from '../runsModel';
import {
  GROUP_LABEL,
  layoutRuns,
  moreLabel,
  PAGE_SIZE,
  QUEUED_CONTEXT,
  queuedDescription,
  runContextValue,
  runDescription,
  runTooltipMarkdown,
  sweepLabel,
  sweepRows,
  sweepTooltip,
  TreeLabels,
  type QueuedItem,
  type TreeLayout,
} from './treeModel';

/** A list of the tree that pages: a status group, the queued launches, a sweep's runs, or the sweeps. */
export type ListKey = RunStatus | 'queued' | `sweep:${string}` | 'sweeps';

export type TreeNode =
  | { kind: 'group'; status: RunStatus }
  | { kind: 'queue' }
  | { kind: 'sweep'; sweepId: string }
  | { kind: 'run'; id: string }
  | { kind: 'queued'; runId: string }
  | { kind: 'more'; list: ListKey };

export const SHOW_MORE_COMMAND = 'matryoshkaLab.showMoreRuns';
export { QUEUED_CONTEXT };

/** The launcher's queue as the tree reads it (the launcher implements it; runsView never imports launch/). */
export interface QueueSource {
  queued(): QueuedItem[];
  readonly onDidChangeQueue: vscode.Event<void>;
}

function icon(r: RunState): vscode.ThemeIcon {
  switch (r.status) {
    case 'running':
      return new vscode.ThemeIcon('loading~spin');
    case 'completed':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('charts.yellow'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
  }
}

export class RunsTreeProvider implements vscode.TreeDataProvider<TreeNode> {
  private readonly emitter = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  // Stable node objects, so TreeView.reveal and selection survive refreshes.
  private groups = new Map<RunStatus, TreeNode>();
  private sweepNodes = new Map<string, TreeNode>();
  private nodes = new Map<string, TreeNode>();
  private queuedNodes = new Map<string, TreeNode>();
  private readonly queueNode: TreeNode = { kind: 'queue' };
  private moreNodes = new Map<ListKey, TreeNode>();
  /** Rows shown per list (PAGE_SIZE until "Show more…" raises it). */
  private limits = new Map<ListKey, number>();
  /** The grouping, rebuilt only when runs are added, removed or change status (not on metrics). */
  private cached: TreeLayout<RunState> | undefined;
  private labels: TreeLabels | undefined;
  private queuedById = new Map<string, QueuedItem>();
  private parents = new Map<string, TreeNode>();
  /** hasCheckpoint per run (a readdir), asked only for runs a menu can resume; forgotten on change. */
  private checkpoints = new Map<string, boolean>();
  /** config.json of the runs that share their name with another (the labels compare them), read in the
   *  background a slice per tick after the rows are shown; labels use them once read. */
  private configs = new Map<string, Record<string, unknown> | null>();
  private reading = false;

  constructor(
    private readonly model: RunsModel,
    private readonly queue?: QueueSource,
  ) {
    model.onDidChange((r) => this.onModelChange(r));
    queue?.onDidChangeQueue(() => {
      this.cached = undefined;
      this.emitter.fire(undefined);
    });
  }

  private onModelChange(r: RefreshResult): void {
    for (const id of r.changed) this.checkpoints.delete(id);
    for (const id of r.removed) {
      this.checkpoints.delete(id);
      this.configs.delete(id);
      this.nodes.delete(id);
    }
    if (r.added.length || r.removed.length || r.changed.length) {
      this.cached = undefined;
      this.emitter.fire(undefined);
      return;
    }
    // Only metrics were read: refresh the rows whose description changed (rows never shown are skipped).
    const rows = [...r.appended.keys()].map((id) => this.nodes.get(id)).filter((n): n is TreeNode => !!n);
    if (rows.length) this.emitter.fire(rows);
  }

  refresh(): void {
    this.cached = undefined;
    this.checkpoints.clear();
    this.emitter.fire(undefined);
  }

  private layout(): TreeLayout<RunState> {
    if (this.cached) return this.cached;
    const queued = this.queue?.queued() ?? [];
    const l = layoutRuns(this.model.list(), queued);
    this.labels = new TreeLabels(this.model.list(), queued, (id) => this.configs.get(id));
    this.readConfigs(TreeLabels.sharingNames(this.model.list()).filter((r) => !this.configs.has(r.id)));
    this.queuedById = new Map(queued.map((q) => [q.runId, q]));
    for (const id of this.queuedNodes.keys()) if (!this.queuedById.has(id)) this.queuedNodes.delete(id);
    this.parents.clear();
    for (const g of l.groups) for (const r of g.runs) this.parents.set(r.id, this.groupNode(g.status));
    for (const s of l.sweeps) for (const r of s.runs) this.parents.set(r.id, this.sweepNode(s.id));
    return (this.cached = l);
  }

  /** Read these runs' configs, ~8 ms per tick (RunState.config() reads the file once), then relabel. */
  private readConfigs(todo: readonly RunState[]): void {
    if (this.reading || !todo.length) return;
    this.reading = true;
    let i = 0;
    const slice = () => {
      const end = performance.now() + 8;
      while (i < todo.length && performance.now() < end) {
        const r = todo[i++];
        this.configs.set(r.id, r.config());
      }
      if (i < todo.length) return void setTimeout(slice, 0).unref?.();
      this.reading = false;
      this.relabel();
    };
    setTimeout(slice, 0).unref?.();
  }

  /** Labels again, now comparing the configs read: only the rows whose label changed are refreshed. */
  private relabel(): void {
    const before = this.labels;
    if (!before) return;
    const list = this.model.list();
    const queued = [...this.queuedById.values()];
    const after = (this.labels = new TreeLabels(list, queued, (id) => this.configs.get(id)));
    const changed: TreeNode[] = [];
    for (const [id, n] of this.nodes) {
      const r = this.model.get(id);
      if (r && before.run(r) !== after.run(r)) changed.push(n);
    }
    for (const q of queued) {
      const n = this.queuedNodes.get(q.runId);
      if (n && before.queued(q) !== after.queued(q)) changed.push(n);
    }
    if (changed.length) this.emitter.fire(changed);
    // Runs added while these were read.
    this.readConfigs(TreeLabels.sharingNames(list).filter((r) => !this.configs.has(r.id)));
  }

  private limit(list: ListKey): number {
    return this.limits.get(list) ?? PAGE_SIZE;
  }

  /** The first `limit` of `items`, then the list's "Show more…" item when some are left out. */
  private page<T>(list: ListKey, items: readonly T[], node: (x: T) => TreeNode): TreeNode[] {
    const n = this.limit(list);
    const out = items.slice(0, n).map(node);
    if (items.length > n) out.push(this.moreNode(list));
    return out;
  }

  getChildren(el?: TreeNode): TreeNode[] {
    const l = this.layout();
    if (!el) {
      const running = l.groups.filter((g) => g.status === 'running').map((g) => this.groupNode(g.status));
      const rest = l.groups.filter((g) => g.status !== 'running').map((g) => this.groupNode(g.status));
      const queue = l.queued.length ? [this.queueNode] : [];
      return [...running, ...queue, ...this.page('sweeps', l.sweeps, (s) => this.sweepNode(s.id)), ...rest];
    }
    if (el.kind === 'group')
      return this.page(el.status, l.groups.find((g) => g.status === el.status)?.runs ?? [], (r) => this.nodeFor(r.id));
    if (el.kind === 'queue') return this.page('queued', l.queued, (q) => this.queuedNode(q.runId));
    if (el.kind === 'sweep') {
      const s = l.sweeps.find((x) => x.id === el.sweepId);
      return this.page(`sweep:${el.sweepId}`, s ? sweepRows(s) : [], (x) =>
        'run' in x ? this.nodeFor(x.run.id) : this.queuedNode(x.queued.runId),
      );
    }
    return [];
  }

  nodeFor(id: string): TreeNode {
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, (n = { kind: 'run', id }));
    return n;
  }
  private groupNode(status: RunStatus): TreeNode {
    let n = this.groups.get(status);
    if (!n) this.groups.set(status, (n = { kind: 'group', status }));
    return n;
  }
  private queuedNode(runId: string): TreeNode {
    let n = this.queuedNodes.get(runId);
    if (!n) this.queuedNodes.set(runId, (n = { kind: 'queued', runId }));
    return n;
  }
  private sweepNode(sweepId: string): TreeNode {
    let n = this.sweepNodes.get(sweepId);
    if (!n) this.sweepNodes.set(sweepId, (n = { kind: 'sweep', sweepId }));
    return n;
  }
  private moreNode(list: ListKey): TreeNode {
    let n = this.moreNodes.get(list);
    if (!n) this.moreNodes.set(list, (n = { kind: 'more', list }));
    return n;
  }

  getParent(el: TreeNode): TreeNode | undefined {
    switch (el.kind) {
      case 'group':
      case 'queue':
      case 'sweep':
        return undefined;
      case 'queued': {
        this.layout();
        const sweepId = this.queuedById.get(el.runId)?.sweep?.id;
        return sweepId ? this.sweepNode(sweepId) : this.queueNode;
      }
      case 'more':
        if (el.list === 'sweeps') return undefined;
        if (el.list === 'queued') return this.queueNode;
        return el.list.startsWith('sweep:') ? this.sweepNode(el.list.slice('sweep:'.length)) : this.groupNode(el.list as RunStatus);
      case 'run':
        this.layout();
        return this.parents.get(el.id);
    }
  }

  /** "Show more…": the list shows PAGE_SIZE more rows. */
  showMore(node: TreeNode): void {
    if (node.kind !== 'more') return;
    this.limits.set(node.list, this.limit(node.list) + PAGE_SIZE);
    const parent = this.getParent(node);
    this.emitter.fire(parent);
  }

  getTreeItem(el: TreeNode): vscode.TreeItem {
    const l = this.layout();
    if (el.kind === 'group') {
      const n = l.groups.find((g) => g.status === el.status)?.runs.length ?? 0;
      const item = new vscode.TreeItem(
        `${GROUP_LABEL[el.status]} (${n})`,
        el.status === 'failed' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded,
      );
      item.id = `group:${el.status}`;
      item.contextValue = 'mrlGroup';
      return item;
    }
    if (el.kind === 'queue') {
      const item = new vscode.TreeItem(`Queued (${l.queued.length})`, vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'group:queued';
      item.contextValue = 'mrlGroup';
      return item;
    }
    if (el.kind === 'queued') return this.queuedItem(el);
    if (el.kind === 'sweep') {
      const s = l.sweeps.find((x) => x.id === el.sweepId);
      if (!s) return new vscode.TreeItem(`sweep ${el.sweepId}`);
      const live = !!s.counts.running || s.queued.length > 0;
      const item = new vscode.TreeItem(
        sweepLabel(s),
        live ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.id = `sweep:${s.id}`;
      item.iconPath = new vscode.ThemeIcon(s.counts.running ? 'loading~spin' : s.queued.length ? 'watch' : 'layers');
      item.contextValue = 'mrlSweep';
      const md = new vscode.MarkdownString(sweepTooltip(s));
      md.isTrusted = false;
      md.supportHtml = false;
      md.supportThemeIcons = false;
      item.tooltip = md;
      return item;
    }
    if (el.kind === 'more') {
      const total =
        el.list === 'sweeps'
          ? l.sweeps.length
          : el.list === 'queued'
            ? l.queued.length
            : el.list.startsWith('sweep:')
              ? ((s) => (s ? s.runs.length + s.queued.length : 0))(l.sweeps.find((s) => `sweep:${s.id}` === el.list))
              : (l.groups.find((g) => g.status === el.list)?.runs.length ?? 0);
      const item = new vscode.TreeItem(moreLabel(Math.min(this.limit(el.list), total), total), vscode.TreeItemCollapsibleState.None);
      item.id = `more:${el.list}`;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.contextValue = 'mrlMore';
      item.command = { command: SHOW_MORE_COMMAND, title: 'Show More Runs', arguments: [el] };
      return item;
    }
    const r = this.model.get(el.id);
    if (!r) return new vscode.TreeItem(el.id);
    // A row on screen whose metrics are not read yet: read it before the rest of the backlog.
    if (!this.model.isRead(r.id)) this.model.prioritize([r.id], false);
    const label = this.labels!.run(r);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.id}`;
    item.iconPath = icon(r);
    item.description = runDescription(
      r.summary,
      r.info.startedAt,
      Date.now(),
      r.readError ? `unreadable: ${r.readError}` : r.reason && !r.died ? r.reason : undefined,
      r.notes,
      r.status === 'running' && !r.died ? r.info : undefined,
    );
    item.contextValue = runContextValue(r.status, this.resumable(r), r.info.engine);
    // Everything in the tooltip that comes from the run folder is escaped (a cloned repo's run.json
    // must not render links, commands or HTML); the MarkdownString is neither trusted nor HTML-enabled.
    const md = new vscode.MarkdownString(runTooltipMarkdown(r, label));
    md.isTrusted = false;
    md.supportHtml = false;
    md.supportThemeIcons = false;
    item.tooltip = md;
    item.command = { command: 'matryoshkaLab.openPanel', title: 'Open Metrics Panel', arguments: [el] };
    return item;
  }

  /** A launch waiting for a free slot: its label, "queued · 2 of 3", and the inline Cancel (contextValue). */
  private queuedItem(el: { kind: 'queued'; runId: string }): vscode.TreeItem {
    const q = this.queuedById.get(el.runId);
    if (!q) return new vscode.TreeItem(el.runId);
    const item = new vscode.TreeItem(this.labels!.queued(q), vscode.TreeItemCollapsibleState.None);
    item.id = `queued:${q.runId}`;
    item.iconPath = new vscode.ThemeIcon('watch');
    item.description = queuedDescription(q);
    item.contextValue = QUEUED_CONTEXT;
    // Plain text (never markdown): the name comes from a config file.
    item.tooltip = `${q.name} — ${queuedDescription(q)}: starts when a run finishes (matryoshkaLab.maxConcurrentRuns).\nRun id to be: ${q.runId}`;
    return item;
  }

  /** Whether the run has a checkpoint to resume from; only asked where a menu offers Resume. */
  private resumable(r: RunState): boolean {
    if (r.status === 'running' || r.status === 'completed') return false;
    let has = this.checkpoints.get(r.id);
    if (has === undefined) this.checkpoints.set(r.id, (has = hasCheckpoint(r.dir)));
    return has;
  }
}

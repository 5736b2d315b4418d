// The Runs tree view: runs grouped by status, spinning icon while running, context menus by status.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunStatus } from '../protocol/runFolder';
import type { RunState } from '../runs';
import type { RunsModel } from './runsModel';
import { GROUP_LABEL, groupRuns, runContextValue, runDescription, runLabel, runTooltipMarkdown } from './treeModel';

export type TreeNode = { kind: 'group'; status: RunStatus } | { kind: 'run'; id: string };

export function hasCheckpoint(dir: string): boolean {
  const c = join(dir, 'checkpoints');
  try {
    return existsSync(c) && readdirSync(c).length > 0;
  } catch {
    return false;
  }
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
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private groups = new Map<RunStatus, TreeNode>();
  private nodes = new Map<string, TreeNode>();

  constructor(private readonly model: RunsModel) {
    model.onDidChange((r) => {
      // Structure or status changed → whole tree; only metrics → still refresh (descriptions), cheap.
      void r;
      this.emitter.fire(undefined);
    });
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getChildren(el?: TreeNode): TreeNode[] {
    const runs = this.model.list();
    if (!el) {
      return groupRuns(runs).map((g) => {
        let n = this.groups.get(g.status);
        if (!n) this.groups.set(g.status, (n = { kind: 'group', status: g.status }));
        return n;
      });
    }
    if (el.kind === 'group') return runs.filter((r) => r.status === el.status).map((r) => this.nodeFor(r.id));
    return [];
  }

  /** Stable node objects, so TreeView.reveal and selection survive refreshes. */
  nodeFor(id: string): TreeNode {
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, (n = { kind: 'run', id }));
    return n;
  }

  getParent(el: TreeNode): TreeNode | undefined {
    if (el.kind === 'group') return undefined;
    const r = this.model.get(el.id);
    return r ? this.groups.get(r.status) : undefined;
  }

  getTreeItem(el: TreeNode): vscode.TreeItem {
    if (el.kind === 'group') {
      const n = this.model.list().filter((r) => r.status === el.status).length;
      const item = new vscode.TreeItem(`${GROUP_LABEL[el.status]} (${n})`, el.status === 'failed' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group:${el.status}`;
      item.contextValue = 'mrlGroup';
      return item;
    }
    const r = this.model.get(el.id);
    if (!r) return new vscode.TreeItem(el.id);
    const item = new vscode.TreeItem(runLabel(r), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.id}`;
    item.iconPath = icon(r);
    item.description = runDescription(r.summary, r.info.startedAt, Date.now(), r.readError ? `unreadable: ${r.readError}` : r.reason && !r.died ? r.reason : undefined, r.notes);
    item.contextValue = runContextValue(r.status, hasCheckpoint(r.dir));
    // Everything in the tooltip that comes from the run folder is escaped (a cloned repo's run.json
    // must not render links, commands or HTML); the MarkdownString is neither trusted nor HTML-enabled.
    const md = new vscode.MarkdownString(runTooltipMarkdown(r));
    md.isTrusted = false;
    md.supportHtml = false;
    md.supportThemeIcons = false;
    item.tooltip = md;
    item.command = { command: 'matryoshkaLab.openPanel', title: 'Open Metrics Panel', arguments: [el] };
    return item;
  }
}

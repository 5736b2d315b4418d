// The commands of the command palette, the tree's context menus and the editor title: one method per
// command (Commands), registered by registerCommands. Messages, pickers and confirmation go through ./ui;
// config templates through ./configTemplate; argument decoding through ./commandArgs.
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSafeRunId, isStrictlyInside, realPath } from '../../runs/runDir';
import type { RunState } from '../../runs/store';
import { RUN_FILES } from '../../protocol/runFolder';
import { distinctRunLabels } from '../../insights/runLabel';
import type { MetricsPanelView } from '../panel/panelApi';
import { idsOf, queuedTargetOf, sweepTargetOf } from './commandArgs';
import { registerNotesCommands } from './notesCommands';
import { configName, configNameProblem, CONFIG_SUFFIX, exampleConfigs, freeConfigName, instantiateTemplate } from './configTemplate';
import { CONFIG_GLOB, type ConfigValidation } from '../configEditor/configValidation';
import type { Launcher } from '../launch/launcher';
import { logsDirProblem, outputLogFile } from '../launch/outputLog';
import type { SweepLaunch } from '../launch/launchTypes';
import type { RunsModel } from '../runsModel';
import { SHOW_MORE_COMMAND, type RunsTreeProvider, type TreeNode } from '../runsView/tree';
import { queuedDescription } from '../runsView/treeModel';
import { confirm, pickRun, pickRuns, runItem, showError, showInfo, showWarning } from '../ui';
import { CMD } from './commandIds';
import { ExportCommand } from './exportCommand';
import { Exporter } from '../launch/exporter';

/** Options of Start Run for callers (tests, keybindings): `confirm: true` answers a sweep's question. */
export interface StartRunOptions {
  confirm?: boolean;
}

interface Deps {
  ctx: vscode.ExtensionContext;
  model: RunsModel;
  launcher: Launcher;
  panel: MetricsPanelView;
  validation: ConfigValidation;
  tree: RunsTreeProvider;
  view: vscode.TreeView<TreeNode>;
  /** matryoshkaLab.advisorPercent as it is now: Export Model preselects the advisor's point at it. */
  advisorPercent: () => number;
}

/**
 * A command's target, as the tree, the explorer, a keybinding's `args` or another extension passes it:
 * a tree node, a run id, `{id}`, or an array of those. Commands that get one skip their quick pick.
 */
type RunArg = TreeNode | string | { id: string } | Array<TreeNode | string | { id: string }> | undefined;

/** One side of a diff editor. */
interface DiffSide {
  uri: vscode.Uri;
  label: string;
}

async function findConfigs(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 500);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** The first workspace folder's path, if any. */
function rootPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** A config given as a Uri, an absolute path or a path relative to the first workspace folder. */
function configUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg !== 'string' || !arg) return undefined;
  const root = rootPath();
  return vscode.Uri.file(path.isAbsolute(arg) || !root ? arg : path.join(root, arg));
}

export class Commands {
  private readonly examplesDir: string;

  constructor(
    private readonly model: RunsModel,
    private readonly launcher: Launcher,
    private readonly panel: MetricsPanelView,
    private readonly validation: ConfigValidation,
    extensionPath: string,
  ) {
    this.examplesDir = path.join(extensionPath, 'examples');
  }

  /**
   * Start a run of a config (Uri, absolute or workspace-relative path; else a pick). → run id. A sweep
   * config asks once before queuing its runs (`{confirm: true}` answers yes) → {sweepId, runIds}.
   */
  async startRun(arg?: vscode.Uri | string, opts?: StartRunOptions): Promise<string | SweepLaunch | undefined> {
    let uri = configUri(arg);
    if (!uri && !arg) {
      const pick = await this.pickConfigToStart();
      if (!pick) return undefined;
      if (pick === 'template') {
        // A fresh config is opened for editing; starting it is the user's next step (after a look).
        await this.newConfig();
        return undefined;
      }
      uri = pick;
    }
    if (!uri) return undefined;
    // The explorer passes (clicked, selection): only a plain options object counts.
    const confirmed = !!opts && typeof opts === 'object' && !Array.isArray(opts) && opts.confirm === true;
    return this.launcher.start(uri, { confirmed });
  }

  /**
   * Stop Sweep: the sweep's running runs stop (checkpoint) and its queued runs are dropped. Target: a
   * sweep id, a run id of the sweep, a sweep node `{kind: 'sweep', sweepId}` or a run node; else a pick
   * of the sweeps with a run running or queued. → what was done, or undefined.
   */
  async stopSweep(a?: unknown): Promise<{ sweepId: string; stopped: string[]; dropped: string[] } | undefined> {
    let sweepId: string | undefined;
    const active = this.launcher.activeSweeps();
    const t = sweepTargetOf(Array.isArray(a) ? a[0] : a);
    if (t && 'sweepId' in t) sweepId = t.sweepId;
    else if (t) {
      const id = 'id' in t ? t.id : t.runId;
      // A string names a sweep when a sweep has that id, else a run of one.
      sweepId =
        'id' in t && (active.some((s) => s.sweepId === id) || this.model.list().some((r) => r.info.sweep?.id === id))
          ? id
          : this.launcher.sweepOfRun(id);
      if (!sweepId) {
        void showWarning(this.model.get(id) ? `run ${id} is not part of a sweep.` : `no sweep or run ${id}.`);
        return undefined;
      }
    } else if (a === undefined) {
      if (!active.length) {
        void showInfo('no sweep has a run running or queued (Stop Sweep).');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(
        active.map((s) => ({
          label: `$(debug-stop) ${s.name}`,
          description: `${s.running.length} running · ${s.queued.length} queued`,
          detail: s.sweepId,
          sweepId: s.sweepId,
        })),
        {
          title: 'Stop Sweep',
          placeHolder: 'Stop the running runs of a sweep and drop its queued ones',
          matchOnDescription: true,
          matchOnDetail: true,
        },
      );
      if (!pick) return undefined;
      sweepId = pick.sweepId;
    } else return undefined;
    const r = this.launcher.stopSweep(sweepId);
    if (!r.stopped.length && !r.dropped.length) void showWarning(`sweep ${sweepId} has no run running or queued.`);
    return { sweepId, ...r };
  }

  /**
   * Cancel a launch waiting in the queue (the runs view's inline action on a queued item): it leaves the
   * queue and never starts. Target: a queued node or a run id; else a pick of the queued launches.
   * → the run id cancelled, or undefined.
   */
  async cancelQueuedRun(a?: unknown): Promise<string | undefined> {
    let runId = queuedTargetOf(Array.isArray(a) ? a[0] : a);
    if (!runId && a === undefined) {
      const queued = this.launcher.queued();
      if (!queued.length) {
        void showInfo('no run is waiting in the queue.');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(
        queued.map((q) => ({ label: `$(close) ${q.name}`, description: queuedDescription(q), detail: q.runId, runId: q.runId })),
        { title: 'Cancel Queued Run', placeHolder: 'A run waiting for a free slot: it leaves the queue and never starts' },
      );
      runId = pick?.runId;
    }
    if (!runId) return undefined;
    if (this.launcher.cancelQueued(runId)) return runId;
    void showWarning(
      this.model.get(runId)?.status === 'running' ? `${runId} has started: Stop Run stops it.` : `${runId} is not waiting in the queue.`,
    );
    return undefined;
  }

  /** The workspace's configs, the active editor's first; or "New config from template…". */
  private async pickConfigToStart(): Promise<vscode.Uri | 'template' | undefined> {
    const active = vscode.window.activeTextEditor?.document.uri;
    const configs = await findConfigs();
    const root = rootPath() ?? '';
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri; template?: boolean };
    const items: Item[] = configs.map((u) => ({
      label: `$(json) ${path.basename(u.fsPath)}`,
      description: path.relative(root, path.dirname(u.fsPath)) || undefined,
      uri: u,
      picked: active?.toString() === u.toString(),
    }));
    if (active && CONFIG_SUFFIX.test(active.path)) {
      const i = items.findIndex((x) => x.uri?.toString() === active.toString());
      if (i > 0) items.unshift(...items.splice(i, 1));
    }
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(add) New config from template…', template: true });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Matryoshka Lab: Start Run',
      placeHolder: 'Choose a run config (*.mrl.json)',
    });
    if (!pick) return undefined;
    return pick.template ? 'template' : pick.uri;
  }

  /** Stop runs (the targets, else a pick of a running one). → the ids a stop was requested for. */
  async stopRun(a?: RunArg, sel?: unknown): Promise<string[]> {
    let ids = idsOf(a, sel);
    if (!ids.length)
      ids = await pickRun(
        this.model.list().filter((r) => r.status === 'running'),
        'Stop Run',
      );
    const stopped: string[] = [];
    for (const id of ids) {
      if (this.launcher.stop(id)) stopped.push(id);
      else void showWarning(`${id} is not running.`);
    }
    return stopped;
  }

  /** Resume a run from its last checkpoint (the target, else a pick). → whether it was launched. */
  /** Resumes the run(s) (an array resumes each); true when every one was launched or queued. */
  async resumeRun(a?: RunArg, sel?: unknown): Promise<boolean> {
    let ids = idsOf(a, sel);
    if (!ids.length)
      ids = await pickRun(
        this.model.list().filter((r) => r.status !== 'running' && r.status !== 'completed'),
        'Resume Run (from its last checkpoint)',
      );
    if (!ids.length) return false;
    const resumed: string[] = [];
    for (const id of ids) {
      const r = this.model.get(id);
      if (!r) void showWarning(`no run ${id} in the runs folder.`);
      else if (await this.launcher.resume(r)) resumed.push(r.id);
    }
    if (resumed.length) this.panel.show(resumed, resumed.length > 1 ? { preserveFocus: true, compare: true } : { preserveFocus: true });
    return resumed.length === ids.length;
  }

  /** Delete run folders (and their output logs) after a modal confirmation; never a running run. */
  async deleteRun(a?: RunArg, sel?: unknown): Promise<void> {
    let ids = idsOf(a, sel);
    if (!ids.length)
      ids = await pickRuns(
        this.model.list().filter((r) => r.status !== 'running'),
        'Delete Run',
      );
    const unknown = ids.filter((id) => !this.model.get(id));
    if (unknown.length) void showWarning(`no run ${unknown.join(', ')} in the runs folder.`);
    const runs = ids.map((id) => this.model.get(id)).filter((r): r is RunState => !!r);
    if (!runs.length) return;
    const live = runs.filter((r) => r.status === 'running');
    if (live.length) {
      void showWarning(`stop ${live.map((r) => r.info.name).join(', ')} before deleting.`);
      return;
    }
    const what = runs.length === 1 ? `run "${runs[0].info.name}" (${runs[0].id})` : `${runs.length} runs`;
    // The folders as they are on disk (links resolved): what the user agrees to remove.
    const real = runs.map((r) => realPath(r.dir));
    const where = real.length === 1 ? real[0] : real.slice(0, 5).join(', ') + (real.length > 5 ? `, and ${real.length - 5} more` : '');
    if (
      !(await confirm(
        `Delete ${what}? ${runs.length === 1 ? 'Its folder' : 'Their folders'} ${where} (metrics and checkpoints) ${runs.length === 1 ? 'is' : 'are'} removed from disk.`,
        'Delete',
      ))
    )
      return;
    const dir = this.model.dir!;
    for (const r of runs) {
      // Never anything outside the runs folder, whatever the id or a symlink says.
      if (!isSafeRunId(r.id) || !isStrictlyInside(dir, r.dir) || path.dirname(path.resolve(r.dir)) !== path.resolve(dir)) {
        void showError(`refusing to delete ${r.dir}: not a run folder inside ${dir}.`);
        continue;
      }
      rmSync(r.dir, { recursive: true, force: true });
      // Its output file, unless `.logs` is no folder of the runs folder's own (a link out: src/host/launch/outputLog.ts).
      if (!logsDirProblem(dir)) rmSync(outputLogFile(dir, r.id), { force: true });
    }
    this.model.refresh();
  }

  /** Open the metrics panel on the targets; else the live runs; else the newest run. */
  async openPanel(a?: RunArg, sel?: unknown): Promise<void> {
    let ids = idsOf(a, sel);
    if (!ids.length) {
      const live = this.model.live();
      ids = live.length
        ? live.map((r) => r.id)
        : this.model
            .list()
            .slice(0, 1)
            .map((r) => r.id);
    }
    this.panel.show(ids, { compare: ids.length > 1 });
  }

  /** Compare two or more runs in the panel (the targets, else a pick). */
  async compareRuns(a?: RunArg, sel?: unknown): Promise<void> {
    let ids = idsOf(a, sel);
    if (ids.length < 2) ids = await pickRuns(this.model.list(), 'Compare Runs (choose two or more)');
    if (ids.length < 1) return;
    this.panel.show(ids, { compare: true });
  }

  /**
   * Diff two configs. Explorer: (clicked uri, selected uris). Tree: (clicked node, selected nodes).
   * Panel: two ids. Palette: a pick of two of (runs ∪ config files).
   */
  async diffConfigs(a?: unknown, b?: unknown): Promise<void> {
    // Two config files: the explorer's (clicked, selection), (uri, uri) from a caller, or [uri, uri].
    const uris = (Array.isArray(b) ? b : Array.isArray(a) ? a : [a, b]).filter((x): x is vscode.Uri => x instanceof vscode.Uri);
    if (uris.length === 2) return this.diffFiles(uris[0], uris[1]);
    let ids = idsOf(a, b);
    if (typeof a === 'string' && typeof b === 'string') ids = [a, b];
    if (ids.length === 2) return this.diffRuns(ids[0], ids[1]);
    type Item = vscode.QuickPickItem & { run?: string; uri?: vscode.Uri };
    const items: Item[] = [
      ...this.model.list().map((r) => ({ ...runItem(r), run: r.id })),
      ...(await findConfigs()).map((u) => ({
        label: `$(json) ${path.basename(u.fsPath)}`,
        description: vscode.workspace.asRelativePath(u),
        uri: u,
      })),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Diff Run Configs: choose two runs or config files',
      canPickMany: true,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!picked) return;
    if (picked.length !== 2) {
      void showWarning('choose exactly two runs or config files to diff.');
      return;
    }
    const [p, q] = picked;
    if (p.run && q.run) return this.diffRuns(p.run, q.run);
    const side = (x: Item): DiffSide =>
      x.run
        ? { uri: vscode.Uri.file(path.join(this.model.get(x.run)!.dir, RUN_FILES.config)), label: this.model.get(x.run)!.info.name }
        : { uri: x.uri!, label: path.basename(x.uri!.fsPath) };
    return this.diffSides(side(p), side(q));
  }

  /** A new config from one of the shipped examples, opened for editing. → its Uri. */
  async newConfig(): Promise<vscode.Uri | undefined> {
    const examplesDir = this.examplesDir;
    const examples = exampleConfigs(examplesDir);
    if (!examples.length) {
      void showError('no example configs found in the extension.');
      return undefined;
    }
    const items = examples.map((f) => ({ label: f.replace(CONFIG_SUFFIX, ''), description: this.exampleName(f), file: f }));
    const pick = await vscode.window.showQuickPick(items, { title: 'New Run Config from template' });
    if (!pick) return undefined;
    const root = rootPath();
    if (!root) {
      void showError('open a folder first.');
      return undefined;
    }
    const fileName = await vscode.window.showInputBox({
      title: 'New run config',
      prompt: 'File name (relative to the workspace folder)',
      value: freeConfigName(root, pick.file),
      validateInput: (v) => configNameProblem(root, v),
    });
    if (!fileName) return undefined;
    const target = path.join(root, fileName);
    instantiateTemplate(examplesDir, pick.file, target);
    const uri = vscode.Uri.file(target);
    await vscode.window.showTextDocument(uri);
    return uri;
  }

  refresh(): unknown {
    return this.model.refresh();
  }

  showLog(): void {
    this.launcher.output.show(true);
  }

  /** An example's "name" for the template pick ('' when unreadable). */
  private exampleName(file: string): string {
    try {
      return configName(readFileSync(path.join(this.examplesDir, file), 'utf8'));
    } catch {
      return '';
    }
  }

  private async diffRuns(a: string, b: string): Promise<void> {
    const ra = this.model.get(a);
    const rb = this.model.get(b);
    if (!ra || !rb) {
      void showWarning(`no run ${[ra ? undefined : a, rb ? undefined : b].filter(Boolean).join(' or ')} in the runs folder.`);
      return;
    }
    const fa = vscode.Uri.file(path.join(ra.dir, RUN_FILES.config));
    const fb = vscode.Uri.file(path.join(rb.dir, RUN_FILES.config));
    // The title leads with what differs (`lr=1e-3 · my-sweep ↔ lr=3e-4 · my-sweep`), not the shared name twice.
    const [la, lb] = distinctRunLabels(
      [ra, rb].map((r) => ({ id: r.id, name: r.info.name, notes: r.notes, sweep: r.info.sweep, config: r.config() })),
    );
    await openDiff({ uri: fa, label: la }, { uri: fb, label: la === lb ? `${lb} (${rb.id})` : lb });
    this.panel.showDiff([a, b]);
  }

  private async diffFiles(a: vscode.Uri, b: vscode.Uri): Promise<void> {
    return this.diffSides({ uri: a, label: path.basename(a.fsPath) }, { uri: b, label: path.basename(b.fsPath) });
  }

  private async diffSides(l: DiffSide, r: DiffSide): Promise<void> {
    await openDiff(l, r);
    // The panel's changed-keys table for files: keyed by label (they are not runs).
    const read = async (u: vscode.Uri) => {
      const v = this.validation.diagnose(u, Buffer.from(await vscode.workspace.fs.readFile(u)).toString('utf8'));
      return (v.config ?? null) as Record<string, unknown> | null;
    };
    const ka = `file:${l.label}`;
    const kb = l.label === r.label ? `file:${r.label} (2)` : `file:${r.label}`;
    this.panel.showDiff([ka, kb], { [ka]: await read(l.uri), [kb]: await read(r.uri) });
  }
}

async function openDiff(left: DiffSide, right: DiffSide): Promise<void> {
  await vscode.commands.executeCommand('vscode.diff', left.uri, right.uri, `${left.label} ↔ ${right.label}`, { preview: false });
}

export function registerCommands(d: Deps): void {
  const c = new Commands(d.model, d.launcher, d.panel, d.validation, d.ctx.extensionPath);
  const reg = (id: string, fn: (...args: any[]) => unknown) => d.ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg(CMD.startRun, (arg?: vscode.Uri | string, opts?: StartRunOptions) => c.startRun(arg, opts));
  reg(CMD.stopSweep, (a?: unknown) => c.stopSweep(a));
  reg(CMD.cancelQueuedRun, (a?: unknown) => c.cancelQueuedRun(a));
  reg(CMD.stopRun, (a?: RunArg, sel?: unknown) => c.stopRun(a, sel));
  reg(CMD.resumeRun, (a?: RunArg) => c.resumeRun(a));
  reg(CMD.deleteRun, (a?: RunArg, sel?: unknown) => c.deleteRun(a, sel));
  reg(CMD.openPanel, (a?: RunArg, sel?: unknown) => c.openPanel(a, sel));
  reg(CMD.compareRuns, (a?: RunArg, sel?: unknown) => c.compareRuns(a, sel));
  reg(CMD.diffConfigs, (a?: unknown, b?: unknown) => c.diffConfigs(a, b));
  reg(CMD.newConfig, () => c.newConfig());
  reg(CMD.refresh, () => c.refresh());
  reg(CMD.showLog, () => c.showLog());
  const exp = new ExportCommand(d.model, new Exporter(d.ctx.extensionPath, d.launcher.output), d.advisorPercent, d.launcher.output);
  reg(CMD.exportModel, (a?: unknown, b?: unknown) => exp.exportModel(a, b));
  reg(SHOW_MORE_COMMAND, (n?: TreeNode) => n && d.tree.showMore(n));
  registerNotesCommands(d.ctx, d.model);
  void d.view;
}

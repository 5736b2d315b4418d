// The commands of the command palette, the tree's context menus and the editor title.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSafeRunId, isStrictlyInside, type RunState } from '../runs';
import { RUN_FILES } from '../protocol/runFolder';
import type { MetricsPanel } from '../panel/panelHost';
import { CONFIG_GLOB, type ConfigValidation } from './configValidation';
import { type Launcher, outputLogFile } from './launcher';
import type { RunsModel } from './runsModel';
import type { RunsTreeProvider, TreeNode } from './tree';
import { formatAge } from './treeModel';

export const CMD = {
  startRun: 'matryoshkaLab.startRun',
  stopRun: 'matryoshkaLab.stopRun',
  resumeRun: 'matryoshkaLab.resumeRun',
  deleteRun: 'matryoshkaLab.deleteRun',
  openPanel: 'matryoshkaLab.openPanel',
  compareRuns: 'matryoshkaLab.compareRuns',
  diffConfigs: 'matryoshkaLab.diffConfigs',
  newConfig: 'matryoshkaLab.newConfig',
  refresh: 'matryoshkaLab.refreshRuns',
  showLog: 'matryoshkaLab.showLog',
} as const;

interface Deps {
  ctx: vscode.ExtensionContext;
  model: RunsModel;
  launcher: Launcher;
  panel: MetricsPanel;
  validation: ConfigValidation;
  tree: RunsTreeProvider;
  view: vscode.TreeView<TreeNode>;
}

/**
 * A command's target, as the tree, the explorer, a keybinding's `args` or another extension passes it:
 * a tree node, a run id, `{id}`, or an array of those. Commands that get one skip their quick pick.
 */
type RunArg = TreeNode | string | { id: string } | Array<TreeNode | string | { id: string }> | undefined;

function idOf(a: unknown): string | undefined {
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object' && 'id' in a && typeof (a as { id: unknown }).id === 'string') {
    const n = a as { kind?: string; id: string };
    return n.kind === undefined || n.kind === 'run' ? n.id : undefined;
  }
  return undefined;
}

/** Run ids from a tree context menu call: (clicked, selection) — the selection wins when it has the click. */
function idsOf(clicked: unknown, selection: unknown): string[] {
  if (Array.isArray(clicked)) return clicked.map(idOf).filter((x): x is string => !!x);
  const sel = Array.isArray(selection) ? selection.map(idOf).filter((x): x is string => !!x) : [];
  const one = idOf(clicked);
  if (sel.length > 1 && (!one || sel.includes(one))) return sel;
  return one ? [one] : sel;
}

const STATUS_ICON: Record<string, string> = { running: '$(sync~spin)', completed: '$(pass)', stopped: '$(debug-stop)', failed: '$(error)' };

function runItem(r: RunState): vscode.QuickPickItem & { id: string } {
  return {
    id: r.id,
    label: `${STATUS_ICON[r.status] ?? ''} ${r.info.name}`,
    description: `${r.status} · ${formatAge(r.info.startedAt, Date.now())}`,
    detail: r.id,
  };
}

async function pickRuns(model: RunsModel, title: string, filter: (r: RunState) => boolean, many: boolean): Promise<string[]> {
  const runs = model.list().filter(filter);
  if (!runs.length) {
    void vscode.window.showInformationMessage(`Matryoshka Lab: no runs to choose from (${title}).`);
    return [];
  }
  if (many) {
    const picked = await vscode.window.showQuickPick(runs.map(runItem), { title, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    return picked?.map((p) => p.id) ?? [];
  }
  const p = await vscode.window.showQuickPick(runs.map(runItem), { title, matchOnDescription: true, matchOnDetail: true });
  return p ? [p.id] : [];
}

async function findConfigs(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 500);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export function registerCommands(d: Deps): void {
  const { ctx, model, launcher, panel, validation } = d;
  const reg = (id: string, fn: (...args: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const examplesDir = path.join(ctx.extensionPath, 'examples');

  async function newConfig(): Promise<vscode.Uri | undefined> {
    let examples: string[] = [];
    try {
      examples = readdirSync(examplesDir).filter((f) => f.endsWith('.mrl.json')).sort();
    } catch {
      /* none shipped */
    }
    if (!examples.length) {
      void vscode.window.showErrorMessage('Matryoshka Lab: no example configs found in the extension.');
      return undefined;
    }
    const items = examples.map((f) => {
      let desc = '';
      try {
        const t = readFileSync(path.join(examplesDir, f), 'utf8');
        desc = /"name"\s*:\s*"([^"]*)"/.exec(t)?.[1] ?? '';
      } catch {
        /* ignore */
      }
      return { label: f.replace(/\.mrl\.json$/, ''), description: desc, file: f };
    });
    const pick = await vscode.window.showQuickPick(items, { title: 'New Run Config from template' });
    if (!pick) return undefined;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!root) {
      void vscode.window.showErrorMessage('Matryoshka Lab: open a folder first.');
      return undefined;
    }
    let name = pick.file;
    for (let i = 2; existsSync(path.join(root.fsPath, name)); i++) name = pick.file.replace(/\.mrl\.json$/, `-${i}.mrl.json`);
    const fileName = await vscode.window.showInputBox({
      title: 'New run config',
      prompt: 'File name (relative to the workspace folder)',
      value: name,
      validateInput: (v) => (!/\.mrl\.json$/.test(v) ? 'The name must end with .mrl.json' : existsSync(path.join(root.fsPath, v)) ? 'That file exists' : undefined),
    });
    if (!fileName) return undefined;
    const target = path.join(root.fsPath, fileName);
    let text = readFileSync(path.join(examplesDir, pick.file), 'utf8');
    // A relative "$schema" would point nowhere from the new location; contributes.jsonValidation
    // already maps *.mrl.json to the schema.
    text = text.replace(/^\s*"\$schema"\s*:\s*"(?!https?:)[^"]*",?\s*\n/m, '');
    // Data files the example names (relative to examples/) are copied beside the new config, so the
    // config stays as written and the workspace owns its data.
    for (const m of text.matchAll(/"source"\s*:\s*"(?!builtin:)([^"]+)"/g)) {
      const rel = m[1];
      const src = path.resolve(examplesDir, rel);
      const dst = path.resolve(path.dirname(target), rel);
      if (!path.isAbsolute(rel) && isStrictlyInside(examplesDir, src) && existsSync(src) && !existsSync(dst)) {
        mkdirSync(path.dirname(dst), { recursive: true });
        copyFileSync(src, dst);
      }
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    const uri = vscode.Uri.file(target);
    await vscode.window.showTextDocument(uri);
    return uri;
  }

  /** A config given as a Uri, an absolute path or a path relative to the first workspace folder. */
  const configUri = (arg: unknown): vscode.Uri | undefined => {
    if (arg instanceof vscode.Uri) return arg;
    if (typeof arg !== 'string' || !arg) return undefined;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return vscode.Uri.file(path.isAbsolute(arg) || !root ? arg : path.join(root, arg));
  };

  reg(CMD.startRun, async (arg?: vscode.Uri | string) => {
    let uri = configUri(arg);
    if (!uri && !arg) {
      const active = vscode.window.activeTextEditor?.document.uri;
      const configs = await findConfigs();
      const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
      type Item = vscode.QuickPickItem & { uri?: vscode.Uri; template?: boolean };
      const items: Item[] = configs.map((u) => ({
        label: `$(json) ${path.basename(u.fsPath)}`,
        description: path.relative(root, path.dirname(u.fsPath)) || undefined,
        uri: u,
        picked: active?.toString() === u.toString(),
      }));
      if (active && /\.mrl\.json$/.test(active.path)) {
        const i = items.findIndex((x) => x.uri?.toString() === active.toString());
        if (i > 0) items.unshift(...items.splice(i, 1));
      }
      items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(add) New config from template…', template: true });
      const pick = await vscode.window.showQuickPick(items, { title: 'Matryoshka Lab: Start Run', placeHolder: 'Choose a run config (*.mrl.json)' });
      if (!pick) return undefined;
      if (pick.template) {
        // A fresh config is opened for editing; starting it is the user's next step (after a look).
        await newConfig();
        return undefined;
      }
      uri = pick.uri;
    }
    if (!uri) return undefined;
    return launcher.start(uri);
  });

  reg(CMD.stopRun, async (a?: RunArg, sel?: unknown) => {
    let ids = idsOf(a, sel);
    if (!ids.length) ids = await pickRuns(model, 'Stop Run', (r) => r.status === 'running', false);
    const stopped: string[] = [];
    for (const id of ids) {
      if (launcher.stop(id)) stopped.push(id);
      else void vscode.window.showWarningMessage(`Matryoshka Lab: ${id} is not running.`);
    }
    return stopped;
  });

  reg(CMD.resumeRun, async (a?: RunArg) => {
    let ids = idsOf(a, undefined);
    if (!ids.length) ids = await pickRuns(model, 'Resume Run (from its last checkpoint)', (r) => r.status !== 'running' && r.status !== 'completed', false);
    const r = ids[0] ? model.get(ids[0]) : undefined;
    if (!r) {
      if (ids[0]) void vscode.window.showWarningMessage(`Matryoshka Lab: no run ${ids[0]} in the runs folder.`);
      return false;
    }
    if (!(await launcher.resume(r))) return false;
    panel.show([r.id], { preserveFocus: true });
    return true;
  });

  reg(CMD.deleteRun, async (a?: RunArg, sel?: unknown) => {
    let ids = idsOf(a, sel);
    if (!ids.length) ids = await pickRuns(model, 'Delete Run', (r) => r.status !== 'running', true);
    const runs = ids.map((id) => model.get(id)).filter((r): r is RunState => !!r);
    if (!runs.length) return;
    const live = runs.filter((r) => r.status === 'running');
    if (live.length) {
      void vscode.window.showWarningMessage(`Matryoshka Lab: stop ${live.map((r) => r.info.name).join(', ')} before deleting.`);
      return;
    }
    const what = runs.length === 1 ? `run "${runs[0].info.name}" (${runs[0].id})` : `${runs.length} runs`;
    const ok = await vscode.window.showWarningMessage(`Delete ${what}? Its folder, metrics and checkpoints are removed from disk.`, { modal: true }, 'Delete');
    if (ok !== 'Delete') return;
    const dir = model.dir!;
    for (const r of runs) {
      // Never anything outside the runs folder, whatever the id or a symlink says.
      if (!isSafeRunId(r.id) || !isStrictlyInside(dir, r.dir) || path.dirname(path.resolve(r.dir)) !== path.resolve(dir)) {
        void vscode.window.showErrorMessage(`Matryoshka Lab: refusing to delete ${r.dir}: not a run folder inside ${dir}.`);
        continue;
      }
      rmSync(r.dir, { recursive: true, force: true });
      rmSync(outputLogFile(dir, r.id), { force: true });
    }
    model.refresh();
  });

  reg(CMD.openPanel, async (a?: RunArg, sel?: unknown) => {
    let ids = idsOf(a, sel);
    if (!ids.length) {
      const live = model.live();
      ids = live.length ? live.map((r) => r.id) : model.list().slice(0, 1).map((r) => r.id);
    }
    panel.show(ids, { compare: ids.length > 1 });
  });

  reg(CMD.compareRuns, async (a?: RunArg, sel?: unknown) => {
    let ids = idsOf(a, sel);
    if (ids.length < 2) ids = await pickRuns(model, 'Compare Runs (choose two or more)', () => true, true);
    if (ids.length < 1) return;
    panel.show(ids, { compare: true });
  });

  async function openDiff(left: { uri: vscode.Uri; label: string }, right: { uri: vscode.Uri; label: string }) {
    await vscode.commands.executeCommand('vscode.diff', left.uri, right.uri, `${left.label} ↔ ${right.label}`, { preview: false });
  }

  async function diffRuns(a: string, b: string) {
    const ra = model.get(a);
    const rb = model.get(b);
    if (!ra || !rb) return;
    const fa = vscode.Uri.file(path.join(ra.dir, RUN_FILES.config));
    const fb = vscode.Uri.file(path.join(rb.dir, RUN_FILES.config));
    await openDiff({ uri: fa, label: ra.info.name }, { uri: fb, label: rb.info.name });
    panel.showDiff([a, b]);
  }

  reg(CMD.diffConfigs, async (a?: unknown, b?: unknown) => {
    // Explorer: (clicked uri, selected uris). Tree: (clicked node, selected nodes). Panel: ids.
    if (a instanceof vscode.Uri) {
      const uris = Array.isArray(b) ? (b as unknown[]).filter((x): x is vscode.Uri => x instanceof vscode.Uri) : [a];
      if (uris.length === 2) return diffFiles(uris[0], uris[1]);
    }
    let ids = idsOf(a, b);
    if (typeof a === 'string' && typeof b === 'string') ids = [a, b];
    if (ids.length === 2) return diffRuns(ids[0], ids[1]);
    // Palette: two of (runs ∪ config files).
    type Item = vscode.QuickPickItem & { run?: string; uri?: vscode.Uri };
    const items: Item[] = [
      ...model.list().map((r) => ({ ...runItem(r), run: r.id })),
      ...(await findConfigs()).map((u) => ({ label: `$(json) ${path.basename(u.fsPath)}`, description: vscode.workspace.asRelativePath(u), uri: u })),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'Diff Run Configs: choose two runs or config files', canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    if (!picked) return;
    if (picked.length !== 2) {
      void vscode.window.showWarningMessage('Matryoshka Lab: choose exactly two runs or config files to diff.');
      return;
    }
    const [p, q] = picked;
    if (p.run && q.run) return diffRuns(p.run, q.run);
    const side = (x: Item) => (x.run ? { uri: vscode.Uri.file(path.join(model.get(x.run)!.dir, RUN_FILES.config)), label: model.get(x.run)!.info.name } : { uri: x.uri!, label: path.basename(x.uri!.fsPath) });
    return diffSides(side(p), side(q));
  });

  async function diffFiles(a: vscode.Uri, b: vscode.Uri) {
    return diffSides({ uri: a, label: path.basename(a.fsPath) }, { uri: b, label: path.basename(b.fsPath) });
  }

  async function diffSides(l: { uri: vscode.Uri; label: string }, r: { uri: vscode.Uri; label: string }) {
    await openDiff(l, r);
    // The panel's changed-keys table for files: keyed by label (they are not runs).
    const read = async (u: vscode.Uri) => {
      const v = validation.diagnose(u, Buffer.from(await vscode.workspace.fs.readFile(u)).toString('utf8'));
      return (v.config ?? null) as Record<string, unknown> | null;
    };
    const ka = `file:${l.label}`;
    const kb = l.label === r.label ? `file:${r.label} (2)` : `file:${r.label}`;
    panel.showDiff([ka, kb], { [ka]: await read(l.uri), [kb]: await read(r.uri) });
  }

  reg(CMD.newConfig, () => newConfig());
  reg(CMD.refresh, () => model.refresh());
  reg(CMD.showLog, () => launcher.output.show(true));
  void d.tree;
  void d.view;
}

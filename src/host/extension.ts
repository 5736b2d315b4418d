// activate(): wires commands, tree view, panel, diagnostics — nothing else (DESIGN.md).
// The extension host never imports the trainer (tfjs): it launches dist/trainer.js and reads run folders.
import * as vscode from 'vscode';
import { registerCommands } from './commands/commands';
import { ConfigValidation } from './configEditor/configValidation';
import { Launcher } from './launch/launcher';
import { RunsModel } from './runsModel';
import { LiveStatusBar } from './runsView/statusBar';
import { RunsTreeProvider, type TreeNode } from './runsView/tree';
import { MetricsPanel } from './panel/panelHost';

export function activate(ctx: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Matryoshka Lab');
  const model = new RunsModel();
  const validation = new ConfigValidation(ctx.extensionPath);
  const tree = new RunsTreeProvider(model);
  const view = vscode.window.createTreeView<TreeNode>('matryoshkaLab.runs', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
  let panel: MetricsPanel;
  const launcher = new Launcher(ctx.extensionPath, model, output, (u) => validation.validateForLaunch(u), (runId) => {
    // Reveal the panel with the new run as soon as it is launched (its folder appears a moment later).
    panel.show([runId], { preserveFocus: false });
  });
  panel = new MetricsPanel(ctx.extensionUri, model, output, (a, b) => void vscode.commands.executeCommand('matryoshkaLab.diffConfigs', a, b));
  const status = new LiveStatusBar(model);
  // Without a folder there is no runs folder; the welcome view covers the empty-folder case.
  view.message = model.dir ? undefined : 'Open a folder to see its runs.';
  void vscode.commands.executeCommand('setContext', 'matryoshkaLab.active', true);
  ctx.subscriptions.push(output, model, validation, view, launcher, panel, status);
  registerCommands({ ctx, model, launcher, panel, validation, tree, view });
}

export function deactivate(): void {
  // Nothing to stop: trainers are detached processes writing to disk; they are found again after reload.
}

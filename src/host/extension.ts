// activate(): wires commands, tree view, panel, diagnostics — nothing else (docs/architecture.md).
// The extension host never imports the trainer (tfjs): it launches dist/trainer.js and reads run folders.
// This is the one module that knows every host sub-folder: the panel gets what it needs from here
// (metricsPanelDeps) and the others see it only as a MetricsPanelView.
import * as vscode from 'vscode';
import { CMD, RUN_ACTION_COMMANDS } from './commands/commandIds';
import { registerCommands } from './commands/commands';
import { ConfigValidation } from './configEditor/configValidation';
import { Launcher } from './launch/launcher';
import type { MetricsPanelDeps } from './panel/panelApi';
import { MetricsPanel } from './panel/panelHost';
import { showWarning } from './ui';
import { RunsModel } from './runsModel';
import { LiveStatusBar } from './runsView/statusBar';
import { RunsTreeProvider, type TreeNode } from './runsView/tree';
import { onDidChangePanelSettings, panelSettings, settings } from './settings';

/** The metrics panel's dependencies: the runs model, the panel's settings, and the palette's commands
 *  for the runs table's buttons. */
export function metricsPanelDeps(
  extensionUri: vscode.Uri,
  model: RunsModel,
  log: vscode.OutputChannel,
  openConfigDiff: (a: string, b: string) => void,
): MetricsPanelDeps {
  return {
    extensionUri,
    runs: model,
    log,
    settings: panelSettings,
    onDidChangeSettings: onDidChangePanelSettings,
    openConfigDiff,
    actions: { commands: RUN_ACTION_COMMANDS, execute: (c, ...a) => vscode.commands.executeCommand(c, ...a) },
  };
}

export function activate(ctx: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Matryoshka Lab');
  const model = new RunsModel((problem) => void showWarning(problem));
  const validation = new ConfigValidation(ctx.extensionPath);
  let panel: MetricsPanel;
  const launcher = new Launcher(
    ctx.extensionPath,
    model,
    output,
    (u) => validation.validateForLaunch(u),
    (runId) => {
      // Reveal the panel with the new run as soon as it is launched (its folder appears a moment later).
      panel.show([runId], { preserveFocus: false });
    },
  );
  // The tree shows the launcher's queue too (queued runs, their place, Cancel).
  const tree = new RunsTreeProvider(model, launcher);
  const view = vscode.window.createTreeView<TreeNode>('matryoshkaLab.runs', {
    treeDataProvider: tree,
    canSelectMany: true,
    showCollapseAll: true,
  });
  panel = new MetricsPanel(
    metricsPanelDeps(ctx.extensionUri, model, output, (a, b) => void vscode.commands.executeCommand(CMD.diffConfigs, a, b)),
  );
  const status = new LiveStatusBar(model);
  // Without a folder there is no runs folder; the welcome view covers the empty-folder case.
  view.message = model.dir ? undefined : 'Open a folder to see its runs.';
  void vscode.commands.executeCommand('setContext', 'matryoshkaLab.active', true);
  ctx.subscriptions.push(output, model, validation, view, launcher, panel, status);
  registerCommands({ ctx, model, launcher, panel, validation, tree, view, advisorPercent: () => settings().advisorPercent });
}

export function deactivate(): void {
  // Nothing to stop: trainers are detached processes writing to disk; they are found again after reload.
}

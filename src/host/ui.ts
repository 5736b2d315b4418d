/**
 * Thin wrappers over the VS Code UI the commands and the launcher use: messages carry the extension's
 * name, trust gating says the same thing everywhere, and run pickers look alike. No logic of their own.
 */
import * as vscode from 'vscode';
import type { RunState } from '../runs/store';
import { formatAge, runLabel } from './runsView/treeModel';

export const MESSAGE_PREFIX = 'Matryoshka Lab: ';

/** An error notification, "Matryoshka Lab: " + `message`; resolves with the action chosen, if any. */
export function showError(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(MESSAGE_PREFIX + message, ...actions);
}

export function showWarning(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(MESSAGE_PREFIX + message, ...actions);
}

export function showInfo(message: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(MESSAGE_PREFIX + message, ...actions);
}

/** Run `then` when the user chose `action` on a notification (fire and forget). */
export function onChoice(shown: Thenable<string | undefined>, action: string, then: () => unknown): void {
  void shown.then((c) => {
    if (c === action) void then();
  });
}

/** Is the workspace trusted (not in Restricted Mode)? */
export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/**
 * Restricted Mode gate for anything that runs our programs (the trainer, the exporter): false when the
 * workspace is trusted; otherwise a warning saying `why` (with a way to manage trust) and true.
 */
export function refuseIfUntrusted(
  what: string,
  why = 'training runs code and reads files named by the config. Trust this workspace to launch runs',
): boolean {
  if (isTrusted()) return false;
  onChoice(
    showWarning(`${what} is disabled in Restricted Mode — ${why}; browsing runs and configs works without it.`, 'Manage Workspace Trust'),
    'Manage Workspace Trust',
    () => vscode.commands.executeCommand('workbench.trust.manage'),
  );
  return true;
}

/** A modal yes/no: true when the user chose `action` (the message is shown as given). */
export async function confirm(message: string, action: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
}

const STATUS_ICON: Record<string, string> = { running: '$(sync~spin)', completed: '$(pass)', stopped: '$(debug-stop)', failed: '$(error)' };

/** A run as a quick-pick item (icon, name, status and age, id). */
export function runItem(r: RunState, now = Date.now()): vscode.QuickPickItem & { id: string } {
  return {
    id: r.id,
    label: `${STATUS_ICON[r.status] ?? ''} ${runLabel(r)}`,
    description: `${r.status} · ${formatAge(r.info.startedAt, now)}`,
    detail: r.id,
  };
}

/** Pick one run of `runs`: its id, or [] when cancelled or there is none (then says so). */
export async function pickRun(runs: readonly RunState[], title: string): Promise<string[]> {
  if (!runs.length) return noRuns(title);
  const p = await vscode.window.showQuickPick(
    runs.map((r) => runItem(r)),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return p ? [p.id] : [];
}

/** Pick any number of `runs`: their ids, or [] when cancelled or there is none (then says so). */
export async function pickRuns(runs: readonly RunState[], title: string): Promise<string[]> {
  if (!runs.length) return noRuns(title);
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => runItem(r)),
    { title, canPickMany: true, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.map((p) => p.id) ?? [];
}

function noRuns(title: string): string[] {
  void showInfo(`no runs to choose from (${title}).`);
  return [];
}

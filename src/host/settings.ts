// Settings (contributes.configuration "matryoshkaLab.*"), resolved against the workspace.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_ADVISOR_PERCENT } from '../insights/dimAdvisor';
import type { PanelSettings } from '../protocol/panelMessages';
import { confineRunsDir } from '../runs/runDir';

export const SECTION = 'matryoshkaLab';

export interface Settings {
  runsFolder: string;
  nodePath: string;
  /** The Python of engine sentence-transformers runs; empty = the trainer's default (python3). */
  pythonPath: string;
  defaultBackend: string;
  maxConcurrentRuns: number;
  /** Worker threads of launched trainers: "auto" or a count (the trainer's --workers). */
  workers: string;
  /** Seconds a trainer gets after SIGTERM before Stop Run sends SIGKILL. */
  stopGraceSeconds: number;
  /** The dim advisor's target, percent of the full-dim metric (50–100). */
  advisorPercent: number;
}

export function settings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    runsFolder: c.get<string>('runsFolder', '.mrl/runs') || '.mrl/runs',
    nodePath: c.get<string>('nodePath', '') ?? '',
    pythonPath: toolPath((c.get<string>('pythonPath', '') ?? '').trim()),
    defaultBackend: c.get<string>('defaultBackend', 'auto') || 'auto',
    maxConcurrentRuns: Math.max(1, c.get<number>('maxConcurrentRuns', 1) ?? 1),
    workers: workersSetting(c.get<unknown>('workers', 'auto')),
    stopGraceSeconds: stopGrace(c.get<unknown>('stopGraceSeconds', 30)),
    advisorPercent: advisorPercent(c.get<unknown>('advisorPercent', DEFAULT_ADVISOR_PERCENT)),
  };
}

/** The settings the metrics panel uses (sent to the webview in `init` and `settings`). */
export function panelSettings(): PanelSettings {
  return { advisorPercent: settings().advisorPercent };
}

/** Calls `listener` whenever a setting the metrics panel uses changed. */
export function onDidChangePanelSettings(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(`${SECTION}.advisorPercent`)) listener();
  });
}

/** "auto" or a whole number of threads; anything else (a hand-edited settings.json) falls back to "auto". */
export function workersSetting(v: unknown): string {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  return /^(auto|\d{1,2})$/.test(s) ? s : 'auto';
}

/** A grace in seconds: a finite number ≥ 1 (anything else → the default, 30). */
export function stopGrace(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.min(v, 3600) : 30;
}

/** A percentage in [50, 100]; anything else (a hand-edited settings.json) → the default, 95. */
export function advisorPercent(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 50 && v <= 100 ? v : DEFAULT_ADVISOR_PERCENT;
}

/** A relative path to a program (`.venv/bin/python`) is the workspace's; a bare name (`python3`) stays
 *  a name looked up on PATH. The trainer starts in other folders, so it must get an absolute path. */
function toolPath(p: string): string {
  if (!p || path.isAbsolute(p) || !/[\\/]/.test(p)) return p;
  const root = workspaceRoot();
  return root ? path.join(root, p) : p;
}

/** The workspace folder runs belong to: the first one (a multi-root workspace shares one runs folder). */
export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Absolute runs folder; undefined without a workspace and a relative setting, or when it escapes the workspace. */
export function runsDir(): string | undefined {
  return runsDirStatus().dir;
}

/**
 * The runs folder, or why there is none. An absolute setting is the user's own choice (in Restricted Mode
 * a workspace cannot set it: package.json `restrictedConfigurations`). A relative one is the workspace's
 * folder: its real path (links resolved) must stay inside the workspace, or nothing is read nor written
 * there (src/runs/runDir.ts confineRunsDir: a committed `.mrl/runs -> ../../.config`).
 */
export function runsDirStatus(): { dir?: string; problem?: string } {
  const s = settings().runsFolder;
  if (path.isAbsolute(s)) return { dir: s };
  const root = workspaceRoot();
  if (!root) return {};
  const c = confineRunsDir(root, s);
  return 'dir' in c ? { dir: c.dir } : { problem: c.problem };
}

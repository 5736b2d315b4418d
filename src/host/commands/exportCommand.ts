// Export Model…: a run's chosen dim and precision out of VS Code as a sentence-transformers folder, written
// by the bundled exporter (dist/export.js, run by src/host/launch/exporter.ts). Target like the other run
// commands (a run id, a tree node, `{id}`; ./commandArgs.ts); an optional second argument
// `{dim, precision, checkpoint, out}` skips the pickers (src/host/launch/exportPlan.ts exportOptionsOf).
// Without it: the advisor's dim × precision preselected (the cheapest point reaching
// matryoshkaLab.advisorPercent % of full-dim float32, src/insights/frontier.ts), the best checkpoint kept
// for that dim or else the last, and a save dialog at <workspace>/exports/<run name>-d<D>-<precision>.
// Resolves with the output folder. Refused in Restricted Mode: it runs code.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Precision } from '../../protocol/runFolder';
import type { RunState } from '../../runs/store';
import { hasCheckpoint } from '../../runs/runDir';
import type { ExportOutcome } from '../launch/exporter';
import {
  checkpointChoices,
  checkpointSteps,
  configDims,
  defaultExportDir,
  exportOptionsOf,
  lastEvalOf,
  pointChoices,
  pointItemText,
  readLastEval,
  type CheckpointChoice,
  type ExportJob,
} from '../launch/exportPlan';
import type { RunsModel } from '../runsModel';
import { runLabel } from '../runsView/treeModel';
import { pickRun, refuseIfUntrusted, showError, showInfo, showWarning } from '../ui';
import { idsOf } from './commandArgs';

/** What the command needs of the exporter (src/host/launch/exporter.ts; tests pass their own). */
export interface ExportRunner {
  readonly exportJs: string;
  run(job: ExportJob, title: string): Thenable<ExportOutcome>;
}

export const EXPORT_ACTIONS = { openFolder: 'Open Folder', reveal: 'Reveal in Explorer', card: 'Open Model Card' } as const;

const TITLE = 'Export Model';

/** Runs the exporter can take: the bundled engine's, with a checkpoint or being trained. */
function exportable(r: RunState): boolean {
  return (!r.info.engine || r.info.engine === 'bundled') && (r.status === 'completed' || r.status === 'stopped' || r.status === 'running');
}

export class ExportCommand {
  constructor(
    private readonly model: Pick<RunsModel, 'get' | 'list' | 'isRead'>,
    private readonly exporter: ExportRunner,
    private readonly advisorPercent: () => number,
    private readonly log: Pick<vscode.OutputChannel, 'show'>,
  ) {}

  /** Export a run (the target, else a pick) → the output folder, or undefined (cancelled, refused, failed). */
  async exportModel(a?: unknown, b?: unknown): Promise<string | undefined> {
    if (refuseIfUntrusted(TITLE, 'it runs the bundled exporter (code) on the run folder. Trust this workspace to export models'))
      return undefined;
    const parsed = exportOptionsOf(b);
    if ('error' in parsed) {
      void showError(parsed.error);
      return undefined;
    }
    const opts = parsed.options;
    // A tree context menu passes (clicked, selection): one run is exported, the clicked one.
    // Anything else (the palette, the panel's title bar) picks among the runs it can export.
    let ids = idsOf(a, undefined);
    if (!ids.length) ids = await pickRun(this.model.list().filter(exportable), TITLE);
    if (!ids.length) return undefined;
    const run = this.model.get(ids[0]);
    if (!run) {
      void showWarning(`no run ${ids[0]} in the runs folder.`);
      return undefined;
    }
    const label = runLabel(run);
    if (run.info.engine && run.info.engine !== 'bundled') {
      void showWarning(
        `${label} was trained by the ${run.info.engine} engine: its checkpoints (checkpoints/checkpoint-<n>) are sentence-transformers folders already — load one with SentenceTransformer(path, truncate_dim=D). Export Model exports runs of the bundled trainer.`,
      );
      return undefined;
    }
    if (!hasCheckpoint(run.dir) && !existsSync(path.join(run.dir, 'model'))) {
      void showError(`${label} has no checkpoint to export yet.`);
      return undefined;
    }
    if (!existsSync(this.exporter.exportJs)) {
      void showError(`the exporter is missing (${this.exporter.exportJs}). Build it with "npm run build".`);
      return undefined;
    }

    const point =
      opts.dim !== undefined ? { dim: opts.dim, precision: opts.precision ?? 'float32' } : await this.pickPoint(run, label, opts.precision);
    if (!point) return undefined;
    const checkpoint = opts.checkpoint ?? (await this.pickCheckpoint(run, label, point.dim));
    if (checkpoint === undefined) return undefined;
    const root = workspaceRoot() ?? path.dirname(path.dirname(run.dir));
    const picked =
      opts.out !== undefined
        ? { out: path.resolve(root, opts.out), force: false }
        : await this.pickOut(root, run, label, point.dim, point.precision);
    if (!picked) return undefined;
    const { out, force } = picked;

    const what = `${label} at dim ${point.dim}, ${point.precision}`;
    const job: ExportJob = { runDir: run.dir, dim: point.dim, precision: point.precision, checkpoint, out, force };
    const r = await this.exporter.run(job, `exporting ${what}`);
    if (!r.ok) {
      if ('cancelled' in r) void showInfo(`export of ${what} cancelled; nothing was written.`);
      else
        void showError(`could not export ${what}: ${r.error}`, 'Show Log').then((c) => {
          if (c === 'Show Log') this.log.show(true);
        });
      return undefined;
    }
    const from = r.checkpoint.kind === 'best' ? `best checkpoint, step ${r.checkpoint.step}` : `step ${r.checkpoint.step}`;
    const check = r.maxAbsDiff !== null ? `; re-loaded and checked, max |Δ| ${r.maxAbsDiff.toExponential(1)}` : '';
    void showInfo(
      `exported ${label} at dim ${r.dim}, ${r.precision} (${from}) to ${r.out}${check}.`,
      ...Object.values(EXPORT_ACTIONS),
    ).then((c) => {
      if (c) this.act(c, r.out).catch((e: unknown) => void showError(`${c}: ${e instanceof Error ? e.message : String(e)}`));
    });
    return r.out;
  }

  /** The dim × precision picker: the advisor's point first (and starred); → undefined when dismissed. */
  private async pickPoint(run: RunState, label: string, precision?: Precision): Promise<{ dim: number; precision: Precision } | undefined> {
    // The store's series when it has read the whole file; else the file itself (a run the tree has not read yet).
    const last = this.model.isRead(run.id) ? lastEvalOf(run.series) : readLastEval(run.dir);
    const { advice, choices } = pointChoices(last.byDim, this.advisorPercent(), configDims(run.config()));
    const shown = precision ? choices.filter((c) => c.precision === precision) : choices;
    if (!shown.length) {
      void showError(`${label}: no dim to export${precision ? ` at ${precision}` : ''} (no per-dim evaluation and no dims in its config).`);
      return undefined;
    }
    const items = shown.map((c) => ({ ...pointItemText(c, advice), choice: c }));
    const pick = await vscode.window.showQuickPick(items, {
      title: `${TITLE}: ${label} — dim and precision`,
      placeHolder: advice
        ? `${advice.metric} at step ${last.step}, as % of float32 at dim ${advice.fullDim}; the starred point is the fewest bytes reaching ${advice.percent} %`
        : 'No per-dim evaluation yet',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return pick ? { dim: pick.choice.dim, precision: pick.choice.precision } : undefined;
  }

  /** The checkpoint picker (best for the dim when kept, else last, then the steps); none when only `last`. */
  private async pickCheckpoint(run: RunState, label: string, dim: number): Promise<CheckpointChoice | undefined> {
    const items = checkpointChoices(run.info, dim, checkpointSteps(run.dir));
    if (items.length === 1) return items[0].checkpoint;
    const pick = await vscode.window.showQuickPick(items, { title: `${TITLE}: ${label} — checkpoint`, matchOnDescription: true });
    return pick?.checkpoint;
  }

  /**
   * The save dialog, at <root>/exports/<run name>-d<D>-<precision> (a name not taken yet). A folder that
   * exists and is not empty was confirmed for replacing in the dialog: `force`.
   */
  private async pickOut(
    root: string,
    run: RunState,
    label: string,
    dim: number,
    precision: Precision,
  ): Promise<{ out: string; force: boolean } | undefined> {
    const def = defaultExportDir(root, run.info.name, dim, precision);
    const parent = path.dirname(def);
    // The file dialog of remote and web windows refuses a folder that does not exist: create exports/ first,
    // and remove it again (when still empty) if the dialog is dismissed.
    const created = !existsSync(parent);
    if (created) mkdirSync(parent, { recursive: true });
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(def),
      title: `${TITLE}: ${label} — output folder (created by the export)`,
      saveLabel: 'Export Here',
    });
    if (!uri) {
      if (created) removeIfEmpty(parent);
      return undefined;
    }
    if (uri.scheme !== 'file') {
      void showError(`choose a folder on this machine's disk (${uri.toString()} is not one).`);
      return undefined;
    }
    return { out: uri.fsPath, force: nonEmptyDir(uri.fsPath) };
  }

  private async act(action: string, out: string): Promise<void> {
    const dir = vscode.Uri.file(out);
    if (action === EXPORT_ACTIONS.openFolder) await vscode.commands.executeCommand('vscode.openFolder', dir, { forceNewWindow: true });
    else if (action === EXPORT_ACTIONS.reveal) {
      // VS Code's Explorer shows folders of the workspace; anything else goes to the system's file manager.
      const root = workspaceRoot();
      const inside = !!root && !path.relative(root, out).startsWith('..') && !path.isAbsolute(path.relative(root, out));
      await vscode.commands.executeCommand(inside ? 'revealInExplorer' : 'revealFileInOS', dir);
    } else if (action === EXPORT_ACTIONS.card) {
      const card = vscode.Uri.file(path.join(out, 'README.md'));
      try {
        await vscode.commands.executeCommand('markdown.showPreview', card);
      } catch {
        await vscode.commands.executeCommand('vscode.open', card);
      }
    }
  }
}

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function nonEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    /* gone or not ours to remove */
  }
}

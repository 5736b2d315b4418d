/**
 * Runs `dist/export.js` for Export Model: the configured Node (`matryoshkaLab.nodePath`, else the
 * extension host's runtime as Node, like the trainer: ./launchPlan.ts), output piped (an export takes
 * seconds and its answer is its last stdout line, unlike a trainer that must outlive the window), a
 * cancellable progress notification. Cancel sends SIGTERM to the program's process group, SIGKILL after
 * CANCEL_GRACE_MS; the program builds its folder aside and renames it at the end, so a cancelled export
 * leaves nothing at --out, and the host removes the temp folder a killed program leaves beside it
 * (src/trainer/export/exportModel.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { settings } from '../settings';
import { MESSAGE_PREFIX } from '../ui';
import { exportPlan, exportTempDir, parseExportOutput, type ExportJob, type ExportResult } from './exportPlan';

/** What an export came to: the program's answer, or cancelled by the user. */
export type ExportOutcome = ExportResult | { ok: false; cancelled: true; error: string };

/** Seconds between SIGTERM and SIGKILL when the user cancels, in ms. */
export const CANCEL_GRACE_MS = 5000;

/** Output kept from each stream (its end): the answer is the last line. */
const KEEP_CHARS = 64 * 1024;

export class Exporter {
  constructor(
    private readonly extensionPath: string,
    private readonly output: Pick<vscode.OutputChannel, 'appendLine'>,
  ) {}

  get exportJs(): string {
    return path.join(this.extensionPath, 'dist', 'export.js');
  }

  /** Run one export under a progress notification titled `title`; resolves when the program has exited. */
  run(job: ExportJob, title: string): Thenable<ExportOutcome> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: MESSAGE_PREFIX + title, cancellable: true },
      (progress, token) => this.spawnAndWait(job, progress, token),
    );
  }

  private spawnAndWait(
    job: ExportJob,
    progress: vscode.Progress<{ message?: string }>,
    token: vscode.CancellationToken,
  ): Promise<ExportOutcome> {
    const plan = exportPlan({ nodePath: settings().nodePath, execPath: process.execPath, exportJs: this.exportJs, env: process.env, job });
    this.output.appendLine(`[export] ${plan.command} ${plan.args.join(' ')}`);
    // Its own process group (not on Windows), so that Cancel ends whatever the program started too.
    const group = process.platform !== 'win32';
    return new Promise<ExportOutcome>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(plan.command, plan.args, {
          cwd: plan.cwd,
          env: plan.env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: group,
          windowsHide: true,
        });
      } catch (e) {
        resolve({ ok: false, error: `could not start the exporter (${plan.command}): ${e instanceof Error ? e.message : String(e)}` });
        return;
      }
      let stdout = '';
      let stderr = '';
      let cancelled = false;
      let settled = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const keep = (all: string, chunk: string) => (all + chunk).slice(-KEEP_CHARS);
      // Every line goes to the output channel; the latest one that is not the JSON answer is the progress.
      const show = (chunk: string) => {
        for (const line of chunk.split(/\r?\n/)) {
          const t = line.trim();
          if (!t) continue;
          this.output.appendLine(`[export] ${t}`);
          // Not the JSON answer, nor a rule of '=' (tfjs prints its banner between two).
          if (!t.startsWith('{') && /[A-Za-z0-9]/.test(t) && !cancelled)
            progress.report({ message: t.length > 120 ? t.slice(0, 119) + '…' : t });
        }
      };
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        stdout = keep(stdout, d);
        show(d);
      });
      child.stderr!.on('data', (d: string) => {
        stderr = keep(stderr, d);
        show(d);
      });
      const kill = (signal: NodeJS.Signals) => {
        try {
          if (group && child.pid) process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          /* already gone */
        }
      };
      const sub = token.onCancellationRequested(() => {
        if (settled || cancelled) return;
        cancelled = true;
        progress.report({ message: 'cancelling…' });
        this.output.appendLine('[export] cancelled: SIGTERM');
        kill('SIGTERM');
        killTimer = setTimeout(() => kill('SIGKILL'), CANCEL_GRACE_MS);
      });
      const settle = (o: ExportOutcome) => {
        if (settled) return;
        settled = true;
        if (killTimer) clearTimeout(killTimer);
        sub.dispose();
        resolve(o);
      };
      child.on('error', (e) =>
        settle({
          ok: false,
          error: `could not start the exporter (${plan.command}): ${e.message}. Set "matryoshkaLab.nodePath" to a Node.js ≥ 20.`,
        }),
      );
      child.on('close', (code, signal) => {
        this.output.appendLine(`[export] exited (${signal ?? `code ${code}`})`);
        if (cancelled && child.pid) rmSync(exportTempDir(job.out, child.pid), { recursive: true, force: true });
        settle(cancelled ? { ok: false, cancelled: true, error: 'cancelled' } : parseExportOutput(stdout, stderr, code, signal));
      });
    });
  }
}

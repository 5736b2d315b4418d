/**
 * The notification that follows one launch: "queued", "starting…", then step/loss as the run goes, until
 * the run leaves "running" (or never started). Cancel asks the launcher to stop the run.
 */
import * as vscode from 'vscode';
import type { RunState } from '../../runs/store';
import { settings } from '../settings';
import { liveText } from '../runsView/treeModel';
import { estimateText, runEstimate } from '../../insights/runTime';
import { MESSAGE_PREFIX } from '../ui';

/** What the notification watches of a launch (the launcher's bookkeeping). */
export interface TrackedLaunch {
  readonly runId: string;
  readonly label: string;
  readonly started: boolean;
  readonly cancelled: boolean;
  readonly exited?: unknown;
  /** Set by the notification: the launcher calls it whenever the launch changes (spawned, exited). */
  wake: () => void;
}

export interface ProgressSource {
  get(id: string): RunState | undefined;
  onDidChange: vscode.Event<unknown>;
}

export class LaunchProgress {
  constructor(
    private readonly model: ProgressSource,
    /** Cancel: stop the run; true when there was something to stop. */
    private readonly stop: (runId: string) => boolean,
  ) {}

  /** Show the notification for `p`; resolves when it closes. */
  async track(p: TrackedLaunch): Promise<void> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${MESSAGE_PREFIX}${p.label}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => {
          if (this.stop(p.runId)) progress.report({ message: 'stopping…' });
        });
        const max = settings().maxConcurrentRuns;
        progress.report({ message: p.started ? 'starting…' : `queued (${max} run${max > 1 ? 's' : ''} at a time)` });
        await this.untilDone(p, progress);
      },
    );
  }

  private untilDone(p: TrackedLaunch, progress: vscode.Progress<{ message?: string; increment?: number }>): Promise<void> {
    let lastStep = 0;
    return new Promise<void>((resolve) => {
      // A resumed run is "stopped" in the folder until the trainer rewrites run.json: only a status
      // seen after the launch counts.
      let seenRunning = false;
      const check = () => {
        if (p.cancelled) return finish();
        const r = this.model.get(p.runId);
        if (r?.status === 'running' && p.started) seenRunning = true;
        if (seenRunning && r && r.status !== 'running') return finish();
        if (p.exited && (!r || r.status !== 'running')) return finish();
        if (r && r.status === 'running') {
          const step = r.info.step ?? r.summary.lastStep ?? 0;
          const total = r.info.totalSteps;
          const inc = total && step > lastStep ? ((step - lastStep) / total) * 100 : undefined;
          lastStep = Math.max(lastStep, step);
          // Before the first step: the trainer's estimate from its warm-up step, once written.
          const e = step === 0 ? runEstimate(r.info) : undefined;
          const live = e ? `starting: ${estimateText(e)}` : liveText(r.summary, r.info.step, total, r.info);
          progress.report({ message: live || 'running…', increment: inc });
        } else if (p.started) progress.report({ message: 'starting…' });
      };
      p.wake = check;
      const sub = this.model.onDidChange(check);
      const t = setInterval(check, 1000);
      // Listeners go away with the notification.
      const finish = () => {
        sub.dispose();
        clearInterval(t);
        resolve();
      };
      check();
    });
  }
}

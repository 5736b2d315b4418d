/**
 * The notification that follows one launch: "queued", "starting…", then step/loss as the run goes, until
 * the run leaves "running" (or never started). Cancel asks the launcher to stop the run. A sweep has one
 * notification for all its runs ("run 2 of 4 · step …"), updated as they start and finish; its Cancel
 * stops the sweep.
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

type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/** Where one launch is, as its notification sees it. */
export type LaunchPhase = 'queued' | 'starting' | 'running' | 'done';

/** A sweep's runs in order, where each is, and the live run's step/total and text (liveText). */
export interface SweepMember {
  phase: LaunchPhase;
  cancelled: boolean;
  step?: number;
  total?: number;
  live?: string;
}

/**
 * A sweep notification's message and how far it is (0–100): "run 2 of 4 · step 120/500 · loss 0.43",
 * "runs 1, 2 of 4 · …" while several run, "4 runs queued, 1 at a time" before any starts.
 */
export function sweepProgressText(members: readonly SweepMember[], maxConcurrent: number): { message: string; percent: number } {
  const n = members.length;
  const cancelled = members.filter((m) => m.cancelled).length;
  const counted = n - cancelled;
  let done = 0;
  for (const m of members) {
    if (m.phase === 'done' && !m.cancelled) done += 1;
    else if (m.phase === 'running' && m.total) done += Math.min(1, (m.step ?? 0) / m.total);
  }
  const percent = counted > 0 ? (done / counted) * 100 : 100;
  const live = members.map((m, i) => ({ m, i })).filter((x) => x.m.phase === 'running' || x.m.phase === 'starting');
  const tail = cancelled ? ` · ${cancelled} cancelled` : '';
  if (!live.length) {
    const waiting = members.filter((m) => m.phase === 'queued').length;
    const message = waiting
      ? `${waiting} run${waiting === 1 ? '' : 's'} queued, ${maxConcurrent} at a time${tail}`
      : `${members.filter((m) => m.phase === 'done' && !m.cancelled).length} of ${n} runs done${tail}`;
    return { message, percent };
  }
  const which = `run${live.length > 1 ? 's' : ''} ${live.map((x) => x.i + 1).join(', ')} of ${n}`;
  const first = live[0].m;
  const what = first.phase === 'starting' ? 'starting…' : first.live || 'running…';
  return { message: `${which} · ${what}${tail}`, percent };
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

  /** The whole sweep in one notification; resolves when every run of it has finished or left the queue. */
  async trackSweep(name: string, members: readonly TrackedLaunch[], stopSweep: () => unknown): Promise<void> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${MESSAGE_PREFIX}Sweep ${name}`, cancellable: true },
      async (progress, token) => {
        let stopping = false;
        token.onCancellationRequested(() => {
          stopping = true;
          stopSweep();
          progress.report({ message: 'stopping…' });
        });
        const phases = members.map((p) => this.phaseOf(p));
        let shown = 0;
        let last = '';
        await this.watch(members, () => {
          const states = phases.map((phase, i): SweepMember => {
            const r = this.model.get(members[i].runId);
            const ph = phase();
            const m: SweepMember = { phase: ph, cancelled: members[i].cancelled };
            if (ph === 'running' && r) {
              m.step = r.info.step ?? r.summary.lastStep ?? 0;
              m.total = r.info.totalSteps;
              m.live = liveText(r.summary, r.info.step, r.info.totalSteps, r.info);
            }
            return m;
          });
          if (states.every((m) => m.phase === 'done')) return true;
          const t = sweepProgressText(states, settings().maxConcurrentRuns);
          const message = stopping ? 'stopping…' : t.message;
          const increment = t.percent > shown ? t.percent - shown : undefined;
          shown = Math.max(shown, t.percent);
          if (message !== last || increment) progress.report({ message, increment });
          last = message;
          return false;
        });
      },
    );
  }

  /** Where `p` is now; a resumed run is "stopped" in the folder until the trainer rewrites run.json, so
   *  only a status seen after the launch counts. */
  private phaseOf(p: TrackedLaunch): () => LaunchPhase {
    let seenRunning = false;
    let done = false;
    return () => {
      if (done) return 'done';
      if (p.cancelled) return ((done = true), 'done');
      const r = this.model.get(p.runId);
      if (r?.status === 'running' && p.started) seenRunning = true;
      if ((seenRunning && r && r.status !== 'running') || (p.exited && (!r || r.status !== 'running'))) return ((done = true), 'done');
      if (r?.status === 'running' && seenRunning) return 'running';
      return p.started ? 'starting' : 'queued';
    };
  }

  /** Call `check` on every change of the model or of a launch, and each second, until it says done. */
  private watch(launches: readonly TrackedLaunch[], check: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      let finished = false;
      const tick = () => {
        if (!finished && check()) finish();
      };
      for (const p of launches) p.wake = tick;
      const sub = this.model.onDidChange(tick);
      const t = setInterval(tick, 1000);
      // Listeners go away with the notification.
      const finish = () => {
        finished = true;
        sub.dispose();
        clearInterval(t);
        resolve();
      };
      tick();
    });
  }

  private untilDone(p: TrackedLaunch, progress: Progress): Promise<void> {
    let lastStep = 0;
    const phase = this.phaseOf(p);
    return this.watch([p], () => {
      const ph = phase();
      if (ph === 'done') return true;
      const r = this.model.get(p.runId);
      if (ph === 'running' && r) {
        const step = r.info.step ?? r.summary.lastStep ?? 0;
        const total = r.info.totalSteps;
        const inc = total && step > lastStep ? ((step - lastStep) / total) * 100 : undefined;
        lastStep = Math.max(lastStep, step);
        // Before the first step: the trainer's estimate from its warm-up step, once written.
        const e = step === 0 ? runEstimate(r.info) : undefined;
        const live = e ? `starting: ${estimateText(e)}` : liveText(r.summary, r.info.step, total, r.info);
        progress.report({ message: live || 'running…', increment: inc });
      } else if (ph === 'starting') progress.report({ message: 'starting…' });
      return false;
    });
  }
}

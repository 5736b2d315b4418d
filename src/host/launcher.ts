/**
 * Launches and controls trainer processes. Trainers are spawned detached with their output going to a
 * file (never a pipe), so they keep running when the window reloads or the extension host exits; after a
 * reload the host finds them again through the runs folder (run.json pid) and tails their output file.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fileSize, isOurTrainer, liveLockHolder, LOCK_FILE, newRunId, readFileEnd, readProcCmdline, type RunState, stopProcess, TextTail } from '../runs';
import { backendFlag, LaunchQueue, launchPlan, spawnDetached } from './launchPlan';
import type { RunsModel } from './runsModel';
import { settings } from './settings';
import { hasCheckpoint } from './tree';
import { LaunchProgress } from './launchProgress';
import { isTrusted, onChoice, refuseIfUntrusted, showError, showInfo, showWarning } from './ui';

export interface ValidationOutcome {
  ok: boolean;
  /** The resolved config (defaults filled in), when valid. */
  config?: Record<string, unknown>;
  /** The file as written (to tell whether it chooses a backend itself). */
  raw?: unknown;
  problems: string[];
}

interface Pending {
  runId: string;
  runDir: string;
  label: string;
  spawnArgs: { kind: 'start'; configFile: string; backend?: string } | { kind: 'resume' };
  started: boolean;
  cancelled: boolean;
  exited?: { code: number | null; signal: string | null };
  wake: () => void;
}

/** `.logs/<runId>.log` beside the run folders: listRuns skips dot-folders, Delete Run removes it too. */
export function outputLogFile(runsDir: string, runId: string): string {
  return path.join(runsDir, '.logs', `${runId}.log`);
}

export class Launcher implements vscode.Disposable {
  private queue = new LaunchQueue<Pending>();
  /** Launched by us and not yet visible as running in the runs folder. */
  private spawning = new Map<string, Pending>();
  /** Trainer output files being copied to the output channel, by run id. */
  private tails = new Map<string, TextTail>();
  private timer: ReturnType<typeof setInterval>;
  private disposables: vscode.Disposable[] = [];
  /** A notification per launch: "Queued", then step/loss; Cancel stops the run. */
  private readonly progress: LaunchProgress;

  constructor(
    private readonly extensionPath: string,
    private readonly model: RunsModel,
    readonly output: vscode.OutputChannel,
    private readonly validate: (file: vscode.Uri) => Promise<ValidationOutcome>,
    private readonly onLaunched: (runId: string) => void,
  ) {
    this.progress = new LaunchProgress(model, (id) => this.stop(id));
    this.disposables.push(model.onDidChange(() => this.pump()));
    // Trainer output → the output channel, for every live run whose output file we know (ours, also
    // after a reload). Reads appended bytes only.
    this.timer = setInterval(() => this.tailOutputs(), 700);
  }

  get trainerJs(): string {
    return path.join(this.extensionPath, 'dist', 'trainer.js');
  }

  /** Validate, then launch (or queue) a run of this config. Resolves with the run id, or undefined. */
  async start(configFile: vscode.Uri): Promise<string | undefined> {
    if (refuseIfUntrusted('Starting a run')) return undefined;
    const dir = this.model.dir;
    if (!dir) {
      void showError('open a folder first (runs are written to its runs folder).');
      return undefined;
    }
    if (!existsSync(this.trainerJs)) {
      void showError(`the trainer is missing (${this.trainerJs}). Build it with "npm run build".`);
      return undefined;
    }
    const v = await this.validate(configFile);
    if (!v.ok) {
      const first = v.problems.slice(0, 3).join('; ');
      const more = v.problems.length > 3 ? ` (+${v.problems.length - 3} more)` : '';
      onChoice(showError(`${path.basename(configFile.fsPath)} is not valid, not launching: ${first}${more}`, 'Show Problems'), 'Show Problems', () =>
        vscode.commands.executeCommand('workbench.actions.view.problems'),
      );
      return undefined;
    }
    const rawName = (v.raw as { name?: unknown } | undefined)?.name;
    const name = typeof v.config?.name === 'string' ? v.config.name : typeof rawName === 'string' ? rawName : path.basename(configFile.fsPath).replace(/\.mrl\.json$/, '');
    const runId = newRunId(name);
    const backend = backendFlag(v.raw, settings().defaultBackend);
    this.enqueue({ runId, runDir: path.join(dir, runId), label: name, spawnArgs: { kind: 'start', configFile: configFile.fsPath, backend } });
    return runId;
  }

  async resume(run: RunState): Promise<boolean> {
    if (refuseIfUntrusted('Resuming a run')) return false;
    if (run.status === 'running' || this.spawning.has(run.id)) {
      void showInfo(`${run.info.name} is still running${this.spawning.has(run.id) ? ' (or waiting to start)' : ''}.`);
      return false;
    }
    if (run.status === 'completed') {
      void showInfo(`${run.info.name} is already completed.`);
      return false;
    }
    if (!hasCheckpoint(run.dir)) {
      void showError(`${run.info.name} has no checkpoint to resume from.`);
      return false;
    }
    this.enqueue({ runId: run.id, runDir: run.dir, label: run.info.name, spawnArgs: { kind: 'resume' } });
    return true;
  }

  /**
   * SIGTERM: the trainer checkpoints and writes status "stopped". If it is still alive after
   * `matryoshkaLab.stopGraceSeconds`, SIGKILL, and run.json says so (status "stopped", stopSignal
   * "SIGKILL"). Queued runs are just dropped. In Restricted Mode only a pid whose command line is our
   * trainer is signalled (a cloned run.json may name any pid). Returns false when there is nothing to stop.
   */
  stop(runId: string): boolean {
    for (const p of [...this.spawning.values()]) {
      if (p.runId === runId && !p.started) {
        p.cancelled = true;
        this.queue.remove(p);
        this.spawning.delete(runId);
        p.wake();
        return true;
      }
    }
    const r = this.model.get(runId);
    const child = this.childPids.get(runId);
    // A run the folder shows running is stopped through its run.json pid; otherwise (a resume whose
    // run.json still names the previous process, a launch not yet visible) only our own child.
    const pid = r?.status === 'running' && r.info.pid ? r.info.pid : child;
    if (!pid) return false;
    // A run folder with a lock names the trainer writing it: a run.json pid that the lock does not name
    // (a trainer killed with -9 whose pid now belongs to another run's trainer) is not signalled.
    if (pid !== child && r && existsSync(path.join(r.dir, LOCK_FILE)) && liveLockHolder(r.dir) !== pid) {
      this.output.appendLine(`[${runId}] not stopped: pid ${pid} from run.json does not hold the run's lock`);
      void showWarning(`${runId} is not running any more: pid ${pid} from its run.json does not hold the run's lock. Refresh Runs to update its status.`);
      return true;
    }
    if (this.stopping.has(runId)) {
      this.output.appendLine(`[${runId}] already stopping (pid ${pid})`);
      return true;
    }
    if (!isTrusted() && pid !== child) {
      const ours = isOurTrainer(pid);
      if (ours !== true) {
        const why =
          ours === undefined
            ? `on ${process.platform} the extension cannot tell whether pid ${pid} (from ${runId}/run.json) is a Matryoshka Lab trainer`
            : `pid ${pid} (from ${runId}/run.json) is not a Matryoshka Lab trainer`;
        this.output.appendLine(`[${runId}] not stopped: ${why}`);
        void showWarning(`not stopping ${runId} in Restricted Mode: ${why}. Stop it from a terminal, or trust this workspace.`);
        return true;
      }
    }
    this.stopRequested.add(runId);
    const graceS = settings().stopGraceSeconds;
    const cmdline = readProcCmdline(pid);
    const abort = new AbortController();
    this.stopping.set(runId, abort);
    const done = stopProcess({
      pid,
      runDir: r?.dir ?? this.spawning.get(runId)?.runDir,
      graceMs: graceS * 1000,
      // Pid reuse: only SIGKILL the process we sent SIGTERM to (same command line, where readable).
      stillSame: (p) => cmdline === undefined || readProcCmdline(p) === cmdline,
      abort: abort.signal,
    });
    this.output.appendLine(`[${runId}] stop requested (SIGTERM to ${pid}; SIGKILL after ${graceS} s)`);
    void done.then((o) => {
      this.stopping.delete(runId);
      if (o.signal === null && !o.exited) {
        void showError(`could not stop ${runId}: ${o.message ?? 'unknown error'}`);
      } else if (o.signal === 'SIGKILL') {
        this.output.appendLine(`[${runId}] ${o.exited ? o.message : `pid ${pid}: ${o.message}`}`);
        if (o.exited) void showWarning(`${r?.info.name ?? runId} ${o.message}.`);
      } else if (!o.exited && o.message && o.message !== 'abandoned') this.output.appendLine(`[${runId}] ${o.message}`);
      this.model.refresh();
    });
    return true;
  }

  /** Escalating stops in progress (aborted on dispose: nothing is signalled after the window closes). */
  private stopping = new Map<string, AbortController>();
  /** Runs Stop was asked for: their SIGTERM exit is a stop, not a failure to report. */
  private readonly stopRequested = new Set<string>();

  private childPids = new Map<string, number>();

  private liveCount(): number {
    const live = new Set(this.model.live().map((r) => r.id));
    for (const p of this.spawning.values()) if (p.started && !p.exited) live.add(p.runId);
    return live.size;
  }

  private enqueue(base: Omit<Pending, 'started' | 'cancelled' | 'wake'>): void {
    const p: Pending = { ...base, started: false, cancelled: false, wake: () => {} };
    this.spawning.set(p.runId, p);
    this.queue.push(p);
    this.pump();
    void this.progress.track(p);
  }

  private pump(): void {
    for (const p of this.queue.take(this.liveCount(), settings().maxConcurrentRuns)) this.spawnNow(p);
    // Once the folder shows the run (any status), the model tracks it; drop our bookkeeping.
    for (const [id, p] of this.spawning) {
      const r = this.model.get(id);
      if (p.started && r && (r.status === 'running' || p.exited)) this.spawning.delete(id);
    }
  }

  private spawnNow(p: Pending): void {
    const dir = this.model.dir!;
    const logFile = outputLogFile(dir, p.runId);
    const s = settings();
    const plan = launchPlan({
      nodePath: s.nodePath,
      execPath: process.execPath,
      trainerJs: this.trainerJs,
      env: process.env,
      workers: s.workers,
      pythonPath: s.pythonPath,
      mode: p.spawnArgs.kind === 'start' ? { kind: 'start', configFile: p.spawnArgs.configFile, runDir: p.runDir, backend: p.spawnArgs.backend } : { kind: 'resume', runDir: p.runDir },
    });
    this.output.appendLine(`[${p.runId}] ${plan.command} ${plan.args.join(' ')}`);
    if (!this.tails.has(p.runId)) this.tails.set(p.runId, new TextTail(logFile, fileSize(logFile) ?? 0));
    const child = spawnDetached(plan, logFile);
    p.started = true;
    child.on('error', (e) => {
      p.exited = { code: null, signal: null };
      this.output.appendLine(`[${p.runId}] failed to start: ${e.message}`);
      void showError(`could not start the trainer (${plan.command}): ${e.message}. Set "matryoshkaLab.nodePath" to a Node.js ≥ 20.`);
      p.wake();
    });
    child.on('exit', (code, signal) => {
      p.exited = { code, signal };
      this.childPids.delete(p.runId);
      this.tailOutputs();
      this.output.appendLine(`[${p.runId}] trainer exited (${signal ?? `code ${code}`})`);
      this.model.refresh();
      const r = this.model.get(p.runId);
      const tail = () => readFileEnd(logFile, 600).trim().split('\n').slice(-3).join(' | ');
      // Exit 2: the trainer refused (bad config or data, a batch that cannot fit, a run another trainer
      // holds, nothing to resume): nothing was written, whatever the folder still says. 130/143 after
      // our own Stop: a stop before the run started.
      const stoppedByUs = this.stopRequested.delete(p.runId) && (signal === 'SIGTERM' || signal === 'SIGKILL' || code === 143 || code === 130);
      if (code === 2) {
        onChoice(showError(`${p.spawnArgs.kind === 'resume' ? 'could not resume' : 'could not start'} ${p.label}: ${tail() || 'the trainer refused (exit 2)'}`, 'Show Log'), 'Show Log', () => this.output.show(true));
      } else if (code !== 0 && !stoppedByUs && (!r || r.status === 'failed')) {
        const t = tail();
        onChoice(showError(`run ${p.label} failed${r?.info.error ? `: ${r.info.error}` : t ? `: ${t}` : ''}`, 'Show Log'), 'Show Log', () => this.output.show(true));
      }
      p.wake();
      this.pump();
    });
    if (child.pid) this.childPids.set(p.runId, child.pid);
    this.onLaunched(p.runId);
    p.wake();
  }

  /** Append new trainer output of live runs (ours or found after a reload) to the output channel. */
  private tailOutputs(): void {
    const dir = this.model.dir;
    if (!dir) return;
    const ids = new Set<string>([...this.tails.keys()]);
    for (const r of this.model.live()) ids.add(r.id);
    for (const id of ids) {
      let tail = this.tails.get(id);
      if (!tail) {
        // First sight after a reload: start from the end (the past is in log.txt).
        tail = TextTail.atEnd(outputLogFile(dir, id));
        if (!tail) continue;
        this.tails.set(id, tail);
      }
      for (const line of tail.read()) this.output.appendLine(`[${id}] ${line}`);
      const r = this.model.get(id);
      if (r && r.status !== 'running' && !this.childPids.has(id)) this.tails.delete(id);
    }
  }

  dispose(): void {
    // Trainers are NOT killed: they are separate processes writing to disk and are found again after reload.
    clearInterval(this.timer);
    for (const a of this.stopping.values()) a.abort();
    this.disposables.forEach((d) => d.dispose());
  }
}

/**
 * Launches and controls trainer processes. Trainers are spawned detached with their output going to a
 * file (never a pipe), so they keep running when the window reloads or the extension host exits; after a
 * reload the host finds them again through the runs folder (run.json pid) and tails their output file.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeSweep, newSweepId } from '../../config/sweep';
import { noEffectSummary } from '../../config/sweepEffects';
import { readFileEnd } from '../../runs/tail';
import { readProcCmdline } from '../../runs/trainerProcess';
import { isRunProcess } from '../../runs/runProcess';
import { hasCheckpoint, newRunId } from '../../runs/runDir';
import type { RunConfig } from '../../protocol/runConfig';
import type { RunState } from '../../runs/store';
import { stopProcess } from '../../runs/stop';
import { activeSweepsOf, backendFlag, fileHash, LaunchQueue, launchPlan, queuedItems, spawnDetached, type SweepSlot } from './launchPlan';
import type { RunsModel } from '../runsModel';
import type { QueuedItem } from '../runsView/treeModel';
import { settings } from '../settings';
import type { ActiveSweep, SweepLaunch, ValidationOutcome } from './launchTypes';
import { LaunchProgress } from './launchProgress';
import { logsDirProblem, outputLogFile } from './outputLog';
import { refuseSignal } from './stopGuard';
import { TrainerOutput } from './trainerOutput';
import { confirm, onChoice, refuseIfUntrusted, showError, showInfo, showWarning } from '../ui';

interface Pending {
  runId: string;
  runDir: string;
  /** The config's name (a resume: the run's); `label` says more for messages ("… (sweep run 2 of 4)"). */
  name: string;
  label: string;
  spawnArgs: { kind: 'start'; configFile: string; backend?: string; sweep?: SweepSlot } | { kind: 'resume' };
  /** The sweep the run belongs to (a sweep's run resumed keeps it: Stop Sweep stops it too). */
  sweepId?: string;
  sweepName?: string;
  /** A sweep run's values (its run.json `sweep.params` once it runs): the runs view labels it with them. */
  sweepParams?: Record<string, unknown>;
  /** A queued sweep run: the config file's hash when the sweep was queued. Each run reads the file when it
   *  starts, so a file edited meanwhile would give run i other values than the ones the user queued. */
  configHash?: string;
  started: boolean;
  cancelled: boolean;
  exited?: { code: number | null; signal: string | null };
  wake: () => void;
}

export class Launcher implements vscode.Disposable {
  private queue = new LaunchQueue<Pending>();
  /** Launched by us and not yet visible as running in the runs folder. */
  private spawning = new Map<string, Pending>();
  /** Trainer output files copied to the output channel. */
  private readonly outputs: TrainerOutput;
  private timer: ReturnType<typeof setInterval>;
  private disposables: vscode.Disposable[] = [];
  /** A notification per launch ("Queued", then step/loss; Cancel stops the run), one per sweep. */
  private readonly progress: LaunchProgress;
  private readonly queueChanged = new vscode.EventEmitter<void>();
  /** A launch was queued, started or taken out of the queue (the runs view shows the queue). */
  readonly onDidChangeQueue = this.queueChanged.event;

  constructor(
    private readonly extensionPath: string,
    private readonly model: RunsModel,
    readonly output: vscode.OutputChannel,
    private readonly validate: (file: vscode.Uri) => Promise<ValidationOutcome>,
    private readonly onLaunched: (runId: string) => void,
  ) {
    this.progress = new LaunchProgress(model, (id) => this.stop(id));
    this.outputs = new TrainerOutput(output);
    this.disposables.push(
      model.onDidChange(() => this.pump()),
      // More runs allowed at once: the queue moves now, not at the next change in the runs folder.
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('matryoshkaLab.maxConcurrentRuns')) this.pump();
      }),
    );
    // Trainer output → the output channel, for every live run whose output file we know (ours, also
    // after a reload). Reads appended bytes only.
    this.timer = setInterval(() => this.tailOutputs(), 700);
  }

  get trainerJs(): string {
    return path.join(this.extensionPath, 'dist', 'trainer.js');
  }

  /**
   * Validate, then launch (or queue) a run of this config. Resolves with the run id, or undefined. A sweep
   * config: asks once (modal, unless `confirmed`), then queues one run per combination → their ids.
   */
  async start(configFile: vscode.Uri, opts: { confirmed?: boolean } = {}): Promise<string | SweepLaunch | undefined> {
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
      onChoice(
        showError(`${path.basename(configFile.fsPath)} is not valid, not launching: ${first}${more}`, 'Show Problems'),
        'Show Problems',
        () => vscode.commands.executeCommand('workbench.actions.view.problems'),
      );
      return undefined;
    }
    const rawName = (v.raw as { name?: unknown } | undefined)?.name;
    const name =
      typeof v.config?.name === 'string'
        ? v.config.name
        : typeof rawName === 'string'
          ? rawName
          : path.basename(configFile.fsPath).replace(/\.mrl\.json$/, '');
    const backend = backendFlag(v.raw, settings().defaultBackend);
    if (v.sweepRuns) return this.startSweep(configFile, name, v, backend, opts.confirmed === true);
    const runId = this.freshRunId(name);
    this.enqueue({
      runId,
      runDir: path.join(dir, runId),
      name,
      label: name,
      spawnArgs: { kind: 'start', configFile: configFile.fsPath, backend },
    });
    return runId;
  }

  /** A run id not used by a run folder or a launch (a sweep queues several within one second). */
  private freshRunId(name: string): string {
    for (;;) {
      const id = newRunId(name);
      if (!this.spawning.has(id) && !this.model.get(id) && !existsSync(path.join(this.model.dir!, id))) return id;
    }
  }

  private async startSweep(
    configFile: vscode.Uri,
    name: string,
    v: ValidationOutcome,
    backend: string | undefined,
    confirmed: boolean,
  ): Promise<SweepLaunch | undefined> {
    const runs = v.sweepRuns!;
    const sweep = (v.config?.sweep ?? {}) as { method?: string; parameters?: Record<string, unknown>; repeat?: number };
    const max = settings().maxConcurrentRuns;
    const n = runs.length;
    const what = describeSweep(sweep);
    // A swept field that cannot change what is trained (GradCache's miniBatchSize …): said before it queues.
    const note = noEffectSummary(v.config as unknown as RunConfig, Object.keys(sweep.parameters ?? {}));
    if (!confirmed) {
      const ok = await confirm(
        `Start the sweep "${name}"? It queues ${n} run${n === 1 ? '' : 's'} (${what}), ${max} at a time (matryoshkaLab.maxConcurrentRuns).` +
          (note ? ` ${note}` : ''),
        `Queue ${n} Run${n === 1 ? '' : 's'}`,
      );
      if (!ok) return undefined;
    }
    const sweepId = newSweepId(name);
    const configHash = fileHash(configFile.fsPath);
    const runIds: string[] = [];
    const members: Pending[] = [];
    for (const r of runs) {
      const runId = this.freshRunId(r.name);
      const label = `${r.name} (sweep run ${r.index + 1} of ${n})`;
      const p = this.enqueue(
        {
          runId,
          runDir: path.join(this.model.dir!, runId),
          name: r.name,
          label,
          sweepId,
          sweepName: name,
          sweepParams: r.params,
          configHash,
          spawnArgs: { kind: 'start', configFile: configFile.fsPath, backend, sweep: { id: sweepId, index: r.index } },
        },
        false,
      );
      members.push(p);
      runIds.push(runId);
    }
    // One notification for the whole sweep ("run 2 of 4 …"), not one per queued run.
    void this.progress.trackSweep(name, members, () => this.stopSweep(sweepId));
    this.output.appendLine(`[sweep ${sweepId}] ${n} run(s) queued (${what}): ${runIds.join(', ')}`);
    if (note) this.output.appendLine(`[sweep ${sweepId}] ${note}`);
    return { sweepId, runIds };
  }

  /** A sweep whose config file changed while its runs waited: this run and the rest of its queue are
   *  dropped (never run with values the user did not queue), and the user is told why. */
  private dropChangedSweep(p: Pending, configFile: string): void {
    p.cancelled = true;
    this.spawning.delete(p.runId);
    p.wake();
    const rest = p.sweepId ? this.stopSweep(p.sweepId).dropped : [];
    const n = rest.length + 1;
    this.output.appendLine(
      `[sweep ${p.sweepId}] ${configFile} changed since the sweep was queued: ${n} queued run(s) not started (${[p.runId, ...rest].join(', ')})`,
    );
    void showError(
      `${path.basename(configFile)} changed since the sweep "${p.sweepName ?? p.label}" was queued: its ${n} queued run${n === 1 ? ' was' : 's were'} not started. Start Run again to sweep what the file says now.`,
    );
    // The slot this run would have taken is free for whatever else waits (after this pump returns).
    setTimeout(() => this.pump(), 0);
  }

  /** Sweeps with a run running or queued (launched here, or a terminal's sweep seen in the folder). */
  activeSweeps(): ActiveSweep[] {
    return activeSweepsOf(this.model.live(), this.spawning.values());
  }

  /** The sweep a run belongs to: its run.json, else its launch. */
  sweepOfRun(runId: string): string | undefined {
    return this.model.get(runId)?.info.sweep?.id ?? this.spawning.get(runId)?.sweepId;
  }

  /**
   * Stop Sweep: its queued runs are dropped first (so that no stop frees a slot for one of them), then
   * its running runs are stopped (checkpoint, "stopped"). → what was stopped and dropped.
   */
  stopSweep(sweepId: string): { stopped: string[]; dropped: string[] } {
    const dropped = this.dropQueued(sweepId);
    const stopped: string[] = [];
    const live = new Set<string>();
    for (const r of this.model.live()) if (r.info.sweep?.id === sweepId) live.add(r.id);
    for (const p of this.spawning.values()) if (p.sweepId === sweepId && p.started && !p.exited) live.add(p.runId);
    for (const id of live) if (this.stop(id)) stopped.push(id);
    this.output.appendLine(`[sweep ${sweepId}] Stop Sweep: ${stopped.length} run(s) stopped, ${dropped.length} queued run(s) dropped`);
    return { stopped, dropped };
  }

  /** The sweep's runs still waiting in the queue, dropped (never started) → their ids. */
  private dropQueued(sweepId: string): string[] {
    const dropped: string[] = [];
    for (const p of [...this.spawning.values()]) {
      if (p.sweepId === sweepId && !p.started && this.stop(p.runId)) dropped.push(p.runId);
    }
    return dropped;
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
    const name = run.info.name;
    this.enqueue({ runId: run.id, runDir: run.dir, name, label: name, sweepId: run.info.sweep?.id, spawnArgs: { kind: 'resume' } });
    return true;
  }

  /** The launches waiting for a free slot, first to start first, with their place in the queue. */
  queued(): QueuedItem[] {
    return queuedItems(this.queue.list());
  }

  /** Cancel (runs view): a launch still waiting leaves the queue; false when it is not queued (any more). */
  cancelQueued(runId: string): boolean {
    const p = this.spawning.get(runId);
    if (!p || p.started || !this.stop(runId)) return false;
    this.output.appendLine(`[${runId}] cancelled while queued${p.sweepId ? ` (sweep ${p.sweepId})` : ''}`);
    return true;
  }

  /**
   * SIGTERM: the trainer checkpoints and writes status "stopped". If it is still alive after
   * `matryoshkaLab.stopGraceSeconds`, SIGKILL, and run.json says so (status "stopped", stopSignal
   * "SIGKILL"). Queued runs are just dropped. In every mode only our own child or a pid whose command line
   * binds it to this run (src/runs/runProcess.ts) is signalled: a cloned run.json may name any pid.
   * Returns false when there is nothing to stop.
   */
  stop(runId: string): boolean {
    for (const p of [...this.spawning.values()]) {
      if (p.runId === runId && !p.started) {
        p.cancelled = true;
        this.queue.remove(p);
        this.spawning.delete(runId);
        p.wake();
        this.queueChanged.fire();
        return true;
      }
    }
    const r = this.model.get(runId);
    const child = this.childPids.get(runId);
    // A run the folder shows running is stopped through its run.json pid; otherwise (a resume whose
    // run.json still names the previous process, a launch not yet visible) only our own child.
    const pid = r?.status === 'running' && r.info.pid ? r.info.pid : child;
    if (!pid) return false;
    const refusal = pid === child ? undefined : refuseSignal(runId, pid, r?.dir ?? this.spawning.get(runId)?.runDir);
    if (refusal) {
      this.output.appendLine(`[${runId}] not stopped: ${refusal.log}`);
      void showWarning(refusal.warning);
      return true;
    }
    if (this.stopping.has(runId)) {
      this.output.appendLine(`[${runId}] already stopping (pid ${pid})`);
      return true;
    }
    const runDir = r?.dir ?? this.spawning.get(runId)?.runDir;
    this.stopRequested.add(runId);
    const graceS = settings().stopGraceSeconds;
    const cmdline = readProcCmdline(pid);
    const abort = new AbortController();
    this.stopping.set(runId, abort);
    const done = stopProcess({
      pid,
      runDir: r?.dir ?? this.spawning.get(runId)?.runDir,
      graceMs: graceS * 1000,
      // Pid reuse: SIGKILL only the process we sent SIGTERM to — our child still running, or the same
      // command line still bound to this run. A command line that cannot be read is not the same.
      stillSame: (p) =>
        p === child
          ? this.childPids.get(runId) === p
          : !!runDir &&
            isRunProcess(p, runDir) === true &&
            (cmdline === undefined ? process.platform !== 'linux' : readProcCmdline(p) === cmdline),
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

  /** Queue a launch (and start it if a slot is free); `track`: its own notification (a sweep has one). */
  private enqueue(base: Omit<Pending, 'started' | 'cancelled' | 'wake'>, track = true): Pending {
    const p: Pending = { ...base, started: false, cancelled: false, wake: () => {} };
    this.spawning.set(p.runId, p);
    this.queue.push(p);
    this.pump();
    this.queueChanged.fire();
    if (track) void this.progress.track(p);
    return p;
  }

  private pump(): void {
    const start = this.queue.take(this.liveCount(), settings().maxConcurrentRuns);
    for (const p of start) this.spawnNow(p);
    if (start.length) this.queueChanged.fire();
    // Once the folder shows the run (any status), the model tracks it; drop our bookkeeping.
    for (const [id, p] of this.spawning) {
      const r = this.model.get(id);
      if (p.started && r && (r.status === 'running' || p.exited)) this.spawning.delete(id);
    }
  }

  private spawnNow(p: Pending): void {
    if (p.configHash !== undefined && p.spawnArgs.kind === 'start' && fileHash(p.spawnArgs.configFile) !== p.configHash) {
      this.dropChangedSweep(p, p.spawnArgs.configFile);
      return;
    }
    // A new run goes into the runs folder as it is now: matryoshkaLab.runsFolder may have changed while it
    // waited (the runs view shows the new folder), or name no usable folder now (checked below).
    const runsNow = this.model.dir;
    if (p.spawnArgs.kind === 'start' && runsNow) p.runDir = path.join(runsNow, p.runId);
    // The output log lives beside the run folder (a resumed run stays where it is).
    const logFile = outputLogFile(path.dirname(p.runDir), p.runId);
    const s = settings();
    const plan = launchPlan({
      nodePath: s.nodePath,
      execPath: process.execPath,
      trainerJs: this.trainerJs,
      env: process.env,
      workers: s.workers,
      pythonPath: s.pythonPath,
      mode:
        p.spawnArgs.kind === 'start'
          ? { kind: 'start', configFile: p.spawnArgs.configFile, runDir: p.runDir, backend: p.spawnArgs.backend, sweep: p.spawnArgs.sweep }
          : { kind: 'resume', runDir: p.runDir },
    });
    this.output.appendLine(`[${p.runId}] ${plan.command} ${plan.args.join(' ')}`);
    let child: ReturnType<typeof spawnDetached>;
    try {
      if (p.spawnArgs.kind === 'start' && !runsNow)
        throw new Error('there is no runs folder now (matryoshkaLab.runsFolder changed while it waited)');
      const unusable = logsDirProblem(path.dirname(p.runDir));
      if (unusable) throw new Error(unusable);
      child = spawnDetached(plan, logFile);
    } catch (e) {
      // Nothing was started (its output file cannot be opened: `.logs` or the file itself a link…).
      p.started = true;
      p.exited = { code: null, signal: null };
      this.spawning.delete(p.runId);
      const why = e instanceof Error ? e.message : String(e);
      this.output.appendLine(`[${p.runId}] not started: ${why}`);
      void showError(`${p.spawnArgs.kind === 'resume' ? 'could not resume' : 'could not start'} ${p.label}: ${why}`);
      p.wake();
      setTimeout(() => this.pump(), 0); // its slot is free for whatever else waits
      return;
    }
    this.outputs.follow(p.runId, logFile);
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
      const stoppedByUs =
        this.stopRequested.delete(p.runId) && (signal === 'SIGTERM' || signal === 'SIGKILL' || code === 143 || code === 130);
      if (code === 2) {
        // A sweep's run refused (its data, its memory): the sweep ends there, as in a terminal — its queued
        // runs are dropped rather than each refused in turn; its running ones go on.
        const dropped = p.sweepId && p.spawnArgs.kind === 'start' ? this.dropQueued(p.sweepId) : [];
        if (dropped.length)
          this.output.appendLine(
            `[sweep ${p.sweepId}] ${p.runId} was refused: the sweep ends here, ${dropped.length} queued run(s) dropped (${dropped.join(', ')})`,
          );
        const ends = dropped.length
          ? ` The sweep ends there: its ${dropped.length} queued run${dropped.length === 1 ? ' was' : 's were'} not started.`
          : '';
        onChoice(
          showError(
            `${p.spawnArgs.kind === 'resume' ? 'could not resume' : 'could not start'} ${p.label}: ${tail() || 'the trainer refused (exit 2)'}${ends}`,
            'Show Log',
          ),
          'Show Log',
          () => this.output.show(true),
        );
      } else if (code !== 0 && !stoppedByUs && (!r || r.status === 'failed')) {
        const t = tail();
        onChoice(showError(`run ${p.label} failed${r?.info.error ? `: ${r.info.error}` : t ? `: ${t}` : ''}`, 'Show Log'), 'Show Log', () =>
          this.output.show(true),
        );
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
    this.outputs.copy(
      this.model.dir,
      this.model.live().map((r) => r.id),
      (id) => {
        const r = this.model.get(id);
        return !!r && r.status !== 'running' && !this.childPids.has(id);
      },
    );
  }

  dispose(): void {
    // Trainers are NOT killed: they are separate processes writing to disk and are found again after reload.
    clearInterval(this.timer);
    this.queueChanged.dispose();
    for (const a of this.stopping.values()) a.abort();
    this.disposables.forEach((d) => d.dispose());
  }
}

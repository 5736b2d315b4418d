// How to launch the trainer, as pure functions (no vscode import) so it is unit-tested.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { QueuedItem } from '../runsView/treeModel';
import type { ActiveSweep } from './launchTypes';

export interface LaunchInput {
  /** `matryoshkaLab.nodePath`; empty = the extension host's own executable. */
  nodePath: string;
  /** process.execPath of the extension host (Electron in desktop VS Code, Node in code-server/remote). */
  execPath: string;
  trainerJs: string;
  env: NodeJS.ProcessEnv;
  /** `matryoshkaLab.workers`: "auto" (the trainer decides) or a count of extra threads. */
  workers?: string;
  /** `matryoshkaLab.pythonPath`: the interpreter of engine sentence-transformers configs (MRL_PYTHON). */
  pythonPath?: string;
  mode: { kind: 'start'; configFile: string; runDir: string; backend?: string; sweep?: SweepSlot } | { kind: 'resume'; runDir: string };
}

/** One run of a sweep config: the sweep id its runs share and the combination's index. */
export interface SweepSlot {
  id: string;
  index: number;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function launchPlan(i: LaunchInput): LaunchPlan {
  const args = [i.trainerJs];
  if (i.mode.kind === 'start') {
    args.push('--config', i.mode.configFile, '--out', i.mode.runDir);
    if (i.mode.backend) args.push('--backend', i.mode.backend);
    if (i.mode.sweep) args.push('--sweep-id', i.mode.sweep.id, '--sweep-index', String(i.mode.sweep.index));
  } else args.push('--resume', i.mode.runDir);
  if (i.workers && i.workers !== 'auto') args.push('--workers', i.workers);
  const node = nodeRuntime(i.nodePath, i.execPath, i.env);
  // Read by the trainer only for "engine": "sentence-transformers" (src/trainer/engines/sentenceTransformers).
  if (i.pythonPath) node.env.MRL_PYTHON = i.pythonPath;
  const cwd = i.mode.kind === 'start' ? path.dirname(i.mode.configFile) : path.dirname(path.dirname(i.mode.runDir));
  return { command: node.command, args, env: node.env, cwd };
}

/**
 * The Node that runs our programs (the trainer, the exporter): `matryoshkaLab.nodePath`, or when it is
 * empty the extension host's own executable made a plain Node. The environment is a copy of `env`.
 */
export function nodeRuntime(nodePath: string, execPath: string, env: NodeJS.ProcessEnv): { command: string; env: NodeJS.ProcessEnv } {
  const out: NodeJS.ProcessEnv = { ...env };
  const own = !nodePath;
  // The extension host's executable is Electron in desktop VS Code; this variable makes it a plain Node.
  if (own) out.ELECTRON_RUN_AS_NODE = '1';
  else delete out.ELECTRON_RUN_AS_NODE;
  // Inherited from the extension host, these would make the child a debuggee or an IPC child.
  delete out.NODE_OPTIONS;
  delete out.VSCODE_IPC_HOOK;
  delete out.VSCODE_PID;
  return { command: own ? execPath : nodePath, env: out };
}

/**
 * `--backend` from the setting only when the config file does not choose one itself: the file is the
 * experiment's record, the setting a machine default.
 */
export function backendFlag(config: unknown, defaultBackend: string): string | undefined {
  const has = typeof config === 'object' && config !== null && 'backend' in config;
  if (has || !defaultBackend || defaultBackend === 'auto') return undefined;
  return defaultBackend;
}

/** FIFO of launches waiting for a free slot (max concurrent runs). */
export class LaunchQueue<T> {
  private items: T[] = [];
  push(x: T): number {
    this.items.push(x);
    return this.items.length;
  }
  /** Items to start now, given how many runs are live. */
  take(live: number, max: number): T[] {
    const n = Math.max(0, max - live);
    return this.items.splice(0, n);
  }
  remove(x: T): boolean {
    const i = this.items.indexOf(x);
    if (i >= 0) this.items.splice(i, 1);
    return i >= 0;
  }
  position(x: T): number {
    return this.items.indexOf(x);
  }
  get length(): number {
    return this.items.length;
  }
  /** What waits, first to start first. */
  list(): readonly T[] {
    return this.items;
  }
}

/** What the queue knows of a waiting launch (the launcher's bookkeeping, as far as the tree needs it). */
export interface WaitingLaunch {
  runId: string;
  /** The config's name (a resume: the run's). */
  name: string;
  spawnArgs: { kind: 'start'; sweep?: SweepSlot } | { kind: 'resume' };
  sweepName?: string;
  sweepParams?: Record<string, unknown>;
}

/** The queue as the runs view shows it: each launch with its place ("queued · 2 of 3"). */
export function queuedItems(waiting: readonly WaitingLaunch[]): QueuedItem[] {
  return waiting.map((p, i) => {
    const slot = p.spawnArgs.kind === 'start' ? p.spawnArgs.sweep : undefined;
    const item: QueuedItem = {
      runId: p.runId,
      name: p.name,
      resume: p.spawnArgs.kind === 'resume',
      position: i + 1,
      total: waiting.length,
    };
    if (slot) item.sweep = { id: slot.id, index: slot.index, params: p.sweepParams ?? {}, name: p.sweepName ?? p.name };
    return item;
  });
}

/** sha256 of a file's bytes ('' when it cannot be read: then any later read differs or fails alike). */
export function fileHash(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}

/**
 * Spawn the trainer so that it outlives the extension host: its own process group (detached), output
 * appended to a file rather than a pipe (a pipe would break — SIGPIPE — when the window reloads), and
 * unref'd so the host never waits for it. Returns the child (for exit events while the host lives).
 */
export function spawnDetached(plan: LaunchPlan, outputFile: string): ChildProcess {
  mkdirSync(path.dirname(outputFile), { recursive: true });
  // Never through a symlink: a committed `.logs/<id>.log -> ~/.bashrc` would get the trainer's output
  // appended when that run is resumed (O_NOFOLLOW where the platform has it).
  const fd = openSync(outputFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o644);
  try {
    const child = spawn(plan.command, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      detached: true,
      stdio: ['ignore', fd, fd],
      windowsHide: true,
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/** A launch as activeSweepsOf sees it. */
export interface SweepLaunchState {
  runId: string;
  label: string;
  sweepId?: string;
  sweepName?: string;
  started: boolean;
  exited?: unknown;
}

/**
 * Sweeps with a run running or queued: the runs the folder shows running (a terminal's sweep too), and
 * the launches not over yet — started ones running, the others queued — each run once.
 */
export function activeSweepsOf(
  live: Iterable<{ id: string; info: { name: string; sweep?: { id: string } } }>,
  launches: Iterable<SweepLaunchState>,
): ActiveSweep[] {
  const by = new Map<string, ActiveSweep>();
  const of = (id: string, name: string) => {
    let s = by.get(id);
    if (!s) by.set(id, (s = { sweepId: id, name, running: [], queued: [] }));
    return s;
  };
  for (const r of live) if (r.info.sweep?.id) of(r.info.sweep.id, r.info.name).running.push(r.id);
  for (const p of launches) {
    if (!p.sweepId || p.exited) continue;
    const s = of(p.sweepId, p.sweepName ?? p.label);
    const list = p.started ? s.running : s.queued;
    if (!s.running.includes(p.runId) && !s.queued.includes(p.runId)) list.push(p.runId);
  }
  return [...by.values()];
}

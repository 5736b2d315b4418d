/**
 * The one place that asks the OS about a trainer's pid (no vscode): does it exist, is it (or may it be)
 * our trainer. Readers use `isPidAlive` to tell a run that died while "running"; Stop uses `pidExists`
 * and `isOurTrainer` (Restricted Mode: a cloned run.json names any pid it likes).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MAX_LOCK_BYTES, readRegularFile } from './safeRead';

/** /proc/<pid>/cmdline (NUL-separated), or undefined when unreadable (no such process, not Linux). */
export function readProcCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Can this pid be signalled? EPERM means it exists but belongs to someone else: yes. */
function signalable(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return true;
}

/**
 * A command line names our trainer exactly: one of its arguments is …/dist/trainer.js or
 * …/src/trainer/cli/main.ts (Windows separators allowed). What Restricted Mode requires before a signal.
 */
export function isTrainerCommandLine(cmdline: string): boolean {
  return cmdline
    .split('\0')
    .map((a) => a.replace(/\\/g, '/'))
    .some((a) => /(^|\/)dist\/trainer\.js$/.test(a) || /(^|\/)src\/trainer\/cli\/main\.ts$/.test(a));
}

/**
 * A command line may be a trainer: it mentions "trainer" anywhere (a trainer started through a wrapper
 * or a renamed script). The looser test is enough to tell a run that died from one still running; it
 * is never used to decide whether to signal a pid.
 */
export function mayBeTrainerCommandLine(cmdline: string): boolean {
  return /trainer/i.test(cmdline);
}

/**
 * Is `pid` a Matryoshka Lab trainer? true / false where the command line can be read (Linux); undefined
 * where this platform does not let us tell (macOS, Windows) — callers in Restricted Mode then refuse,
 * with a message.
 */
export function isOurTrainer(
  pid: number,
  platform: NodeJS.Platform = process.platform,
  readCmdline: (pid: number) => string | undefined = readProcCmdline,
): boolean | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (platform !== 'linux') return undefined;
  const cmd = readCmdline(pid);
  if (cmd === undefined) return false; // no such process
  return isTrainerCommandLine(cmd);
}

/** Does a process with this pid exist (and is it not a zombie)? EPERM: it exists, someone else's. */
export function pidExists(pid: number): boolean {
  if (!signalable(pid)) return false;
  if (process.platform === 'linux') {
    try {
      // "pid (comm) S …": a zombie (Z) has exited; only its parent's wait() is missing.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return false;
    } catch {
      /* raced with its exit, or no /proc: trust kill(0) */
    }
  }
  return true;
}

/**
 * Is the process that wrote a "running" run.json still alive? After a reboot the pid may belong to an
 * unrelated process: where the command line is readable (Linux /proc), a live trainer's may be a
 * trainer (`mayBeTrainerCommandLine`); elsewhere a live pid is taken for alive.
 */
export function isPidAlive(pid: number, platform: NodeJS.Platform = process.platform): boolean {
  if (!signalable(pid)) return false;
  const cmd = platform === 'linux' ? readProcCmdline(pid) : undefined;
  return cmd === undefined || mayBeTrainerCommandLine(cmd);
}

/**
 * Is the process that wrote a "running" run.json with its command line (`cmdline` in run.json: a
 * sentence-transformers script tracked by python/matryoshka_lab_callback.py, which is no trainer of
 * ours by name) still that process? Where /proc is readable its command line must be the same.
 */
export function isPidAliveAs(pid: number, cmdline: string, platform: NodeJS.Platform = process.platform): boolean {
  if (!signalable(pid)) return false;
  const cmd = platform === 'linux' ? readProcCmdline(pid) : undefined;
  return cmd === undefined || cmd.replace(/\0$/, '') === cmdline;
}

/**
 * A trainer's lock in its run folder (`.lock`, created exclusively): who writes the run now. The name and
 * the format live here, beside the pid checks, not in src/protocol/runFolder.ts: only src/runs writes and
 * reads the lock (runWriter.ts acquires it; the trainer CLI and the host ask liveLockHolder), the webview
 * never sees it, and what its `pid`/`cmdline` mean is defined by these checks. runFolder.ts lists the
 * file and points here.
 */
export const LOCK_FILE = '.lock';

export interface RunLock {
  pid: number;
  /** The holder's command line (argv joined by NUL), to tell a live trainer from a reused pid. */
  cmdline: string;
  since: string;
  /**
   * The machine the holder runs on (os.hostname()). A run folder on a shared or network file system may
   * be written from another machine, whose pids mean nothing here: such a lock is never judged stale,
   * and its pid is never signalled, from this one. Absent in locks written before it was recorded.
   */
  host?: string;
}

/** This machine's name, as a lock records it. */
export function thisHost(): string {
  return hostname();
}

/** The lock was written on another machine: nothing about its pid can be checked from here. */
export function isForeignLock(h: Partial<RunLock>): boolean {
  return typeof h.host === 'string' && h.host !== thisHost();
}

/**
 * Is the lock's holder alive and still the same program (not a reused pid), and not this process? A lock
 * written on another machine counts as held: it cannot be judged from here.
 */
export function lockHolderAlive(h: Partial<RunLock>): boolean {
  if (!Number.isInteger(h.pid) || h.pid! <= 0) return false;
  if (isForeignLock(h)) return true;
  if (h.pid === process.pid) return false;
  if (!pidExists(h.pid!)) return false;
  // Linux: the pid's command line must still be the trainer's (a pid reused by another program is stale).
  const cmd = readProcCmdline(h.pid!)?.replace(/\0$/, '');
  if (cmd === undefined) return true; // no /proc: trust the pid
  return typeof h.cmdline !== 'string' || cmd === h.cmdline;
}

/**
 * The run folder's lock (or the lock file `name`, e.g. a taker's temp): undefined when there is none; `{}`
 * when it is there but unreadable (torn by a kill -9 mid-write: a stale lock).
 */
export function readRunLock(dir: string, name = LOCK_FILE): Partial<RunLock> | undefined {
  let text: string;
  try {
    // A regular file of a few bytes: a committed `.lock` FIFO or link to /dev/zero must not hang the host.
    text = readRegularFile(join(dir, name), MAX_LOCK_BYTES);
  } catch {
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Partial<RunLock>) : {};
  } catch {
    return {};
  }
}

/**
 * The live trainer holding the run folder's lock on this machine, if any (a stale lock, none, or one
 * written on another machine: undefined). What may be signalled (Stop) goes by this.
 */
export function liveLockHolder(dir: string): number | undefined {
  const h = readRunLock(dir);
  return h && !isForeignLock(h) && lockHolderAlive(h) ? h.pid : undefined;
}

/**
 * Is the run folder's writer alive, as its lock tells (exact pid and command line, on its own machine)?
 * undefined when the folder has no lock (a run from before locks, or one the sentence-transformers
 * callback tracks alone): the caller falls back on run.json's pid. A lock from another machine: alive.
 */
export function lockSaysAlive(dir: string): boolean | undefined {
  const h = readRunLock(dir);
  return h === undefined ? undefined : lockHolderAlive(h);
}

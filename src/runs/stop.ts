/**
 * Stopping a trainer (no vscode): SIGTERM, and if the process is still alive after a grace period,
 * SIGKILL. A trainer killed with SIGKILL cannot write its final status, so once its pid is confirmed
 * dead the host rewrites run.json (atomically) as "stopped", saying it was killed and why.
 *
 * Whether a pid exists / is one of our trainers at all (Restricted Mode) is asked in ./process.
 */
import { writeFileAtomic } from './atomicFile';
import { join } from 'node:path';
import { RUN_FILES } from '../protocol/runFolder';
import { pidExists } from './trainerProcess';
import { MAX_INFO_BYTES, readJsonFile } from './safeRead';

export interface StopOptions {
  pid: number;
  /** The run folder whose run.json to rewrite after a SIGKILL (none: nothing is rewritten). */
  runDir?: string;
  /** How long the trainer gets after SIGTERM (checkpoint, final run.json) before SIGKILL. */
  graceMs: number;
  /** Checked before SIGKILL: is the pid still the process we sent SIGTERM to? (pid reuse) */
  stillSame?: (pid: number) => boolean;
  alive?: (pid: number) => boolean;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  pollMs?: number;
  /** How long to wait for the process to vanish after SIGKILL. */
  killWaitMs?: number;
  now?: () => Date;
  /** Abandon the wait (the extension is deactivating); nothing more is signalled. */
  abort?: AbortSignal;
}

export interface StopOutcome {
  /** The last signal sent; null when the process was already gone. */
  signal: 'SIGTERM' | 'SIGKILL' | null;
  /** The process is confirmed gone. */
  exited: boolean;
  /** run.json was rewritten by us (status "stopped", stopSignal "SIGKILL"). */
  rewrote: boolean;
  message?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function secondsText(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(1).replace(/\.0$/, '');
}

export function killedMessage(graceMs: number): string {
  return `did not stop within ${secondsText(graceMs)} s of SIGTERM; killed`;
}

async function waitGone(pid: number, ms: number, alive: (pid: number) => boolean, pollMs: number, abort?: AbortSignal): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (!alive(pid)) return true;
    if (abort?.aborted || Date.now() >= end) return false;
    await sleep(Math.max(1, Math.min(pollMs, end - Date.now())));
  }
}

/** SIGTERM, grace, SIGKILL, confirm dead, rewrite run.json. Never throws. */
export async function stopProcess(o: StopOptions): Promise<StopOutcome> {
  const alive = o.alive ?? pidExists;
  const kill = o.kill ?? ((pid, sig) => process.kill(pid, sig));
  const pollMs = o.pollMs ?? 100;
  try {
    kill(o.pid, 'SIGTERM');
  } catch (e) {
    return { signal: null, exited: !alive(o.pid), rewrote: false, message: (e as Error).message };
  }
  if (await waitGone(o.pid, o.graceMs, alive, pollMs, o.abort)) return { signal: 'SIGTERM', exited: true, rewrote: false };
  if (o.abort?.aborted) return { signal: 'SIGTERM', exited: false, rewrote: false, message: 'abandoned' };
  if (o.stillSame && !o.stillSame(o.pid)) {
    return {
      signal: 'SIGTERM',
      exited: false,
      rewrote: false,
      message: `pid ${o.pid} is no longer the process that was asked to stop; not killed`,
    };
  }
  try {
    kill(o.pid, 'SIGKILL');
  } catch {
    /* exited between the check and the kill */
  }
  const gone = await waitGone(o.pid, o.killWaitMs ?? 5000, alive, pollMs, o.abort);
  if (!gone) return { signal: 'SIGKILL', exited: false, rewrote: false, message: `pid ${o.pid} survived SIGKILL` };
  const message = killedMessage(o.graceMs);
  const rewrote = o.runDir ? markKilled(o.runDir, message, (o.now ?? (() => new Date()))(), o.pid) : false;
  return { signal: 'SIGKILL', exited: true, rewrote, message };
}

/**
 * After a confirmed SIGKILL: run.json → status "stopped", stopSignal "SIGKILL", error = why, written
 * atomically (temp file + rename). A final status the trainer managed to write is left as it is, and so
 * is a run.json that names another pid (another trainer resumed the run meanwhile).
 */
export function markKilled(runDir: string, message: string, now: Date, killedPid?: number): boolean {
  const file = join(runDir, RUN_FILES.info);
  let info: Record<string, unknown> = {};
  // Missing, torn or not a regular file: write what we know.
  const v = readJsonFile(file, MAX_INFO_BYTES);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) info = v as Record<string, unknown>;
  if (info.status !== undefined && info.status !== 'running') return false;
  if (killedPid !== undefined && typeof info.pid === 'number' && info.pid !== killedPid) return false;
  const next = { ...info, status: 'stopped', endedAt: now.toISOString(), stopSignal: 'SIGKILL', error: message };
  try {
    writeFileAtomic(file, JSON.stringify(next, null, 2));
    return true;
  } catch {
    return false;
  }
}

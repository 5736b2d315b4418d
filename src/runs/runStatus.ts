/**
 * The status a run is shown with, which may differ from what its run.json says: a "running" run whose
 * writer is gone is failed (judged by its .lock where it has one, else by run.json's pid), and so is a
 * folder without a valid run.json, or a "running" one without a pid, once nothing was written for a while.
 * Used by RunStore (store.ts) on every run.json it reads and every refresh.
 */
import { statSync } from 'node:fs';
import type { RunInfo, RunStatus } from '../protocol/runFolder';
import { liveness } from './liveness';
import type { RunEntry } from './runDir';
import { isPidAlive, isPidAliveAs, lockSaysAlive } from './trainerProcess';

export interface EffectiveStatus {
  status: RunStatus;
  died: boolean;
  /** Why the status differs from run.json's (process gone, stale folder). */
  reason?: string;
}

/** What the status of one run is judged from. */
export interface StatusSubject {
  dir: string;
  entry: RunEntry;
  info: RunInfo;
  tail: { file: string };
  /** A stand-in for a folder that could not be read at all, and why. */
  placeholder?: boolean;
  readError?: string;
}

export interface StatusClock {
  now: number;
  staleGraceMs: number;
  noPidGraceMs: number;
  /** The pid check (isPidAlive unless a test injects another: then locks and command lines are not read). */
  alive: (pid: number) => boolean;
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** Effective status: a dead pid → failed; a folder with no valid run.json past the grace → failed. */
export function effectiveStatus(r: StatusSubject, c: StatusClock): EffectiveStatus {
  if (r.placeholder)
    return { status: 'failed', died: false, reason: r.readError ? `unreadable run folder: ${r.readError}` : 'unreadable run folder' };
  if (r.entry.infoMissing) {
    const last = r.entry.lastWrite ?? 0;
    const age = c.now - last;
    if (age > c.staleGraceMs) {
      return { status: 'failed', died: false, reason: `stale: no run.json (nothing written for ${Math.round(age / 1000)} s)` };
    }
    return { status: 'running', died: false };
  }
  if (r.info.status === 'running' && c.alive === isPidAlive) {
    // Where the run holds a lock, it names the writer exactly (pid, command line, machine), as Stop reads
    // it: run.json's pid with a loose command-line test would take a reused pid for the trainer, and a
    // run written from another machine (a shared file system) for a dead one.
    const byLock = lockSaysAlive(r.dir);
    if (byLock === true) return { status: 'running', died: false };
    if (byLock === false) return { status: 'failed', died: true, reason: 'the trainer process is gone (killed or crashed)' };
  }
  if (r.info.status === 'running' && (r.info.pid === null || r.info.pid === undefined)) {
    // "running" with no pid to check (not our trainer, which always writes its pid): alive while it
    // writes something; a copy of such a folder (a clone) must not count as running for ever.
    const last = Math.max(r.entry.infoMtime, mtimeOf(r.tail.file), mtimeOf(r.dir));
    const age = c.now - last;
    if (age > c.noPidGraceMs)
      return { status: 'failed', died: false, reason: `stale: running without a pid (nothing written for ${Math.round(age / 1000)} s)` };
  }
  // A script tracked by the sentence-transformers callback records its command line (its name need not
  // say "trainer"); with the default check, that is what tells it from a reused pid.
  const cmdline = r.info.cmdline;
  const alive = typeof cmdline === 'string' && c.alive === isPidAlive ? (pid: number) => isPidAliveAs(pid, cmdline) : c.alive;
  const lv = liveness(r.info, alive);
  return { ...lv, reason: lv.died ? 'the trainer process is gone (killed or crashed)' : undefined };
}

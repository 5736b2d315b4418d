/**
 * Telling that a run died: run.json says "running" but the process that wrote it is gone (killed with
 * SIGKILL, machine rebooted, out of memory) — nobody will ever set the final status, so readers must.
 */
import { readFileSync } from 'node:fs';
import type { RunInfo, RunStatus } from '../protocol/runFolder';

/** Is a process with this pid alive? EPERM means it exists but belongs to someone else: alive. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // After a reboot the pid may belong to an unrelated process. Where the command line is readable
  // (Linux /proc), a live trainer's names its script (dist/trainer.js, src/trainer/cli.ts).
  const cmd = readCmdline(pid);
  return cmd === undefined || /trainer/i.test(cmd);
}

function readCmdline(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

export interface Liveness {
  /** The status to show: "failed" for a run that died while running. */
  status: RunStatus;
  /** True when run.json says running but its process is gone. */
  died: boolean;
}

/**
 * `alive` is injectable so tests (and a host that knows its own child processes) can decide. A running
 * run without a pid (written by a trainer before it knew it) is given the benefit of the doubt.
 */
export function liveness(info: Pick<RunInfo, 'status' | 'pid'>, alive: (pid: number) => boolean = isPidAlive): Liveness {
  if (info.status !== 'running') return { status: info.status, died: false };
  if (info.pid === null || info.pid === undefined) return { status: 'running', died: false };
  if (alive(info.pid)) return { status: 'running', died: false };
  return { status: 'failed', died: true };
}

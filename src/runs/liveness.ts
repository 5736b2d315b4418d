/**
 * Telling that a run died: run.json says "running" but the process that wrote it is gone (killed with
 * SIGKILL, machine rebooted, out of memory) — nobody will ever set the final status, so readers must.
 */
import type { RunInfo, RunStatus } from '../protocol/runFolder';
import { isPidAlive } from './trainerProcess';

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

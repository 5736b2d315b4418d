/**
 * Whether Stop may signal a pid that is not our own child: the pid comes from run.json, which a cloned
 * repository can fill with anything. No vscode here: the launcher shows what this returns.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { isRunProcess } from '../../runs/runProcess';
import { isForeignLock, liveLockHolder, LOCK_FILE, readRunLock } from '../../runs/trainerProcess';

export interface SignalRefusal {
  /** For the output channel ("[run] not stopped: …"). */
  log: string;
  /** For the user. */
  warning: string;
}

/** Why `pid` (run.json's, of the run in `runDir`) must not be signalled; undefined when it may be. */
export function refuseSignal(runId: string, pid: number, runDir: string | undefined): SignalRefusal | undefined {
  // A lock written on another machine (a runs folder on a shared file system): its pid is no process of
  // this one, whatever runs here under that number.
  const lock = runDir ? readRunLock(runDir) : undefined;
  if (lock && isForeignLock(lock)) {
    return {
      log: `its trainer runs on ${lock.host} (pid ${lock.pid} there)`,
      warning: `${runId} is being trained on ${lock.host}: stop it on that machine.`,
    };
  }
  // A run folder with a lock names the trainer writing it: a run.json pid that the lock does not name
  // (a trainer killed with -9 whose pid now belongs to another run's trainer) is not signalled.
  if (runDir && existsSync(path.join(runDir, LOCK_FILE)) && liveLockHolder(runDir) !== pid) {
    return {
      log: `pid ${pid} from run.json does not hold the run's lock`,
      warning: `${runId} is not running any more: pid ${pid} from its run.json does not hold the run's lock. Refresh Runs to update its status.`,
    };
  }
  // In every mode, only a process bound to this run by its own argv (src/runs/runProcess.ts) is
  // signalled: run.json, its cmdline and the lock are whatever a cloned repository committed.
  const bound = runDir ? isRunProcess(pid, runDir) : undefined;
  if (bound === true) return undefined;
  const why =
    bound === undefined
      ? `the extension cannot tell on ${process.platform} whether pid ${pid} (from ${runId}/run.json) is the trainer of this run`
      : `pid ${pid} (from ${runId}/run.json) is not the trainer of this run (its command line names neither the run folder nor its runs folder)`;
  return { log: why, warning: `not stopping ${runId}: ${why}. Stop it from its terminal.` };
}

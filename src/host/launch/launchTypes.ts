/**
 * What a launch takes and gives, apart from the launcher that does it: the config editor's validation
 * outcome it launches from (configEditor depends on launch, never the reverse), sweeps queued and active.
 */

/** One run of a sweep config, as Start Run queues it: its place in the expansion, its values and name. */
export interface SweepRunRef {
  index: number;
  params: Record<string, unknown>;
  name: string;
}

/** What the launcher needs to know of a config before it launches (the config editor's validation
 *  supplies it: configEditor depends on launch, never the reverse). */
export interface ValidationOutcome {
  ok: boolean;
  /** The resolved config (defaults filled in), when valid. */
  config?: Record<string, unknown>;
  /** The file as written (to tell whether it chooses a backend itself). */
  raw?: unknown;
  /** A valid sweep config: the runs it expands to. */
  sweepRuns?: SweepRunRef[];
  problems: string[];
}

/** What Start Run on a sweep config queued: the sweep id its runs share, and their run ids in order. */
export interface SweepLaunch {
  sweepId: string;
  runIds: string[];
}

/** A sweep with something left to stop: runs running (in the folder or just spawned) and runs queued. */
export interface ActiveSweep {
  sweepId: string;
  name: string;
  running: string[];
  queued: string[];
}

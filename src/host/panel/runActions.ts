/**
 * What the host does for a runs-table `runAction` (webview → host): pure, so that the panel host only
 * carries the steps out (show runs, post a diff table, execute a command) and holds no command logic.
 * The commands are the palette's, with their confirmations: their ids come in as RunActionCommands
 * (RUN_ACTION_COMMANDS in src/host/commands/commandIds.ts, wired in src/host/extension.ts).
 */
import type { RunAction } from '../../protocol/panelMessages';

/** The command ids the actions run (the registered ones: RUN_ACTION_COMMANDS; tests may pass others). */
export interface RunActionCommands {
  diffConfigs: string;
  stopRun: string;
  resumeRun: string;
  deleteRun: string;
  editNotes: string;
  stopSweep: string;
  exportModel: string;
}

export type RunActionStep =
  /** Overlay these runs in the panel's charts. */
  | { kind: 'show'; runIds: string[] }
  /** The panel's changed-keys table for these runs (three or more: the diff editor takes two). */
  | { kind: 'diffTable'; runIds: string[] }
  | { kind: 'command'; command: string; args: unknown[] }
  /** Nothing to do; `reason` says why (logged, and shown when the user asked for something impossible). */
  | { kind: 'none'; reason: string };

/**
 * The steps for `action` on `runIds` (duplicates and unknown ids dropped; `known` tells which exist).
 * `sweepOf` gives a run's sweep id, for Stop Sweep; `commands` the ids of the commands to run.
 */
export function planRunAction(
  action: RunAction,
  runIds: readonly string[],
  known: (id: string) => boolean,
  sweepOf: (id: string) => string | undefined,
  commands: RunActionCommands,
): RunActionStep[] {
  const ids = [...new Set(runIds)].filter(known);
  if (ids.length === 0) return [{ kind: 'none', reason: runIds.length ? `no such run: ${runIds.join(', ')}` : 'no runs selected' }];
  switch (action) {
    case 'plot':
      return [{ kind: 'show', runIds: ids }];
    case 'diff':
      if (ids.length < 2) return [{ kind: 'none', reason: 'choose two or more runs to diff their configs' }];
      // Two: VS Code's diff editor (the Diff Run Configs command); more: the panel's changed-keys table.
      return ids.length === 2
        ? [{ kind: 'command', command: commands.diffConfigs, args: [ids[0], ids[1]] }]
        : [{ kind: 'diffTable', runIds: ids }];
    case 'stop':
      return [{ kind: 'command', command: commands.stopRun, args: [ids] }];
    case 'resume':
      return [{ kind: 'command', command: commands.resumeRun, args: [ids] }];
    case 'delete':
      return [{ kind: 'command', command: commands.deleteRun, args: [ids] }];
    case 'editNotes':
      // One run's notes at a time (a name, tags and a note are per run).
      return [{ kind: 'command', command: commands.editNotes, args: [ids[0]] }];
    case 'export':
      // One run at a time: the pickers preselect that run's own advice.
      return [{ kind: 'command', command: commands.exportModel, args: [ids[0]] }];
    case 'stopSweep': {
      const sweeps = [...new Set(ids.map(sweepOf).filter((s): s is string => !!s))];
      if (!sweeps.length) return [{ kind: 'none', reason: 'none of the selected runs belongs to a sweep' }];
      return sweeps.map((s) => ({ kind: 'command', command: commands.stopSweep, args: [s] }));
    }
  }
}

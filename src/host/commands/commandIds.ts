/**
 * The extension's command ids, in one place free of vscode imports: the host registers them, the panel
 * host runs them for the runs table's buttons (RUN_ACTION_COMMANDS, given to the panel by
 * src/host/extension.ts), tests call them.
 */
import type { RunActionCommands } from '../panel/runActions';

export const CMD = {
  startRun: 'matryoshkaLab.startRun',
  stopRun: 'matryoshkaLab.stopRun',
  resumeRun: 'matryoshkaLab.resumeRun',
  deleteRun: 'matryoshkaLab.deleteRun',
  openPanel: 'matryoshkaLab.openPanel',
  compareRuns: 'matryoshkaLab.compareRuns',
  diffConfigs: 'matryoshkaLab.diffConfigs',
  newConfig: 'matryoshkaLab.newConfig',
  refresh: 'matryoshkaLab.refreshRuns',
  showLog: 'matryoshkaLab.showLog',
  stopSweep: 'matryoshkaLab.stopSweep',
  cancelQueuedRun: 'matryoshkaLab.cancelQueuedRun',
  exportModel: 'matryoshkaLab.exportModel',
} as const;

export const NOTES_CMD = {
  renameRun: 'matryoshkaLab.renameRun',
  editTags: 'matryoshkaLab.editTags',
  editNote: 'matryoshkaLab.editNote',
  editNotes: 'matryoshkaLab.editNotes',
} as const;

/** The commands the runs table's buttons run (src/host/panel/runActions.ts): the palette's own. */
export const RUN_ACTION_COMMANDS: RunActionCommands = {
  diffConfigs: CMD.diffConfigs,
  stopRun: CMD.stopRun,
  resumeRun: CMD.resumeRun,
  deleteRun: CMD.deleteRun,
  editNotes: NOTES_CMD.editNotes,
  stopSweep: CMD.stopSweep,
  exportModel: CMD.exportModel,
};

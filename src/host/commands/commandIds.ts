/**
 * The extension's command ids, in one place free of vscode imports: the host registers them, the panel
 * host runs them for the runs table's buttons (src/host/panel/runActions.ts), tests call them.
 */
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
} as const;

export const NOTES_CMD = {
  renameRun: 'matryoshkaLab.renameRun',
  editTags: 'matryoshkaLab.editTags',
  editNote: 'matryoshkaLab.editNote',
  editNotes: 'matryoshkaLab.editNotes',
} as const;

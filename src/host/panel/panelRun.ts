/**
 * A run as the panel sees it (PanelRun, src/protocol/panelMessages.ts), built from the host's RunState:
 * pure (no vscode import), so tests build exactly what the panel host sends.
 */
import { isBestCheckpoints, isSweepRef, type PanelRun, type PanelRunSummary } from '../../protocol/panelMessages';
import { isDataProvenance, isGitProvenance, type RunInfo } from '../../protocol/runFolder';
import type { RunState } from '../../runs/store';

/** run.json (+ config.json) → the panel's view of a run. */
export function toPanelRun(info: RunInfo, config?: Record<string, unknown> | null): PanelRun {
  const run: PanelRun = { id: info.id, name: info.name, status: info.status };
  if (info.error !== undefined) run.error = info.error;
  if (info.startedAt !== undefined) run.startedAt = info.startedAt;
  if (info.endedAt !== undefined) run.endedAt = info.endedAt;
  if (typeof info.step === 'number') run.step = info.step;
  if (typeof info.totalSteps === 'number') run.totalSteps = info.totalSteps;
  if (info.backend !== undefined) run.backend = info.backend;
  if (typeof info.engine === 'string') run.engine = info.engine;
  if (isSweepRef(info.sweep)) run.sweep = info.sweep;
  // A hand-edited or foreign run.json with a malformed record is shown without it, never refused.
  if (isBestCheckpoints(info.bestCheckpoints) && Object.keys(info.bestCheckpoints).length) run.bestCheckpoints = info.bestCheckpoints;
  if (isGitProvenance(info.git)) run.git = info.git;
  if (isDataProvenance(info.data)) run.data = info.data;
  if (config !== undefined) run.config = config;
  return run;
}

/** The metrics digest of a run for the runs table; undefined while none of its metrics has been read. */
export function panelSummaryOf(r: RunState): PanelRunSummary | undefined {
  if (r.series.total === 0) return undefined;
  const d = r.series.evalDigest();
  return { ...d, loss: r.summary.loss, pairsPerSec: r.summary.samplesPerSec, lastStep: r.summary.lastStep };
}

export function panelRunOf(r: RunState): PanelRun {
  // The status shown is the effective one (a dead "running" run is failed), with the reason.
  const why = r.readError ? `could not read the run folder: ${r.readError}` : r.status !== r.info.status ? r.reason : undefined;
  const run = toPanelRun(
    {
      ...r.info,
      status: r.status,
      error: r.died ? (r.info.error ?? r.reason ?? 'the trainer process is gone (killed or crashed)') : (why ?? r.info.error),
    },
    r.config(),
  );
  if (run.step === undefined && r.summary.lastStep !== null) run.step = r.summary.lastStep;
  if (r.notes) run.notes = r.notes;
  const summary = panelSummaryOf(r);
  if (summary) run.summary = summary;
  return run;
}

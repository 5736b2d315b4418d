/**
 * The run folder's record of a run's life (its format: src/protocol/runFolder.ts; its writer:
 * src/runs/runWriter.ts). Opened when training starts: created all at once for a new run, reopened
 * under its lock for a resume. Closed with the status the run ends with — completed (the trained model
 * saved beside), stopped (a checkpoint to resume from) or failed (the error) — never left "running".
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyResume } from '../../insights/metricRules';
import { parseMetricsJsonl, RUN_FILES, type RunInfo } from '../../protocol/runFolder';
import { writeFileAtomic } from '../../runs/atomicFile';
import { provenance } from '../../runs/gitProvenance';
import { acquireRunLock, releaseRunLock, removeDeadWritersTemps, RunWriter } from '../../runs/runWriter';
import { saveHfModel } from '../model/hfFolder';
import { removeCheckpointsAfter, removeTempCheckpoints, type LoadedCheckpoint } from './checkpoint';
import type { PreparedRun } from './prepare';

export interface RunFolderOptions {
  runDir: string;
  /** Resume the run in runDir from this checkpoint. */
  resumeFrom?: LoadedCheckpoint;
  /** Extra fields for a new run's run.json. */
  infoExtra?: Record<string, unknown>;
}

/** The run id: the run folder's name. */
export function runIdOf(runDir: string): string {
  return runDir.split(/[\\/]/).filter(Boolean).pop()!;
}

/**
 * A new run's folder (config.json, run.json, checkpoints/, .lock: all of it or nothing), or the folder of
 * the run to resume, its lock taken. Throws having written nothing: RunLockedError when another live
 * trainer writes the run.
 */
export function openRunFolder(p: PreparedRun, o: RunFolderOptions, totalSteps: number, now: Date): RunWriter {
  if (!o.resumeFrom) {
    const info: RunInfo = {
      id: runIdOf(o.runDir),
      name: p.config.name,
      status: 'running',
      pid: process.pid,
      startedAt: now.toISOString(),
      endedAt: null,
      backend: p.backend.name,
      backendReason: p.backend.reason,
      step: 0,
      totalSteps,
      // Where it came from: the config's commit (when it lies in a git work tree) and the data's sources.
      ...provenance(typeof o.infoExtra?.configFile === 'string' ? o.infoExtra.configFile : undefined, p.data),
      ...o.infoExtra,
    };
    return RunWriter.create(o.runDir, info, p.config);
  }
  try {
    acquireRunLock(o.runDir);
    return RunWriter.open(o.runDir);
  } catch (e) {
    // A resume whose run.json cannot be read: the lock just taken (ours only) must not outlive this attempt.
    releaseRunLock(o.runDir);
    throw e;
  }
}

/**
 * A resumed run's folder, running again from the checkpoint at `fromStep`: unfinished checkpoints, the
 * unreadable ones after `fromStep` and the temp files of dead writers cleared, run.json "running" on this
 * backend.
 */
export function reopenForResume(writer: RunWriter, p: PreparedRun, runDir: string, fromStep: number, totalSteps: number, now: Date): void {
  const removed = removeTempCheckpoints(runDir);
  if (removed.length) writer.log(`removed ${removed.length} unfinished checkpoint folder(s): ${removed.join(', ')}`);
  const skipped = removeCheckpointsAfter(runDir, fromStep);
  if (skipped.length)
    writer.log(`removed the unreadable checkpoint(s) after step ${fromStep}: ${skipped.map((s) => `step-${s}`).join(', ')}`);
  const temps = removeDeadWritersTemps(runDir);
  if (temps.length) writer.log(`removed ${temps.length} temporary file(s) of a trainer that died writing them: ${temps.join(', ')}`);
  writer.update({
    status: 'running',
    pid: process.pid,
    endedAt: null,
    error: undefined,
    backend: p.backend.name,
    backendReason: p.backend.reason,
    totalSteps,
    resumedAt: now.toISOString(),
  });
}

/** The resume event (a reader drops the events after `fromStep` that an earlier attempt wrote). */
export function recordResume(writer: RunWriter, ckpt: LoadedCheckpoint, now: Date): void {
  const { step, elapsed } = ckpt.state;
  writer.append({ type: 'resume', fromStep: step, time: elapsed, wallTime: now.getTime() });
  writer.update({ step });
  writer.log(`resumed from step ${step} (${ckpt.dir})`);
}

/**
 * Does metrics.jsonl hold an evaluation of the model at `step` that still counts (the resume rule
 * applied)? A stop abandons an evaluation without writing it, so a resumed run asks before going on.
 */
export function evalWrittenAt(runDir: string, step: number): boolean {
  let text: string;
  try {
    text = readFileSync(join(runDir, RUN_FILES.metrics), 'utf8');
  } catch {
    return false;
  }
  return applyResume(parseMetricsJsonl(text).lines).some((e) => e.split === 'eval' && e.step === step);
}

/**
 * run.json says "failed" with the error. Never throws: the failure may be the disk itself (full, read-only),
 * so the log line is best effort and run.json is rewritten in place on a full disk; when even that fails,
 * the error → `err` extended with why the status could not be recorded (the caller reports it). A run.json
 * left "running" then still reads as failed: its trainer is gone (src/runs/store.ts).
 */
export function markFailed(writer: RunWriter, err: Error, step: number): Error {
  try {
    writer.log(`failed: ${err.stack ?? err.message}`);
  } catch {
    // log.txt is the human record; the status below is what readers go by
  }
  try {
    writer.update({ status: 'failed', pid: null, endedAt: new Date().toISOString(), error: err.message, step }, { inPlaceIfFull: true });
    return err;
  } catch (e) {
    const both = new Error(`${err.message} (and run.json could not record the failure: ${(e as Error).message})`);
    both.stack = err.stack;
    return both;
  }
}

/**
 * A run that --resume found nothing to continue from (no checkpoint, or none that reads back): when its
 * run.json still says "running" — its trainer is gone, the caller holds the lock — it says "failed" with
 * `why`, so that no reader is left with a run that runs nowhere.
 */
export function markUnresumable(runDir: string, info: RunInfo, why: string): void {
  if (info.status !== 'running') return;
  const file = join(runDir, RUN_FILES.info);
  writeFileAtomic(
    file,
    JSON.stringify({ ...info, status: 'failed', pid: null, endedAt: new Date().toISOString(), error: why }, null, 2) + '\n',
  );
  appendFileSync(join(runDir, RUN_FILES.log), `${new Date().toISOString()} failed: ${why}\n`);
}

export function markStopped(writer: RunWriter, runDir: string, step: number): void {
  writer.log(`stopped at step ${step} (checkpoint written; --resume ${runDir} continues)`);
  writer.update({ status: 'stopped', pid: null, endedAt: new Date().toISOString(), step });
}

/** The trained model saved as a Hugging Face folder (runDir/model), and the run marked completed. */
export function markCompleted(writer: RunWriter, p: PreparedRun, runDir: string, step: number, print: (s: string) => void): void {
  saveHfModel(join(runDir, 'model'), p.encoder, p.tokenizer, { maxSeqLength: p.maxSeqLength });
  writer.log(`completed ${step} steps; model saved to ${join(runDir, 'model')}`);
  if (p.encoder.spec.layerNorm === 'pre') {
    const why =
      'the model is pre-LN (layerNorm "pre"): it loads in Matryoshka Lab, while transformers / sentence-transformers refuse it (they have no such BERT); train with layerNorm "post" to use it there';
    writer.log(why);
    print(`note: ${why}`);
  }
  writer.update({ status: 'completed', pid: null, endedAt: new Date().toISOString(), step });
}

/**
 * One training run, from a prepared run (prepare.ts) to a run folder (docs/architecture.md): AdamW with
 * warmup + decay, evaluation at step 0 / every evalEvery steps / at the end at every dim
 * (evalSchedule.ts), checkpoints (checkpointSchedule.ts), stop (finish the step, checkpoint, status
 * "stopped"), crash (status "failed"), resume (continue the same curve from the last checkpoint), and the
 * trained model as a Hugging Face folder (runRecord.ts). The steps themselves: trainLoop.ts.
 */
import { WorkAbandoned } from '../../common/cooperative';
import { tableSize } from '../../data/dataset';
import { releaseRunLock, type RunWriter } from '../../runs/runWriter';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyResume } from '../../insights/metricRules';
import { parseMetricsJsonl, RUN_FILES, type RunEstimate, type RunInfo, type RunStatus } from '../../protocol/runFolder';
import { estimateText } from '../../insights/runTime';
import { describeStepMemory, peakRssBytes } from '../runtime/memoryBudget';
import type { EvalResult } from '../eval/evaluator';
import { DataParallelPool } from '../runtime/parallel/pool';
import { BestCheckpoints } from './bestCheckpoints';
import {
  checkpointDir,
  initialState,
  listCheckpoints,
  restoreRun,
  saveCheckpoint,
  writeModelFiles,
  type LoadedCheckpoint,
} from './checkpoint';
import { CheckpointSchedule } from './checkpointSchedule';
import { EvalSchedule } from './evalSchedule';
import { AdamW } from './optimizer';
import type { PreparedRun } from './prepare';
import { printFinalReport, type ProgressSink } from './report';
import { evalWrittenAt, markCompleted, markFailed, markStopped, openRunFolder, recordResume, reopenForResume, runIdOf } from './runRecord';
import { EpochBatches, TrainLoop } from './trainLoop';

export interface TrainRunOptions {
  runDir: string;
  /** Continue the run in runDir from its last checkpoint (prepared with resumeFrom = that checkpoint). */
  resumeFrom?: LoadedCheckpoint;
  /** Extra fields for run.json (configFile, baseDir: what --resume needs). */
  infoExtra?: Record<string, unknown>;
  /** Set `requested` (e.g. from a signal handler): the run finishes its step, checkpoints, stops. */
  stop?: { requested: boolean };
  /** Where steps and evaluations are reported (the CLI's terminal progress bar); absent or null: nowhere. */
  progress?: ProgressSink | null;
  /** Printed output (the final table); default: stdout. */
  print?: (s: string) => void;
  /**
   * Worker threads that share each step (data-parallel GradCache, see parallel/pool.ts); 0 = this
   * thread alone. The gradients are the single-thread ones up to float summation order, so a run is
   * reproducible for a given worker count.
   */
  workers?: number;
  /** The worker thread script (default: parallel/pool.ts resolveWorkerScript()). */
  workerScript?: string;
}

export interface TrainRunResult {
  status: RunStatus;
  step: number;
  totalSteps: number;
  initial?: EvalResult;
  final?: EvalResult;
  error?: Error;
}

/** Runs (or resumes) training; the run folder is created here. Never throws for a failure inside the run: status "failed". */
export async function runTraining(p: PreparedRun, o: TrainRunOptions): Promise<TrainRunResult> {
  const t = p.config.training;
  const print = o.print ?? ((s: string) => process.stdout.write(s + '\n'));
  const progress = o.progress ?? null;
  const stop = o.stop ?? { requested: false };
  const batches = new EpochBatches(p.train, { batchSize: t.batchSize, seed: p.config.seed, distinctTexts: !p.loss.needsLabels });
  // Arithmetic, not enumerated: `epochs` may be huge and nothing may block before the run folder exists.
  const totalSteps = t.maxSteps > 0 ? t.maxSteps : batches.perEpoch * t.epochs;
  const optimizer = new AdamW(p.encoder.params, { learningRate: t.learningRate, weightDecay: t.weightDecay, maxGradNorm: t.maxGradNorm });
  const now = new Date();
  let writer: RunWriter;
  try {
    writer = openRunFolder(p, o, totalSteps, now);
  } catch (e) {
    optimizer.dispose();
    throw e;
  }

  // From here on the run folder exists: every failure ends as status "failed" with its error.
  let state = initialState(p.loss);
  let pool: DataParallelPool | undefined;
  try {
    if (o.resumeFrom) {
      reopenForResume(writer, p, o.runDir, o.resumeFrom.state.step, totalSteps, now);
      state = restoreRun(o.resumeFrom, p.encoder.params, optimizer, p.loss);
      recordResume(writer, o.resumeFrom, now);
    } else {
      writer.log(`run ${runIdOf(o.runDir)}: ${totalSteps} steps of ${t.batchSize} rows, backend ${p.backend.name} (${p.backend.reason})`);
    }
    pool = await startWorkers(p, o, writer, progress);
  } catch (e) {
    await pool?.close();
    optimizer.dispose();
    const error = markFailed(writer, e as Error, state.step);
    releaseRunLock(o.runDir);
    return { status: 'failed', step: state.step, totalSteps, error };
  }

  const loop = new TrainLoop(p, state, { optimizer, writer, batches, totalSteps, stop, progress, pool });
  let bests: BestCheckpoints | undefined;
  if (t.keepBest) {
    try {
      bests = keepBest(p, o, writer, state.step);
    } catch (e) {
      await pool?.close();
      optimizer.dispose();
      const error = markFailed(writer, e as Error, state.step);
      releaseRunLock(o.runDir);
      return { status: 'failed', step: state.step, totalSteps, error };
    }
  }
  const evals = new EvalSchedule(p, loop, writer, {
    evalEvery: t.evalEvery,
    totalSteps,
    stop,
    progress,
    afterEvaluation: bests
      ? (step, r) =>
          bests.afterEval(step, r.byDim, (dir, extra) =>
            writeModelFiles(dir, { params: p.encoder.params, tokenizer: p.tokenizer, state: loop.snapshot() }, extra),
          )
      : undefined,
  });
  const checkpoints = new CheckpointSchedule(
    () => saveCheckpoint(o.runDir, { params: p.encoder.params, optimizer, tokenizer: p.tokenizer, state: loop.snapshot() }),
    {
      checkpointEvery: t.checkpointEvery,
      totalSteps,
      resumedAt: o.resumeFrom ? state.step : undefined,
    },
  );
  const result: TrainRunResult = { status: 'running', step: state.step, totalSteps };
  let abandoned = false;
  try {
    try {
      announceEstimate(p, loop, writer, progress, pool?.threads ?? 1, totalSteps - state.step);
      if (!o.resumeFrom) result.initial = await evals.atStart();
      else if (!evalWrittenAt(o.runDir, state.step)) {
        // An evaluation due at the checkpoint's step that a stop abandoned (the untrained baseline at step 0,
        // an evalEvery one) runs first: the loop goes on past that step and would never come back to it.
        if (state.step === 0) result.initial = await evals.atStart();
        else await evals.afterStep(state.step);
      } else evals.writtenBefore(state.step); // a resume at the last step does not evaluate it twice
      await loop.run(async (step) => {
        await evals.afterStep(step);
        checkpoints.afterStep(step);
      });
      if (loop.step >= totalSteps && !stop.requested) result.final = await evals.atEnd();
    } catch (e) {
      if (!(e instanceof WorkAbandoned)) throw e;
      abandoned = true;
      writer.log(`${e.message} (stop requested)`);
    }
    progress?.done();
    checkpoints.atEnd(loop.step);
    result.step = loop.step;
    if (loop.step < totalSteps || abandoned || (stop.requested && !result.final && !evals.evaluatedAt(loop.step))) {
      markStopped(writer, o.runDir, loop.step);
      result.status = 'stopped';
      print(`stopped at step ${loop.step}/${totalSteps}; resume with: npm run train -- --resume ${o.runDir}`);
      return result;
    }
    markCompleted(writer, p, o.runDir, loop.step, print);
    result.status = 'completed';
    if (result.final) {
      const { name, evaluation } = p.config;
      printFinalReport(
        {
          name,
          steps: loop.step,
          seconds: loop.elapsed(),
          backend: p.backend.name,
          final: result.final,
          initial: result.initial,
          funnel: evaluation.funnel,
          runDir: o.runDir,
        },
        print,
      );
    }
    return result;
  } catch (e) {
    progress?.done();
    result.error = markFailed(writer, e as Error, loop.step);
    result.status = 'failed';
    result.step = loop.step;
    return result;
  } finally {
    await pool?.close();
    optimizer.dispose();
    releaseRunLock(o.runDir);
  }
}

/**
 * training.keepBest's keeper: empty for a new run; for a resumed one, the bests its curve still holds
 * (metrics.jsonl with the resume rule applied: the resume marker is appended by now).
 */
function keepBest(p: PreparedRun, o: TrainRunOptions, writer: RunWriter, step: number): BestCheckpoints {
  const bests = new BestCheckpoints(o.runDir, writer, p.config.training.keepBest!);
  if (o.resumeFrom) {
    const file = join(o.runDir, RUN_FILES.metrics);
    const events = existsSync(file) ? applyResume(parseMetricsJsonl(readFileSync(file, 'utf8')).lines) : [];
    const steps = new Set(listCheckpoints(o.runDir));
    bests.restore(step, events, (s) => (steps.has(s) ? checkpointDir(o.runDir, s) : undefined));
  }
  return bests;
}

/**
 * Before the first step: a timed warm-up step (TrainLoop.warmUp: the weights untouched) and the process's
 * peak memory after it, to run.json's `estimate` and log.txt — "≈ 1.4 s/step, ≈ 19 min for 800 steps,
 * ≈ 2.6 GB" — where the start notification and the runs view show it, and to the terminal.
 */
function announceEstimate(
  p: PreparedRun,
  loop: TrainLoop,
  writer: RunWriter,
  progress: ProgressSink | null,
  threads: number,
  steps: number,
): void {
  if (steps <= 0) return;
  const estimate: RunEstimate = {
    secondsPerStep: loop.warmUp(),
    steps,
    memoryBytes: peakRssBytes(),
    estimatedBytes: p.memory.total,
  };
  writer.update({ estimate });
  const text = `estimate: ${estimateText(estimate)} (a warm-up step on ${threads} thread${threads > 1 ? 's' : ''}, evaluations not counted; a step at ${p.maxSeqLength}-token sequences is estimated at ${describeStepMemory(p.memory, threads - 1)})`;
  writer.log(text);
  progress?.message(text);
}

/** The worker threads of the run (none when o.workers is 0); threads that fail to start leave the run on this thread alone. */
async function startWorkers(
  p: PreparedRun,
  o: TrainRunOptions,
  writer: RunWriter,
  progress: ProgressSink | null,
): Promise<DataParallelPool | undefined> {
  const workers = o.workers ?? 0;
  if (workers <= 0) return undefined;
  try {
    // Buffers for the largest batch there can be: min(batchSize, rows) rows of every column.
    const maxRows = Math.min(p.config.training.batchSize, tableSize(p.train)) * p.train.texts.length;
    const pool = await DataParallelPool.start({
      encoder: p.encoder,
      backend: p.backend.name,
      workers,
      maxRows,
      maxLen: p.maxSeqLength,
      workerScript: o.workerScript,
    });
    writer.log(`${workers} worker thread(s) share each step`);
    return pool;
  } catch (e) {
    const msg = `warning: the ${workers} worker thread(s) did not start (${(e as Error).message}); training on this thread alone`;
    writer.log(msg);
    if (progress) progress.message(msg);
    else process.stderr.write(msg + '\n');
    writer.update({ workers: 0 } as Partial<RunInfo>);
    return undefined;
  }
}

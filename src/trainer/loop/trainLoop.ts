/**
 * The training loop itself: batch after batch in the seeded order of src/data/batches.ts, each step's
 * learning rate (schedule.ts), one optimizer step (trainStep.ts), the training loss averaged over
 * `logEvery` steps into metrics.jsonl, progress; after each step the caller's hook (evaluation,
 * checkpoint), then a turn of the event loop so that a stop signal lands between steps. Its state —
 * step, data position, loss window, time — is what a checkpoint stores (checkpoint.ts).
 */
import { epochBatchCount, epochBatches, type BatchOptions } from '../../data/batches';
import { tableSize, type PairTable } from '../../data/dataset';
import type { ByDim } from '../../protocol/runFolder';
import type { RunWriter } from '../../runs/runWriter';
import type { DataParallelPool } from '../runtime/parallel/pool';
import { emptyWindow, lossRngState, setLossRngState, type TrainerState } from './checkpoint';
import type { RunClock } from './evalSchedule';
import type { AdamW } from './optimizer';
import type { PreparedRun } from './prepare';
import type { ProgressSink } from './report';
import { learningRateAt } from './schedule';
import { StepRunner, type TrainBatch } from './trainStep';
import { SysSampler } from './sysSample';

/** The batches (row indices) of each epoch, one epoch kept at a time. */
export class EpochBatches {
  readonly perEpoch: number;
  private epoch = -1;
  private batches: number[][] = [];

  constructor(
    private readonly train: PairTable,
    private readonly o: BatchOptions,
  ) {
    this.perEpoch = epochBatchCount(tableSize(train), o.batchSize);
    // prepareRun refuses such data: only a hand-made PreparedRun gets here.
    if (this.perEpoch === 0) throw new Error(`the training data has ${tableSize(train)} rows: not enough for one batch of at least 2`);
  }

  of(epoch: number): number[][] {
    if (epoch !== this.epoch) {
      this.batches = epochBatches(this.train.texts, epoch, this.o);
      this.epoch = epoch;
    }
    return this.batches;
  }
}

export interface TrainLoopOptions {
  optimizer: AdamW;
  writer: RunWriter;
  batches: EpochBatches;
  totalSteps: number;
  stop: { requested: boolean };
  progress: ProgressSink | null;
  /** Worker threads sharing each step; absent = this thread alone. */
  pool?: DataParallelPool;
}

export class TrainLoop implements RunClock {
  private readonly runner: StepRunner;
  private readonly startClock = performance.now();
  /** Where this session's pace is measured from (its first step). */
  private paceFrom?: { clock: number; step: number };
  private readonly stepsAtStart: number;
  /** CPU and memory of the process, sampled with each train event (its `sys`). */
  private readonly sys = new SysSampler();

  constructor(
    private readonly p: PreparedRun,
    /** Where the run is: a new run's initial state, or the state of the checkpoint it resumed from. */
    readonly state: TrainerState,
    private readonly o: TrainLoopOptions,
  ) {
    const { encoder, tokenizer, maxSeqLength, loss, guide } = p;
    this.runner = new StepRunner({
      encoder,
      tokenizer,
      maxSeqLength,
      loss,
      optimizer: o.optimizer,
      guide,
      seed: p.config.seed,
      pool: o.pool,
    });
    this.stepsAtStart = state.step;
  }

  get step(): number {
    return this.state.step;
  }

  elapsed(): number {
    return this.state.elapsed + (performance.now() - this.startClock) / 1000;
  }

  epoch(): number {
    return this.state.epoch + this.state.batchInEpoch / this.o.batches.perEpoch;
  }

  /** The state a checkpoint written now stores. */
  snapshot(): TrainerState {
    return { ...this.state, elapsed: this.elapsed(), lossRng: lossRngState(this.p.loss), optimizerStep: this.o.optimizer.step };
  }

  /** Steps until the last one, or until a stop is requested (the step under way finishes first). */
  async run(afterStep: (step: number) => Promise<void>): Promise<void> {
    const { state } = this;
    const { stop, totalSteps } = this.o;
    while (state.step < totalSteps && !stop.requested) {
      this.trainStep();
      await afterStep(state.step);
      // Let signal handlers run between steps (a step itself is synchronous).
      await new Promise((r) => setImmediate(r));
      if (stop.requested && state.step < totalSteps) break;
    }
  }

  /** The data position of the next step: where the current epoch's batches end, the next epoch's first. */
  private nextPosition(): { epoch: number; batchInEpoch: number } {
    const { epoch, batchInEpoch } = this.state;
    return batchInEpoch >= this.o.batches.of(epoch).length ? { epoch: epoch + 1, batchInEpoch: 0 } : { epoch, batchInEpoch };
  }

  private batchAt(pos: { epoch: number; batchInEpoch: number }): { batch: TrainBatch; rows: number[] } {
    const rows = this.o.batches.of(pos.epoch)[pos.batchInEpoch];
    const batch: TrainBatch = { columns: this.p.train.texts.map((col) => rows.map((i) => col[i])) };
    if (this.p.loss.needsLabels) batch.labels = rows.map((i) => this.p.train.scores![i]);
    return { batch, rows };
  }

  /**
   * A timed warm-up on the next step's batch: its loss and gradients without the update, so the run
   * trains exactly as it would have (the loss's random state is put back). Twice when the first is short,
   * since the first also grows the heaps and compiles; seconds per step.
   */
  warmUp(): number {
    const { batch } = this.batchAt(this.nextPosition());
    const rng = lossRngState(this.p.loss);
    try {
      let seconds = this.runner.timeWithoutUpdate(batch, this.state.step);
      if (seconds < 3) seconds = this.runner.timeWithoutUpdate(batch, this.state.step);
      return seconds;
    } finally {
      setLossRngState(this.p.loss, rng);
    }
  }

  private trainStep(): void {
    const { p, state } = this;
    const { optimizer, writer, totalSteps, progress } = this.o;
    const t = p.config.training;
    Object.assign(state, this.nextPosition());
    const { batch, rows } = this.batchAt(state);
    // The pace is measured from this session's first step: the evaluation at step 0 and the warm-up are not steps.
    this.paceFrom ??= { clock: performance.now(), step: state.step };
    optimizer.learningRate = learningRateAt(state.step, {
      learningRate: t.learningRate,
      warmupSteps: t.warmupSteps,
      totalSteps,
      scheduler: t.scheduler,
    });
    const out = this.runner.step(batch, state.step);
    if (!Number.isFinite(out.loss))
      throw new Error(`the loss is ${out.loss} at step ${state.step + 1}: lower the learning rate or check the data`);
    state.step += 1;
    state.batchInEpoch += 1;
    const w = state.window;
    w.sum += out.loss;
    w.count += 1;
    w.samples += rows.length;
    for (const [d, v] of Object.entries(out.byDim)) {
      w.byDim[d] = (w.byDim[d] ?? 0) + v;
      w.byDimCount[d] = (w.byDimCount[d] ?? 0) + 1;
    }
    const secs = this.elapsed();
    const rate = ((state.step - this.stepsAtStart) * t.batchSize) / Math.max(1e-9, (performance.now() - this.startClock) / 1000);
    if (state.step % t.logEvery === 0 || state.step === totalSteps) {
      const byDim: ByDim = {};
      for (const d of Object.keys(w.byDim)) byDim[d] = { loss: w.byDim[d] / w.byDimCount[d] };
      writer.append({
        step: state.step,
        epoch: this.epoch(),
        time: secs,
        wallTime: Date.now(),
        split: 'train',
        values: { loss: w.sum / w.count, lr: optimizer.learningRate, gradNorm: out.gradNorm },
        byDim,
        sys: this.sys.sample(),
      });
      state.window = emptyWindow();
      const steps = state.step - this.paceFrom.step;
      writer.update({
        step: state.step,
        elapsedSeconds: secs,
        secondsPerStep: (performance.now() - this.paceFrom.clock) / 1000 / Math.max(1, steps),
        progressAt: Date.now(),
      });
    }
    progress?.update({
      step: state.step,
      total: totalSteps,
      loss: out.loss,
      samplesPerSec: rate,
      etaSeconds: ((totalSteps - state.step) * t.batchSize) / Math.max(1e-9, rate),
    });
  }
}

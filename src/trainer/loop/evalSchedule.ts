/**
 * When a run evaluates, and what an evaluation leaves: the untrained model at step 0 (a new run, not a
 * resumed one), every `evalEvery` steps, and at the end unless the last step was just evaluated. Each
 * evaluation embeds the eval set at every dim, scores it (src/trainer/eval/) and appends one eval line
 * to metrics.jsonl (then training.keepBest's best checkpoints, bestCheckpoints.ts). It yields to the event loop between batches, and a stop request abandons it
 * (WorkAbandoned, from src/common/cooperative.ts).
 */
import { runAsync } from '../../common/cooperative';
import type { RunWriter } from '../../runs/runWriter';
import { EVAL_BATCH, embedTextsWork } from '../eval/embed';
import { evaluateWork, type EvalResult } from '../eval/evaluator';
import type { PreparedRun } from './prepare';
import { evalSummary, type ProgressSink } from './report';

/** Where the run is, as an evaluation line records it. */
export interface RunClock {
  readonly step: number;
  /** Epochs done, with the fraction of the current one. */
  epoch(): number;
  /** Seconds of training, across resumes. */
  elapsed(): number;
}

export class EvalSchedule {
  private lastEvalStep = -1;

  constructor(
    private readonly p: PreparedRun,
    private readonly clock: RunClock,
    private readonly writer: RunWriter,
    private readonly o: {
      evalEvery: number;
      totalSteps: number;
      stop: { requested: boolean };
      progress: ProgressSink | null;
      /** Called with each evaluation once its line is in metrics.jsonl (training.keepBest: bestCheckpoints.ts). */
      afterEvaluation?: (step: number, r: EvalResult) => void;
    },
  ) {}

  /** Step 0 of a new run: the untrained model, the baseline of the final table. */
  async atStart(): Promise<EvalResult> {
    const r = await this.evaluate();
    this.lastEvalStep = 0;
    this.o.progress?.message(`step 0 (untrained): ${evalSummary(r.byDim)}`);
    return r;
  }

  /** After a step: every evalEvery steps, short of the last (atEnd evaluates that one). */
  async afterStep(step: number): Promise<void> {
    const { evalEvery, totalSteps } = this.o;
    if (evalEvery > 0 && step % evalEvery === 0 && step < totalSteps) {
      const r = await this.evaluate();
      this.lastEvalStep = step;
      this.o.progress?.message(`step ${step}: ${evalSummary(r.byDim)}`);
    }
  }

  /** After the last step: the final evaluation, unless that step has one already. */
  async atEnd(): Promise<EvalResult | undefined> {
    return this.evaluatedAt(this.clock.step) ? undefined : this.evaluate();
  }

  /** A resumed run whose metrics.jsonl holds the evaluation at `step` already (the resume rule applied). */
  writtenBefore(step: number): void {
    this.lastEvalStep = step;
  }

  /** The model at `step` has an evaluation in metrics.jsonl. */
  evaluatedAt(step: number): boolean {
    return this.lastEvalStep === step;
  }

  private async evaluate(): Promise<EvalResult> {
    const { p, clock } = this;
    const { encoder, tokenizer, maxSeqLength } = p;
    const embed = (texts: string[]) => embedTextsWork(encoder, tokenizer, texts, { maxSeqLength, batchSize: EVAL_BATCH });
    const ev = p.config.evaluation;
    const r = await runAsync(
      evaluateWork(p.evalSet, embed, encoder.dim, {
        dims: p.dims,
        metrics: ev.metrics,
        funnel: ev.funnel,
        precisions: ev.precisions,
        rescore: ev.rescore,
        rescoreMultiplier: ev.rescoreMultiplier,
      }),
      {
        abort: () => this.o.stop.requested,
        what: `the evaluation at step ${clock.step}`,
      },
    );
    this.writer.append({
      step: clock.step,
      epoch: clock.epoch(),
      time: clock.elapsed(),
      wallTime: Date.now(),
      split: 'eval',
      values: r.values,
      byDim: r.byDim,
    });
    this.o.afterEvaluation?.(clock.step, r);
    return r;
  }
}

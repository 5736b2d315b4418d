/**
 * When a run checkpoints: every `checkpointEvery` steps short of the last, and once more on the way out
 * (completed, stopped, or an evaluation abandoned) unless that step has one already, so that --resume
 * always continues from where the run ended. A resumed run starts with the checkpoint it resumed from.
 * What a checkpoint holds, and how it is written: checkpoint.ts.
 */
export class CheckpointSchedule {
  private lastStep: number;

  /** `save` writes a checkpoint of the run as it is; `resumedAt`: the step of the checkpoint a resumed run started from. */
  constructor(
    private readonly save: () => void,
    private readonly o: { checkpointEvery: number; totalSteps: number; resumedAt?: number },
  ) {
    this.lastStep = o.resumedAt ?? -1;
  }

  afterStep(step: number): void {
    const { checkpointEvery, totalSteps } = this.o;
    if (checkpointEvery > 0 && step % checkpointEvery === 0 && step < totalSteps) {
      this.save();
      this.lastStep = step;
    }
  }

  /** On the way out, whatever the way. */
  atEnd(step: number): void {
    if (this.lastStep !== step) this.save();
  }
}

/**
 * What a terminal shows while a run trains: a one-line progress bar (step, loss, samples/s, ETA)
 * redrawn in place on a TTY, plain lines otherwise (CI logs, the extension's output channel). It is the
 * CLI's ProgressSink (the loop's reporting interface, src/trainer/loop/report.ts).
 */
import type { ProgressLine, ProgressSink } from '../loop/report';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

export function progressText(p: ProgressLine, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `${bar} step ${p.step}/${p.total}  loss ${p.loss.toFixed(4)}  ${p.samplesPerSec.toFixed(1)} samples/s  ETA ${formatDuration(p.etaSeconds)}`;
}

export class Progress implements ProgressSink {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly plainEvery = 10,
  ) {}

  get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  update(p: ProgressLine): void {
    if (this.tty) {
      const cols = this.out.columns || 100;
      this.out.write(
        '\r' +
          progressText(p)
            .slice(0, cols - 1)
            .padEnd(Math.min(cols - 1, 100)),
      );
      this.drawn = true;
    } else if (p.step - this.lastPlain >= this.plainEvery || p.step === p.total) {
      this.lastPlain = p.step;
      this.out.write(progressText(p) + '\n');
    }
  }

  /** A message line that does not get mixed into the bar. */
  message(text: string): void {
    if (this.drawn) {
      this.out.write('\r\x1b[K');
      this.drawn = false;
    }
    this.out.write(text + '\n');
  }

  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

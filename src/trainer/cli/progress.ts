/**
 * What a terminal shows while a run trains: a one-line progress bar (step, loss, samples/s, ETA)
 * redrawn in place on a TTY, plain lines otherwise (CI logs, the extension's output channel); and the
 * final table, one row per dim.
 */
import type { ByDim } from '../../protocol/runFolder';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

export interface ProgressLine {
  step: number;
  total: number;
  loss: number;
  samplesPerSec: number;
  etaSeconds: number;
}

export function progressText(p: ProgressLine, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `${bar} step ${p.step}/${p.total}  loss ${p.loss.toFixed(4)}  ${p.samplesPerSec.toFixed(1)} samples/s  ETA ${formatDuration(p.etaSeconds)}`;
}

/** What the training loop reports to (a terminal Progress, or anything else that watches steps). */
export interface ProgressSink {
  update(p: ProgressLine): void;
  message(text: string): void;
  done(): void;
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
      this.out.write('\r' + progressText(p).slice(0, cols - 1).padEnd(Math.min(cols - 1, 100)));
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

const COLUMN_ORDER = ['loss', 'ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100', 'spearman'];

/**
 * One row per dim (ascending), one column per metric; `before` (the step-0 evaluation) adds a
 * "untrained ndcg@10" style column so the gain is visible at a glance.
 */
export function metricsTable(byDim: ByDim, before?: ByDim): string {
  const dims = Object.keys(byDim).sort((a, b) => Number(a) - Number(b));
  const metrics = [...new Set(dims.flatMap((d) => Object.keys(byDim[d])))].sort(
    (a, b) => (COLUMN_ORDER.indexOf(a) + 1 || 99) - (COLUMN_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
  );
  const headline = metrics.includes('ndcg@10') ? 'ndcg@10' : metrics.includes('spearman') ? 'spearman' : metrics[0];
  const header = ['dim', ...metrics, ...(before && headline ? [`${headline} (step 0)`] : [])];
  const rows = dims.map((d) => [d, ...metrics.map((m) => fmt(byDim[d][m])), ...(before && headline ? [fmt(before[d]?.[headline])] : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padStart(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(4);
}

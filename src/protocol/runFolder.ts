/**
 * The run folder: the one contract between trainer, extension host and webview (DESIGN.md).
 *   .mrl/runs/<runId>/config.json    resolved RunConfig, written before the first step, never edited
 *   .mrl/runs/<runId>/run.json       RunInfo, replaced atomically
 *   .mrl/runs/<runId>/metrics.jsonl  MetricsLine, one per line, append-only
 *   .mrl/runs/<runId>/log.txt        human log
 *   .mrl/runs/<runId>/checkpoints/step-<n>/
 */

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped';

export interface RunInfo {
  id: string;
  name: string;
  status: RunStatus;
  pid: number | null;
  startedAt: string;
  endedAt: string | null;
  /** The backend that actually ran, and why it was chosen. */
  backend: string;
  backendReason?: string;
  error?: string;
  /** Progress, updated as the run goes (so a reader needs not parse metrics for a status line). */
  step?: number;
  totalSteps?: number;
  [extra: string]: unknown;
}

/** Per-dimension values: keys are the Matryoshka dims as decimal strings ("64"). */
export type ByDim = Record<string, Record<string, number>>;

export interface MetricsEvent {
  type?: 'metrics';
  step: number;
  epoch: number;
  /** Seconds since the run started (wall clock: time of writing, in ms since epoch, is `wallTime`). */
  time: number;
  wallTime?: number;
  split: 'train' | 'eval';
  values: Record<string, number>;
  byDim?: ByDim;
}

export interface ResumeEvent { type: 'resume'; fromStep: number; time?: number; wallTime?: number }

export type MetricsLine = MetricsEvent | ResumeEvent;

/**
 * Funnel retrieval (MRL: shortlist with a small dim, re-rank with a larger one) rides in eval `values`
 * under this prefix: `funnel:<metric>` (e.g. `funnel:ndcg@10`), `funnel:macsSaved` (share of the
 * multiply-adds of full-dim retrieval saved, 0..1), `funnel:shortlistDim`, `funnel:rerankDim`.
 */
export const FUNNEL_PREFIX = 'funnel:';

export const RUN_FILES = {
  config: 'config.json',
  info: 'run.json',
  metrics: 'metrics.jsonl',
  log: 'log.txt',
  checkpoints: 'checkpoints',
} as const;

export function isResumeEvent(line: MetricsLine): line is ResumeEvent {
  return (line as ResumeEvent).type === 'resume';
}

/**
 * The run folder: the one contract between trainer, extension host and webview (docs/architecture.md#the-run-folder).
 *   .mrl/runs/<runId>/config.json    resolved RunConfig, written before the first step, never edited
 *   .mrl/runs/<runId>/run.json       RunInfo, replaced atomically
 *   .mrl/runs/<runId>/metrics.jsonl  MetricsLine, one per line, append-only
 *   .mrl/runs/<runId>/notes.json     RunNotes, owned by the host (the trainer never touches it)
 *   .mrl/runs/<runId>/log.txt        human log
 *   .mrl/runs/<runId>/checkpoints/step-<n>/
 *   .mrl/runs/<runId>/checkpoints/best-<dim>/   training.keepBest (bestCheckpointDir)
 *   .mrl/runs/<runId>/.lock          the writing trainer's pid (LOCK_FILE, RunLock: src/runs/trainerProcess.ts)
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
  /** "bundled" (absent) or "sentence-transformers". */
  engine?: string;
  /** Set when the run is one combination of a config's `sweep`. */
  sweep?: SweepRef;
  /**
   * `training.keepBest`: per listed dim (decimal string), the best eval value of the metric so far and the
   * step it came from; its checkpoint is `checkpoints/best-<dim>/` (see bestCheckpointDir).
   */
  bestCheckpoints?: Record<string, BestCheckpoint>;
  /** Engine sentence-transformers with devices > 1: how the processes met (torchrun --standalone), and the
   *  endpoint they used (`rendezvousEndpoint`, host:port, written by the callback). */
  rendezvous?: string;
  rendezvousEndpoint?: string;
  /** Where the run came from: the git commit of the config file's work tree (absent outside one, or without git). */
  git?: GitProvenance;
  /** Where its data came from: one entry per split read (train, then eval when it has its own source). */
  data?: DataProvenance[];
  /**
   * The bundled trainer, as it goes (with `step`): its training time so far in seconds (earlier sessions of a
   * resumed run included), its recent pace in seconds per step (evaluations included) and when it wrote them
   * (ms since the epoch): a reader extrapolates elapsed and remaining time (src/insights/runTime.ts).
   */
  elapsedSeconds?: number;
  secondsPerStep?: number;
  progressAt?: number;
  /** The bundled trainer, before its first step: what the run will take, from a timed warm-up step. */
  estimate?: RunEstimate;
  [extra: string]: unknown;
}

/** run.json `git`: the work tree holding the config file, when the run started. */
export interface GitProvenance {
  /** The commit checked out (40 hex digits). */
  commit: string;
  /** The branch checked out; null on a detached HEAD. */
  branch: string | null;
  /** Tracked files differ from the commit, or the config file itself is not committed. */
  dirty: boolean;
}

/** run.json `data[i]`: a split's source. A file: its path as the config names it, the SHA-256 of its bytes
 *  and the rows it holds (before the split and maxRows); a builtin data set: its name and the package that
 *  ships it, with that package's version. */
export type DataProvenance = { split: 'train' | 'eval'; rows: number } & (
  { path: string; sha256: string } | { builtin: string; package: string; version: string | null }
);

/** Metrics event `sys` (train events, every logEvery): the trainer process' CPU use since the previous train
 *  event, in % of one core (worker threads included, so it may pass 100), and its resident memory in MiB. */
export type SysSample = {
  cpu: number;
  rssMB: number;
};

/** run.json `estimate`: a warm-up step's time, the steps to go, and the process's memory (bytes). */
export interface RunEstimate {
  secondsPerStep: number;
  /** Steps the run has to go when it was measured. */
  steps: number;
  /** The process's peak resident memory after the warm-up step (every thread). */
  memoryBytes: number;
  /** The trainer's own estimate of a step at the longest sequences (runtime/memoryBudget.ts). */
  estimatedBytes?: number;
}

/** run.json `bestCheckpoints[dim]`. */
export interface BestCheckpoint {
  metric: string;
  step: number;
  value: number;
}

/**
 * The folder, under `checkpoints/`, of the best checkpoint kept for a dim: `best-<dim>`. It holds
 * model.safetensors, tokenizer.json and state.json (the trainer state at `step`, plus
 * `best: {dim, metric, value}`); no optimizer moments (a best checkpoint is for export, not resume).
 * The bundled trainer makes it a symlink to a hidden `.best-<dim>-step-<n>-<hex>/` and replaces it
 * atomically (src/trainer/loop/bestCheckpoints.ts): `best-<dim>` always resolves to a complete folder.
 * A reader of several files resolves it once (realpath) and reads them from there; should a file vanish
 * (the best was replaced meanwhile and the old folder deleted), it starts again. The folder's state.json
 * says which step it holds; run.json's record is written after the folder (for the moment between, and
 * after a crash there, the folder is right and the next resume fixes the record).
 * Step 0 counts (the untrained model), ties keep the earlier step, the direction is metricRules'
 * lowerIsBetter. A resume keeps only bests the resumed curve holds (steps ≤ its `fromStep`).
 */
export function bestCheckpointDir(dim: number): string {
  return `best-${dim}`;
}

/**
 * Is `target` what the trainer links `best-<dim>` to: the name of a hidden sibling folder
 * `.best-<dim>-step-<n>-<hex>`? A run folder may come from anywhere (a cloned repository): a link to
 * anything else (`../..`, an absolute path) is not the trainer's, and nothing is kept or deleted through it.
 */
export function isBestCheckpointTarget(dim: number, target: string): boolean {
  const prefix = `.${bestCheckpointDir(dim)}-step-`;
  return target.startsWith(prefix) && /^\d+-[0-9a-f]+$/.test(target.slice(prefix.length));
}

/** run.json `sweep`: which sweep a run belongs to, its index in the expansion, and its concrete values
 *  (dotted JSON path of the config → value). A sweep with `repeat` > 1 also records which combination
 *  the run is (its repeats share it, and their `params`) and which repeat (0-based: repeat 0 keeps the
 *  config's seed, the others derive one). */
export interface SweepRef {
  id: string;
  index: number;
  params: Record<string, unknown>;
  combination?: number;
  repeat?: number;
}

/** notes.json: what the user says about a run (display name, tags, free text). Owned by the host. */
export interface RunNotes {
  displayName?: string;
  tags: string[];
  note: string;
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
  /** The process' resources (train events of the bundled trainer): charted as `sys.cpu`, `sys.rssMB`. */
  sys?: Record<string, number>;
}

/** The name a `sys` field is charted under: `sys.cpu`, `sys.rssMB` (a train series like the loss). */
export const SYS_PREFIX = 'sys.';

export interface ResumeEvent {
  type: 'resume';
  fromStep: number;
  time?: number;
  wallTime?: number;
}

export type MetricsLine = MetricsEvent | ResumeEvent;

/**
 * Funnel retrieval (MRL: shortlist with a small dim, re-rank with a larger one) rides in eval `values`
 * under this prefix: `funnel:<metric>` (e.g. `funnel:ndcg@10`), `funnel:macsSaved` (share of the
 * multiply-adds of full-dim retrieval saved, 0..1), `funnel:shortlistDim`, `funnel:rerankDim`.
 */
export const FUNNEL_PREFIX = 'funnel:';

/** The precisions an evaluation scores embeddings at. */
export type Precision = 'float32' | 'int8' | 'binary';
export const PRECISIONS: readonly Precision[] = ['float32', 'int8', 'binary'];

/**
 * Metrics at a quantised precision ride in eval `byDim` beside the float32 ones, under a prefix:
 * `int8:<metric>`, `binary:<metric>` (the quantised index searched alone) and `int8+rescore:<metric>`,
 * `binary+rescore:<metric>` (its shortlist re-scored with the float32 query). float32 keeps the bare
 * metric name, so runs written before precisions existed read the same.
 *
 * What the bundled trainer measures under these keys (src/trainer/eval/quantizedRetrieval.ts, pinned by
 * numpy fixtures: test/conformance/fixtures/quantization/make_fixtures.py), as sentence-transformers'
 * quantize_embeddings and semantic_search_usearch / _faiss (sentence_transformers/quantization.py) do it:
 * - vectors: the first `dim` components **re-normalised** (the float32 metrics' own vectors, and what
 *   `encode(truncate_dim=…, normalize_embeddings=True, precision=…)` quantises);
 * - int8: per-component ranges calibrated on the corpus vectors at that dim, queries quantised with the
 *   same ranges; ranked by the integer dot product of the codes, higher first;
 * - binary: one bit per component (x > 0, "ubinary"), ranked by Hamming distance, lower first;
 * - +rescore: the quantised search keeps `evaluation.rescoreMultiplier` × 100 documents (100 = the longest
 *   cutoff, map@100); each is re-scored by the float32 query · the document's quantised vector read as
 *   integers (int8 codes −128…127, bits 0/1), as the library's rescore does; the best 100 are ranked;
 * - ties: pessimistic — among equal scores every non-relevant document ranks before the relevant ones,
 *   each group in corpus order. Deterministic and never in the relevant document's favour (corpus order
 *   alone would favour it: the eval set numbers each query's positive before the distractors).
 */
export function precisionKey(metric: string, precision: Precision, rescore = false): string {
  if (precision === 'float32') return metric;
  return `${precision}${rescore ? '+rescore' : ''}:${metric}`;
}

/** The inverse of precisionKey: a bare name is float32. */
export function parsePrecisionKey(key: string): { metric: string; precision: Precision; rescore: boolean } {
  const m = /^(int8|binary)(\+rescore)?:(.+)$/.exec(key);
  if (!m) return { metric: key, precision: 'float32', rescore: false };
  return { metric: m[3], precision: m[1] as Precision, rescore: m[2] !== undefined };
}

export const RUN_FILES = {
  config: 'config.json',
  info: 'run.json',
  metrics: 'metrics.jsonl',
  log: 'log.txt',
  notes: 'notes.json',
  checkpoints: 'checkpoints',
} as const;

export function isResumeEvent(line: MetricsLine): line is ResumeEvent {
  return (line as ResumeEvent).type === 'resume';
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Metric values: numbers; null is accepted too (JSON has no NaN, a writer may emit null for it). */
function isValueRecord(x: unknown): boolean {
  if (!isObj(x)) return false;
  for (const k in x) {
    const v = x[k];
    if (typeof v !== 'number' && v !== null) return false;
  }
  return true;
}

/**
 * Parse metrics.jsonl text: every valid line, in order; blank lines ignored, a torn or invalid line
 * skipped and counted (writers append, so a reader may see half a last line).
 */
export function parseMetricsJsonl(text: string): { lines: MetricsLine[]; invalid: number } {
  const lines: MetricsLine[] = [];
  let invalid = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (!raw) continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      invalid++;
      continue;
    }
    if (isMetricsLine(v)) lines.push(knownFields(v));
    else invalid++;
  }
  return { lines, invalid };
}

const EVENT_FIELDS = new Set(['type', 'step', 'epoch', 'time', 'wallTime', 'split', 'values', 'byDim', 'sys']);

/**
 * A valid line with only the fields of MetricsEvent / ResumeEvent: a file anyone may have written can
 * carry an extra field nested thousands deep, which every later copy, clone or JSON.stringify of the line
 * (the panel's replay) would recurse into until it throws.
 */
function knownFields(x: MetricsLine): MetricsLine {
  if (isResumeEvent(x)) {
    const r: ResumeEvent = { type: 'resume', fromStep: x.fromStep };
    if (typeof x.time === 'number') r.time = x.time;
    if (typeof x.wallTime === 'number') r.wallTime = x.wallTime;
    return r;
  }
  // In the file's key order where it has them (a reader may serialise a line back).
  const e: Record<string, unknown> = {};
  for (const k of Object.keys(x)) if (EVENT_FIELDS.has(k)) e[k] = (x as unknown as Record<string, unknown>)[k];
  return e as unknown as MetricsEvent;
}

/** run.json `git`, as a reader checks it (a hand-edited run.json is shown without it, never refused). */
export function isGitProvenance(x: unknown): x is GitProvenance {
  return isObj(x) && typeof x.commit === 'string' && (x.branch === null || typeof x.branch === 'string') && typeof x.dirty === 'boolean';
}

/** run.json `data`, as a reader checks it. */
export function isDataProvenance(x: unknown): x is DataProvenance[] {
  return (
    Array.isArray(x) &&
    x.every(
      (d) =>
        isObj(d) &&
        (d.split === 'train' || d.split === 'eval') &&
        typeof d.rows === 'number' &&
        ((typeof d.path === 'string' && typeof d.sha256 === 'string') ||
          (typeof d.builtin === 'string' && typeof d.package === 'string' && (d.version === null || typeof d.version === 'string'))),
    )
  );
}

/** A metrics.jsonl line: a metrics event (unknown extra fields allowed) or a resume marker. */
export function isMetricsLine(x: unknown): x is MetricsLine {
  if (!isObj(x)) return false;
  if (x.type === 'resume') return typeof x.fromStep === 'number';
  if (x.type !== undefined && x.type !== 'metrics') return false;
  if (typeof x.step !== 'number' || typeof x.time !== 'number') return false;
  if (x.epoch !== undefined && typeof x.epoch !== 'number') return false;
  if (x.split !== 'train' && x.split !== 'eval') return false;
  if (x.values !== undefined && !isValueRecord(x.values)) return false;
  if (x.wallTime !== undefined && typeof x.wallTime !== 'number') return false;
  if (x.sys !== undefined && !isValueRecord(x.sys)) return false;
  if (x.byDim !== undefined) {
    if (!isObj(x.byDim)) return false;
    for (const d in x.byDim) if (!isValueRecord(x.byDim[d])) return false;
  }
  return true;
}

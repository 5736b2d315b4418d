/**
 * Will a plain (un-cached) step fit? The wasm backend's heap is a wasm32 memory capped at 4 GB, and
 * running past it ends in "memory access out of bounds" rather than a clean error — so a plain step
 * whose activations would not fit is refused up front, with the way out (GradCache) in the message.
 *
 * Estimate: the floats a BERT block keeps for its backward pass per token, times tokens and layers,
 * times a factor measured on this trainer (tape copies, gradients alive at once, transposes); see
 * PEAK_FACTOR. Linear in the number of tokens, as measured (docs/performance.md#memory-the-4-gb-cap: 363 MB at 64 rows, 1329 MB at 256).
 */
export interface BlockShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
}

/** Measured peak tensor bytes / the analytic count of kept activations (bench, reference model). */
export const PEAK_FACTOR = 4.5;
/** What a plain step may use of the wasm heap: the rest holds weights, optimizer state, fragmentation. */
export const WASM_STEP_BUDGET_BYTES = 3.0 * 2 ** 30;

export class PlainBatchTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlainBatchTooLargeError';
  }
}

export function estimatePlainStepBytes(m: BlockShape, rows: number, seqLen: number): number {
  const perTokenPerLayer = 12 * m.hiddenSize + 5 * m.intermediateSize + 4 * m.numHeads * seqLen;
  const floats = rows * seqLen * (m.numLayers * perTokenPerLayer + 4 * m.hiddenSize);
  return floats * 4 * PEAK_FACTOR;
}

/** Largest number of rows (sequences) whose plain step fits the budget. */
export function maxPlainRows(m: BlockShape, seqLen: number, budget = WASM_STEP_BUDGET_BYTES): number {
  return Math.floor(budget / estimatePlainStepBytes(m, 1, seqLen));
}

export function assertPlainStepFits(m: BlockShape, rows: number, seqLen: number, backend: string, nColumns = 2): void {
  if (backend !== 'wasm') return;
  const need = estimatePlainStepBytes(m, rows, seqLen);
  if (need <= WASM_STEP_BUDGET_BYTES) return;
  const gb = (x: number) => (x / 2 ** 30).toFixed(1);
  const maxBatch = Math.floor(maxPlainRows(m, seqLen) / nColumns);
  throw new PlainBatchTooLargeError(
    `a plain step on ${rows} sequences of ${seqLen} tokens needs about ${gb(need)} GB of activations, more than ` +
      `the wasm backend can hold (its heap is capped at 4 GB; budget ${gb(WASM_STEP_BUDGET_BYTES)} GB). ` +
      `Use the Cached* variant of the loss (GradCache: memory stays flat in the batch size), or a batchSize ≤ ${maxBatch}.`,
  );
}

/**
 * The whole footprint of one training step, checked on every backend before the run folder exists:
 *   parameters ×4 (weights, gradients, AdamW m and v)
 *   + activations kept for the backward pass of one forward (plain: every text of the batch; cached
 *     losses: one mini-batch)
 *   + the embeddings cache (embeddings and their gradients, every column, full width)
 *   + the in-batch score matrix (batch × batch·(columns−1), with its softmax and gradient).
 */
export interface RunShape {
  block: BlockShape;
  params: number;
  /** Rows of one batch: min(batchSize, training rows). */
  batchRows: number;
  nColumns: number;
  seqLen: number;
  /** Output (embedding) width. */
  dim: number;
  /** Cached (GradCache) losses: rows embedded at once; undefined for a plain loss. */
  miniBatchSize?: number;
}

export interface RunMemory {
  params: number;
  activations: number;
  embeddings: number;
  scores: number;
  total: number;
}

export function estimateRunBytes(r: RunShape): RunMemory {
  const params = r.params * 4 * 4;
  const forwardRows = r.miniBatchSize === undefined ? r.batchRows * r.nColumns : Math.min(r.miniBatchSize, r.batchRows * r.nColumns);
  const activations = estimatePlainStepBytes(r.block, forwardRows, r.seqLen);
  const embeddings = r.batchRows * r.nColumns * r.dim * 4 * 3;
  const scores = r.batchRows * r.batchRows * Math.max(1, r.nColumns - 1) * 4 * 3;
  return { params, activations, embeddings, scores, total: params + activations + embeddings + scores };
}

/** What one step may use: the wasm heap is a wasm32 memory (4 GB); elsewhere, most of the machine's RAM. */
export function stepBudgetBytes(backend: string, totalMem: number): number {
  return backend === 'wasm' ? 3.6 * 2 ** 30 : 0.75 * totalMem;
}

/** Largest batch (rows) that fits the budget, 0 if not even 2 rows fit. */
export function largestFittingBatch(r: RunShape, budget: number): number {
  let lo = 1;
  let hi = Math.max(1, r.batchRows);
  if (estimateRunBytes({ ...r, batchRows: 2 }).total > budget) return 0;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateRunBytes({ ...r, batchRows: mid }).total <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Undefined when the step fits, else the reason (for `/training/batchSize`) with what would fit. */
export function runDoesNotFit(r: RunShape, backend: string, totalMem: number): string | undefined {
  const budget = stepBudgetBytes(backend, totalMem);
  const m = estimateRunBytes(r);
  if (m.total <= budget) return undefined;
  const gb = (x: number) => `${(x / 2 ** 30).toFixed(x < 2 ** 30 ? 2 : 1)} GB`;
  const fit = largestFittingBatch(r, budget);
  const where = backend === 'wasm' ? 'the wasm backend (a 4 GB heap)' : `the ${backend} backend on this machine (${gb(totalMem)} of RAM)`;
  const hint =
    fit >= 2
      ? `a batchSize of at most ${fit} fits`
      : 'even a batch of 2 does not fit: make the model smaller (hiddenSize, numLayers, vocabSize, maxSeqLength)';
  const cached =
    r.miniBatchSize === undefined && m.activations > m.scores
      ? '; or use the Cached* variant of the loss (memory stays flat in the batch size)'
      : '';
  return (
    `a step of ${r.batchRows} rows needs about ${gb(m.total)} (parameters and optimizer ${gb(m.params)}, activations ${gb(m.activations)}, ` +
    `embeddings ${gb(m.embeddings)}, in-batch scores ${gb(m.scores)}), more than ${where} can give (${gb(budget)}): ${hint}${cached}`
  );
}

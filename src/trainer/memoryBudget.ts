/**
 * Will a plain (un-cached) step fit? The wasm backend's heap is a wasm32 memory capped at 4 GB, and
 * running past it ends in "memory access out of bounds" rather than a clean error — so a plain step
 * whose activations would not fit is refused up front, with the way out (GradCache) in the message.
 *
 * Estimate: the floats a BERT block keeps for its backward pass per token, times tokens and layers,
 * times a factor measured on this trainer (tape copies, gradients alive at once, transposes); see
 * PEAK_FACTOR. Linear in the number of tokens, as measured (PERF.md: 363 MB at 64 rows, 1329 MB at 256).
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

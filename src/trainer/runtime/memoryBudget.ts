/**
 * Will a training step fit, and how much memory will it take? Checked before the run folder exists
 * (loop/prepare.ts), and again inside each plain step on the actual padded length (loop/trainStep.ts).
 *
 * Where a step's memory lives (docs/performance.md#memory-per-wasm-heap): every thread has its own tfjs
 * instance, so on wasm its own heap — a wasm32 memory, at most 4 GB, that never shrinks, and running past
 * it ends in "memory access out of bounds" rather than a clean error. The rows of a step are split among
 * the main thread and the workers (parallel/pool.ts), so each heap holds the activations of its own rows:
 *   main thread: weights, AdamW's m and v, the gradients, its rows' activations, the loss's buffers
 *   each worker: a replica of the weights, its gradients, its rows' activations (no optimizer state)
 *   shared:      one gradient buffer per worker (worker 0's carries the weights too), tokens, embeddings
 *
 * Activations: what the encoder keeps for its backward, per token (loop/.. and runtime/leanBackward.ts
 * free everything else as the backward goes): per layer the block's input, Q, K, V, the attention context,
 * two LayerNorm normalised inputs and one output (8·hidden), the GELU's slope and output (2·ffn), the
 * softmax output before and after dropout (2·heads·seqLen); plus one layer's working set of the backward.
 * A plain step holds every row of the thread on the tape; a cached (GradCache) one a mini-batch.
 */
import { readFileSync } from 'node:fs';
import { formatBytes } from '../../insights/runTime';

export interface BlockShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
}

/** Measured wasm heap growth over the analytic activations (malloc's rounding and fragmentation); bench realSizes. */
export const ACTIVATION_FACTOR = 1.0;
/** What one wasm heap may be planned to: the rest of its 4 GB is headroom for fragmentation. */
export const WASM_HEAP_BUDGET_BYTES = 3.6 * 2 ** 30;
/** The process besides the tensors: Node, V8 and tfjs for the main thread, and each worker's own isolate. */
export const MAIN_BASE_BYTES = 90 * 2 ** 20;
export const WORKER_BASE_BYTES = 40 * 2 ** 20;

export class PlainBatchTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlainBatchTooLargeError';
  }
}

/** Floats a step keeps per token for the backward, over all layers, plus one layer's backward working set. */
export function activationFloatsPerToken(m: BlockShape, seqLen: number): number {
  const H = m.hiddenSize;
  const I = m.intermediateSize;
  const attention = 2 * m.numHeads * seqLen;
  const kept = m.numLayers * (8 * H + 2 * I + attention) + 3 * H;
  const working = 2 * I + attention + 4 * H;
  return kept + working;
}

/** Bytes of the activations of `rows` sequences of `seqLen` tokens held on one tape. */
export function activationBytes(m: BlockShape, rows: number, seqLen: number): number {
  return rows * seqLen * activationFloatsPerToken(m, seqLen) * 4 * ACTIVATION_FACTOR;
}

export interface StepShape {
  block: BlockShape;
  /** Parameters of the model, and of its largest tensor (the word embeddings): the optimizer's working set. */
  params: number;
  largestParam: number;
  /** Rows (pairs) of one batch: min(batchSize, training rows). */
  batchRows: number;
  nColumns: number;
  seqLen: number;
  /** Output (embedding) width. */
  dim: number;
  /** Cached (GradCache) losses: rows embedded at once; undefined for a plain loss. */
  miniBatchSize?: number;
  /** Worker threads besides the main thread (0: the main thread alone). */
  workers: number;
}

/** One thread's heap: what it holds at its peak, in bytes. */
export interface HeapMemory {
  weights: number;
  /** AdamW's m and v (the main thread only). */
  optimizer: number;
  gradients: number;
  activations: number;
  /** The loss on every row (main thread only): embeddings, their gradients, the in-batch scores. */
  loss: number;
  total: number;
}

export interface StepMemory {
  /** Sequences each thread embeds (the main thread's; workers get as many or one fewer). */
  rowsPerThread: number;
  /** Sequences on one tape at once: the thread's rows (plain) or one mini-batch (cached). */
  rowsOnTape: number;
  main: HeapMemory;
  /** Each worker's heap (all alike); undefined without workers. */
  worker?: HeapMemory;
  /** Shared buffers between the threads. */
  shared: number;
  /** The whole process: every heap, the shared buffers, Node and V8. */
  total: number;
}

const F32 = 4;

export function estimateStepMemory(s: StepShape): StepMemory {
  const threads = 1 + Math.max(0, s.workers);
  const rows = s.batchRows * s.nColumns;
  const rowsPerThread = Math.ceil(rows / threads);
  const rowsOnTape = s.miniBatchSize === undefined ? rowsPerThread : Math.min(s.miniBatchSize, rowsPerThread);
  const weights = s.params * F32;
  const activations = activationBytes(s.block, rowsOnTape, s.seqLen);
  // The loss on all rows: embeddings and their gradient, each twice (the pool's copy in, the loss's graph),
  // and the scores of every anchor against every candidate with their softmax and gradient.
  const loss = rows * s.dim * F32 * 4 + s.batchRows * s.batchRows * Math.max(1, s.nColumns - 1) * F32 * 4;
  // After the backward, the gradients' sum and AdamW's outputs need a few copies of the largest tensor;
  // the activations are gone by then, so the larger of the two is the heap's peak.
  const afterBackward = 3 * s.largestParam * F32;
  const heap = (optimizer: number, lossBytes: number): HeapMemory => {
    const h = { weights, optimizer, gradients: weights, activations, loss: lossBytes, total: 0 };
    h.total = weights + optimizer + weights + Math.max(activations + lossBytes, afterBackward);
    return h;
  };
  const main = heap(2 * weights, loss);
  const worker = threads > 1 ? heap(0, 0) : undefined;
  const shared = threads > 1 ? (threads - 1) * weights + rows * s.seqLen * 8 + rows * s.dim * F32 * 2 : 0;
  const total = MAIN_BASE_BYTES + main.total + (threads - 1) * (WORKER_BASE_BYTES + (worker?.total ?? 0)) + shared;
  return { rowsPerThread, rowsOnTape, main, worker, shared, total };
}

/** The process's peak resident memory in bytes (every thread: they share it), Linux's VmHWM or Node's maxRSS. */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux: the resource usage gives the same figure.
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Where a backend's step memory runs out: each wasm heap at its cap, and the machine's RAM for the whole. */
export function heapBudgetBytes(backend: string): number {
  return backend === 'wasm' ? WASM_HEAP_BUDGET_BYTES : Infinity;
}
export function totalBudgetBytes(totalMem: number): number {
  return 0.75 * totalMem;
}

function fits(s: StepShape, backend: string, totalMem: number): boolean {
  const m = estimateStepMemory(s);
  return m.main.total <= heapBudgetBytes(backend) && m.total <= totalBudgetBytes(totalMem);
}

/** Largest batch (rows) that fits as configured, 0 if not even 2 rows do. */
export function largestFittingBatch(s: StepShape, backend: string, totalMem: number): number {
  if (!fits({ ...s, batchRows: 2 }, backend, totalMem)) return 0;
  let lo = 2;
  let hi = Math.max(2, s.batchRows);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits({ ...s, batchRows: mid }, backend, totalMem)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const gb = formatBytes;

/** "2.6 GB (main thread 1.4 GB, 1 worker 0.9 GB)": what the estimate says a step takes. */
export function describeStepMemory(m: StepMemory, workers: number): string {
  const w =
    m.worker && workers > 0 ? `, ${workers} worker${workers > 1 ? 's' : ''} ${gb(m.worker.total)}${workers > 1 ? ' each' : ''}` : '';
  return `${gb(m.total)} (main thread ${gb(m.main.total)}${w})`;
}

/**
 * Undefined when the step fits, else why and what to change (for `/training/batchSize`): the largest batch
 * that fits as configured, and the other ways out — a Cached* loss or a smaller miniBatchSize (memory flat
 * in the batch), more workers (the rows split over more heaps, up to `cores` threads).
 */
export function stepDoesNotFit(s: StepShape, backend: string, totalMem: number, cores = 1): string | undefined {
  if (fits(s, backend, totalMem)) return undefined;
  const m = estimateStepMemory(s);
  const heapCap = heapBudgetBytes(backend);
  const threads = 1 + s.workers;
  const over =
    m.main.total > heapCap
      ? `the main thread's wasm heap would need ${gb(m.main.total)} (parameters ${gb(m.main.weights)}, optimizer ${gb(m.main.optimizer)}, ` +
        `gradients ${gb(m.main.gradients)}, activations of ${m.rowsOnTape} sequences ${gb(m.main.activations)}, loss ${gb(m.main.loss)}), ` +
        `more than the ${gb(heapCap)} a wasm heap can hold (each thread has its own, capped at 4 GB)`
      : `the process would need ${gb(m.total)}, more than ${gb(totalBudgetBytes(totalMem))} (¾ of this machine's ${gb(totalMem)} of RAM)`;
  const ways: string[] = [];
  const fit = largestFittingBatch(s, backend, totalMem);
  ways.push(fit >= 2 ? `A batchSize of at most ${fit} fits` : 'Not even a batch of 2 fits');
  if (s.miniBatchSize === undefined) {
    const mb = [64, 32, 16, 8, 4].find((b) => fits({ ...s, miniBatchSize: b }, backend, totalMem));
    if (mb) ways.push(`the Cached* variant of the loss with miniBatchSize ${mb} fits at this batch (memory stays flat in the batch size)`);
  } else if (s.miniBatchSize > 1) {
    const mb = [64, 32, 16, 8, 4, 2, 1].find((b) => b < s.miniBatchSize! && fits({ ...s, miniBatchSize: b }, backend, totalMem));
    if (mb) ways.push(`miniBatchSize ${mb} fits at this batch`);
  }
  for (let w = s.workers + 1; w < Math.max(cores, threads); w++) {
    if (fits({ ...s, workers: w }, backend, totalMem)) {
      ways.push(`--workers ${w} fits (the rows split over ${w + 1} threads, each with its own heap)`);
      break;
    }
  }
  if (fit < 2 && ways.length === 1) ways.push('make the model smaller (hiddenSize, numLayers, vocabSize, maxSeqLength)');
  const split = threads > 1 ? ` split over ${threads} threads` : '';
  return `a step of ${s.batchRows} rows needs about ${gb(m.total)} (${m.rowsPerThread} sequences of ${s.seqLen} tokens per thread${split}): ${over}. ${ways.join('; or ')}`;
}

/**
 * The check inside a plain step, on its actual padded length: the activations of one thread's rows
 * against what its heap has left beside the weights, gradients and optimizer state.
 */
export function assertPlainStepFits(m: BlockShape, rowsPerThread: number, seqLen: number, backend: string, fixedBytes = 0): void {
  if (backend !== 'wasm') return;
  const need = activationBytes(m, rowsPerThread, seqLen);
  const room = WASM_HEAP_BUDGET_BYTES - fixedBytes;
  if (need <= room) return;
  const maxRows = Math.floor(room / activationBytes(m, 1, seqLen));
  throw new PlainBatchTooLargeError(
    `a plain step on ${rowsPerThread} sequences of ${seqLen} tokens per thread needs about ${gb(need)} of activations, more than ` +
      `a wasm heap has room for beside the model (${gb(Math.max(0, room))} of its 4 GB cap). Use the Cached* variant of the loss ` +
      `(GradCache: memory stays flat in the batch size), more worker threads, or at most ${Math.max(0, maxRows)} sequences per thread.`,
  );
}

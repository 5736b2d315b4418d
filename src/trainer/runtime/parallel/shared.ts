/**
 * Memory shared between the trainer's main thread and its data-parallel workers. Everything goes
 * through SharedArrayBuffers and Atomics, never postMessage: the main thread blocks in Atomics.wait
 * while the workers run, so a training step stays one synchronous call like the single-thread one.
 *
 * Control words (Int32Array):
 *   GEN               bumped by the main thread for every command it posts
 *   GRADS_READY       set to GEN once the main thread has written ∂L/∂reps
 *   per worker w:     [cmd, start, end, rows, len, seed, miniBatch, weightsVersion, done, status, embedded, heapMiB]
 *
 * The weights and the gradients share buffers: the main thread writes the new weights into worker 0's
 * gradient buffer before a step; every worker copies them into its replica before it publishes its
 * embeddings, and writes its gradients only after the main thread has seen every worker's embeddings
 * (GRADS_READY), so the weights are read before any gradient overwrites them. One buffer of the model's
 * size per worker instead of one more for the weights (440 MB on a BERT-base).
 */
export const GEN = 0;
export const GRADS_READY = 1;
export const SLOT = 12;
export const SLOT_BASE = 4;
export const enum Field {
  Cmd = 0,
  Start = 1,
  End = 2,
  Rows = 3,
  Len = 4,
  Seed = 5,
  MiniBatch = 6,
  WeightsVersion = 7,
  Done = 8,
  Status = 9,
  /** Set to GEN once the worker's embeddings are in the shared reps. */
  Embedded = 10,
  /** The worker's wasm heap in MiB after its last command (it never shrinks: its high-water mark). */
  HeapMiB = 11,
}
export const enum Cmd {
  Exit = 3,
  /**
   * GradCache on the worker's rows (backpropHoldingLastChunk): embed its chunks, the last one under a
   * tape, publish the embeddings, wait (inside that tape) for the main thread's ∂L/∂reps, back-propagate
   * through the last chunk, then re-forward the others. A plain loss is one chunk: no second forward.
   */
  Step = 4,
}
/** Status values a worker leaves in its slot. */
export const STATUS_OK = 0;
export const STATUS_FAILED = -1;

export interface ParamLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  total: number;
}

export function paramLayout(params: Map<string, { shape: number[] }>): ParamLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let total = 0;
  for (const [name, v] of params) {
    names.push(name);
    shapes.push([...v.shape]);
    offsets.push(total);
    total += v.shape.reduce((a, b) => a * b, 1);
  }
  return { names, shapes, offsets, total };
}

/** The buffers of one pool; sized for the largest batch it will see. */
export interface SharedBuffers {
  control: SharedArrayBuffer;
  ids: SharedArrayBuffer;
  mask: SharedArrayBuffer;
  reps: SharedArrayBuffer;
  repGrads: SharedArrayBuffer;
  /** One gradient buffer per worker; worker 0's carries the weights before each step (see the header). */
  grads: SharedArrayBuffer[];
  /** A short UTF-8 error message per worker. */
  errors: SharedArrayBuffer;
}

export const ERROR_BYTES = 2048;

export function allocateBuffers(workers: number, maxRows: number, maxLen: number, dim: number, paramCount: number): SharedBuffers {
  const f32 = (n: number) => new SharedArrayBuffer(4 * Math.max(1, n));
  return {
    control: new SharedArrayBuffer(4 * (SLOT_BASE + SLOT * workers)),
    ids: f32(maxRows * maxLen),
    mask: f32(maxRows * maxLen),
    reps: f32(maxRows * dim),
    repGrads: f32(maxRows * dim),
    grads: Array.from({ length: workers }, () => f32(paramCount)),
    errors: new SharedArrayBuffer(ERROR_BYTES * workers),
  };
}

export function slot(worker: number, field: Field): number {
  return SLOT_BASE + SLOT * worker + field;
}

export interface WorkerInit {
  index: number;
  backend: string;
  spec: unknown;
  layout: ParamLayout;
  dim: number;
  buffers: SharedBuffers;
}

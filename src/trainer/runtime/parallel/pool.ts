/**
 * Data-parallel GradCache over worker threads: the wasm backend runs one thread per tfjs instance in
 * Node (docs/performance.md#threads-and-simd), so every other core gets a worker with its own instance and a replica of the encoder.
 * A step is GradCache (../../loop/gradCache.ts: the steps are its functions, composed here) with the rows split
 * across the main thread and the workers, each thread's rows cut into chunks (backpropHoldingLastChunk):
 *   1. every thread embeds its chunks, all but the last without the tape, the last under a tape it keeps
 *      open                                                         → shared reps
 *   2. the main thread computes the loss and ∂L/∂reps on all rows   (small: [rows, D])   lossAndRepGrads
 *   3. every thread back-propagates ∂L/∂reps through its held last chunk, then re-forwards its other
 *      chunks with the tape and pushes ∂L/∂reps through them                          backpropCachedGrads
 *   4. the main thread sums the parameter gradients; the optimizer runs once, on the main thread, and
 *      the new weights reach the workers through shared memory before their next command.
 * A plain loss runs the same way with one chunk per thread (so no second forward at all). The gradients
 * are those of the single-thread step (dropout is keyed by row), so the parallel trainer learns the same
 * model.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { backpropHoldingLastChunk, lossAndRepGrads, type LossExtras, type RepLossResult, type StepResult } from '../../loop/gradCache';
import type { EmbeddingLoss } from '../../losses/types';
import type { BertEncoder } from '../../model/encoder';
import { encoderRows } from '../../loop/textBatch';
import { wasmHeapBytes } from '../backend';
import {
  allocateBuffers,
  Cmd,
  ERROR_BYTES,
  Field,
  GEN,
  GRADS_READY,
  paramLayout,
  slot,
  STATUS_FAILED,
  type ParamLayout,
  type SharedBuffers,
  type WorkerInit,
} from './shared';

export interface PoolOptions {
  encoder: BertEncoder;
  backend: string;
  /** Worker threads besides the main thread (cores − 1 is the useful number). */
  workers: number;
  maxRows: number;
  maxLen: number;
  /** The worker script (default: resolveWorkerScript()'s choice). */
  workerScript?: string;
}

export interface HostTokens {
  ids: Int32Array;
  mask: Float32Array;
  rows: number;
  len: number;
}

/**
 * How a worker thread is started: the bundle beside this file (dist/trainerWorker.js), or an explicit
 * script (PoolOptions.workerScript, else the MRL_TRAINER_WORKER environment variable). From sources
 * (tests under tsx) the worker is TypeScript too, and loader flags do not reach worker threads, so the
 * worker registers tsx's require hook itself — dev only: tsx is not shipped. Throws, before any thread
 * starts, when neither is there (a packaged extension missing its bundle): the caller trains without workers.
 */
export function resolveWorkerScript(explicit = process.env.MRL_TRAINER_WORKER): { file: string } | { code: string } {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`the trainer worker script ${explicit} does not exist`);
    return { file: explicit };
  }
  const bundled = join(__dirname, 'trainerWorker.js');
  if (existsSync(bundled)) return { file: bundled };
  const source = join(__dirname, 'worker.ts');
  let tsx: string;
  try {
    if (!existsSync(source)) throw new Error('no worker source');
    // Resolved here, from this file, so that a trainer started from any working directory finds it.
    tsx = require.resolve('tsx/cjs');
  } catch {
    throw new Error(`the trainer worker bundle ${bundled} is missing (a broken install?)`);
  }
  return { code: `require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});` };
}

function startWorker(script: { file: string } | { code: string }, workerData: WorkerInit): Worker {
  return 'file' in script ? new Worker(script.file, { workerData }) : new Worker(script.code, { eval: true, workerData });
}

/** [start, end) of each participant (main thread first), as equal as the rows allow. */
export function splitRows(rows: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = 0;
  for (let p = 0; p < parts; p++) {
    const n = Math.floor(rows / parts) + (p < rows % parts ? 1 : 0);
    out.push([s, s + n]);
    s += n;
  }
  return out;
}

export class DataParallelPool {
  private readonly ctl: Int32Array;
  private readonly layout: ParamLayout;
  private weightsVersion = 0;
  private weightsDirty = true;
  private closed = false;
  /** Milliseconds of each phase of the last step (for the bench and the log). */
  lastTimings: Record<string, number> = {};

  private constructor(
    private readonly o: PoolOptions,
    private readonly buffers: SharedBuffers,
    private readonly workers: Worker[],
  ) {
    this.ctl = new Int32Array(buffers.control);
    this.layout = paramLayout(o.encoder.params);
    // Recorded from the start: a worker that dies mid-run (out of memory, an abort) emits 'exit' once,
    // long before close() would listen for it.
    this.exits = workers.map((w) => new Promise<void>((r) => w.once('exit', () => r())));
  }

  private readonly exits: Promise<void>[];

  static async start(o: PoolOptions): Promise<DataParallelPool> {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`workers must be an integer ≥ 1, got ${o.workers}`);
    const script = resolveWorkerScript(o.workerScript);
    const layout = paramLayout(o.encoder.params);
    const buffers = allocateBuffers(o.workers, o.maxRows, o.maxLen, o.encoder.dim, layout.total);
    const workers = Array.from({ length: o.workers }, (_, index) =>
      startWorker(script, { index, backend: o.backend, spec: o.encoder.spec, layout, dim: o.encoder.dim, buffers }),
    );
    const started = Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', (m: { ready?: boolean; error?: string }) =>
              m.ready ? resolve() : reject(new Error(`trainer worker ${i} failed to start: ${m.error}`)),
            );
            w.once('error', reject);
            w.once('exit', (code) => reject(new Error(`trainer worker ${i} exited with code ${code} while starting`)));
          }),
      ),
    );
    try {
      await started;
    } catch (e) {
      // A worker that did start would otherwise wait on its Atomics forever and keep the process alive.
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new DataParallelPool(o, buffers, workers);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Call after the optimizer changed the weights: they are copied to the workers before the next step. */
  weightsChanged(): void {
    this.weightsDirty = true;
  }

  lossAndGrads(tokens: HostTokens, nColumns: number, batchSize: number, loss: EmbeddingLoss, extras: LossExtras, seed: number): StepResult {
    if (this.closed) throw new Error('the data-parallel pool is closed');
    const { rows, len } = tokens;
    if (rows > this.o.maxRows || len > this.o.maxLen) {
      throw new Error(`batch of ${rows}×${len} tokens exceeds the pool's ${this.o.maxRows}×${this.o.maxLen}`);
    }
    const dim = this.o.encoder.dim;
    new Int32Array(this.buffers.ids).set(tokens.ids.subarray(0, rows * len));
    new Float32Array(this.buffers.mask).set(tokens.mask.subarray(0, rows * len));

    const ranges = splitRows(rows, this.threads);
    // A plain loss is GradCache with one chunk per thread: its last chunk is all its rows.
    const chunk = (range: [number, number]) => Math.max(1, Math.min(loss.miniBatchSize ?? Infinity, range[1] - range[0]));
    const batch = {
      inputIds: tf.tensor2d(tokens.ids.subarray(0, rows * len), [rows, len], 'int32'),
      attentionMask: tf.tensor2d(tokens.mask.subarray(0, rows * len), [rows, len], 'float32'),
    };
    const embedder = encoderRows(this.o.encoder, batch, seed);
    const reps = new Float32Array(this.buffers.reps);
    const repGrads = new Float32Array(this.buffers.repGrads);
    const clock = { t: performance.now() };
    const lap = (name: string) => {
      const now = performance.now();
      this.lastTimings[name] = now - clock.t;
      clock.t = now;
    };
    let released = false;
    const release = (gen: number) => {
      released = true;
      Atomics.store(this.ctl, GRADS_READY, gen);
      Atomics.notify(this.ctl, GRADS_READY);
    };
    try {
      if (this.weightsDirty) this.publishWeights();
      lap('publish');
      const [s0, e0] = ranges[0];
      this.post(Cmd.Step, ranges, rows, len, seed, chunk);
      const gen = Atomics.load(this.ctl, GEN);
      let lossValue = NaN;
      let sideValues: Record<string, number> = {};
      // Steps 1-3 on the main thread's rows; step 2 (the loss on all rows) runs while its own last
      // chunk and every worker's are held on their tapes.
      const acc = backpropHoldingLastChunk(
        embedder,
        s0,
        e0,
        chunk(ranges[0]),
        (s, r) => reps.set(r.dataSync() as Float32Array, s * dim),
        () => {
          lap('embedMain');
          this.waitEmbedded(gen);
          lap('embedWait');
          const r = this.repLoss(rows, nColumns, batchSize, loss, extras);
          lossValue = r.loss;
          sideValues = r.sideValues;
          repGrads.set(r.repGrads.dataSync() as Float32Array);
          r.repGrads.dispose();
          release(gen);
          lap('loss');
        },
        (s, e) => tf.tensor2d(repGrads.subarray(s * dim, e * dim), [e - s, dim]),
      );
      lap('backwardMain');
      this.wait();
      lap('backwardWait');
      // 4. Sum the workers' gradients into the main thread's.
      const grads = this.addWorkerGrads(acc);
      lap('sum');
      return { loss: lossValue, grads, sideValues };
    } finally {
      // Workers block inside their tape until released: never leave them there (e.g. the loss threw).
      if (!released) {
        release(Atomics.load(this.ctl, GEN));
        try {
          this.wait();
        } catch {
          // The original error is the one to report.
        }
      }
      batch.inputIds.dispose();
      batch.attentionMask.dispose();
    }
  }

  /** GradCache step 2 on all rows (from shared memory): the loss and its gradient w.r.t. them. */
  private repLoss(rows: number, nColumns: number, batchSize: number, loss: EmbeddingLoss, extras: LossExtras): RepLossResult {
    const dim = this.o.encoder.dim;
    // A fresh tensor cuts any tape link: the gradient stops at the embeddings.
    const repTensor = tf.tensor2d(new Float32Array(this.buffers.reps).subarray(0, rows * dim), [rows, dim]);
    try {
      return lossAndRepGrads(repTensor, nColumns, batchSize, loss, extras);
    } finally {
      repTensor.dispose();
    }
  }

  /** The main thread's gradients plus every worker's (from shared memory), as tensors. */
  private addWorkerGrads(acc: Map<tf.Variable, tf.Tensor>): Map<tf.Variable, tf.Tensor> {
    // Summed in place into worker 0's buffer: it holds nothing else until the next step's weights.
    const sums = new Float32Array(this.buffers.grads[0]);
    for (const buf of this.buffers.grads.slice(1)) {
      const g = new Float32Array(buf);
      for (let k = 0; k < sums.length; k++) sums[k] += g[k];
    }
    const out = new Map<tf.Variable, tf.Tensor>();
    this.layout.names.forEach((name, i) => {
      const v = this.o.encoder.params.get(name)!;
      const n = this.layout.shapes[i].reduce((a, b) => a * b, 1);
      const remote = tf.tensor(sums.subarray(this.layout.offsets[i], this.layout.offsets[i] + n), this.layout.shapes[i]);
      const local = acc.get(v);
      out.set(v, local ? tf.add(local, remote) : remote);
      if (local) {
        local.dispose();
        remote.dispose();
      }
    });
    return out;
  }

  /** Each thread's wasm heap in bytes (its high-water mark: a wasm heap never shrinks), main thread first. */
  heapBytes(): number[] {
    return [wasmHeapBytes(), ...this.workers.map((_, w) => Atomics.load(this.ctl, slot(w, Field.HeapMiB)) * 2 ** 20)];
  }

  /** Blocks until every worker has published its embeddings for command `gen`; rethrows a worker's error. */
  private waitEmbedded(gen: number): void {
    this.workers.forEach((_, w) => {
      const at = slot(w, Field.Embedded);
      const deadline = Date.now() + 120_000;
      while (Atomics.load(this.ctl, at) !== gen) {
        // Done before publishing its embeddings means it failed: report that worker's error.
        if (Atomics.load(this.ctl, slot(w, Field.Done)) === gen) {
          this.throwIfFailed(w);
          throw new Error(`trainer worker ${w} ended its step without embeddings`);
        }
        if (Date.now() > deadline) throw new Error(`trainer worker ${w} did not answer within 120 s`);
        Atomics.wait(this.ctl, at, Atomics.load(this.ctl, at), 1000);
      }
    });
  }

  private publishWeights(): void {
    // Worker 0's gradient buffer carries the weights to every worker (shared.ts).
    const params = new Float32Array(this.buffers.grads[0]);
    this.layout.names.forEach((name, i) => {
      params.set(this.o.encoder.params.get(name)!.dataSync() as Float32Array, this.layout.offsets[i]);
    });
    this.weightsVersion += 1;
    this.weightsDirty = false;
  }

  private post(
    cmd: Cmd,
    ranges: Array<[number, number]>,
    rows: number,
    len: number,
    seed: number,
    chunk: (r: [number, number]) => number,
  ): void {
    this.workers.forEach((_, w) => {
      const r = ranges[w + 1];
      const set = (f: Field, v: number) => Atomics.store(this.ctl, slot(w, f), v);
      set(Field.Cmd, cmd);
      set(Field.Start, r[0]);
      set(Field.End, r[1]);
      set(Field.Rows, rows);
      set(Field.Len, len);
      set(Field.Seed, seed | 0);
      set(Field.MiniBatch, chunk(r));
      set(Field.WeightsVersion, this.weightsVersion);
    });
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
  }

  /** Blocks until every worker finished the current command; rethrows a worker's error. */
  private wait(): void {
    const gen = Atomics.load(this.ctl, GEN);
    this.workers.forEach((_, w) => {
      const at = slot(w, Field.Done);
      for (;;) {
        const done = Atomics.load(this.ctl, at);
        if (done === gen) break;
        // A timeout keeps a dead worker from hanging the trainer forever.
        if (Atomics.wait(this.ctl, at, done, 120_000) === 'timed-out' && Atomics.load(this.ctl, at) !== gen) {
          throw new Error(`trainer worker ${w} did not answer within 120 s`);
        }
      }
      this.throwIfFailed(w);
    });
  }

  private throwIfFailed(w: number): void {
    if (Atomics.load(this.ctl, slot(w, Field.Status)) !== STATUS_FAILED) return;
    const bytes = new Uint8Array(this.buffers.errors, w * ERROR_BYTES, ERROR_BYTES);
    const end = bytes.indexOf(0);
    throw new Error(`trainer worker ${w} failed: ${new TextDecoder().decode(bytes.slice(0, end < 0 ? undefined : end))}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.workers.forEach((_, w) => Atomics.store(this.ctl, slot(w, Field.Cmd), Cmd.Exit));
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(
      this.workers.map(async (w, i) => {
        const timer = setTimeout(() => void w.terminate(), 5000);
        await this.exits[i];
        clearTimeout(timer);
      }),
    );
  }
}

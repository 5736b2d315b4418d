/**
 * A data-parallel training worker: its own tfjs instance (wasm runs one thread per instance in Node,
 * docs/performance.md#threads-and-simd), a replica of the encoder whose weights it copies from shared memory whenever the main
 * thread bumps the weights version, and one command on a range of rows, Step: GradCache on them
 * (backpropHoldingLastChunk in ../../loop/gradCache.ts; this file only moves its inputs and outputs through
 * shared memory): embeddings → shared reps, wait inside the last chunk's tape for the main thread's
 * ∂L/∂reps, back-propagate → summed parameter grads in this worker's shared gradient buffer.
 * Dropout is keyed by the global row index, so a row draws the same masks on any thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, wasmHeapBytes, type BackendRequest } from '../backend';
import { backpropHoldingLastChunk } from '../../loop/gradCache';
import { BertEncoder, type EncoderSpec } from '../../model/encoder';
import { encoderRows } from '../../loop/textBatch';
import { Cmd, ERROR_BYTES, Field, GEN, GRADS_READY, STATUS_FAILED, STATUS_OK, slot, type WorkerInit } from './shared';

async function main(init: WorkerInit): Promise<void> {
  await initBackend(init.backend as BackendRequest);
  const encoder = new BertEncoder(init.spec as EncoderSpec, { seed: 0 });
  const { layout, buffers, index, dim } = init;
  const ctl = new Int32Array(buffers.control);
  // The main thread writes the weights here (shared.ts): read before this step's embeddings are published.
  const params = new Float32Array(buffers.grads[0]);
  const grads = new Float32Array(buffers.grads[index]);
  const idsAll = new Int32Array(buffers.ids);
  const maskAll = new Float32Array(buffers.mask);
  const reps = new Float32Array(buffers.reps);
  const repGrads = new Float32Array(buffers.repGrads);
  const errors = new Uint8Array(buffers.errors, index * ERROR_BYTES, ERROR_BYTES);
  const variables = layout.names.map((n) => encoder.params.get(n)!);
  let weightsVersion = -1;
  let seen = Atomics.load(ctl, GEN);
  parentPort?.postMessage({ ready: true });

  for (;;) {
    Atomics.wait(ctl, GEN, seen);
    seen = Atomics.load(ctl, GEN);
    const at = (f: Field) => Atomics.load(ctl, slot(index, f));
    const cmd = at(Field.Cmd);
    if (cmd === Cmd.Exit) break;
    let status = STATUS_OK;
    try {
      const version = at(Field.WeightsVersion);
      if (version !== weightsVersion) {
        variables.forEach((v, i) => {
          const n = layout.shapes[i].reduce((a, b) => a * b, 1);
          const t = tf.tensor(params.subarray(layout.offsets[i], layout.offsets[i] + n), layout.shapes[i]);
          v.assign(t);
          t.dispose();
        });
        weightsVersion = version;
      }
      const [start, end, rows, len, seed, mb] = [Field.Start, Field.End, Field.Rows, Field.Len, Field.Seed, Field.MiniBatch].map(at);
      const batch = {
        inputIds: tf.tensor2d(idsAll.subarray(0, rows * len), [rows, len], 'int32'),
        attentionMask: tf.tensor2d(maskAll.subarray(0, rows * len), [rows, len], 'float32'),
      };
      const embedder = encoderRows(encoder, batch, seed >>> 0);
      if (cmd === Cmd.Step) {
        const acc = backpropHoldingLastChunk(
          embedder,
          start,
          end,
          mb,
          (s, r) => reps.set(r.dataSync() as Float32Array, s * dim),
          () => {
            Atomics.store(ctl, slot(index, Field.Embedded), seen);
            Atomics.notify(ctl, slot(index, Field.Embedded));
            for (let ready = Atomics.load(ctl, GRADS_READY); ready !== seen; ready = Atomics.load(ctl, GRADS_READY)) {
              Atomics.wait(ctl, GRADS_READY, ready, 1000);
            }
            // Every worker has its weights by now (it published its embeddings): buffer 0 is free for gradients.
            grads.fill(0);
          },
          (s, e) => tf.tensor2d(repGrads.subarray(s * dim, e * dim), [e - s, dim]),
        );
        variables.forEach((v, i) => {
          const gv = acc.get(v);
          if (!gv) return;
          grads.set(gv.dataSync() as Float32Array, layout.offsets[i]);
          gv.dispose();
        });
      }
      batch.inputIds.dispose();
      batch.attentionMask.dispose();
    } catch (e) {
      status = STATUS_FAILED;
      const msg = new TextEncoder().encode(String((e as Error)?.stack ?? e).slice(0, ERROR_BYTES - 1));
      errors.fill(0);
      errors.set(msg.subarray(0, ERROR_BYTES - 1));
    }
    Atomics.store(ctl, slot(index, Field.HeapMiB), Math.ceil(wasmHeapBytes() / 2 ** 20));
    Atomics.store(ctl, slot(index, Field.Status), status);
    Atomics.store(ctl, slot(index, Field.Done), seen);
    Atomics.notify(ctl, slot(index, Field.Done));
  }
}

main(workerData as WorkerInit).catch((e) => {
  parentPort?.postMessage({ error: String((e as Error)?.stack ?? e) });
});

/**
 * Micro-benchmark of one encoder training step on the reference model of docs/performance.md (vocab 8000, hidden
 * 128, 2 layers, 4 heads, FFN 512, 64 sequences of 32 tokens): forward + backward of sum(emb · R) via
 * tf.variableGrads. Prints the median over 5 steps after 2 warm-ups (wall time and this process's CPU
 * time), numTensors / wasm heap, and with --profile the kernels that dominate. --rows sets the number of
 * sequences (32 is a GradCache chunk); --forward-only times the tape-free forward (GradCache's step 1).
 *   npx tsx bench/encoderStep.ts [--backend wasm|cpu] [--steps 5] [--rows 64] [--forward-only] [--profile]
 *                                [--top 15] [--dropout 0.1] [--stock-identity]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../src/trainer/model/encoder';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
  const steps = Number(arg('steps', '5'));
  const pDrop = Number(arg('dropout', '0'));
  const profile = process.argv.includes('--profile');
  const forwardOnly = process.argv.includes('--forward-only');
  // A/B switch for the shared-buffer Identity (src/trainer/runtime/kernels/wasmIdentity.ts).
  const stockIdentity = backend === 'wasm' && process.argv.includes('--stock-identity') ? tf.getKernel('Identity', 'wasm') : undefined;
  const choice = await initBackend(backend);
  if (stockIdentity) {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(stockIdentity);
  }
  const N = Number(arg('rows', '64'));
  const L = 32;
  const spec: EncoderSpec = {
    vocabSize: 8000,
    hiddenSize: 128,
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 512,
    maxPositions: 64,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    pooling: 'mean',
    layerNorm: 'post',
    hiddenDropout: pDrop,
    attentionDropout: pDrop,
  };
  const enc = new BertEncoder(spec, { seed: 1 });
  const ids = new Int32Array(N * L);
  const maskV = new Float32Array(N * L);
  let s = 12345;
  for (let n = 0; n < N; n++) {
    const len = 8 + ((n * 7) % (L - 8 + 1));
    for (let l = 0; l < L; l++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      ids[n * L + l] = l < len ? 1 + (s % (spec.vocabSize - 1)) : 0;
      maskV[n * L + l] = l < len ? 1 : 0;
    }
  }
  const batch = { inputIds: tf.tensor2d(ids, [N, L], 'int32'), attentionMask: tf.tensor2d(maskV, [N, L]) };
  const R = tf.randomNormal([N, enc.dim], 0, 1, 'float32', 7);
  const rowIds = Int32Array.from({ length: N }, (_, i) => i);
  const runOnce = (k: number) =>
    tf.tidy(() => {
      const dropout = pDrop > 0 ? { seed: k, rowIds } : undefined;
      if (forwardOnly) {
        enc.encode(batch, dropout).dataSync();
        return;
      }
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.encode(batch, dropout), R)) as tf.Scalar, enc.variables);
      // Force completion so the timing covers the work, not just its scheduling.
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  const step = (k: number) => {
    const before = tf.memory().numTensors;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    runOnce(k);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    // CPU time of this (single-threaded) process: on a shared, loaded machine it is a far steadier
    // measure than wall time, which also counts the time other processes held the core.
    return { ms, cpuMs: (c.user + c.system) / 1000, leaked: tf.memory().numTensors - before };
  };
  for (let i = 0; i < 2; i++) step(-1 - i);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = step(i);
    times.push(r.ms);
    cpuTimes.push(r.cpuMs);
    if (r.leaked !== 0) console.log(`step ${i}: numTensors changed by ${r.leaked}`);
    if (i === 0 || i === steps - 1) {
      // The wasm heap never shrinks: growth after the warm-ups would be a leak (e.g. cached XNNPACK
      // operators of disposed tensors).
      const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength;
      console.log(
        `step ${i}: numTensors ${tf.memory().numTensors}, tf bytes ${(tf.memory().numBytes / 1e6).toFixed(1)} MB` +
          (heap ? `, wasm heap ${(heap / 1e6).toFixed(1)} MB` : ''),
      );
    }
  }
  times.sort((a, b) => a - b);
  console.log(`backend ${choice.name}; steps ms: ${times.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`median ${times[Math.floor(times.length / 2)].toFixed(1)} ms (min ${times[0].toFixed(1)})`);
  cpuTimes.sort((a, b) => a - b);
  console.log(`cpu time per step: median ${cpuTimes[Math.floor(cpuTimes.length / 2)].toFixed(1)} ms (min ${cpuTimes[0].toFixed(1)})`);
  if (profile) {
    const info = await tf.profile(() => runOnce(99));
    const byKernel = new Map<string, { ms: number; n: number }>();
    const byShape = new Map<string, { ms: number; n: number }>();
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += ms;
      e.n++;
      byKernel.set(k.name, e);
      const key = `${k.name} ${JSON.stringify(k.inputShapes)} ${JSON.stringify((k as unknown as { extraInfo?: string }).extraInfo ?? '')}`;
      const f = byShape.get(key) ?? { ms: 0, n: 0 };
      f.ms += ms;
      f.n++;
      byShape.set(key, f);
    }
    const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
    console.log(`profiled: ${info.kernels.length} kernels, ${total.toFixed(0)} ms kernel time`);
    for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(arg('top', '15')))) {
      console.log(`  ${name.padEnd(16)} ${e.ms.toFixed(1).padStart(7)} ms  x${e.n}`);
    }
    console.log('top calls by kernel+shapes:');
    for (const [key, e] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 45)) {
      console.log(`  ${e.ms.toFixed(1).padStart(7)} ms x${e.n} ${key}`);
    }
  }
  enc.dispose();
  tf.dispose([batch.inputIds, batch.attentionMask, R]);
}

void main();

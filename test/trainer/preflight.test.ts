// Before anything is written, a run checks that every kernel its training step uses is registered on
// the chosen backend: a missing kernel is a clear error at start, never a crash or a slow path mid-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { validateRunConfig } from '../../src/config/validate';
import { prepareRun } from '../../src/trainer/loop/prepare';

const dir = mkdtempSync(join(tmpdir(), 'mrl-preflight-'));
writeFileSync(
  join(dir, 'pairs.jsonl'),
  Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ anchor: `question ${i} about topic ${i % 7}`, positive: `answer ${i} on topic ${i % 7}` }),
  ).join('\n') + '\n',
);
const CONFIG = {
  name: 'preflight',
  seed: 1,
  backend: 'cpu',
  model: { scratch: { vocabSize: 120, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 4 }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 2, batchSize: 8 },
};

test('a kernel missing on the backend stops the run before it starts, naming the kernel', async () => {
  const r = validateRunConfig(CONFIG, join(dir, 'preflight.mrl.json'));
  assert.deepEqual(r.errors, []);
  const logs: string[] = [];
  const ok = await prepareRun(r.resolved!, { log: (s) => logs.push(s) });
  assert.ok(
    logs.some((l) => /kernels: \d+ used by a training step, all registered on cpu/.test(l)),
    logs.join('\n'),
  );
  ok.encoder.dispose();

  // Take away the GELU's Erf kernel on cpu, as a backend without it would be.
  const erf = tf.getKernel('Erf', 'cpu');
  assert.ok(erf);
  tf.unregisterKernel('Erf', 'cpu');
  try {
    await assert.rejects(prepareRun(r.resolved!), /Erf/);
  } finally {
    tf.registerKernel(erf!);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['pairs.jsonl'], 'nothing was written');
});

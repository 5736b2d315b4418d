// Proof 3 of the trainer issue: training really learns. A synthetic "translation" task that an
// untrained encoder cannot solve — anchor words "aK" must match positive words "bK" (disjoint
// vocabularies), so only training can align them — on the wasm backend with MatryoshkaLoss over
// CachedMNRL, the quick-start loss. Seeded; asserts learning, not timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { BertEncoder } from '../../src/trainer/model/encoder';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';
import { resolveLoss } from '../../src/config/lossConfig';
import { createLoss } from '../../src/trainer/losses/registry';
import { AdamW } from '../../src/trainer/loop/optimizer';
import { StepRunner } from '../../src/trainer/loop/trainStep';
import { embedTexts } from '../../src/trainer/eval/embed';
import { Rng } from '../../src/common/random';
import type { LossConfig } from '../../src/protocol/runConfig';

const WORDS = 24;
function pair(rng: Rng): [string, string] {
  const ks = [rng.int(WORDS), rng.int(WORDS), rng.int(WORDS)];
  return [ks.map((k) => `a${k}`).join(' '), ks.map((k) => `b${k}`).join(' ')];
}

/** In-batch retrieval accuracy (top-1 by cosine) at the first `dim` dims. */
function accuracy(a: Float32Array, p: Float32Array, n: number, full: number, dim: number): number {
  const unit = (x: Float32Array, i: number) => {
    const v = x.subarray(i * full, i * full + dim);
    const norm = Math.hypot(...v) || 1;
    return Array.from(v, (t) => t / norm);
  };
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const q = unit(a, i);
    let best = -1,
      arg = -1;
    for (let j = 0; j < n; j++) {
      const c = unit(p, j);
      const s = q.reduce((acc, t, k) => acc + t * c[k], 0);
      if (s > best) {
        best = s;
        arg = j;
      }
    }
    if (arg === i) hits++;
  }
  return hits / n;
}

test('MatryoshkaLoss(CachedMNRL) training drives the loss down and retrieval up at every dim (wasm)', async () => {
  await initBackend('wasm');
  const rng = new Rng(3);
  const train = Array.from({ length: 640 }, () => pair(rng));
  const held = Array.from({ length: 48 }, () => pair(rng));
  const tokenizer = WordPieceTokenizer.train(train.flat(), { vocabSize: 200 });
  const encoder = new BertEncoder(
    {
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 32,
      numLayers: 1,
      numHeads: 2,
      intermediateSize: 64,
      maxPositions: 16,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      pooling: 'mean',
      layerNorm: 'pre',
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    },
    { seed: 1 },
  );
  const config = {
    type: 'MatryoshkaLoss',
    matryoshkaDims: [32, 16, 8],
    matryoshkaWeights: null,
    nDimsPerStep: -1,
    loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 16 },
  } as LossConfig;
  const loss = createLoss(resolveLoss(config, { embeddingDim: 32 }), 1);
  const optimizer = new AdamW(encoder.params, { learningRate: 3e-3, weightDecay: 0.01, maxGradNorm: 1 });
  const runner = new StepRunner({ encoder, tokenizer, maxSeqLength: 16, loss, optimizer, seed: 9 });
  const evalAt = () => {
    const a = embedTexts(
      encoder,
      tokenizer,
      held.map((x) => x[0]),
      { maxSeqLength: 16, batchSize: 32 },
    );
    const p = embedTexts(
      encoder,
      tokenizer,
      held.map((x) => x[1]),
      { maxSeqLength: 16, batchSize: 32 },
    );
    return [32, 16, 8].map((d) => accuracy(a, p, held.length, 32, d));
  };
  const before = evalAt();
  const tensorsBefore = tf.memory().numTensors;
  const losses: number[] = [];
  const batch = 32;
  for (let step = 0; step < 80; step++) {
    const rows = train.slice((step * batch) % train.length, ((step * batch) % train.length) + batch);
    const out = runner.step({ columns: [rows.map((r) => r[0]), rows.map((r) => r[1])] }, step);
    assert.deepEqual(Object.keys(out.byDim).sort(), ['16', '32', '8']);
    losses.push(out.loss);
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'a training step leaks no tensors');
  const after = evalAt();
  if (process.env.MRL_DEBUG) process.stderr.write(`DBG before ${before} after ${after} loss ${losses[0]} → ${losses[losses.length - 1]}\n`);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, 5)),
    last = mean(losses.slice(-5));
  assert.ok(last < 0.5 * first, `loss went from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  for (let i = 0; i < 3; i++) {
    assert.ok(after[i] >= before[i] + 0.3, `dim ${[32, 16, 8][i]}: accuracy ${before[i].toFixed(2)} → ${after[i].toFixed(2)}`);
  }
  assert.ok(after[0] >= 0.6, `full-dim accuracy after training: ${after[0]}`);
  optimizer.dispose();
  encoder.dispose();
});

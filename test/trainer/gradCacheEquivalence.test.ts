// Proof 2 of the trainer issue: on a tiny encoder with dropout on, every cached loss (and
// MatryoshkaLoss over it) gives the same parameter gradients as its un-cached twin, for mini-batch
// sizes that do and do not divide the batch — on the backends the trainer ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../../src/trainer/model/encoder';
import { resolveLoss } from '../../src/config/lossConfig';
import { createLoss } from '../../src/trainer/losses/registry';
import type { LossConfig } from '../../src/protocol/runConfig';
import { lossAndGradsCached, lossAndGradsPlain, type LossExtras, type RowEmbedder } from '../../src/trainer/loop/gradCache';
import type { EmbeddingLoss } from '../../src/trainer/losses/types';
import { encoderRows, disposeBatch } from '../../src/trainer/loop/textBatch';
import type { TokenBatch } from '../../src/trainer/model/types';
import { Rng } from '../../src/common/random';

const SPEC: EncoderSpec = {
  vocabSize: 40,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 32,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling: 'mean',
  layerNorm: 'post',
  hiddenDropout: 0.2,
  attentionDropout: 0.2,
};

/** Rows with different lengths, so padding and the attention mask take part. */
function tokens(rows: number, len: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  const ids = new Int32Array(rows * len);
  const mask = new Float32Array(rows * len);
  for (let r = 0; r < rows; r++) {
    const real = 3 + rng.int(len - 2);
    for (let t = 0; t < real; t++) {
      ids[r * len + t] = t === 0 ? 2 : 5 + rng.int(SPEC.vocabSize - 5);
      mask[r * len + t] = 1;
    }
  }
  return { inputIds: tf.tensor2d(ids, [rows, len], 'int32'), attentionMask: tf.tensor2d(mask, [rows, len]) };
}

const mnrl = { type: 'MultipleNegativesRankingLoss', scale: 20 } as const;
const gist = {
  guide: 'self',
  temperature: 0.05,
  marginStrategy: 'absolute',
  margin: 0.05,
  contrastAnchors: true,
  contrastPositives: true,
} as const;
const matry = (loss: unknown, weights: number[] | null, nDimsPerStep = -1) =>
  ({ type: 'MatryoshkaLoss', loss, matryoshkaDims: [16, 8, 4], matryoshkaWeights: weights, nDimsPerStep }) as unknown as LossConfig;

const CASES: Array<{ name: string; config: LossConfig; columns: number; labels?: boolean; guide?: boolean }> = [
  { name: 'CMNRL pairs', config: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 }, columns: 2 },
  { name: 'CMNRL 2 negatives', config: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 }, columns: 4 },
  { name: 'CMNSRL triplets', config: { type: 'CachedMultipleNegativesSymmetricRankingLoss', scale: 20, miniBatchSize: 4 }, columns: 3 },
  { name: 'CGIST triplets', config: { type: 'CachedGISTEmbedLoss', ...gist, miniBatchSize: 4 }, columns: 3, guide: true },
  {
    name: 'Matryoshka(CMNRL)',
    config: matry({ type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 }, [1, 0.5, 0.25]),
    columns: 3,
  },
  {
    name: 'Matryoshka(CMNSRL)',
    config: matry({ type: 'CachedMultipleNegativesSymmetricRankingLoss', scale: 20, miniBatchSize: 4 }, null),
    columns: 2,
  },
  {
    name: 'Matryoshka(CGIST)',
    config: matry({ type: 'CachedGISTEmbedLoss', ...gist, miniBatchSize: 4 }, [1, 0.5, 0.25]),
    columns: 3,
    guide: true,
  },
  {
    name: 'Matryoshka(CMNRL), nDimsPerStep 2',
    config: matry({ type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 }, [1, 0.5, 0.25], 2),
    columns: 2,
  },
  { name: 'Matryoshka(CoSENT) via GradCache', config: matry({ type: 'CoSENTLoss', scale: 20 }, null), columns: 2, labels: true },
  {
    name: 'weighted sum CMNRL + Matryoshka(MNRL)',
    config: [
      { weight: 1, loss: { type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 } },
      { weight: 0.5, loss: matry(mnrl, null) as never },
    ],
    columns: 2,
  },
];

const B = 6; // rows = columns·B: mini-batches 4 and 5 leave a ragged last chunk, 3 and 6 do not

for (const backend of ['cpu', 'wasm'] as const) {
  test(`cached losses give the un-cached parameter gradients, dropout on (${backend})`, async () => {
    await initBackend(backend);
    const encoder = new BertEncoder(SPEC, { seed: 11 });
    const guideEncoder = new BertEncoder({ ...SPEC, hiddenSize: 12, intermediateSize: 24 }, { seed: 12 });
    const before = tf.memory().numTensors;
    let compared = 0;
    for (const c of CASES) {
      const batch = tokens(c.columns * B, 10, compared + 1);
      const extras: LossExtras = {};
      if (c.labels) extras.labels = tf.tensor1d([0.1, 0.9, 0.5, 0.5, 0.3, 0.7]);
      if (c.guide) {
        const g = tf.tidy(() => guideEncoder.encode(batch));
        extras.guide = tf.split(g, c.columns, 0) as tf.Tensor2D[];
        g.dispose();
      }
      for (const mbs of [3, 4, 5, B * c.columns]) {
        // Same loss seed on both sides: nDimsPerStep must pick the same dims for the twins.
        const plainLoss = createLoss(resolveLoss(c.config, { embeddingDim: 16 }), 5);
        const cachedLoss = createLoss(resolveLoss(c.config, { embeddingDim: 16 }), 5);
        const rows = encoderRows(encoder, batch, 1234);
        const plain = lossAndGradsPlain(rows, c.columns, B, plainLoss, extras);
        const cached = lossAndGradsCached(rows, c.columns, B, cachedLoss, extras, mbs);
        assert.ok(
          Math.abs(plain.loss - cached.loss) <= 1e-5 * Math.max(1, Math.abs(plain.loss)),
          `${c.name} mb=${mbs}: loss ${plain.loss} vs ${cached.loss}`,
        );
        assert.deepEqual(Object.keys(cached.sideValues).sort(), Object.keys(plain.sideValues).sort());
        assert.equal(cached.grads.size, plain.grads.size, `${c.name}: same set of parameters reached`);
        assert.ok(plain.grads.size >= encoder.variables.length - 2, `${c.name}: gradients reach the whole encoder`);
        let worst = 0;
        let largest = 0;
        for (const [v, g] of plain.grads) {
          const h = cached.grads.get(v);
          assert.ok(h, `${c.name}: cached path lost the gradient of ${v.name}`);
          const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, h))).dataSync()[0]);
          largest = Math.max(
            largest,
            tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
          );
          worst = Math.max(worst, diff);
        }
        if (process.env.MRL_DEBUG) process.stderr.write(`DBG ${c.name} ${mbs} ${worst} ${largest}\n`);
        // 1e-5 absolute where gradients are O(1); relative to the largest entry where they are larger
        // (CoSENT's sum over pairs reaches ~600 here), since float32 rounds both sums at ~1e-7 relative.
        assert.ok(
          worst <= 1e-5 * Math.max(1, largest),
          `${c.name} mb=${mbs} (${backend}): max |Δgrad| = ${worst}, max |grad| = ${largest}`,
        );
        assert.ok(largest > 1e-3, `${c.name}: gradients are not trivially zero`);
        for (const g of [...plain.grads.values(), ...cached.grads.values()]) g.dispose();
        compared++;
      }
      disposeBatch(batch);
      extras.labels?.dispose();
      extras.guide?.forEach((t) => t.dispose());
    }
    assert.equal(compared, CASES.length * 4);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks across plain and cached steps');
    encoder.dispose();
    guideEncoder.dispose();
  });
}

// The last chunk is embedded once, under the same tape as the loss, and the cache for the other chunks
// comes out of that same loss evaluation: one, two (even and uneven, down to a one-row last chunk) and
// three chunks must all give the plain loss, per-dim losses and gradients, with the loss computed once.
for (const backend of ['cpu', 'wasm'] as const) {
  test(`the last chunk's single forward gives the plain step for 1, 2 and 3 chunks (${backend})`, async () => {
    await initBackend(backend);
    const encoder = new BertEncoder(SPEC, { seed: 21 });
    const batch = tokens(2 * B, 10, 77);
    const config = matry({ type: 'CachedMultipleNegativesRankingLoss', scale: 20, miniBatchSize: 4 }, [1, 0.5, 0.25]);
    const before = tf.memory().numTensors;
    // rows = 12: mb 12 → one chunk; 6 → 6 + 6; 7 → 7 + 5; 11 → 11 + 1; 5 → 5 + 5 + 2; 4 → 4 + 4 + 4.
    for (const mbs of [12, 6, 7, 11, 5, 4]) {
      const plain = lossAndGradsPlain(encoderRows(encoder, batch, 99), 2, B, createLoss(resolveLoss(config, { embeddingDim: 16 }), 3));
      const inner = createLoss(resolveLoss(config, { embeddingDim: 16 }), 3);
      let computed = 0;
      const counted: EmbeddingLoss = {
        name: inner.name,
        miniBatchSize: inner.miniBatchSize,
        needsGuide: inner.needsGuide,
        needsLabels: inner.needsLabels,
        columnRange: inner.columnRange,
        compute: (inputs, sink) => (computed++, inner.compute(inputs, sink)),
      };
      const rows = encoderRows(encoder, batch, 99);
      let embedded = 0;
      const counting: RowEmbedder = {
        variables: rows.variables,
        embed: (s, e, training) => ((embedded += e - s), rows.embed(s, e, training)),
      };
      const cached = lossAndGradsCached(counting, 2, B, counted, {}, mbs);
      const last = 2 * B - Math.floor((2 * B - 1) / mbs) * mbs;
      assert.equal(computed, 1, `mb=${mbs}: the loss is evaluated once per step`);
      assert.equal(embedded, 2 * (2 * B) - last, `mb=${mbs}: every chunk but the last is embedded twice, the last (${last} rows) once`);
      assert.ok(
        Math.abs(plain.loss - cached.loss) <= 1e-5 * Math.max(1, Math.abs(plain.loss)),
        `mb=${mbs}: loss ${plain.loss} vs ${cached.loss}`,
      );
      assert.deepEqual(Object.keys(cached.sideValues).sort(), ['16', '4', '8']);
      for (const k of Object.keys(plain.sideValues)) {
        assert.ok(
          Math.abs(plain.sideValues[k] - cached.sideValues[k]) <= 1e-5,
          `mb=${mbs}: per-dim loss ${k}: ${plain.sideValues[k]} vs ${cached.sideValues[k]}`,
        );
      }
      assert.equal(cached.grads.size, plain.grads.size);
      let worst = 0;
      let largest = 0;
      for (const [v, g] of plain.grads) {
        const h = cached.grads.get(v);
        assert.ok(h, `mb=${mbs}: no gradient for ${v.name}`);
        worst = Math.max(
          worst,
          tf.tidy(() => tf.max(tf.abs(tf.sub(g, h))).dataSync()[0]),
        );
        largest = Math.max(
          largest,
          tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
        );
      }
      assert.ok(largest > 1e-3, 'gradients are not trivially zero');
      assert.ok(worst <= 1e-5 * Math.max(1, largest), `mb=${mbs} (${backend}): max |Δgrad| = ${worst}, max |grad| = ${largest}`);
      for (const g of [...plain.grads.values(), ...cached.grads.values()]) g.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    disposeBatch(batch);
    encoder.dispose();
  });
}

test('dropout really is on: two dropout seeds give different gradients', async () => {
  await initBackend('cpu');
  const encoder = new BertEncoder(SPEC, { seed: 11 });
  const batch = tokens(2 * B, 10, 99);
  const loss = createLoss(resolveLoss(mnrl as LossConfig, { embeddingDim: 16 }), 0);
  const a = lossAndGradsPlain(encoderRows(encoder, batch, 1), 2, B, loss);
  const b = lossAndGradsPlain(encoderRows(encoder, batch, 2), 2, B, loss);
  assert.notEqual(a.loss, b.loss);
  for (const g of [...a.grads.values(), ...b.grads.values()]) g.dispose();
  disposeBatch(batch);
  encoder.dispose();
});

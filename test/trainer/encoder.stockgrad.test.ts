// The gradient overrides must be exact replacements of tfjs' stock gradients. tfjs' gradient registry
// is global, so this file (its own process under node --test) computes the encoder's gradients on cpu
// with the stock gradients FIRST, then installs the overrides and computes them again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fastGradientsInstalled, installFastGradients } from '../../src/trainer/runtime/kernels';
import { BertEncoder, type EncoderSpec } from '../../src/trainer/model/encoder';

const spec = (layerNorm: 'post' | 'pre', pooling: 'mean' | 'cls'): EncoderSpec => ({
  vocabSize: 50,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 32,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  pooling,
  layerNorm,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  outputDim: 12,
});
const VARIANTS = [
  ['post', 'mean'],
  ['pre', 'cls'],
] as const;

function gradients(s: EncoderSpec): Map<string, Float32Array> {
  const enc = new BertEncoder(s, { seed: 5 });
  const N = 4;
  const L = 7;
  const lens = [7, 3, 5, 1];
  const ids = new Int32Array(N * L);
  const mask = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    for (let l = 0; l < lens[n]; l++) {
      ids[n * L + l] = 1 + ((n * 17 + l * 5) % 49);
      mask[n * L + l] = 1;
    }
  }
  let out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const batch = { inputIds: tf.tensor2d(ids, [N, L], 'int32'), attentionMask: tf.tensor2d(mask, [N, L]) };
    const r = tf.tensor2d(
      Float32Array.from({ length: N * 12 }, (_, i) => Math.cos(3 * i)),
      [N, 12],
    );
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(enc.encode(batch, { seed: 9, rowIds: Int32Array.from([0, 1, 2, 3]) }), r)) as tf.Scalar,
      enc.variables,
    );
    out = new Map([...enc.params].map(([name, v]) => [name, grads[v.name].dataSync().slice() as Float32Array]));
  });
  enc.dispose();
  return out;
}

test('overridden gradients equal the stock tfjs gradients on cpu', async () => {
  await tf.setBackend('cpu');
  assert.equal(fastGradientsInstalled(), false);
  const stock = VARIANTS.map(([ln, pool]) => gradients(spec(ln, pool)));
  installFastGradients();
  assert.equal(fastGradientsInstalled(), true);
  const fast = VARIANTS.map(([ln, pool]) => gradients(spec(ln, pool)));
  for (let v = 0; v < VARIANTS.length; v++) {
    for (const [name, g] of stock[v]) {
      const h = fast[v].get(name)!;
      let d = 0;
      for (let i = 0; i < g.length; i++) d = Math.max(d, Math.abs(g[i] - h[i]));
      assert.ok(d <= 1e-5, `${VARIANTS[v].join('/')} ${name}: max diff ${d}`);
    }
  }
  // Installing again is a no-op.
  installFastGradients();
});

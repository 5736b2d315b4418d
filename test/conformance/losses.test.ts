// Hand-computed tiny cases for the losses' formulas (values and gradients), and the pitfalls that the
// fixtures only cover indirectly: candidate order, CoSENT's sum and stability, AnglE's |·| at 0 and its
// halves, GIST's strict mask with the protected diagonal.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { MultipleNegativesRankingLoss } from '../../src/trainer/losses/MultipleNegativesRankingLoss';
import { CoSENTLoss } from '../../src/trainer/losses/CoSENTLoss';
import { AnglELoss } from '../../src/trainer/losses/AnglELoss';
import { GISTEmbedLoss } from '../../src/trainer/losses/GISTEmbedLoss';
import { WeightedSumLoss } from '../../src/trainer/losses/weightedSum';
import { pairwiseAngleSim } from '../../src/trainer/losses/similarity';
import type { EmbeddingLoss, LossSink } from '../../src/trainer/losses/types';
import { useCpu, values } from './cpuBackend';

before(useCpu);

const t2 = (rows: number[][]) => tf.tensor2d(rows);
const E = Math.E;

/** Loss value and d loss / d column for each column. */
function lossAndColumnGrads(loss: EmbeddingLoss, cols: number[][][], extra: { labels?: number[]; guide?: number[][][] } = {}) {
  const columns = cols.map(t2);
  const labels = extra.labels ? tf.tensor1d(extra.labels) : undefined;
  const guide = extra.guide?.map(t2);
  const { value, grads } = tf.valueAndGrads((...c: tf.Tensor[]) => loss.compute({ columns: c as tf.Tensor2D[], labels, guide }))(columns);
  return { value: value.dataSync()[0], grads: grads.map((g) => values(g)) };
}

function close(actual: number, expected: number, tol = 1e-6, what = '') {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected}`);
}

function closeAll(actual: number[], expected: number[], tol = 1e-6, what = '') {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => close(v, expected[i], tol, `${what}[${i}]`));
}

test('MNRL, by hand: L = log(1 + e^-1) and the gradients through the normalisation', () => {
  // a = I, p = [[1,0],[0,2]], scale 1: S = I, each row's CE = log(e + 1) − 1.
  const r = lossAndColumnGrads(new MultipleNegativesRankingLoss({ scale: 1 }), [
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [0, 2],
    ],
  ]);
  close(r.value, Math.log(1 + 1 / E));
  // dL/dS01 = softmax weight 1/(e+1), over B = 2 rows; d cos(a0, p1)/da0 = p̂1 = [0, 1].
  const w = 1 / (2 * (E + 1));
  closeAll(r.grads[0], [0, w, w, 0], 1e-6, 'dL/da');
  // dL/dp0 comes from S10 (d cos(a1, p0)/dp0 = â1 = [0, 1]); dL/dp1 from S01:
  // d cos(a0, p1)/dp1 = (â0 − cos·p̂1)/‖p1‖ = [1, 0] / 2. The diagonal terms have zero gradient here.
  closeAll(r.grads[1], [0, w, w / 2, 0], 1e-6, 'dL/dp');
});

test('MNRL candidate order: all positives first, then each negative column', () => {
  // C = [p0, p1, n0, n1]; row 1's label is column 1 (p1), not n0.
  const a = [
    [1, 0],
    [0, 1],
  ];
  const p = [
    [1, 0],
    [1, 0],
  ];
  const n = [
    [0, 1],
    [0, 1],
  ];
  const r = lossAndColumnGrads(new MultipleNegativesRankingLoss({ scale: 1 }), [a, p, n]);
  // Row 0: lse(1, 1, 0, 0) − 1; row 1: lse(0, 0, 1, 1) − 0.
  close(r.value, (2 * Math.log(2 * E + 2) - 1) / 2);
  assert.equal(new MultipleNegativesRankingLoss().scale, 20, 'sentence-transformers default scale');
});

test('CoSENT, by hand: a SUM over ordered pairs, ties contribute nothing', () => {
  // s = [1, 0, 1/√2], labels [0.2, 0.9, 0.2]: ordered pairs (0,1) and (2,1); (0,2) is a tie.
  const a = [
    [1, 0],
    [1, 0],
    [1, 0],
  ];
  const p = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const labels = [0.2, 0.9, 0.2];
  const r2 = Math.SQRT1_2;
  const z = 1 + E + Math.exp(r2);
  const r = lossAndColumnGrads(new CoSENTLoss({ scale: 1 }), [a, p], { labels });
  close(r.value, Math.log(z));
  // dL/ds1 = −(e + e^{1/√2})/z, and d cos(a1, p1)/dp1 = [1, 0].
  const g1 = -(E + Math.exp(r2)) / z;
  close(r.grads[1][2], g1, 1e-6, 'dL/dp1[0]');
  close(r.grads[1][3], 0, 1e-6, 'dL/dp1[1]');
  // Duplicating the batch (4 ordered pairs → 4·3 = … more terms) increases the loss: no mean.
  const twice = lossAndColumnGrads(
    new CoSENTLoss({ scale: 1 }),
    [
      [...a, ...a],
      [...p, ...p],
    ],
    { labels: [...labels, ...labels] },
  );
  assert.ok(twice.value > r.value + 0.1, `${twice.value} vs ${r.value}`);
});

test('CoSENT is stable at large scales (logsumexp over [0, diffs])', () => {
  const a = [
    [1, 0],
    [1, 0],
    [1, 0],
  ];
  const p = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const r = lossAndColumnGrads(new CoSENTLoss({ scale: 1000 }), [a, p], { labels: [0.2, 0.9, 0.2] });
  // log(1 + e^1000 + e^707.1) = 1000 + log(1 + e^-1000 + e^-292.9) ≈ 1000.
  close(r.value, 1000, 1e-3);
  for (const g of r.grads) assert.ok(g.every(Number.isFinite));
});

test('angle similarity: halves, asymmetry, |·| with zero gradient at 0, even dims only', () => {
  // x = [a|b] = [1,0|0,0], y = [c|d] = [1,0|1,0]: Σ(ac+bd) + Σ(bc−ad) = 1 + (0 − 1) = 0.
  const x = t2([[1, 0, 0, 0]]);
  const y = t2([[1, 0, 1, 0]]);
  close(pairwiseAngleSim(x, y).dataSync()[0], 0);
  // Swapped: a=b=[1,0], c=[1,0], d=0: (1 + 1)/(√2·1) = √2.
  close(pairwiseAngleSim(y, x).dataSync()[0], Math.SQRT2, 1e-6);
  // torch's abs has gradient sign(0) = 0 at 0; tf.abs would give −1 there.
  const g = tf.grad((v: tf.Tensor) => tf.sum(pairwiseAngleSim(v as tf.Tensor2D, y)))(x);
  assert.deepEqual(values(g), [0, 0, 0, 0]);
  assert.throws(() => pairwiseAngleSim(t2([[1, 2, 3]]), t2([[1, 2, 3]])), /dim must be even, got 3/);
  assert.throws(() => new AnglELoss().compute({ columns: [t2([[1, 2, 3]]), t2([[3, 2, 1]])], labels: tf.tensor1d([1]) }), /even/);
});

test('GIST mask: strict >, threshold from the guide anchor-positive diagonal, label protected', () => {
  // Guide: t = [cos(ga0, gp0), cos(ga1, gp1)] = [1, 0]; G_01 = 1, G_10 = 0.
  const guide = [
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [1, 0],
    ],
  ];
  const cols = [
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [0, 1],
    ],
  ];
  const opts = { temperature: 1, contrastAnchors: false, contrastPositives: false };
  // margin 0: 1 > 1 and 0 > 0 are both false, nothing is masked: the plain CE of cos(a, p) = I.
  const plain = lossAndColumnGrads(new GISTEmbedLoss({ ...opts, margin: 0 }), cols, { guide });
  close(plain.value, Math.log(1 + 1 / E));
  // margin 0.1: both off-diagonal entries are masked (1 > 0.9, 0 > −0.1); the diagonal 0 > −0.1 too,
  // but it is the label and stays. Each row keeps only its label: loss 0, and no gradient at all.
  const masked = lossAndColumnGrads(new GISTEmbedLoss({ ...opts, margin: 0.1 }), cols, { guide });
  close(masked.value, 0, 1e-7);
  for (const g of masked.grads)
    assert.ok(
      g.every((v) => v === 0),
      `gradient through masked entries: ${g}`,
    );
  // Defaults as in sentence-transformers.
  const d = new GISTEmbedLoss();
  assert.deepEqual([d.temperature, d.marginStrategy, d.margin, d.contrastAnchors, d.contrastPositives], [0.01, 'absolute', 0, true, true]);
  assert.deepEqual(d.columnRange, [2, 3]);
  assert.deepEqual(new GISTEmbedLoss({ miniBatchSize: 4 }).columnRange, [2, Infinity]);
});

test('cached GIST takes any number of negative columns; uncached GIST at most one', () => {
  const rows = (s: number) => [
    [1, s],
    [s, 1],
    [0.5, -s],
  ];
  const cols = [rows(0.1), rows(0.2), rows(0.3), rows(-0.4)];
  const guide = [rows(0.5), rows(0.6), rows(0.7), rows(0.8)].map((m) => m.map((r) => [...r, 0.1]));
  const cached = lossAndColumnGrads(new GISTEmbedLoss({ miniBatchSize: 2, temperature: 0.05 }), cols, { guide });
  assert.ok(Number.isFinite(cached.value));
  assert.throws(() => lossAndColumnGrads(new GISTEmbedLoss({ temperature: 0.05 }), cols, { guide }), /GISTEmbedLoss takes 2 to 3 columns/);
});

test('weighted sum: Σ w_i L_i, side values combined per key', () => {
  const a = [
    [1, 0.2],
    [0.1, 1],
    [0.3, 0.4],
  ];
  const p = [
    [0.9, 0.1],
    [0.2, 1.1],
    [-0.3, 0.5],
  ];
  const m1 = new MultipleNegativesRankingLoss({ scale: 5 });
  const m2 = new MultipleNegativesRankingLoss({ scale: 20, miniBatchSize: 7 });
  const m3 = new MultipleNegativesRankingLoss({ scale: 10, miniBatchSize: 2 });
  const sum = new WeightedSumLoss([
    { weight: 0.5, loss: m1 },
    { weight: 2, loss: m2 },
    { weight: 1, loss: m3 },
  ]);
  assert.equal(sum.miniBatchSize, 2);
  const l = (x: EmbeddingLoss) => lossAndColumnGrads(x, [a, p]);
  const expected = 0.5 * l(m1).value + 2 * l(m2).value + l(m3).value;
  close(l(sum).value, expected, 1e-5);
  // Terms that record the same key are combined with their weights.
  const recorder = (key: string, v: number): EmbeddingLoss => ({
    name: 'Rec',
    needsGuide: false,
    needsLabels: false,
    columnRange: [2, 2],
    compute: (_i, sink?: LossSink) => {
      sink?.record(key, tf.scalar(v));
      return tf.scalar(v);
    },
  });
  const seen: Record<string, number> = {};
  new WeightedSumLoss([
    { weight: 2, loss: recorder('8', 3) },
    { weight: 0.5, loss: recorder('8', 4) },
    { weight: 1, loss: recorder('4', 1) },
  ]).compute(
    { columns: [t2(a), t2(p)] },
    {
      record: (k, v) => {
        seen[k] = v.dataSync()[0];
      },
    },
  );
  assert.deepEqual(seen, { '8': 8, '4': 1 });
});

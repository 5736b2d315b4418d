// The runner on a fixture directory of another shape than the shared one (B = 3, D = 6, guide dim 5,
// TWO negative columns, odd Matryoshka dims), whose expected values come from an independent float64
// reference written with plain loops here, and gradients by central finite differences. It checks that
// nothing in the runner depends on the shared fixtures' names or shapes, and covers CachedGISTEmbedLoss
// and (Cached)MNRL with several negative columns, which the shared set has no fixture for.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '../../src/trainer/conformance/conformance';
import { useCpu } from './cpuBackend';

before(useCpu);

type M = number[][];
const B = 3;
const D = 6;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Multiples of 1/64 in [-2, 2): exactly representable in float32.
    return Math.floor((s / 2 ** 32) * 256) / 64 - 2;
  };
}
const randMatrix = (rng: () => number, rows: number, cols: number): M =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng() || 0.5));

const dot = (x: number[], y: number[]) => x.reduce((s, v, k) => s + v * y[k], 0);
const norm = (x: number[]) => Math.sqrt(dot(x, x));
const cos = (x: number[], y: number[], eps: number) => dot(x, y) / (Math.max(norm(x), eps) * Math.max(norm(y), eps));
const lse = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** MNRL: anchors against [p, n_1, n_2…] (positives first); mean CE. */
function refMnrl(cols: M[], scale: number): number {
  const [a, ...cands] = cols;
  const c = cands.flat();
  return a.reduce((s, ai, i) => s + lse(c.map((cj) => scale * cos(ai, cj, 1e-12))) - scale * cos(ai, c[i], 1e-12), 0) / a.length;
}

interface GistArgs {
  temperature: number;
  margin_strategy: 'absolute' | 'relative';
  margin: number;
  contrast_anchors: boolean;
  contrast_positives: boolean;
}

/** GIST with any number of negative columns; masked candidates are dropped, the label never is. */
function refGist(cols: M[], guide: M[], o: GistArgs): number {
  const [a, p, ...negs] = cols;
  const [ga, gp, ...gnegs] = guide;
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const t = cos(ga[i], gp[i], 1e-8);
    const limit = o.margin_strategy === 'absolute' ? t - o.margin : t * (1 - o.margin);
    const kept: number[] = [];
    const block = (x: number[], ys: M, gx: number[], gys: M, protect: number) =>
      ys.forEach((y, j) => {
        if (j === protect || !(cos(gx, gys[j], 1e-8) > limit)) kept.push(cos(x, y, 1e-8) / o.temperature);
      });
    block(a[i], p, ga[i], gp, i);
    const label = cos(a[i], p[i], 1e-8) / o.temperature;
    if (o.contrast_anchors) block(a[i], a, ga[i], ga, -1);
    if (o.contrast_positives) block(p[i], p, gp[i], gp, -1);
    negs.forEach((n, k) => block(a[i], n, ga[i], gnegs[k], -1));
    total += lse(kept) - label;
  }
  return total / a.length;
}

/** Σ_d w_d · inner(normalize(x[:, :d])). */
function refMatryoshka(inner: (cols: M[]) => number, dims: number[], weights: number[]) {
  return (cols: M[]) =>
    dims.reduce(
      (s, d, k) =>
        s + weights[k] * inner(cols.map((m) => m.map((r) => r.slice(0, d).map((v) => v / Math.max(norm(r.slice(0, d)), 1e-12))))),
      0,
    );
}

/** d f / d cols by central differences (float64; f is smooth in the inputs, masks depend on the guide only). */
function numericGrad(f: (cols: M[]) => number, cols: M[]): M[] {
  const h = 1e-6;
  return cols.map((m, c) =>
    m.map((row, i) =>
      row.map((_, k) => {
        const bump = (delta: number) =>
          cols.map((mm, cc) => mm.map((rr, ii) => rr.map((v, kk) => (cc === c && ii === i && kk === k ? v + delta : v))));
        return (f(bump(h)) - f(bump(-h))) / (2 * h);
      }),
    ),
  );
}

const NAMES = ['anchor', 'positive', 'negative_1', 'negative_2'];

function fixture(name: string, loss: object, matryoshka: object | null, cols: M[], guide: M[] | null, f: (cols: M[]) => number) {
  const names = NAMES.slice(0, cols.length);
  const obj = (ms: M[]) => Object.fromEntries(names.map((n, c) => [n, ms[c]]));
  return {
    name,
    loss,
    matryoshka,
    inputs: obj(cols),
    guide: guide ? obj(guide) : null,
    labels: null,
    expected: { loss: f(cols), grad: obj(numericGrad(f, cols)) },
  };
}

test('the runner passes a generated fixture set of another shape, with two negative columns', () => {
  const rng = lcg(2024);
  const cols = [0, 1, 2, 3].map(() => randMatrix(rng, B, D));
  // A guide correlated with the model's columns so that some, not all, candidates get masked.
  const guide = cols.map((m) => m.map((r) => [r[0] + r[1], r[2], r[3] - r[0], r[4], r[5] + 0.25]));
  const gist: GistArgs = { temperature: 0.05, margin_strategy: 'relative', margin: 0.1, contrast_anchors: true, contrast_positives: false };
  const gistFn = (c: M[]) => refGist(c, guide, gist);
  const dims = [5, 2, 6];
  const weights = [0.5, 2, 1];
  const files = {
    'gen_mnrl_2neg.json': fixture('gen_mnrl_2neg', { type: 'MultipleNegativesRankingLoss', scale: 7 }, null, cols, null, (c) =>
      refMnrl(c, 7),
    ),
    'gen_cmnrl_2neg_mb2.json': fixture(
      'gen_cmnrl_2neg_mb2',
      { type: 'CachedMultipleNegativesRankingLoss', mini_batch_size: 2 },
      null,
      cols,
      null,
      (c) => refMnrl(c, 20),
    ),
    'gen_cgist_2neg_mb4.json': fixture(
      'gen_cgist_2neg_mb4',
      { type: 'CachedGISTEmbedLoss', mini_batch_size: 4, ...gist },
      null,
      cols,
      guide,
      gistFn,
    ),
    'gen_cgist_pairs_defaults.json': fixture(
      'gen_cgist_pairs_defaults',
      { type: 'CachedGISTEmbedLoss' },
      null,
      cols.slice(0, 2),
      guide.slice(0, 2),
      (c) =>
        refGist(c, guide.slice(0, 2), {
          temperature: 0.01,
          margin_strategy: 'absolute',
          margin: 0,
          contrast_anchors: true,
          contrast_positives: true,
        }),
    ),
    'gen_matry_cgist_2neg_mb1.json': fixture(
      'gen_matry_cgist_2neg_mb1',
      { type: 'CachedGISTEmbedLoss', mini_batch_size: 1, ...gist },
      { dims, weights, n_dims_per_step: -1 },
      cols,
      guide,
      refMatryoshka(gistFn, dims, weights),
    ),
  };
  // The masks really differ between candidates (otherwise GIST would be untested here).
  const guideAp = guide[0].map((g) => guide[1].map((h) => cos(g, h, 1e-8)));
  const masked = guideAp.flatMap((row, i) => row.filter((v, j) => j !== i && v > guideAp[i][i] * 0.9)).length;
  assert.ok(masked > 0 && masked < B * (B - 1), `masked ${masked} ap entries`);

  const dir = mkdtempSync(join(tmpdir(), 'mrl-generated-'));
  try {
    for (const [n, fx] of Object.entries(files)) writeFileSync(join(dir, n), JSON.stringify(fx));
    const lines: string[] = [];
    const summary = runConformance(dir, (l) => lines.push(l));
    assert.equal(lines.at(-1), `${Object.keys(files).length} passed, 0 failed`, lines.join('\n'));
    assert.equal(summary.failed, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

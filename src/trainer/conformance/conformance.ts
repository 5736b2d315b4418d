/**
 * Loss conformance against sentence-transformers reference fixtures (format: docs/losses.md#fixture-format).
 *
 * For each `*.json` fixture in a directory: turn the fixture's ST arguments into a run-config loss
 * (lossConfigFromFixture, below), check and resolve it as the config layer does (resolveLoss), build it
 * through the registry, run it through the trainer's real gradient path (gradCache.ts `lossAndGrads`:
 * GradCache for Cached* losses, plain otherwise) with an identity encoder — one variable holding the stacked input
 * columns, so d loss / d variable split back into columns is d loss / d embeddings — in float32, and
 * compare with `expected`:
 *   loss:  |got − want| ≤ 1e-5 + 1e-4 · |want|
 *   grads: |got − want| ≤ 1e-4 + 1e-3 · |want|   elementwise, every column
 * Nothing here knows fixture names or shapes: any directory in that format works.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs union package does this import).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lossAndGrads, type RowEmbedder } from '../loop/gradCache';
import { createLoss } from '../losses/registry';
import { COSENT_DEFAULT_SCALE } from '../losses/CoSENTLoss';
import { GIST_DEFAULTS } from '../losses/GISTEmbedLoss';
import { MNRL_DEFAULT_SCALE } from '../losses/MultipleNegativesRankingLoss';
import { DEFAULT_MINI_BATCH_SIZE } from '../../config/defaults';
import { BASE_LOSS_TYPES, LossConfigError, describeValue, dottedPath, lossTypeProblem, resolveLoss } from '../../config/lossConfig';
import type { BaseLossConfig, GistParams, SingleLossConfig } from '../../protocol/runConfig';

export const TOLERANCES = {
  loss: { rtol: 1e-4, atol: 1e-5 },
  grad: { rtol: 1e-3, atol: 1e-4 },
} as const;

/** A fixture that cannot be run as written (bad JSON, missing or misshapen fields, unknown loss). */
export class FixtureError extends Error {
  override name = 'FixtureError';
}

export interface Fixture {
  name: string;
  config: SingleLossConfig;
  /** Input column names in loss order (anchor, positive, then the negatives in file order). */
  columnNames: string[];
  batchSize: number;
  dim: number;
  inputs: number[][][];
  guide?: number[][][];
  labels?: number[];
  expected: { loss: number; grad: number[][][] };
}

export interface FixtureResult {
  file: string;
  name: string;
  passed: boolean;
  /** Set when the fixture could not be run at all. */
  error?: string;
  loss?: number;
  expectedLoss?: number;
  lossAbsErr?: number;
  gradAbsErr?: number;
  /** Largest (|err| − tolerance) over the loss and the grads; > 0 = out of tolerance. */
  worstExcess?: number;
}

// ------------------------------------------------------------------ parsing

function matrix(v: unknown, what: string, rows?: number, cols?: number): number[][] {
  if (!Array.isArray(v) || v.length === 0) throw new FixtureError(`${what}: expected a non-empty 2-D array of numbers`);
  const width = cols ?? (Array.isArray(v[0]) ? v[0].length : -1);
  if (rows !== undefined && v.length !== rows) throw new FixtureError(`${what}: expected ${rows} rows, got ${v.length}`);
  v.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== width || width < 1) {
      throw new FixtureError(`${what}[${i}]: expected a row of ${width < 1 ? 'one or more' : width} numbers`);
    }
    row.forEach((x: unknown, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw new FixtureError(`${what}[${i}][${j}]: expected a finite number, got ${JSON.stringify(x)}`);
    });
  });
  return v as number[][];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a parsed fixture JSON. Throws FixtureError (or LossConfigError for the loss arguments). */
export function parseFixture(json: unknown, fallbackName: string): Fixture {
  if (!isObject(json)) throw new FixtureError('expected a JSON object');
  const name = typeof json.name === 'string' ? json.name : fallbackName;
  const config = lossConfigFromFixture(json.loss, json.matryoshka);

  if (!isObject(json.inputs)) throw new FixtureError('inputs: expected an object of columns {anchor, positive[, negative…]}');
  const keys = Object.keys(json.inputs);
  // anchor and positive lead when present; other columns (the negatives) follow in file order.
  const columnNames = [
    ...['anchor', 'positive'].filter((k) => keys.includes(k)),
    ...keys.filter((k) => k !== 'anchor' && k !== 'positive'),
  ];
  if (columnNames.length < 2) throw new FixtureError(`inputs: expected at least two columns, got ${JSON.stringify(keys)}`);
  const first = matrix(json.inputs[columnNames[0]], `inputs.${columnNames[0]}`);
  const batchSize = first.length;
  const dim = first[0].length;
  const inputs = columnNames.map((k) => matrix((json.inputs as Record<string, unknown>)[k], `inputs.${k}`, batchSize, dim));

  let guide: number[][][] | undefined;
  if (json.guide !== null && json.guide !== undefined) {
    if (!isObject(json.guide)) throw new FixtureError('guide: expected null or an object of columns');
    const g = json.guide;
    const gFirst = matrix(g[columnNames[0]], `guide.${columnNames[0]}`, batchSize);
    guide = columnNames.map((k) => matrix(g[k], `guide.${k}`, batchSize, gFirst[0].length));
  }

  let labels: number[] | undefined;
  if (json.labels !== null && json.labels !== undefined) {
    const l = json.labels;
    if (!Array.isArray(l) || l.length !== batchSize || !l.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new FixtureError(`labels: expected null or ${batchSize} finite numbers`);
    }
    labels = l as number[];
  }

  const exp = json.expected;
  if (!isObject(exp) || typeof exp.loss !== 'number' || !Number.isFinite(exp.loss)) {
    throw new FixtureError('expected.loss: expected a finite number');
  }
  if (!isObject(exp.grad)) throw new FixtureError('expected.grad: expected an object with one gradient per input column');
  const expGrad = exp.grad;
  const gradKeys = Object.keys(expGrad).filter((k) => !columnNames.includes(k));
  if (gradKeys.length) throw new FixtureError(`expected.grad: columns ${JSON.stringify(gradKeys)} are not in inputs`);
  const grad = columnNames.map((k) => matrix(expGrad[k], `expected.grad.${k}`, batchSize, dim));

  return { name, config, columnNames, batchSize, dim, inputs, guide, labels, expected: { loss: exp.loss, grad } };
}

// ------------------------------------------------------------------ fixture loss arguments (sentence-transformers) → LossConfig

/** The guide name a fixture-built GIST config carries: fixtures supply the guide embeddings directly. */
export const FIXTURE_GUIDE = 'fixture';

/**
 * A fixture's `loss` (ST class name + snake_case ST constructor arguments; absent = ST default) and
 * `matryoshka` ({dims, weights, n_dims_per_step} or null) as a LossConfig. Throws LossConfigError with
 * paths inside the fixture (`loss.mini_batch_size`, `matryoshka.dims`).
 */
export function lossConfigFromFixture(loss: unknown, matryoshka: unknown): SingleLossConfig {
  if (!isObject(loss)) throw new LossConfigError('loss', `expected an object with a "type", got ${describeValue(loss)}`);
  const typeProblem = lossTypeProblem(loss, BASE_LOSS_TYPES);
  if (typeProblem) throw new LossConfigError(dottedPath('loss', typeProblem.path), typeProblem.message);
  const type = loss.type as BaseLossConfig['type'];
  // As ST's constructors do, an argument the class does not take is an error (not silently ignored).
  const accepted = ST_ARGUMENTS_BY_TYPE[type];
  for (const key of Object.keys(loss)) {
    if (key === 'type' || accepted.includes(key) || IGNORED_ST_ARGUMENTS.includes(key)) continue;
    throw new LossConfigError(`loss.${key}`, `not an argument of ${type}; expected some of: ${accepted.join(', ')}`);
  }
  if (loss.gather_across_devices !== undefined && loss.gather_across_devices !== false) {
    throw new LossConfigError(
      'loss.gather_across_devices',
      `only false is supported (one device), got ${describeValue(loss.gather_across_devices)}`,
    );
  }
  const arg = <T>(key: keyof typeof ST_ARGUMENTS, fallback: T): T => (loss[key] === undefined ? fallback : (loss[key] as T));
  const miniBatchSize = arg('mini_batch_size', DEFAULT_MINI_BATCH_SIZE);
  const gist: GistParams = {
    guide: FIXTURE_GUIDE,
    temperature: arg('temperature', GIST_DEFAULTS.temperature),
    marginStrategy: arg('margin_strategy', GIST_DEFAULTS.marginStrategy),
    margin: arg('margin', GIST_DEFAULTS.margin),
    contrastAnchors: arg('contrast_anchors', GIST_DEFAULTS.contrastAnchors),
    contrastPositives: arg('contrast_positives', GIST_DEFAULTS.contrastPositives),
  };
  let base: BaseLossConfig;
  switch (type) {
    case 'MultipleNegativesRankingLoss':
    case 'MultipleNegativesSymmetricRankingLoss':
      base = { type, scale: arg('scale', MNRL_DEFAULT_SCALE) };
      break;
    case 'CachedMultipleNegativesRankingLoss':
    case 'CachedMultipleNegativesSymmetricRankingLoss':
      base = { type, scale: arg('scale', MNRL_DEFAULT_SCALE), miniBatchSize };
      break;
    case 'GISTEmbedLoss':
      base = { type, ...gist };
      break;
    case 'CachedGISTEmbedLoss':
      base = { type, ...gist, miniBatchSize };
      break;
    case 'CoSENTLoss':
    case 'AnglELoss':
      base = { type, scale: arg('scale', COSENT_DEFAULT_SCALE) };
      break;
  }
  if (matryoshka === null || matryoshka === undefined) return base;
  if (!isObject(matryoshka)) {
    throw new LossConfigError('matryoshka', `expected null or {dims, weights, n_dims_per_step}, got ${describeValue(matryoshka)}`);
  }
  return {
    type: 'MatryoshkaLoss',
    loss: base,
    matryoshkaDims: matryoshka.dims as number[],
    matryoshkaWeights: (matryoshka.weights ?? null) as number[] | null,
    nDimsPerStep: (matryoshka.n_dims_per_step ?? -1) as number,
  };
}

const MNRL_ARGS = ['scale'];
const GIST_ARGS = ['temperature', 'margin_strategy', 'margin', 'contrast_anchors', 'contrast_positives'];
/** The ST constructor arguments each class takes (beyond model / guide / similarity_fct). */
const ST_ARGUMENTS_BY_TYPE: Record<BaseLossConfig['type'], string[]> = {
  MultipleNegativesRankingLoss: MNRL_ARGS,
  CachedMultipleNegativesRankingLoss: [...MNRL_ARGS, 'mini_batch_size'],
  MultipleNegativesSymmetricRankingLoss: MNRL_ARGS,
  CachedMultipleNegativesSymmetricRankingLoss: [...MNRL_ARGS, 'mini_batch_size'],
  GISTEmbedLoss: GIST_ARGS,
  CachedGISTEmbedLoss: [...GIST_ARGS, 'mini_batch_size'],
  CoSENTLoss: ['scale'],
  AnglELoss: ['scale'],
};
/** Arguments with no effect here: the progress bar, and gathering (checked to be false: one device). */
const IGNORED_ST_ARGUMENTS = ['show_progress_bar', 'gather_across_devices'];

/** ST constructor argument names the fixtures may carry, and their config names (for the path in errors). */
const ST_ARGUMENTS = {
  scale: 'scale',
  mini_batch_size: 'miniBatchSize',
  temperature: 'temperature',
  margin_strategy: 'marginStrategy',
  margin: 'margin',
  contrast_anchors: 'contrastAnchors',
  contrast_positives: 'contrastPositives',
} as const;

/**
 * Rewrites a LossConfigError from resolveLoss on a fixture-built config to the fixture's own JSON path
 * (`loss.miniBatchSize` → `loss.mini_batch_size`, `loss.matryoshkaDims[1]` → `matryoshka.dims[1]`).
 */
export function fixturePath(configPath: string): string {
  const inv: Record<string, string> = Object.fromEntries(Object.entries(ST_ARGUMENTS).map(([st, ours]) => [ours, st]));
  return configPath
    .replace(/^loss\.loss\./, 'loss.')
    .replace(/^loss\.matryoshkaDims/, 'matryoshka.dims')
    .replace(/^loss\.matryoshkaWeights/, 'matryoshka.weights')
    .replace(/^loss\.nDimsPerStep/, 'matryoshka.n_dims_per_step')
    .replace(/^loss\.(\w+)/, (m, key: string) => (inv[key] ? `loss.${inv[key]}` : m));
}

// ------------------------------------------------------------------ running

/** An encoder whose "parameters" are the embeddings themselves: rows of the stacked columns. */
export function identityEmbedder(stacked: tf.Variable<tf.Rank.R2>): RowEmbedder {
  return {
    variables: [stacked],
    embed: (start, end) => tf.slice(stacked, [start, 0], [end - start, stacked.shape[1]]),
  };
}

export interface LossAndInputGrads {
  loss: number;
  /** d loss / d column, per column. */
  grads: number[][][];
  sideValues: Record<string, number>;
}

/**
 * Runs a fixture's loss through gradCache.lossAndGrads with the identity encoder (float32).
 * `seed` seeds the Matryoshka dim sampling (fixtures use every dim, so it does not matter for them).
 */
export function computeFixture(fx: Fixture, seed = 0): LossAndInputGrads {
  let resolved;
  try {
    resolved = resolveLoss(fx.config, { embeddingDim: fx.dim });
  } catch (e) {
    if (e instanceof LossConfigError) throw new LossConfigError(fixturePath(e.path), e.message.slice(e.path.length + 2));
    throw e;
  }
  const loss = createLoss(resolved, seed);
  const [lo, hi] = loss.columnRange;
  const nCols = fx.inputs.length;
  if (nCols < lo || nCols > hi) throw new FixtureError(`${loss.name} takes ${lo} to ${hi} input columns, the fixture has ${nCols}`);
  if (loss.needsGuide && !fx.guide) throw new FixtureError(`${loss.name} needs guide embeddings; the fixture has none`);
  if (loss.needsLabels && !fx.labels) throw new FixtureError(`${loss.name} needs labels; the fixture has none`);

  const B = fx.batchSize;
  const variable = tf.variable(tf.tensor2d(fx.inputs.flat(), [nCols * B, fx.dim], 'float32'), true);
  const labels = fx.labels ? tf.tensor1d(fx.labels, 'float32') : undefined;
  const guide = loss.needsGuide && fx.guide ? fx.guide.map((g) => tf.tensor2d(g, undefined, 'float32')) : undefined;
  try {
    const step = lossAndGrads(identityEmbedder(variable), nCols, B, loss, { labels, guide });
    const g = step.grads.get(variable);
    const flat = g ? Array.from(g.dataSync()) : new Array<number>(nCols * B * fx.dim).fill(0);
    for (const t of step.grads.values()) t.dispose();
    const grads = fx.inputs.map((_, c) => Array.from({ length: B }, (_, i) => flat.slice((c * B + i) * fx.dim, (c * B + i + 1) * fx.dim)));
    return { loss: step.loss, grads, sideValues: step.sideValues };
  } finally {
    variable.dispose();
    labels?.dispose();
    guide?.forEach((t) => t.dispose());
  }
}

/** Compares a computed result with the fixture's expected values under TOLERANCES. */
export function compareFixture(fx: Fixture, got: LossAndInputGrads): Omit<FixtureResult, 'file'> {
  const { loss: lt, grad: gt } = TOLERANCES;
  const lossAbsErr = Math.abs(got.loss - fx.expected.loss);
  let worstExcess = lossAbsErr - (lt.atol + lt.rtol * Math.abs(fx.expected.loss));
  if (!Number.isFinite(got.loss)) worstExcess = Infinity;
  let gradAbsErr = 0;
  fx.expected.grad.forEach((col, c) =>
    col.forEach((row, i) =>
      row.forEach((want, j) => {
        const v = got.grads[c][i][j];
        const err = Number.isFinite(v) ? Math.abs(v - want) : Infinity;
        gradAbsErr = Math.max(gradAbsErr, err);
        worstExcess = Math.max(worstExcess, err - (gt.atol + gt.rtol * Math.abs(want)));
      }),
    ),
  );
  return { name: fx.name, passed: worstExcess <= 0, loss: got.loss, expectedLoss: fx.expected.loss, lossAbsErr, gradAbsErr, worstExcess };
}

/** Loads, runs and compares one fixture file; never throws (problems become a failed result with `error`). */
export function runFixtureFile(file: string, seed = 0): FixtureResult {
  const fallback = basename(file).replace(/\.json$/, '');
  let fx: Fixture;
  try {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new FixtureError(`not valid JSON (${(e as Error).message})`);
    }
    fx = parseFixture(json, fallback);
    const got = computeFixture(fx, seed);
    return { file, ...compareFixture(fx, got) };
  } catch (e) {
    const err = e as Error;
    const known = err instanceof FixtureError || err instanceof LossConfigError;
    return { file, name: fallback, passed: false, error: known ? err.message : `${err.name}: ${err.message}` };
  }
}

function fmt(x: number | undefined): string {
  return x === undefined ? '-' : x.toExponential(2);
}

/** One report line per fixture. */
export function formatResult(r: FixtureResult): string {
  if (r.error !== undefined) return `ERROR ${r.name} (${basename(r.file)}): ${r.error}`;
  const status = r.passed ? 'PASS ' : 'FAIL ';
  const detail = r.passed ? '' : `  loss ${r.loss} vs expected ${r.expectedLoss}`;
  return `${status}${r.name}  max|Δloss|=${fmt(r.lossAbsErr)}  max|Δgrad|=${fmt(r.gradAbsErr)}${detail}`;
}

export interface ConformanceSummary {
  results: FixtureResult[];
  passed: number;
  failed: number;
}

/** The `*.json` files of `dir`, sorted. Throws FixtureError when dir is not a readable directory. */
export function listFixtures(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new FixtureError(`${dir} is not a directory`);
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof FixtureError) throw e;
    throw new FixtureError(`cannot read fixture directory ${dir}: ${(e as Error).message}`);
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Runs every fixture of `dir`, reporting each line through `print` as it completes and ending with
 * exactly `N passed, N failed`.
 */
export function runConformance(dir: string, print: (line: string) => void = console.log, seed = 0): ConformanceSummary {
  const files = listFixtures(dir);
  const results: FixtureResult[] = [];
  for (const file of files) {
    const r = runFixtureFile(file, seed);
    results.push(r);
    print(formatResult(r));
  }
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  print(`${passed} passed, ${failed} failed`);
  return { results, passed, failed };
}

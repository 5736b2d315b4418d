/**
 * Builds an EmbeddingLoss from the run config's `loss` (src/protocol/runConfig.ts), validating it with
 * errors that name the JSON path and what was expected; and adapts a conformance fixture's
 * sentence-transformers arguments (snake_case, ST defaults when absent) to that config.
 *
 *   LossConfig = BaseLossConfig | MatryoshkaLossConfig | WeightedLossTerm[]
 *   Cached* = the uncached loss with `miniBatchSize` (GradCache does the caching, see gradCache.ts)
 *   MatryoshkaLoss(inner) inherits inner's miniBatchSize; a weighted sum takes the smallest of its terms'.
 */
import type {
  BaseLossConfig,
  GistParams,
  LossConfig,
  LossType,
  MatryoshkaLossConfig,
  SingleLossConfig,
  WeightedLossTerm,
} from '../../protocol/runConfig';
import type { EmbeddingLoss } from './types';
import { AnglELoss } from './AnglELoss';
import { COSENT_DEFAULT_SCALE, CoSENTLoss } from './CoSENTLoss';
import { GIST_DEFAULTS, GISTEmbedLoss } from './GISTEmbedLoss';
import { MatryoshkaLoss } from './MatryoshkaLoss';
import { CACHED_DEFAULT_MINI_BATCH_SIZE, MNRL_DEFAULT_SCALE, MultipleNegativesRankingLoss } from './MultipleNegativesRankingLoss';
import { MultipleNegativesSymmetricRankingLoss } from './MultipleNegativesSymmetricRankingLoss';
import { WeightedSumLoss } from './weightedSum';

/** A config error at a JSON path such as `loss.matryoshkaDims[2]`. */
export class LossConfigError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'LossConfigError';
  }
}

export const BASE_LOSS_TYPES = [
  'MultipleNegativesRankingLoss',
  'CachedMultipleNegativesRankingLoss',
  'MultipleNegativesSymmetricRankingLoss',
  'CachedMultipleNegativesSymmetricRankingLoss',
  'GISTEmbedLoss',
  'CachedGISTEmbedLoss',
  'CoSENTLoss',
  'AnglELoss',
] as const satisfies readonly BaseLossConfig['type'][];

export const LOSS_TYPES: readonly LossType[] = [...BASE_LOSS_TYPES, 'MatryoshkaLoss'];

export interface CreateLossOptions {
  /** The model's output width (the largest dim a loss may see). */
  embeddingDim: number;
  /** Seeds the loss-side randomness (MatryoshkaLoss' nDimsPerStep). */
  seed: number;
  /** JSON path of `config`, for error messages; default "loss". */
  path?: string;
}

// ------------------------------------------------------------------ small validators

type Json = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(obj: Json, key: string, path: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new LossConfigError(`${path}.${key}`, `expected a finite number, got ${describe(v)}`);
  }
  return v;
}

function positiveNumber(obj: Json, key: string, path: string): number {
  const v = finiteNumber(obj, key, path);
  if (v <= 0) throw new LossConfigError(`${path}.${key}`, `expected a number > 0, got ${v}`);
  return v;
}

function positiveInteger(obj: Json, key: string, path: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new LossConfigError(`${path}.${key}`, `expected an integer ≥ 1, got ${describe(v)}`);
  }
  return v;
}

function boolean(obj: Json, key: string, path: string): boolean {
  const v = obj[key];
  if (typeof v !== 'boolean') throw new LossConfigError(`${path}.${key}`, `expected true or false, got ${describe(v)}`);
  return v;
}

function lossType(obj: Json, path: string, allowed: readonly string[]): string {
  const t = obj.type;
  if (t === undefined) throw new LossConfigError(`${path}.type`, `missing loss type; expected one of: ${allowed.join(', ')}`);
  if (typeof t !== 'string' || !allowed.includes(t)) {
    throw new LossConfigError(`${path}.type`, `unknown loss type ${describe(t)}; expected one of: ${allowed.join(', ')}`);
  }
  return t;
}

// ------------------------------------------------------------------ createLoss

/** Builds and validates a loss from the run config's `loss`. Throws LossConfigError. */
export function createLoss(config: LossConfig, opts: CreateLossOptions): EmbeddingLoss {
  const path = opts.path ?? 'loss';
  const { embeddingDim, seed } = opts;
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) {
    throw new LossConfigError(path, `the embedding dim must be an integer ≥ 1, got ${embeddingDim}`);
  }
  if (Array.isArray(config)) return createWeightedSum(config, embeddingDim, seed, path);
  return createSingle(config, embeddingDim, seed, path);
}

function createWeightedSum(terms: WeightedLossTerm[], embeddingDim: number, seed: number, path: string): EmbeddingLoss {
  if (terms.length === 0) throw new LossConfigError(path, 'expected at least one {weight, loss} term, got []');
  const built = terms.map((term: unknown, i) => {
    const termPath = `${path}[${i}]`;
    if (!isObject(term)) throw new LossConfigError(termPath, `expected {weight, loss}, got ${describe(term)}`);
    const weight = finiteNumber(term, 'weight', termPath);
    if (weight < 0) throw new LossConfigError(`${termPath}.weight`, `expected a weight ≥ 0, got ${weight}`);
    // Distinct seeds so that two Matryoshka terms do not draw the same dims in lockstep.
    const termSeed = (seed ^ Math.imul(i + 1, 0x9e3779b1)) | 0;
    return { weight, loss: createSingle(term.loss as SingleLossConfig, embeddingDim, termSeed, `${termPath}.loss`) };
  });
  try {
    return new WeightedSumLoss(built);
  } catch (e) {
    throw new LossConfigError(path, (e as Error).message);
  }
}

function createSingle(config: SingleLossConfig, embeddingDim: number, seed: number, path: string): EmbeddingLoss {
  if (!isObject(config)) throw new LossConfigError(path, `expected a loss object with a "type", got ${describe(config)}`);
  const type = lossType(config, path, LOSS_TYPES);
  if (type === 'MatryoshkaLoss') return createMatryoshka(config as unknown as MatryoshkaLossConfig, embeddingDim, seed, path);
  return createBase(config as BaseLossConfig, embeddingDim, path);
}

function createMatryoshka(config: MatryoshkaLossConfig, embeddingDim: number, seed: number, path: string): EmbeddingLoss {
  const c = config as unknown as Json;
  // Validate the inner loss first, its own dims are checked per Matryoshka dim below.
  if (!isObject(c.loss)) throw new LossConfigError(`${path}.loss`, `expected the wrapped loss object, got ${describe(c.loss)}`);
  const innerType = lossType(c.loss, `${path}.loss`, BASE_LOSS_TYPES);
  const inner = createBase(c.loss as unknown as BaseLossConfig, embeddingDim, `${path}.loss`);

  const dims = c.matryoshkaDims;
  const dimsPath = `${path}.matryoshkaDims`;
  if (!Array.isArray(dims) || dims.length === 0) {
    throw new LossConfigError(dimsPath, `expected a non-empty array of dims, got ${describe(dims)}`);
  }
  const seen = new Map<number, number>();
  dims.forEach((d: unknown, i) => {
    const at = `${dimsPath}[${i}]`;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new LossConfigError(at, `expected an integer dim ≥ 1, got ${describe(d)}`);
    }
    if (d > embeddingDim) {
      throw new LossConfigError(at, `dim ${d} is larger than the model's embedding dim ${embeddingDim}`);
    }
    const first = seen.get(d);
    if (first !== undefined) {
      throw new LossConfigError(at, `duplicate dim ${d} (also at ${dimsPath}[${first}]); dims must be distinct`);
    }
    seen.set(d, i);
    if (innerType === 'AnglELoss' && d % 2 !== 0) {
      throw new LossConfigError(at, `AnglELoss splits embeddings in two halves, so every dim must be even; got ${d}`);
    }
  });

  const weights = c.matryoshkaWeights;
  const weightsPath = `${path}.matryoshkaWeights`;
  if (weights !== null && weights !== undefined) {
    if (!Array.isArray(weights)) {
      throw new LossConfigError(weightsPath, `expected null or an array of ${dims.length} numbers, got ${describe(weights)}`);
    }
    if (weights.length !== dims.length) {
      throw new LossConfigError(weightsPath, `expected ${dims.length} weights (one per dim in matryoshkaDims), got ${weights.length}`);
    }
    weights.forEach((w: unknown, i) => {
      if (typeof w !== 'number' || !Number.isFinite(w)) {
        throw new LossConfigError(`${weightsPath}[${i}]`, `expected a finite number, got ${describe(w)}`);
      }
    });
  }

  const n = c.nDimsPerStep ?? -1;
  if (typeof n !== 'number' || !Number.isInteger(n) || (n !== -1 && n < 1)) {
    throw new LossConfigError(`${path}.nDimsPerStep`, `expected -1 (every dim) or an integer ≥ 1, got ${describe(n)}`);
  }

  return new MatryoshkaLoss(inner, {
    dims: dims as number[],
    weights: (weights as number[] | null | undefined) ?? null,
    nDimsPerStep: n,
    seed,
  });
}

function createBase(config: BaseLossConfig, embeddingDim: number, path: string): EmbeddingLoss {
  const c = config as unknown as Json;
  const type = lossType(c, path, BASE_LOSS_TYPES) as BaseLossConfig['type'];
  const cached = type.startsWith('Cached');
  const miniBatchSize = cached ? positiveInteger(c, 'miniBatchSize', path) : undefined;
  switch (type) {
    case 'MultipleNegativesRankingLoss':
    case 'CachedMultipleNegativesRankingLoss':
      return new MultipleNegativesRankingLoss({ scale: finiteNumber(c, 'scale', path), miniBatchSize });
    case 'MultipleNegativesSymmetricRankingLoss':
    case 'CachedMultipleNegativesSymmetricRankingLoss':
      return new MultipleNegativesSymmetricRankingLoss({ scale: finiteNumber(c, 'scale', path), miniBatchSize });
    case 'GISTEmbedLoss':
    case 'CachedGISTEmbedLoss': {
      const strategy = c.marginStrategy;
      if (strategy !== 'absolute' && strategy !== 'relative') {
        throw new LossConfigError(`${path}.marginStrategy`, `expected "absolute" or "relative", got ${describe(strategy)}`);
      }
      if (typeof c.guide !== 'string' || c.guide.length === 0) {
        throw new LossConfigError(`${path}.guide`, `expected the guide model (a local folder or "self"), got ${describe(c.guide)}`);
      }
      return new GISTEmbedLoss({
        temperature: positiveNumber(c, 'temperature', path),
        marginStrategy: strategy,
        margin: finiteNumber(c, 'margin', path),
        contrastAnchors: boolean(c, 'contrastAnchors', path),
        contrastPositives: boolean(c, 'contrastPositives', path),
        miniBatchSize,
      });
    }
    case 'CoSENTLoss':
      return new CoSENTLoss({ scale: finiteNumber(c, 'scale', path) });
    case 'AnglELoss':
      if (embeddingDim % 2 !== 0) {
        throw new LossConfigError(path, `AnglELoss splits embeddings in two halves, so the embedding dim must be even; got ${embeddingDim}`);
      }
      return new AnglELoss({ scale: finiteNumber(c, 'scale', path) });
  }
}

// ------------------------------------------------------------------ fixtures (sentence-transformers arguments)

/** The guide name a fixture-built GIST config carries: fixtures supply the guide embeddings directly. */
export const FIXTURE_GUIDE = 'fixture';

/**
 * A fixture's `loss` (ST class name + snake_case ST constructor arguments; absent = ST default) and
 * `matryoshka` ({dims, weights, n_dims_per_step} or null) as a LossConfig. Throws LossConfigError with
 * paths inside the fixture (`loss.mini_batch_size`, `matryoshka.dims`).
 */
export function lossConfigFromFixture(loss: unknown, matryoshka: unknown): SingleLossConfig {
  if (!isObject(loss)) throw new LossConfigError('loss', `expected an object with a "type", got ${describe(loss)}`);
  const type = lossType(loss, 'loss', BASE_LOSS_TYPES) as BaseLossConfig['type'];
  // As ST's constructors do, an argument the class does not take is an error (not silently ignored).
  const accepted = ST_ARGUMENTS_BY_TYPE[type];
  for (const key of Object.keys(loss)) {
    if (key === 'type' || accepted.includes(key) || IGNORED_ST_ARGUMENTS.includes(key)) continue;
    throw new LossConfigError(`loss.${key}`, `not an argument of ${type}; expected some of: ${accepted.join(', ')}`);
  }
  if (loss.gather_across_devices !== undefined && loss.gather_across_devices !== false) {
    throw new LossConfigError('loss.gather_across_devices', `only false is supported (one device), got ${describe(loss.gather_across_devices)}`);
  }
  const arg = <T>(key: keyof typeof ST_ARGUMENTS, fallback: T): T => (loss[key] === undefined ? fallback : (loss[key] as T));
  const miniBatchSize = arg('mini_batch_size', CACHED_DEFAULT_MINI_BATCH_SIZE);
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
    throw new LossConfigError('matryoshka', `expected null or {dims, weights, n_dims_per_step}, got ${describe(matryoshka)}`);
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
 * Rewrites a LossConfigError from createLoss on a fixture-built config to the fixture's own JSON path
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

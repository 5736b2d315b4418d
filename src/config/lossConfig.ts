/**
 * The run config's `loss` tree, in one place: its shape, what can be read off it, and its checks.
 * Pure: no vscode, no tfjs. The config side (defaults.ts, validate.ts, resolve.ts) reads the tree
 * through this module; the trainer and the engines get what it says as a ResolvedLoss (below), built
 * once by validation, and never read the tree for facts or check it again.
 *
 *   LossConfig       = SingleLossConfig | WeightedLossTerm[]          a weighted sum of single losses
 *   SingleLossConfig = BaseLossConfig | MatryoshkaLossConfig           MatryoshkaLoss wraps one base loss
 *   BaseLossConfig   = one of BASE_LOSS_TYPES (the sentence-transformers class names)
 *
 * lossTerms() lists the single losses (with their paths) and unwraps MatryoshkaLoss; everything else
 * here is built on it. lossConfigProblems() is the one copy of the checks (dims, weights, AnglE's even
 * dims, parameter ranges): validate.ts reports them all for a run config; resolveLoss() throws the first
 * for a loss that comes from elsewhere (a conformance fixture).
 */
import type { BaseLossConfig, LossConfig, LossType, SingleLossConfig } from '../protocol/runConfig';

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

/** Losses trained on scored pairs (two text columns and a score). */
const LABEL_LOSS_TYPES: ReadonlySet<string> = new Set(['CoSENTLoss', 'AnglELoss']);

/**
 * The text columns each loss takes, [min, max] (max Infinity: any number of negatives). Uncached GIST
 * takes one negative at most (sentence-transformers' GISTEmbedLoss); its cached variant any number.
 */
export const LOSS_COLUMN_RANGES: Readonly<Record<BaseLossConfig['type'], readonly [number, number]>> = {
  MultipleNegativesRankingLoss: [2, Infinity],
  CachedMultipleNegativesRankingLoss: [2, Infinity],
  MultipleNegativesSymmetricRankingLoss: [2, Infinity],
  CachedMultipleNegativesSymmetricRankingLoss: [2, Infinity],
  GISTEmbedLoss: [2, 3],
  CachedGISTEmbedLoss: [2, Infinity],
  CoSENTLoss: [2, 2],
  AnglELoss: [2, 2],
};

/** A path inside the `loss` value: keys and array indices (`[1, 'loss', 'matryoshkaDims', 0]`). */
export type LossPath = ReadonlyArray<string | number>;

/** `base` + path as a dotted path: `loss[1].loss.matryoshkaDims[0]`. */
export function dottedPath(base: string, path: LossPath): string {
  return base + path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

/** `base` (a JSON pointer) + path: `/loss/1/loss/matryoshkaDims/0`. */
export function pointerPath(base: string, path: LossPath): string {
  return base + path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

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

// ------------------------------------------------------------------ reading the tree

export interface LossTerm {
  /** The term's weight in a weighted sum; 1 for a single loss. */
  weight: number;
  loss: SingleLossConfig;
  /** `loss` without its MatryoshkaLoss wrapper. */
  base: BaseLossConfig;
  /** Path of `loss` inside the `loss` value ([] or [i, 'loss']). */
  path: LossPath;
  /** Path of `base` ([...path, 'loss'] under MatryoshkaLoss). */
  basePath: LossPath;
}

/** The single losses of a (validated) loss config, in order, with MatryoshkaLoss unwrapped. */
export function lossTerms(loss: LossConfig): LossTerm[] {
  const singles: Array<{ weight: number; loss: SingleLossConfig; path: LossPath }> = Array.isArray(loss)
    ? loss.map((t, i) => ({ weight: t.weight, loss: t.loss, path: [i, 'loss'] }))
    : [{ weight: 1, loss, path: [] }];
  return singles.map((t) =>
    t.loss.type === 'MatryoshkaLoss'
      ? { ...t, base: t.loss.loss, basePath: [...t.path, 'loss'] }
      : { ...t, base: t.loss, basePath: t.path },
  );
}

/** The base losses of every term (MatryoshkaLoss unwrapped). */
export function baseLosses(loss: LossConfig): BaseLossConfig[] {
  return lossTerms(loss).map((t) => t.base);
}

/** True when the loss trains on scored pairs (CoSENT / AnglE, in any term). */
export function lossNeedsLabels(loss: LossConfig): boolean {
  return baseLosses(loss).some((b) => LABEL_LOSS_TYPES.has(b.type));
}

/** The guide model of the first GIST term (a folder or "self"); undefined when no term is a GIST loss. */
export function guideOf(loss: LossConfig): string | undefined {
  for (const b of baseLosses(loss)) if (b.type === 'GISTEmbedLoss' || b.type === 'CachedGISTEmbedLoss') return b.guide;
  return undefined;
}

/**
 * The dims a loss trains, largest first, distinct (the union over the terms of a weighted sum); a term
 * without MatryoshkaLoss trains the full `width`.
 */
export function lossDims(loss: LossConfig, width: number): number[] {
  const dims = new Set<number>();
  for (const { loss: l } of lossTerms(loss)) {
    if (l.type === 'MatryoshkaLoss') l.matryoshkaDims.forEach((d) => dims.add(d));
    else dims.add(width);
  }
  return [...dims].filter((d) => Number.isFinite(d)).sort((a, b) => b - a);
}

/**
 * The encoder's output width: the largest dim any term trains, where a term without MatryoshkaLoss
 * trains the hidden size (a from-scratch encoder projects to this width when it differs from its hidden
 * size). `hidden` unknown (a pretrained model, before its config.json is read): the largest Matryoshka
 * dim, or undefined when there is none.
 */
export function modelWidth(config: { loss: LossConfig }, hidden: number): number;
export function modelWidth(config: { loss: LossConfig }, hidden: number | undefined): number | undefined;
export function modelWidth(config: { loss: LossConfig }, hidden: number | undefined): number | undefined {
  const dims = lossDims(config.loss, hidden ?? Infinity);
  return dims.length ? dims[0] : undefined;
}

/** The GradCache mini-batch size: the smallest of the Cached* terms' (one cache serves every term); undefined when no term is cached. */
function lossMiniBatchSize(loss: LossConfig): number | undefined {
  const sizes = baseLosses(loss).flatMap((b) => ('miniBatchSize' in b ? [b.miniBatchSize] : []));
  return sizes.length ? Math.min(...sizes) : undefined;
}

/**
 * The columns every term takes: [the largest min, the smallest max] with the base loss that sets the
 * max (undefined when no term limits it).
 */
export function lossColumnRange(loss: LossConfig): { min: number; max: number; maxBy?: BaseLossConfig['type'] } {
  let min = 0;
  let max = Infinity;
  let maxBy: BaseLossConfig['type'] | undefined;
  for (const b of baseLosses(loss)) {
    const [lo, hi] = LOSS_COLUMN_RANGES[b.type];
    min = Math.max(min, lo);
    if (hi < max) [max, maxBy] = [hi, b.type];
  }
  return { min, max, maxBy };
}

// ------------------------------------------------------------------ the resolved loss

/** What the trainer and the engines read off a loss config that passed its checks, derived once. */
export interface ResolvedLoss {
  /** The checked `loss` value (a run config's: defaults filled in). */
  readonly config: LossConfig;
  /** Its single losses in order, MatryoshkaLoss unwrapped, with their paths (lossTerms). */
  readonly terms: readonly LossTerm[];
  /** The encoder's output width the loss sees (undefined: not known before the model is loaded). */
  readonly embeddingDim: number | undefined;
  /** The dims trained, largest first: the Matryoshka dims, and the full width for a term without MatryoshkaLoss. */
  readonly dims: readonly number[];
  /** GradCache mini-batch size: the smallest of the Cached* terms'; undefined: no term is cached (plain steps). */
  readonly miniBatchSize: number | undefined;
  /** The guide model of the first GIST term (a folder as written, or "self"); undefined without one. */
  readonly guide: string | undefined;
  /** Trains on scored pairs (CoSENT / AnglE). */
  readonly needsLabels: boolean;
}

/** The facts of a checked loss config on an encoder of output width `embeddingDim`. */
export function lossFacts(loss: LossConfig, embeddingDim: number | undefined): ResolvedLoss {
  return {
    config: loss,
    terms: lossTerms(loss),
    embeddingDim,
    dims: lossDims(loss, embeddingDim ?? Infinity),
    miniBatchSize: lossMiniBatchSize(loss),
    guide: guideOf(loss),
    needsLabels: lossNeedsLabels(loss),
  };
}

/**
 * A loss config from outside a run config (unvalidated JSON: a conformance fixture), checked against an
 * encoder of output width `embeddingDim` and resolved. Throws a LossConfigError for its first problem.
 */
export function resolveLoss(loss: unknown, o: { embeddingDim: number; path?: string }): ResolvedLoss {
  const path = o.path ?? 'loss';
  const { embeddingDim } = o;
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) {
    throw new LossConfigError(path, `the embedding dim must be an integer ≥ 1, got ${embeddingDim}`);
  }
  const [problem] = lossConfigProblems(loss, { maxDim: embeddingDim, maxDimName: 'embedding dim', embeddingDim, path });
  if (problem) throw new LossConfigError(dottedPath(path, problem.path), problem.message);
  return lossFacts(loss as LossConfig, embeddingDim);
}

// ------------------------------------------------------------------ checks

export interface LossConfigProblem {
  /** Where, inside the `loss` value. */
  path: LossPath;
  message: string;
  /** What kind of check failed ("dimTooLarge", "even", "length", "type", "minimum", …). */
  keyword: string;
}

export interface LossCheckOptions {
  /** No Matryoshka dim may exceed this (the model's width); unchecked when undefined. */
  maxDim?: number;
  /** What `maxDim` is called in messages; default "width". */
  maxDimName?: string;
  /** The encoder's output width, which AnglELoss needs even; unchecked when undefined. */
  embeddingDim?: number;
  /** Dotted path of the `loss` value, for messages that cite another path; default "loss". */
  path?: string;
}

type Json = Record<string, unknown>;

/** A value as it reads in a message. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The problem with `obj.type` when it is not one of `allowed` (path: ['type']), else undefined. */
export function lossTypeProblem(obj: Json, allowed: readonly string[]): LossConfigProblem | undefined {
  const t = obj.type;
  if (t === undefined) return { path: ['type'], keyword: 'required', message: `missing loss type; expected one of: ${allowed.join(', ')}` };
  if (typeof t !== 'string' || !allowed.includes(t)) {
    return { path: ['type'], keyword: 'enum', message: `unknown loss type ${describeValue(t)}; expected one of: ${allowed.join(', ')}` };
  }
  return undefined;
}

/**
 * Everything wrong with a loss config, in the order a reader meets it (each term's weight, then its
 * loss: the wrapped loss before MatryoshkaLoss' own fields). Works on unvalidated JSON; on a config that
 * passed the schema only the checks a schema cannot express remain (dims against the model's width,
 * weights per dim, AnglE's even dims).
 */
export function lossConfigProblems(loss: unknown, o: LossCheckOptions = {}): LossConfigProblem[] {
  const out: LossConfigProblem[] = [];
  const add = (path: LossPath, keyword: string, message: string) => out.push({ path, keyword, message });

  const finite = (obj: Json, key: string, at: LossPath): number | undefined => {
    const v = obj[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    add([...at, key], 'type', `expected a finite number, got ${describeValue(v)}`);
    return undefined;
  };
  const positive = (obj: Json, key: string, at: LossPath) => {
    const v = finite(obj, key, at);
    if (v !== undefined && v <= 0) add([...at, key], 'exclusiveMinimum', `expected a number > 0, got ${v}`);
  };
  const boolean = (obj: Json, key: string, at: LossPath) => {
    if (typeof obj[key] !== 'boolean') add([...at, key], 'type', `expected true or false, got ${describeValue(obj[key])}`);
  };
  const typeOf = (obj: Json, at: LossPath, allowed: readonly string[]): string | undefined => {
    const p = lossTypeProblem(obj, allowed);
    if (p) add([...at, ...p.path], p.keyword, p.message);
    return p ? undefined : (obj.type as string);
  };

  const checkBase = (c: Json, at: LossPath) => {
    const type = typeOf(c, at, BASE_LOSS_TYPES);
    if (type === undefined) return;
    if (type.startsWith('Cached')) {
      const m = c.miniBatchSize;
      if (typeof m !== 'number' || !Number.isInteger(m) || m < 1)
        add([...at, 'miniBatchSize'], 'minimum', `expected an integer ≥ 1, got ${describeValue(m)}`);
    }
    switch (type) {
      case 'GISTEmbedLoss':
      case 'CachedGISTEmbedLoss':
        if (c.marginStrategy !== 'absolute' && c.marginStrategy !== 'relative') {
          add([...at, 'marginStrategy'], 'enum', `expected "absolute" or "relative", got ${describeValue(c.marginStrategy)}`);
        }
        if (typeof c.guide !== 'string' || c.guide.length === 0) {
          add([...at, 'guide'], 'type', `expected the guide model (a local folder or "self"), got ${describeValue(c.guide)}`);
        }
        positive(c, 'temperature', at);
        finite(c, 'margin', at);
        boolean(c, 'contrastAnchors', at);
        boolean(c, 'contrastPositives', at);
        return;
      case 'AnglELoss':
        if (o.embeddingDim !== undefined && o.embeddingDim % 2 !== 0) {
          add(at, 'even', `AnglELoss splits embeddings in two halves, so the embedding dim must be even; got ${o.embeddingDim}`);
        }
        finite(c, 'scale', at);
        return;
      default: // the MNRL family and CoSENT
        finite(c, 'scale', at);
    }
  };

  const checkMatryoshka = (c: Json, at: LossPath) => {
    const innerAt = [...at, 'loss'];
    if (!isJsonObject(c.loss)) {
      add(innerAt, 'type', `expected the wrapped loss object, got ${describeValue(c.loss)}`);
      return;
    }
    const innerType = typeOf(c.loss, innerAt, BASE_LOSS_TYPES);
    if (innerType === undefined) return;
    checkBase(c.loss, innerAt);

    const dims = c.matryoshkaDims;
    const dimsAt = [...at, 'matryoshkaDims'];
    if (!Array.isArray(dims) || dims.length === 0) {
      add(dimsAt, 'minItems', `expected a non-empty array of dims, got ${describeValue(dims)}`);
      return;
    }
    const seen = new Map<number, number>();
    dims.forEach((d: unknown, i) => {
      const at = [...dimsAt, i];
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
        add(at, 'type', `expected an integer dim ≥ 1, got ${describeValue(d)}`);
        return;
      }
      if (o.maxDim !== undefined && d > o.maxDim)
        add(at, 'dimTooLarge', `dim ${d} is larger than the model's ${o.maxDimName ?? 'width'} ${o.maxDim}`);
      const first = seen.get(d);
      if (first !== undefined) {
        add(at, 'uniqueItems', `duplicate dim ${d} (also at ${dottedPath(o.path ?? 'loss', [...dimsAt, first])}); dims must be distinct`);
      } else seen.set(d, i);
      if (innerType === 'AnglELoss' && d % 2 !== 0)
        add(at, 'even', `AnglELoss splits embeddings in two halves, so every dim must be even; got ${d}`);
    });

    const weights = c.matryoshkaWeights;
    const weightsAt = [...at, 'matryoshkaWeights'];
    if (weights !== null && weights !== undefined) {
      if (!Array.isArray(weights)) {
        add(weightsAt, 'type', `expected null or an array of ${dims.length} numbers, got ${describeValue(weights)}`);
      } else if (weights.length !== dims.length) {
        add(weightsAt, 'length', `expected ${dims.length} weights (one per dim in matryoshkaDims), got ${weights.length}`);
      } else {
        weights.forEach((w: unknown, i) => {
          if (typeof w !== 'number' || !Number.isFinite(w))
            add([...weightsAt, i], 'type', `expected a finite number, got ${describeValue(w)}`);
        });
      }
    }

    const n = c.nDimsPerStep ?? -1;
    if (typeof n !== 'number' || !Number.isInteger(n) || (n !== -1 && n < 1)) {
      add([...at, 'nDimsPerStep'], 'minimum', `expected -1 (every dim) or an integer ≥ 1, got ${describeValue(n)}`);
    }
  };

  const checkSingle = (l: unknown, at: LossPath) => {
    if (!isJsonObject(l)) {
      add(at, 'type', `expected a loss object with a "type", got ${describeValue(l)}`);
      return;
    }
    const type = typeOf(l, at, LOSS_TYPES);
    if (type === 'MatryoshkaLoss') checkMatryoshka(l, at);
    else if (type !== undefined) checkBase(l, at);
  };

  if (Array.isArray(loss)) {
    if (loss.length === 0) add([], 'minItems', 'expected at least one {weight, loss} term, got []');
    loss.forEach((term: unknown, i) => {
      if (!isJsonObject(term)) {
        add([i], 'type', `expected {weight, loss}, got ${describeValue(term)}`);
        return;
      }
      const w = finite(term, 'weight', [i]);
      if (w !== undefined && w < 0) add([i, 'weight'], 'minimum', `expected a weight ≥ 0, got ${w}`);
      checkSingle(term.loss, [i, 'loss']);
    });
  } else {
    checkSingle(loss, []);
  }
  return out;
}

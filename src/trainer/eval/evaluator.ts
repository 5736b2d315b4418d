/**
 * One evaluation of an encoder at every dim, on the eval set (src/data/evalSet.ts). Texts are embedded
 * once at full width; each dim is a truncation of those embeddings.
 */
import { FUNNEL_PREFIX, parsePrecisionKey, type ByDim, type Precision } from '../../protocol/runFolder';
import type { FunnelConfig } from '../../protocol/runConfig';
import { runSync, type Work } from '../../common/cooperative';
import type { EvalSet } from '../../data/evalSet';
import { funnelRetrievalWork, pairCosines, retrievalByDimWork, spearman, truncateNormalize } from './metrics';
import { wasmPrefixScorer } from '../runtime/kernels/wasmKernels';
import { quantizedRetrievalWork } from './quantizedRetrieval';
import { DEFAULT_RESCORE_MULTIPLIER } from '../../config/defaults';

export interface EvalOptions {
  dims: number[];
  metrics: string[];
  funnel: FunnelConfig | null;
  /**
   * Precisions of the retrieval metrics (evaluation.precisions); absent = float32 only. int8 / binary
   * (and their rescored variants) come from quantizedRetrieval.ts under precisionKey names.
   */
  precisions?: readonly Precision[];
  /** The `+rescore` variants too (evaluation.rescore; default true). */
  rescore?: boolean;
  /** evaluation.rescoreMultiplier (default DEFAULT_RESCORE_MULTIPLIER). */
  rescoreMultiplier?: number;
}

export interface EvalResult {
  values: Record<string, number>;
  byDim: ByDim;
}

/** Embeds texts → [n, width] row-major (the caller's encoder, no dropout). */
export type Embedder = (texts: string[]) => Float32Array;
/** An Embedder as cooperative work (../../common/cooperative.ts). */
export type EmbedderWork = (texts: string[]) => Work<Float32Array>;

export function evaluate(set: EvalSet, embed: Embedder, width: number, o: EvalOptions): EvalResult {
  return runSync(
    evaluateWork(
      set,
      // eslint-disable-next-line require-yield -- a synchronous embedder is work that never pauses
      function* (texts) {
        return embed(texts);
      },
      width,
      o,
    ),
  );
}

/** Where an evaluation's time went, in ms (bench/evalBench.ts); the evaluation adds to these. */
export interface EvalTimings {
  /** The forward passes over every distinct text. */
  embedMs: number;
  /** Truncation, normalisation, scores, ranking and metrics at every dim. */
  dimsMs: number;
  /** Funnel retrieval. */
  funnelMs: number;
  /** Retrieval at the quantised precisions (int8, binary, rescored), every dim. */
  quantizedMs: number;
}

/** evaluate as cooperative work: yields between embedding batches and between dims. */
export function* evaluateWork(set: EvalSet, embed: EmbedderWork, width: number, o: EvalOptions, timings?: EvalTimings): Work<EvalResult> {
  let t0 = performance.now();
  const lap = (key: keyof EvalTimings) => {
    const t = performance.now();
    if (timings) timings[key] += t - t0;
    t0 = t;
  };
  // One forward pass over every distinct text.
  const texts: string[] = [];
  const index = new Map<string, number>();
  const add = (s: string) => {
    if (!index.has(s)) {
      index.set(s, texts.length);
      texts.push(s);
    }
  };
  set.queries.forEach(add);
  set.corpus.forEach(add);
  set.pairs?.a.forEach(add);
  set.pairs?.b.forEach(add);
  const all = yield* embed(texts);
  lap('embedMs');
  const gather = (list: string[]) => {
    const out = new Float32Array(list.length * width);
    list.forEach((s, i) => out.set(all.subarray(index.get(s)! * width, (index.get(s)! + 1) * width), i * width));
    return out;
  };
  const q = gather(set.queries);
  const c = gather(set.corpus);
  const nq = set.queries.length;
  const nc = set.corpus.length;
  const wanted = new Set(o.metrics);
  const byDim: ByDim = {};
  // Every dim in one pass over the scores (dims are prefixes of the full-width embeddings).
  const retrieval = nq > 0 ? yield* retrievalByDimWork(q, nq, c, nc, width, o.dims, set.relevant, undefined, wasmPrefixScorer) : undefined;
  for (const dim of o.dims) {
    yield;
    const m: Record<string, number> = {};
    const r = retrieval?.get(dim);
    if (r) for (const [k, v] of Object.entries(r)) if (wanted.has(k)) m[k] = v;
    if (set.pairs && wanted.has('spearman')) {
      const n = set.pairs.scores.length;
      const cos = pairCosines(
        truncateNormalize(gather(set.pairs.a), n, width, dim),
        truncateNormalize(gather(set.pairs.b), n, width, dim),
        n,
        dim,
      );
      yield;
      m.spearman = spearman(cos, set.pairs.scores);
    }
    byDim[String(dim)] = m;
  }
  lap('dimsMs');
  const precisions = o.precisions ?? ['float32'];
  if (nq > 0 && precisions.some((p) => p !== 'float32')) {
    const quantized = yield* quantizedRetrievalWork(
      q,
      nq,
      c,
      nc,
      width,
      o.dims,
      set.relevant,
      { precisions, rescore: o.rescore ?? true, rescoreMultiplier: o.rescoreMultiplier ?? DEFAULT_RESCORE_MULTIPLIER },
      wasmPrefixScorer,
    );
    for (const dim of o.dims) {
      const m = byDim[String(dim)];
      for (const [k, v] of Object.entries(quantized.get(dim) ?? {})) if (wanted.has(parsePrecisionKey(k).metric)) m[k] = v;
    }
  }
  lap('quantizedMs');
  const values: Record<string, number> = {};
  if (o.funnel && nq > 0) {
    yield;
    const f = yield* funnelRetrievalWork(
      q,
      nq,
      c,
      nc,
      width,
      set.relevant,
      { shortlistDim: o.funnel.shortlistDim, rerankDim: o.funnel.rerankDim, shortlistSize: o.funnel.shortlistSize },
      undefined,
      wasmPrefixScorer,
    );
    for (const [k, v] of Object.entries(f)) if (k === 'macsSaved' || wanted.has(k)) values[`${FUNNEL_PREFIX}${k}`] = v;
    values[`${FUNNEL_PREFIX}shortlistDim`] = o.funnel.shortlistDim;
    values[`${FUNNEL_PREFIX}rerankDim`] = o.funnel.rerankDim;
  }
  lap('funnelMs');
  return { values, byDim };
}

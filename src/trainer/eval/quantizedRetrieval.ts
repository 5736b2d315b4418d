/**
 * Retrieval metrics on quantised embeddings, at every dim: int8, binary, and each with rescoring, as
 * sentence-transformers searches a quantised index (sentence_transformers/quantization.py, commit 85ec645).
 * The recipe, fixed here and documented in the run-folder contract (src/protocol/runFolder.ts, precisionKey;
 * docs/architecture.md#the-run-folder):
 *
 * - Vectors: the first `dim` components of each embedding, re-normalised (truncateNormalize) — the same
 *   vectors the float32 metrics take the cosine of, and what `SentenceTransformer.encode(truncate_dim=…,
 *   normalize_embeddings=True, precision=…)` quantises (SentenceTransformer.py:1099 truncates, :1126
 *   normalises, :1137 quantises). Only int8 depends on it: a sign bit, and the ranking of a rescore by a
 *   positively scaled query, do not.
 * - int8: ranges calibrated on the corpus vectors at that dim, queries quantised with the same ranges
 *   (quantize.ts; quantization.py:417-434); scored by the integer dot product of the int8 codes, higher
 *   first, as the usearch index the library builds for int8 (`metric="ip", dtype="i8"`, quantization.py:277-282,
 *   searched with the quantised query at :314-327).
 * - binary: ubinary bits (x > 0, quantization.py:439-440), scored by the Hamming distance of the packed
 *   bits, lower first (usearch `metric="hamming", dtype="b1"`, :289-294; faiss IndexBinaryFlat, :107-111).
 * - rescore: the quantised search keeps rescoreMultiplier × RANKED documents (quantization.py:303-306);
 *   each is re-scored by the dot product of the float query with the document's quantised vector read
 *   back as integers — the int8 codes (−128…127) as they are, or the unpacked bits as 0 / 1 (:337-349,
 *   `np.unpackbits(...).astype(int)` and the einsum); the best RANKED of them are the result (:350-352).
 *   For a dim that is not a multiple of 8 the library's einsum would refuse the padded bits; they are
 *   zero, so we take the dot product over the `dim` real components (the same as padding the query with zeros).
 * - Ties (equal quantised scores are common: at dim 8 a Hamming distance takes 9 values): deterministic and
 *   never in the relevant documents' favour — pessimistic. Among equal scores every non-relevant document
 *   ranks first, then the relevant ones; within each group, corpus order. Corpus order alone is not
 *   neutral here: buildEvalSet (src/data/evalSet.ts) numbers each query's positive before every
 *   distractor, so it would let the positive win most of its ties. The library leaves tie order to the
 *   index (and to np.argsort's unstable sort after a rescore).
 *
 * Metrics are those of metrics.ts's queryMetrics (sentence-transformers' InformationRetrievalEvaluator),
 * over a ranked list of RANKED documents, computed from the ranks of the relevant documents alone, so no
 * query sorts its corpus.
 */
import { runSync, type Work } from '../../common/cooperative';
import { precisionKey, type Precision } from '../../protocol/runFolder';
import { kthLargest, popcount, toWords } from './searchPrimitives';
import { metricsFromRanks, type PrefixScorerFactory, type RetrievalMetrics, scoreBlock, truncateNormalize } from './metrics';
import { int8Calibration, quantizeBinary, quantizeInt8, binaryRowBytes } from './quantize';

const NO_RANKS: readonly number[] = [];

/** Length of a ranked list: the largest cutoff the retrieval metrics read (map@100). */
export const RANKED = 100;

export interface QuantizedRetrievalOptions {
  /** Precisions to measure; "float32" is measured by metrics.ts and ignored here. */
  precisions: readonly Precision[];
  /** Also the `+rescore` variant of each. */
  rescore: boolean;
  /** Rescore shortlist: rescoreMultiplier × RANKED documents per query. */
  rescoreMultiplier: number;
}

/**
 * Most buckets of the histogram that finds a shortlist's threshold among integer scores; a corpus of nc
 * documents uses about nc / 4 (at least 16), so that clearing the histogram costs less than filling it.
 */
const HISTOGRAM_BUCKETS = 4096;

/** The int8 dot products go through a float32 GEMM only while they are exact: |Σ| ≤ dim · 128² ≤ 2^24. */
const EXACT_FLOAT_DOT_DIM = 1024;

const METRIC_NAMES = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'] as const satisfies readonly (keyof RetrievalMetrics)[];

/** Mean metrics over queries, in the float32 evaluation's order (metrics.ts), with its formulas (metricsFromRanks). */
class MetricMeans {
  readonly sums = new Float64Array(METRIC_NAMES.length);
  constructor(private readonly nq: number) {}

  /** One query: `ranks` = 0-based ranks (< RANKED, ascending) of its relevant documents found in the list. */
  add(ranks: readonly number[], count: number, nRel: number): void {
    const m = metricsFromRanks(ranks, count, nRel);
    METRIC_NAMES.forEach((k, i) => (this.sums[i] += m[k] / this.nq));
  }

  into(out: Record<string, number>, precision: Precision, rescore: boolean): void {
    METRIC_NAMES.forEach((m, i) => (out[precisionKey(m, precision, rescore)] = this.sums[i]));
  }
}

/**
 * Per-query ranking under the tie rule, with scratch reused across queries (no allocation per query).
 * Scores are integers, "higher is better" (a Hamming distance is passed negated), in [lo, hi].
 *
 * The tie rule is a total order, so a document's place in it is its rank: the shortlist (the best `cap`)
 * is every document of rank < cap. One pass counts, for each relevant document, the documents ahead of
 * it (its rank, which gives the plain metrics and whether it made the shortlist) and fills a histogram of
 * the scores, from which the shortlist's threshold T follows: every document above T is in, and of those
 * at T the first ones in tie order. A rescored rank is then the count of shortlisted documents whose
 * rescored value beats the relevant document's, in one more pass (only for relevant documents that made
 * the shortlist). Every pass covers the whole corpus, with no early exit.
 */
class Ranker {
  /** 1 for the current query's relevant documents. */
  readonly rel: Uint8Array;
  /** The current query's relevant documents, in corpus order, and their ranks by the quantised scores. */
  readonly relIds: number[] = [];
  readonly relRank: number[] = [];
  private readonly ranks: number[] = [];
  private readonly rescored: number[] = [];
  private readonly buf: Float64Array;
  private readonly counts: Int32Array;
  /** The shortlist's threshold: documents above `t` are in; of those at `t`, the non-relevant ones up to corpus id `tieCut`, and relevant ones while `relTieRoom` lasts. */
  t = 0;
  tieCut = -1;
  relTieRoom = 0;

  constructor(private readonly nc: number) {
    this.rel = new Uint8Array(nc);
    this.buf = new Float64Array(nc);
    this.counts = new Int32Array(Math.min(HISTOGRAM_BUCKETS, Math.max(16, nc >> 2)));
  }

  setRelevant(relevant: ReadonlySet<number>): void {
    for (const j of this.relIds) this.rel[j] = 0;
    this.relIds.length = 0;
    for (const j of relevant) {
      if (!(j >= 0 && j < this.nc)) throw new Error(`relevant document ${j} is outside the corpus of ${this.nc}`);
      this.rel[j] = 1;
      this.relIds.push(j);
    }
    this.relIds.sort((a, b) => a - b);
  }

  /** Tie key: among equal scores the smaller ranks first — non-relevant documents in corpus order, then relevant ones. */
  tie(j: number): number {
    return this.rel[j] ? this.nc + j : j;
  }

  /**
   * The ranks of the relevant documents by `scores` (relRank) and their metrics into `means`, the list cut
   * at RANKED; with `cap` < nc, also the shortlist's threshold for the best `cap` documents.
   */
  rank(scores: Float64Array, lo: number, hi: number, means: MetricMeans, cap: number): void {
    const { nc, relIds, relRank, counts } = this;
    const nRel = relIds.length;
    const histogram = cap < nc;
    const w = Math.max(1, Math.ceil((hi - lo + 1) / counts.length));
    const inv = 1 / w;
    const last = Math.floor((hi - lo) / w);
    if (histogram) counts.fill(0, 0, last + 1);
    relRank.length = nRel;
    relRank.fill(0);
    const r0 = nRel > 0 ? relIds[0] : -1;
    const v0 = nRel > 0 ? scores[r0] : 0;
    const t0 = this.tie(r0);
    for (let j = 0; j < nc; j++) {
      const s = scores[j];
      if (histogram) {
        const b = ((hi - s) * inv) | 0;
        counts[b > last ? last : b]++;
      }
      // The first relevant document inline; any others below (a query rarely has several).
      if (s > v0 || (s === v0 && this.tie(j) < t0)) relRank[0]++;
    }
    for (let u = 1; u < nRel; u++) {
      const r = relIds[u];
      const v = scores[r];
      const tr = this.tie(r);
      let better = 0;
      for (let j = 0; j < nc; j++) {
        const s = scores[j];
        if (s > v || (s === v && this.tie(j) < tr)) better++;
      }
      relRank[u] = better;
    }
    const cut = Math.min(RANKED, nc);
    const ranks = this.ranks;
    ranks.length = 0;
    for (let u = 0; u < nRel; u++) if (relRank[u] < cut) ranks.push(relRank[u]);
    ranks.sort((a, b) => a - b);
    means.add(ranks, ranks.length, nRel);
    if (!histogram) {
      // Everything is shortlisted.
      this.t = -Infinity;
      return;
    }
    // No relevant document in the shortlist: its rescored metrics are 0 whatever the threshold.
    if (!this.anyShortlisted(cap)) {
      this.t = Infinity;
      return;
    }
    // The bucket holding the cap-th best score, then T within it.
    let b = 0;
    let above = 0;
    while (above + counts[b] < cap) above += counts[b++];
    let t: number;
    let atT: number;
    if (w === 1) {
      t = hi - b;
      atT = counts[b];
    } else {
      const { buf } = this;
      let m = 0;
      for (let j = 0; j < nc; j++) {
        const s = scores[j];
        const k = ((hi - s) * inv) | 0;
        if ((k > last ? last : k) === b) buf[m++] = s;
      }
      t = kthLargest(buf, m, cap - above - 1);
      atT = 0;
      for (let k = 0; k < m; k++) {
        if (buf[k] > t) above++;
        else if (buf[k] === t) atT++;
      }
    }
    // Of the documents at T, `need` make the shortlist, non-relevant ones first in corpus order.
    const need = cap - above;
    let relAtT = 0;
    for (const r of relIds) if (scores[r] === t) relAtT++;
    const nonRelAtT = atT - relAtT;
    this.t = t;
    this.relTieRoom = need - nonRelAtT;
    if (need >= nonRelAtT) this.tieCut = nc;
    else {
      let seen = 0;
      let j = 0;
      for (; j < nc; j++) if (scores[j] === t && !this.rel[j] && ++seen === need) break;
      this.tieCut = j;
    }
  }

  /** Whether document j (score s) is in the shortlist fixed by the last `rank` (on `scores`). */
  inShortlist(j: number, s: number, scores: Float64Array): boolean {
    const t = this.t;
    if (s > t) return true;
    if (s < t) return false;
    if (!this.rel[j]) return j <= this.tieCut;
    // Relevant at T: after every non-relevant one there, in corpus order among themselves.
    let before = 0;
    for (const r of this.relIds) if (r < j && scores[r] === t) before++;
    return before < this.relTieRoom;
  }

  /** Whether any relevant document of the current query made the shortlist (else no rescoring is needed). */
  anyShortlisted(cap: number): boolean {
    for (const r of this.relRank) if (r < cap) return true;
    return false;
  }

  /**
   * Rescored metrics of the current query: each relevant document in the shortlist is ranked among the
   * shortlisted documents by `values` (the float query · the quantised document, filled for every
   * document scoring at least T), the list cut at RANKED.
   */
  rescore(scores: Float64Array, values: Float64Array, cap: number, means: MetricMeans): void {
    const { nc, relIds, relRank, rescored } = this;
    rescored.length = 0;
    for (let u = 0; u < relIds.length; u++) {
      if (relRank[u] >= cap) continue;
      const r = relIds[u];
      const vr = values[r];
      const tr = this.tie(r);
      const t = this.t;
      let better = 0;
      for (let j = 0; j < nc; j++) {
        const s = scores[j];
        if (s < t || j === r || !this.inShortlist(j, s, scores)) continue;
        const v = values[j];
        if (v > vr || (v === vr && this.tie(j) < tr)) better++;
      }
      rescored.push(better);
    }
    this.addRescored(rescored, means, cap);
  }

  private addRescored(rescoredRanks: readonly number[], means: MetricMeans, shortLen: number): void {
    const cut = Math.min(RANKED, shortLen);
    const ranks = this.ranks;
    ranks.length = 0;
    for (const r of rescoredRanks) if (r < cut) ranks.push(r);
    ranks.sort((a, b) => a - b);
    means.add(ranks, ranks.length, this.relIds.length);
  }
}

export function quantizedRetrieval(
  q: Float32Array,
  nq: number,
  c: Float32Array,
  nc: number,
  width: number,
  dims: readonly number[],
  relevant: readonly ReadonlySet<number>[],
  o: QuantizedRetrievalOptions,
  scorerFactory?: PrefixScorerFactory,
): Map<number, Record<string, number>> {
  return runSync(quantizedRetrievalWork(q, nq, c, nc, width, dims, relevant, o, scorerFactory));
}

/**
 * Metrics at every dim of `dims` for every quantised precision of `o` (keys from precisionKey), from
 * full-width rows q [nq, width] and c [nc, width]. Cooperative: yields between blocks of queries.
 * `scorerFactory` (the wasm GEMM, metrics.ts PrefixScorer) computes the int8 dot products where they
 * are exact in float32 (and the int8 rescore values, in float32); otherwise they are summed in JS
 * (integers, and float64 rescore values as the library's einsum).
 */
export function* quantizedRetrievalWork(
  q: Float32Array,
  nq: number,
  c: Float32Array,
  nc: number,
  width: number,
  dims: readonly number[],
  relevant: readonly ReadonlySet<number>[],
  o: QuantizedRetrievalOptions,
  scorerFactory?: PrefixScorerFactory,
): Work<Map<number, Record<string, number>>> {
  if (!Number.isInteger(o.rescoreMultiplier) || o.rescoreMultiplier < 1)
    throw new Error(`rescoreMultiplier must be an integer ≥ 1, got ${o.rescoreMultiplier}`);
  const out = new Map<number, Record<string, number>>();
  const int8 = o.precisions.includes('int8');
  const binary = o.precisions.includes('binary');
  if (nq === 0 || nc === 0 || (!int8 && !binary)) return out;
  const shortSize = Math.min(nc, o.rescoreMultiplier * RANKED);
  const cap = o.rescore ? shortSize : nc;
  const ranker = new Ranker(nc);
  const scores = new Float64Array(nc);
  const values = new Float64Array(nc);
  // The GEMM's output blocks (int8 scores, rescore values), allocated once for the largest block of any dim.
  const gemmRows = Math.min(nq, Math.max(...dims.map((d) => scoreBlock(nc, [d]))));
  const gemmBuffers: Float32Array[] = [];
  const gemmOut = (k: number) => (gemmBuffers[k] ??= new Float32Array(gemmRows * nc));
  for (const dim of [...new Set(dims)]) {
    if (dim > width) throw new Error(`dim ${dim} > embedding width ${width}`);
    const m: Record<string, number> = {};
    out.set(dim, m);
    const qv = truncateNormalize(q, nq, width, dim);
    const cv = truncateNormalize(c, nc, width, dim);
    const block = scoreBlock(nc, [dim]);
    if (int8) {
      yield;
      const cal = int8Calibration(cv, nc, dim);
      const cq = quantizeInt8(cv, nc, dim, cal);
      const qq = quantizeInt8(qv, nq, dim, cal);
      const plain = new MetricMeans(nq);
      const rescored = new MetricMeans(nq);
      const scorer = dim <= EXACT_FLOAT_DOT_DIM ? scorerFactory?.(Float32Array.from(cq), nc, dim) : undefined;
      const qf = scorer ? Float32Array.from(qq) : undefined;
      const blockOut = scorer ? [gemmOut(0)] : undefined;
      // The rescore values (float query · int8 codes) of every document on the same GEMM: cheaper than a JS
      // loop over the shortlist, summed in float32 instead of float64 (rankings may differ only between
      // documents whose rescored values agree to ~1e-6 relative, as the float32 scores of metrics.ts).
      const rescoreOut = scorer && o.rescore ? [gemmOut(1)] : undefined;
      try {
        for (let from = 0; from < nq; from += block) {
          const rows = Math.min(block, nq - from);
          if (scorer) scorer.dots(qf!, from, rows, [dim], blockOut!);
          if (scorer && rescoreOut) scorer.dots(qv, from, rows, [dim], rescoreOut);
          for (let i = from; i < from + rows; i++) {
            let lo = Infinity;
            let hi = -Infinity;
            if (blockOut) {
              const b = blockOut[0];
              const base = (i - from) * nc;
              for (let j = 0; j < nc; j++) {
                const s = b[base + j];
                scores[j] = s;
                if (s < lo) lo = s;
                if (s > hi) hi = s;
              }
            } else {
              const qo = i * dim;
              for (let j = 0; j < nc; j++) {
                const co = j * dim;
                let s = 0;
                for (let k = 0; k < dim; k++) s = (s + qq[qo + k] * cq[co + k]) | 0;
                scores[j] = s;
                if (s < lo) lo = s;
                if (s > hi) hi = s;
              }
            }
            ranker.setRelevant(relevant[i]);
            ranker.rank(scores, lo, hi, plain, cap);
            if (o.rescore && ranker.anyShortlisted(cap)) {
              // The rescore values (float query · int8 codes) of the documents that may be shortlisted.
              const t = ranker.t;
              if (rescoreOut) {
                const row = rescoreOut[0];
                const base = (i - from) * nc;
                for (let j = 0; j < nc; j++) if (scores[j] >= t) values[j] = row[base + j];
              } else {
                const qo = i * dim;
                for (let j = 0; j < nc; j++) {
                  if (scores[j] < t) continue;
                  const co = j * dim;
                  let v = 0;
                  for (let k = 0; k < dim; k++) v += qv[qo + k] * cq[co + k];
                  values[j] = v;
                }
              }
              ranker.rescore(scores, values, cap, rescored);
            } else if (o.rescore) rescored.add(NO_RANKS, 0, relevant[i].size);
          }
          yield;
        }
      } finally {
        scorer?.dispose();
      }
      plain.into(m, 'int8', false);
      if (o.rescore) rescored.into(m, 'int8', true);
    }
    if (binary) {
      yield;
      const rowBytes = binaryRowBytes(dim);
      const words = Math.ceil(rowBytes / 4);
      const cb = quantizeBinary(cv, nc, dim);
      const cw = toWords(cb, nc, rowBytes, words);
      const qw = toWords(quantizeBinary(qv, nq, dim), nq, rowBytes, words);
      const plain = new MetricMeans(nq);
      const rescored = new MetricMeans(nq);
      const table = new Float64Array(rowBytes * 256);
      for (let i = 0; i < nq; i++) {
        const qo = i * words;
        if (words === 1) {
          const a = qw[qo];
          for (let j = 0; j < nc; j++) scores[j] = -popcount(a ^ cw[j]);
        } else {
          for (let j = 0; j < nc; j++) {
            const co = j * words;
            let h = 0;
            for (let w = 0; w < words; w++) h += popcount(qw[qo + w] ^ cw[co + w]);
            scores[j] = -h;
          }
        }
        ranker.setRelevant(relevant[i]);
        ranker.rank(scores, -dim, 0, plain, cap);
        if (o.rescore && !ranker.anyShortlisted(cap)) rescored.add(NO_RANKS, 0, relevant[i].size);
        else if (o.rescore) {
          // The float query · a document's bits, a byte at a time: table[b·256 + v] = Σ of the query's
          // components whose bit is set in byte value v at byte b (the padding bits past dim are never set).
          const qd = i * dim;
          for (let b = 0; b < rowBytes; b++) {
            const tb = b * 256;
            table[tb] = 0;
            for (let v = 1; v < 256; v++) {
              const k = 8 * b + Math.clz32(v & -v) - 24; // the lowest set bit of v is component k of the byte
              table[tb + v] = table[tb + (v & (v - 1))] + (k < dim ? qv[qd + k] : 0);
            }
          }
          const t = ranker.t;
          for (let j = 0; j < nc; j++) {
            if (scores[j] < t) continue;
            const co = j * rowBytes;
            let v = 0;
            for (let b = 0; b < rowBytes; b++) v += table[b * 256 + cb[co + b]];
            values[j] = v;
          }
          ranker.rescore(scores, values, cap, rescored);
        }
        if ((i + 1) % block === 0) yield;
      }
      plain.into(m, 'binary', false);
      if (o.rescore) rescored.into(m, 'binary', true);
    }
  }
  return out;
}

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
import { type PrefixScorerFactory, type RetrievalMetrics, scoreBlock, truncateNormalize } from './metrics';
import { int8Calibration, quantizeBinary, quantizeInt8, binaryRowBytes } from './quantize';

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

/** The int8 dot products go through a float32 GEMM only while they are exact: |Σ| ≤ dim · 128² ≤ 2^24. */
const EXACT_FLOAT_DOT_DIM = 1024;

const METRIC_NAMES = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'] as const satisfies readonly (keyof RetrievalMetrics)[];

/** Mean metrics over queries, accumulated in queryMetrics' order (metrics.ts) so the formulas are its own. */
class MetricMeans {
  readonly sums = new Float64Array(METRIC_NAMES.length);
  constructor(private readonly nq: number) {}

  /** One query: `ranks` = 0-based ranks (< RANKED, ascending) of its relevant documents found in the list. */
  add(ranks: readonly number[], count: number, nRel: number): void {
    let dcg = 0;
    let mrr = 0;
    let hits1 = 0;
    let hits10 = 0;
    let hits = 0;
    let apSum = 0;
    for (let t = 0; t < count; t++) {
      const r = ranks[t];
      hits++;
      apSum += hits / (r + 1);
      if (r < 10) {
        dcg += 1 / Math.log2(r + 2);
        if (mrr === 0) mrr = 1 / (r + 1);
        hits10++;
      }
      if (r < 1) hits1++;
    }
    let idcg = 0;
    for (let r = 0; r < Math.min(nRel, 10); r++) idcg += 1 / Math.log2(r + 2);
    const s = this.sums;
    const n = this.nq;
    s[0] += dcg / idcg / n;
    s[1] += mrr / n;
    s[2] += hits1 / nRel / n;
    s[3] += hits10 / nRel / n;
    s[4] += apSum / Math.min(nRel, 100) / n;
  }

  into(out: Record<string, number>, precision: Precision, rescore: boolean): void {
    METRIC_NAMES.forEach((m, i) => (out[precisionKey(m, precision, rescore)] = this.sums[i]));
  }
}

/** Bits set in a 32-bit word. */
function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Packed rows of `rowBytes` bytes → rows of `words` 32-bit words (zero-padded), for XOR + popcount a word at a time. */
function toWords(bytes: Uint8Array, rows: number, rowBytes: number, words: number): Uint32Array {
  const out = new Uint32Array(rows * words);
  const view = new Uint8Array(out.buffer);
  for (let r = 0; r < rows; r++) view.set(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), r * words * 4);
  return out;
}

/**
 * Per-query ranking under the tie rule, with scratch reused across queries (no allocation per query).
 * Scores are "higher is better" (a Hamming distance is passed negated). A relevant document's rank is the
 * count of documents ahead of it, over the whole list (no early exit: the cost does not depend on the
 * model, so bench/evalBench.ts times it on untrained weights).
 */
class Ranker {
  /** 1 for the current query's relevant documents. */
  private readonly rel: Uint8Array;
  private readonly relIds: number[] = [];
  private readonly ranks: number[] = [];
  private readonly heapV: Float64Array;
  private readonly heapJ: Int32Array;
  /** Shortlist (corpus ids) and its rescored values. */
  readonly short: Int32Array;
  readonly shortV: Float64Array;
  shortLen = 0;

  constructor(
    private readonly nc: number,
    shortlist: number,
  ) {
    this.rel = new Uint8Array(nc);
    this.heapV = new Float64Array(shortlist);
    this.heapJ = new Int32Array(shortlist);
    this.short = new Int32Array(shortlist);
    this.shortV = new Float64Array(shortlist);
  }

  setRelevant(relevant: ReadonlySet<number>): void {
    for (const j of this.relIds) this.rel[j] = 0;
    this.relIds.length = 0;
    for (const j of relevant) {
      if (!(j >= 0 && j < this.nc)) throw new Error(`relevant document ${j} is outside the corpus of ${this.nc}`);
      this.rel[j] = 1;
      this.relIds.push(j);
    }
  }

  /** Tie key: among equal scores the smaller ranks first — non-relevant documents in corpus order, then relevant ones. */
  private tie(j: number): number {
    return this.rel[j] ? this.nc + j : j;
  }

  /** Metrics of ranking the whole corpus by `scores` (index j), the list cut at RANKED. */
  rankAll(scores: Float64Array, means: MetricMeans): void {
    const { nc, ranks } = this;
    const cut = Math.min(RANKED, nc);
    ranks.length = 0;
    for (const r of this.relIds) {
      const v = scores[r];
      const tr = this.tie(r);
      let better = 0;
      for (let j = 0; j < nc; j++) {
        const s = scores[j];
        if (s > v || (s === v && this.tie(j) < tr)) better++;
      }
      if (better < cut) ranks.push(better);
    }
    ranks.sort((a, b) => a - b);
    means.add(ranks, ranks.length, this.relIds.length);
  }

  /** The best `size` documents by `scores` under the tie rule into `short` (in no particular order). */
  shortlist(scores: Float64Array, size: number): void {
    const { heapV: hv, heapJ: hj, nc } = this;
    const cap = Math.min(size, nc);
    // A heap of the best so far with the worst on top (lower score, or equal score and larger tie key).
    let n = 0;
    for (let j = 0; j < nc; j++) {
      const v = scores[j];
      const tj = this.tie(j);
      if (n < cap) {
        let m = n++;
        while (m > 0) {
          const p = (m - 1) >> 1;
          if (hv[p] < v || (hv[p] === v && this.tie(hj[p]) > tj)) break;
          hv[m] = hv[p];
          hj[m] = hj[p];
          m = p;
        }
        hv[m] = v;
        hj[m] = j;
        continue;
      }
      if (v < hv[0] || (v === hv[0] && tj > this.tie(hj[0]))) continue;
      // Replace the top and sink it.
      let m = 0;
      for (;;) {
        let c = 2 * m + 1;
        if (c >= n) break;
        if (c + 1 < n && (hv[c + 1] < hv[c] || (hv[c + 1] === hv[c] && this.tie(hj[c + 1]) > this.tie(hj[c])))) c++;
        if (!(hv[c] < v || (hv[c] === v && this.tie(hj[c]) > tj))) break;
        hv[m] = hv[c];
        hj[m] = hj[c];
        m = c;
      }
      hv[m] = v;
      hj[m] = j;
    }
    this.short.set(hj.subarray(0, n));
    this.shortLen = n;
  }

  /** Metrics of ranking the shortlist by its rescored values `shortV`, the list cut at RANKED. */
  rankShortlist(means: MetricMeans): void {
    const { short, shortV, shortLen: n, ranks, rel } = this;
    const cut = Math.min(RANKED, n);
    ranks.length = 0;
    for (let t = 0; t < n; t++) {
      const r = short[t];
      if (!rel[r]) continue;
      const v = shortV[t];
      const tr = this.tie(r);
      let better = 0;
      for (let u = 0; u < n; u++) {
        const s = shortV[u];
        if (s > v || (s === v && this.tie(short[u]) < tr)) better++;
      }
      if (better < cut) ranks.push(better);
    }
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
 * are exact in float32; otherwise they are summed in JS integers.
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
  const ranker = new Ranker(nc, shortSize);
  const scores = new Float64Array(nc);
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
      const blockOut = scorer ? [new Float32Array(Math.min(block, nq) * nc)] : undefined;
      try {
        for (let from = 0; from < nq; from += block) {
          const rows = Math.min(block, nq - from);
          if (scorer) scorer.dots(qf!, from, rows, [dim], blockOut!);
          for (let i = from; i < from + rows; i++) {
            if (blockOut) {
              const b = blockOut[0];
              const base = (i - from) * nc;
              for (let j = 0; j < nc; j++) scores[j] = b[base + j];
            } else {
              const qo = i * dim;
              for (let j = 0; j < nc; j++) {
                const co = j * dim;
                let s = 0;
                for (let k = 0; k < dim; k++) s = (s + qq[qo + k] * cq[co + k]) | 0;
                scores[j] = s;
              }
            }
            ranker.setRelevant(relevant[i]);
            ranker.rankAll(scores, plain);
            if (o.rescore) {
              ranker.shortlist(scores, shortSize);
              const qo = i * dim;
              for (let t = 0; t < ranker.shortLen; t++) {
                const co = ranker.short[t] * dim;
                let s = 0;
                for (let k = 0; k < dim; k++) s += qv[qo + k] * cq[co + k];
                ranker.shortV[t] = s;
              }
              ranker.rankShortlist(rescored);
            }
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
        ranker.rankAll(scores, plain);
        if (o.rescore) {
          ranker.shortlist(scores, shortSize);
          const qd = i * dim;
          for (let t = 0; t < ranker.shortLen; t++) {
            const co = ranker.short[t] * rowBytes;
            let s = 0;
            for (let k = 0; k < dim; k++) if (cb[co + (k >> 3)] & (0x80 >> (k & 7))) s += qv[qd + k];
            ranker.shortV[t] = s;
          }
          ranker.rankShortlist(rescored);
        }
        if ((i + 1) % block === 0) yield;
      }
      plain.into(m, 'binary', false);
      if (o.rescore) rescored.into(m, 'binary', true);
    }
  }
  return out;
}

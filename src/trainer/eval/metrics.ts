import { runSync, type Work } from '../cooperative';
/**
 * Evaluation metrics as pure functions on Float32Arrays (no tfjs): cosine similarity after truncating
 * embeddings to a Matryoshka dim, retrieval metrics as sentence-transformers' InformationRetrievalEvaluator
 * defines them (binary relevance), Spearman's rank correlation, and funnel retrieval.
 */

/** Rows [n, fullDim] truncated to their first `dim` values and L2-normalised: [n, dim]. */
export function truncateNormalize(emb: Float32Array, n: number, fullDim: number, dim: number): Float32Array {
  if (dim > fullDim) throw new Error(`dim ${dim} > embedding width ${fullDim}`);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) {
      const v = emb[i * fullDim + k];
      ss += v * v;
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let k = 0; k < dim; k++) out[i * dim + k] = emb[i * fullDim + k] * inv;
  }
  return out;
}

/** Dot products of normalised rows: [nq, nc] row-major (cosine similarity). */
export function similarityMatrix(q: Float32Array, nq: number, c: Float32Array, nc: number, dim: number): Float32Array {
  const out = new Float32Array(nq * nc);
  for (let i = 0; i < nq; i++) {
    const qo = i * dim;
    for (let j = 0; j < nc; j++) {
      const co = j * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += q[qo + k] * c[co + k];
      out[i * nc + j] = s;
    }
  }
  return out;
}

/** Indices of the k largest values of row `row` (ties: lower index first), best first. */
export function topK(scores: Float32Array, row: number, n: number, k: number, candidates?: number[]): number[] {
  const base = row * n;
  const count = candidates ? candidates.length : n;
  if (k <= 0) return [];
  // Bounded insertion: O(n log k) instead of sorting the whole row, same order (score desc, then index).
  const out: number[] = [];
  const better = (a: number, b: number) => {
    const sa = scores[base + a];
    const sb = scores[base + b];
    return sa > sb || (sa === sb && a < b);
  };
  for (let t = 0; t < count; t++) {
    const j = candidates ? candidates[t] : t;
    const v = scores[base + j];
    if (v !== v) return topKBySort(scores, row, n, k, candidates); // NaN: keep the sort's order
    if (out.length === k && !better(j, out[k - 1])) continue;
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (better(out[m], j)) lo = m + 1;
      else hi = m;
    }
    out.splice(lo, 0, j);
    if (out.length > k) out.pop();
  }
  return out;
}

function topKBySort(scores: Float32Array, row: number, n: number, k: number, candidates?: number[]): number[] {
  const base = row * n;
  const pool = candidates ?? Array.from({ length: n }, (_, j) => j);
  return pool
    .slice()
    .sort((a, b) => scores[base + b] - scores[base + a] || a - b)
    .slice(0, k);
}

export interface RetrievalMetrics {
  'ndcg@10': number;
  'mrr@10': number;
  'recall@1': number;
  'recall@10': number;
  'map@100': number;
}

/** Metrics of one query from its ranked list (best first) and its relevant corpus ids. */
export function queryMetrics(ranked: number[], relevant: ReadonlySet<number>): RetrievalMetrics {
  const nRel = relevant.size;
  if (nRel === 0) throw new Error('a query needs at least one relevant document');
  let dcg = 0;
  let mrr = 0;
  let hits1 = 0;
  let hits10 = 0;
  let hits = 0;
  let apSum = 0;
  for (let r = 0; r < Math.min(ranked.length, 100); r++) {
    if (!relevant.has(ranked[r])) continue;
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
  return {
    'ndcg@10': dcg / idcg,
    'mrr@10': mrr,
    'recall@1': hits1 / nRel,
    'recall@10': hits10 / nRel,
    'map@100': apSum / Math.min(nRel, 100),
  };
}

export function meanRetrieval(list: RetrievalMetrics[]): RetrievalMetrics {
  return mean(list);
}

function mean(list: RetrievalMetrics[]): RetrievalMetrics {
  const out: RetrievalMetrics = { 'ndcg@10': 0, 'mrr@10': 0, 'recall@1': 0, 'recall@10': 0, 'map@100': 0 };
  for (const m of list) for (const k of Object.keys(out) as (keyof RetrievalMetrics)[]) out[k] += m[k] / list.length;
  return out;
}

/** Mean retrieval metrics of queries against a corpus, given [nq, nc] similarities. */
export function retrievalMetrics(scores: Float32Array, nq: number, nc: number, relevant: ReadonlySet<number>[]): RetrievalMetrics {
  const list: RetrievalMetrics[] = [];
  for (let i = 0; i < nq; i++) list.push(queryMetrics(topK(scores, i, nc, 100), relevant[i]));
  return mean(list);
}

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && x[idx[j + 1]] === x[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** Spearman's rank correlation (Pearson of average ranks); 0 when either side is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error('spearman: lengths differ');
  return pearson(averageRanks(x), averageRanks(y));
}

/** Cosine similarity of row i of a with row i of b (both already normalised, [n, dim]). */
export function pairCosines(a: Float32Array, b: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += a[i * dim + k] * b[i * dim + k];
    out[i] = s;
  }
  return out;
}

export interface FunnelResult extends RetrievalMetrics {
  /** Share of the multiply-adds of an exhaustive search at rerankDim that the funnel saved. */
  macsSaved: number;
}

/**
 * Funnel retrieval: score the whole corpus at `shortlistDim`, keep the best `shortlistSize`, re-rank them
 * at `rerankDim`. Multiply-adds: nq·nc·s + nq·S·r against nq·nc·r exhaustively (normalisation ignored:
 * it is per text, not per pair).
 */
export function funnelRetrieval(
  qFull: Float32Array,
  nq: number,
  cFull: Float32Array,
  nc: number,
  fullDim: number,
  relevant: ReadonlySet<number>[],
  o: { shortlistDim: number; rerankDim: number; shortlistSize: number },
): FunnelResult {
  return runSync(funnelRetrievalWork(qFull, nq, cFull, nc, fullDim, relevant, o));
}

/** funnelRetrieval as cooperative work: shortlist scores a block of queries at a time, yielding between blocks. */
export function* funnelRetrievalWork(
  qFull: Float32Array,
  nq: number,
  cFull: Float32Array,
  nc: number,
  fullDim: number,
  relevant: ReadonlySet<number>[],
  o: { shortlistDim: number; rerankDim: number; shortlistSize: number },
): Work<FunnelResult> {
  const s = o.shortlistDim;
  const r = o.rerankDim;
  const size = Math.min(o.shortlistSize, nc);
  const qs = truncateNormalize(qFull, nq, fullDim, s);
  const cs = truncateNormalize(cFull, nc, fullDim, s);
  const block = queryBlock(nc);
  let short: Float32Array = new Float32Array(0);
  let shortFrom = 0;
  const qr = truncateNormalize(qFull, nq, fullDim, r);
  const cr = truncateNormalize(cFull, nc, fullDim, r);
  const list: RetrievalMetrics[] = [];
  const rerank = new Float32Array(nc);
  for (let i = 0; i < nq; i++) {
    if (i % block === 0) {
      if (i > 0) yield;
      const n = Math.min(block, nq - i);
      short = similarityMatrix(qs.subarray(i * s, (i + n) * s), n, cs, nc, s);
      shortFrom = i;
    }
    const cand = topK(short, i - shortFrom, nc, size);
    for (const j of cand) {
      let v = 0;
      for (let k = 0; k < r; k++) v += qr[i * r + k] * cr[j * r + k];
      rerank[j] = v;
    }
    list.push(queryMetrics(topK(rerank, 0, nc, 100, cand), relevant[i]));
  }
  const macs = nq * nc * s + nq * size * r;
  return { ...mean(list), macsSaved: 1 - macs / (nq * nc * r) };
}

/** Queries scored at once so that a block of scores stays near 16 MB whatever the corpus size. */
export function queryBlock(nc: number): number {
  return Math.max(1, Math.floor(4_000_000 / Math.max(1, nc)));
}

/** Retrieval metrics at one dim (normalized embeddings), a block of queries at a time, yielding between blocks. */
export function* retrievalWork(q: Float32Array, nq: number, c: Float32Array, nc: number, dim: number, relevant: ReadonlySet<number>[]): Work<RetrievalMetrics> {
  const block = queryBlock(nc);
  const list: RetrievalMetrics[] = [];
  for (let s = 0; s < nq; s += block) {
    const n = Math.min(block, nq - s);
    const scores = similarityMatrix(q.subarray(s * dim, (s + n) * dim), n, c, nc, dim);
    for (let i = 0; i < n; i++) list.push(queryMetrics(topK(scores, i, nc, 100), relevant[s + i]));
    yield;
  }
  return mean(list);
}

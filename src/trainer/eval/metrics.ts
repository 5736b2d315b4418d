import { runSync, type Work } from '../../common/cooperative';
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

/**
 * 1/‖row prefix‖ of every row of emb [n, width] at each dim of `dims` (ascending, ≤ width): inv[t][i],
 * 0 for a zero prefix. The squares are summed in truncateNormalize's order, so the factors are its own.
 */
export function prefixInverseNorms(emb: Float32Array, n: number, width: number, dims: readonly number[]): Float64Array[] {
  const inv = dims.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const o = i * width;
    let ss = 0;
    let k = 0;
    for (let t = 0; t < dims.length; t++) {
      for (const end = dims[t]; k < end; k++) {
        const v = emb[o + k];
        ss += v * v;
      }
      inv[t][i] = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    }
  }
  return inv;
}

/**
 * Raw prefix dot products on faster hardware than a JS loop (the trainer's wasm GEMM): for a corpus c
 * [nc, width] fixed at creation, `dots` writes out[t][(i − from)·nc + j] = Σ_{k < dims[t]} q[from + i, k]·c[j, k]
 * for the queries [from, from + rows) of q [·, width]. Sums in float32 rather than the JS loop's float64:
 * cosines agree to ~1e-6, so rankings may differ only between near-ties.
 */
export interface PrefixScorer {
  dots(q: Float32Array, from: number, rows: number, dims: readonly number[], out: Float32Array[]): void;
  dispose(): void;
}

/** Makes a PrefixScorer for a corpus, or undefined to score in JS. */
export type PrefixScorerFactory = (c: Float32Array, nc: number, width: number) => PrefixScorer | undefined;

/**
 * Cosine similarities of the queries [from, from + rows) of q [nq, width] with every row of c [nc, width]
 * at each dim of `dims` (ascending prefixes; rows not normalised, inverse norms from prefixInverseNorms):
 * out[t][(i − from)·nc + j]. Dims are prefixes, so one pass over the widest dim serves them all: the dot
 * product at dims[t + 1] goes on from the one at dims[t]. Four queries share each read of a corpus row.
 * Same values as similarityMatrix of truncateNormalize'd rows up to float rounding (the dot product is
 * scaled once instead of every component).
 */
export function prefixCosines(
  q: Float32Array,
  qInv: readonly Float64Array[],
  from: number,
  rows: number,
  c: Float32Array,
  cInv: readonly Float64Array[],
  nc: number,
  width: number,
  dims: readonly number[],
  out: Float32Array[],
  scorer?: PrefixScorer,
): void {
  const nd = dims.length;
  if (scorer) {
    scorer.dots(q, from, rows, dims, out);
    for (let t = 0; t < nd; t++) {
      const o = out[t];
      const qi = qInv[t];
      const ci = cInv[t];
      for (let i = 0; i < rows; i++) {
        const s = qi[from + i];
        const base = i * nc;
        for (let j = 0; j < nc; j++) o[base + j] *= s * ci[j];
      }
    }
    return;
  }
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const a0 = (from + i) * width;
    const a1 = a0 + width;
    const a2 = a1 + width;
    const a3 = a2 + width;
    for (let j = 0; j < nc; j++) {
      const co = j * width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (let t = 0; t < nd; t++) {
        for (const end = dims[t]; k < end; k++) {
          const x = c[co + k];
          s0 += q[a0 + k] * x;
          s1 += q[a1 + k] * x;
          s2 += q[a2 + k] * x;
          s3 += q[a3 + k] * x;
        }
        const qi = qInv[t];
        const ci = cInv[t][j];
        const o = out[t];
        const r = i * nc + j;
        o[r] = s0 * qi[from + i] * ci;
        o[r + nc] = s1 * qi[from + i + 1] * ci;
        o[r + 2 * nc] = s2 * qi[from + i + 2] * ci;
        o[r + 3 * nc] = s3 * qi[from + i + 3] * ci;
      }
    }
  }
  for (; i < rows; i++) {
    const a = (from + i) * width;
    for (let j = 0; j < nc; j++) {
      const co = j * width;
      let s = 0;
      let k = 0;
      for (let t = 0; t < nd; t++) {
        for (const end = dims[t]; k < end; k++) s += q[a + k] * c[co + k];
        out[t][i * nc + j] = s * qInv[t][from + i] * cInv[t][j];
      }
    }
  }
}

/**
 * Queries scored at once: about 32M multiply-adds per block, counting each pair's own overhead as 16 (a
 * slice of cooperative work), and at most 16 MB of scores.
 */
export function scoreBlock(nc: number, dims: readonly number[]): number {
  const widest = Math.max(0, ...dims);
  const cols = Math.max(1, nc);
  return Math.max(1, Math.min(Math.floor(32_000_000 / (cols * (widest + 16))), Math.floor(4_000_000 / (cols * Math.max(1, dims.length)))));
}

function checkDims(dims: readonly number[], width: number): void {
  for (const d of dims) if (d > width) throw new Error(`dim ${d} > embedding width ${width}`);
}

/** Indices of the k largest values of row `row` (ties: lower index first), best first. */
export function topK(scores: Float32Array, row: number, n: number, k: number, candidates?: number[]): number[] {
  const base = row * n;
  const count = candidates ? candidates.length : n;
  if (k <= 0) return [];
  // A heap of the best k so far with the worst on top: O(n log k), and most entries of a long row cost one
  // comparison with the top. Order as a full sort's: score desc, then index asc. (Comparisons written out:
  // this loop is most of the ranking time.)
  const cap = Math.min(k, count);
  const hv = new Float64Array(cap);
  const hj = new Int32Array(cap);
  let size = 0;
  for (let t = 0; t < count; t++) {
    const j = candidates ? candidates[t] : t;
    const v = scores[base + j];
    if (v !== v) return topKBySort(scores, row, n, k, candidates); // NaN: keep the sort's order
    if (size < cap) {
      let m = size++;
      while (m > 0) {
        const p = (m - 1) >> 1;
        const pv = hv[p];
        // Stop once the parent ranks below (v, j).
        if (pv < v || (pv === v && hj[p] > j)) break;
        hv[m] = pv;
        hj[m] = hj[p];
        m = p;
      }
      hv[m] = v;
      hj[m] = j;
      continue;
    }
    const top = hv[0];
    if (v < top || (v === top && j > hj[0])) continue;
    siftDown(hv, hj, size, v, j);
  }
  // Popping the worst each time fills the list from its end.
  const out = new Array<number>(size);
  while (size > 0) {
    out[size - 1] = hj[0];
    size--;
    if (size > 0) siftDown(hv, hj, size, hv[size], hj[size]);
  }
  return out;
}

/** Puts (v, j) at the top of the heap hv/hj of `size` entries (worst on top) and sinks it to its place. */
function siftDown(hv: Float64Array, hj: Int32Array, size: number, v: number, j: number): void {
  let m = 0;
  for (;;) {
    let c = 2 * m + 1;
    if (c >= size) break;
    let cv = hv[c];
    if (c + 1 < size) {
      const dv = hv[c + 1];
      if (dv < cv || (dv === cv && hj[c + 1] > hj[c])) {
        c++;
        cv = dv;
      }
    }
    // Stop once the worse child still ranks above (v, j).
    if (!(cv < v || (cv === v && hj[c] > j))) break;
    hv[m] = cv;
    hj[m] = hj[c];
    m = c;
  }
  hv[m] = v;
  hj[m] = j;
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
  if (relevant.size === 0) throw new Error('a query needs at least one relevant document');
  const ranks: number[] = [];
  for (let r = 0; r < Math.min(ranked.length, 100); r++) if (relevant.has(ranked[r])) ranks.push(r);
  return metricsFromRanks(ranks, ranks.length, relevant.size);
}

/**
 * Metrics of one query from where its relevant documents landed: `ranks[0..count)`, their 0-based ranks in
 * its ranked list (ascending, < 100), of `nRel` relevant documents in all. The one copy of the formulas,
 * shared by the float32 and the quantised evaluations (quantizedRetrieval.ts).
 */
export function metricsFromRanks(ranks: ArrayLike<number>, count: number, nRel: number): RetrievalMetrics {
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
  return {
    'ndcg@10': dcg / idcg,
    'mrr@10': mrr,
    'recall@1': hits1 / nRel,
    'recall@10': hits10 / nRel,
    'map@100': apSum / Math.min(nRel, 100),
  };
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
  for (let i = 0; i < n;) {
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
  blockRows = scoreBlock(nc, [o.shortlistDim]),
  scorerFactory?: PrefixScorerFactory,
): Work<FunnelResult> {
  const s = o.shortlistDim;
  const r = o.rerankDim;
  checkDims([s, r], fullDim);
  const size = Math.min(o.shortlistSize, nc);
  const qs = prefixInverseNorms(qFull, nq, fullDim, [s]);
  const cs = prefixInverseNorms(cFull, nc, fullDim, [s]);
  const [qr] = prefixInverseNorms(qFull, nq, fullDim, [r]);
  const [cr] = prefixInverseNorms(cFull, nc, fullDim, [r]);
  const block = Math.max(1, blockRows);
  const short = [new Float32Array(Math.min(block, nq) * nc)];
  let shortFrom = 0;
  const list: RetrievalMetrics[] = [];
  const rerank = new Float32Array(nc);
  const scorer = scorerFactory?.(cFull, nc, fullDim);
  try {
    for (let i = 0; i < nq; i++) {
      if (i % block === 0) {
        if (i > 0) yield;
        prefixCosines(qFull, qs, i, Math.min(block, nq - i), cFull, cs, nc, fullDim, [s], short, scorer);
        shortFrom = i;
      }
      const cand = topK(short[0], i - shortFrom, nc, size);
      const qo = i * fullDim;
      for (const j of cand) {
        const co = j * fullDim;
        let v = 0;
        for (let k = 0; k < r; k++) v += qFull[qo + k] * cFull[co + k];
        rerank[j] = v * qr[i] * cr[j];
      }
      list.push(queryMetrics(topK(rerank, 0, nc, 100, cand), relevant[i]));
    }
  } finally {
    scorer?.dispose();
  }
  const macs = nq * nc * s + nq * size * r;
  return { ...mean(list), macsSaved: 1 - macs / (nq * nc * r) };
}

/**
 * Retrieval metrics at every dim of `dims` from full-width rows (q [nq, width], c [nc, width], not
 * normalised): a block of queries at a time (scoreBlock unless `blockRows` is given), every dim in one
 * pass (prefixCosines), yielding between blocks.
 */
export function* retrievalByDimWork(
  q: Float32Array,
  nq: number,
  c: Float32Array,
  nc: number,
  width: number,
  dims: readonly number[],
  relevant: ReadonlySet<number>[],
  blockRows?: number,
  scorerFactory?: PrefixScorerFactory,
): Work<Map<number, RetrievalMetrics>> {
  checkDims(dims, width);
  const asc = [...new Set(dims)].sort((a, b) => a - b);
  const qInv = prefixInverseNorms(q, nq, width, asc);
  const cInv = prefixInverseNorms(c, nc, width, asc);
  const block = Math.max(1, blockRows ?? scoreBlock(nc, asc));
  const scores = asc.map(() => new Float32Array(Math.min(block, nq) * nc));
  const lists = asc.map((): RetrievalMetrics[] => []);
  const scorer = scorerFactory?.(c, nc, width);
  try {
    for (let s = 0; s < nq; s += block) {
      const n = Math.min(block, nq - s);
      prefixCosines(q, qInv, s, n, c, cInv, nc, width, asc, scores, scorer);
      for (let t = 0; t < asc.length; t++)
        for (let i = 0; i < n; i++) lists[t].push(queryMetrics(topK(scores[t], i, nc, 100), relevant[s + i]));
      yield;
    }
  } finally {
    scorer?.dispose();
  }
  return new Map(asc.map((d, t) => [d, mean(lists[t])]));
}

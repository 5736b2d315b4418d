/**
 * The dim × precision evaluation of the generated train.py: which precisions a config asks for, and the
 * Python of its PrecisionEvaluator (sentence-transformers' own quantize_embeddings for the codes; the search
 * and rescore of its semantic_search_usearch / _faiss written out in numpy with the bundled engine's
 * definitions — src/trainer/eval/quantizedRetrieval.ts — see the evaluator's docstring for why).
 */
import type { EvaluationConfig } from '../../protocol/runConfig';
import { PRECISIONS, type Precision } from '../../protocol/runFolder';

/** What the generated script evaluates besides float32: `evaluation.precisions`, `rescore`, `rescoreMultiplier`. */
export interface PrecisionSettings {
  /** The quantised precisions of `evaluation.precisions` (float32 is always measured: the reference). */
  quantised: Exclude<Precision, 'float32'>[];
  rescore: boolean;
  rescoreMultiplier: number;
}

/** The keys of `evaluation` it reads: the validated config has them filled in (the schema's defaults). */
type PrecisionFields = Pick<EvaluationConfig, 'precisions' | 'rescore' | 'rescoreMultiplier'>;

export function precisionSettings(ev: PrecisionFields): PrecisionSettings {
  return {
    quantised: PRECISIONS.filter((p): p is Exclude<Precision, 'float32'> => p !== 'float32' && ev.precisions.includes(p)),
    rescore: ev.rescore,
    rescoreMultiplier: ev.rescoreMultiplier,
  };
}

/** The retrieval metrics the generated evaluators report (ours; "spearman" is for scored pairs). */
export const RETRIEVAL_METRICS = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];

// The quantised evaluation (issue 20 §1): sentence-transformers' own quantize_embeddings for the codes, the search and
// rescore of its semantic_search_usearch / _faiss written out in numpy (see the PrecisionEvaluator docstring for why).
export const PRECISION_EVALUATOR = `

TOP_K = 100  # documents ranked per query: the largest cutoff among the metrics (map@100), the InformationRetrievalEvaluator's max_k


def truncate_unit(x, dim):
    """The first dim components of each row, L2-normalised (a zero row stays zero), in float32: computed in float64 and
    rounded once, as the bundled engine's truncateNormalize (src/trainer/eval/metrics.ts), so that the int8 codes of
    the two engines agree to the last bit."""
    x = np.asarray(x, dtype=np.float32)[:, :dim].astype(np.float64)
    ss = np.einsum("ij,ij->i", x, x)
    inv = np.where(ss > 0, 1 / np.sqrt(np.where(ss > 0, ss, 1)), 0)
    return (x * inv[:, None]).astype(np.float32)


def int8_codes(x, calibration):
    """quantize_embeddings(x, "int8", calibration_embeddings=calibration): per component, starts = the calibration minimum,
    steps = (max - min) / 255, code = (x - starts) / steps - 128 cast to int8 (sentence_transformers/quantization.py
    L417-434). numpy's cast is undefined where that value leaves [-128, 127] (a query beyond the corpus' range) or is NaN
    (a component with max == min); there the codes are the bundled engine's (src/trainer/eval/quantize.ts): the input is
    first clipped to half a step outside the range, which the cast truncates to -128 / 127 as a clamp would, and a
    constant component is -128."""
    lo, hi = calibration.min(axis=0), calibration.max(axis=0)
    half_step = (hi - lo) / np.float32(510)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        codes = quantize_embeddings(np.clip(x, lo - half_step, hi + half_step), precision="int8", calibration_embeddings=calibration)
    codes[:, hi == lo] = -128
    return codes


def binary_codes(x):
    """quantize_embeddings(x, "ubinary"): a bit per component, set where x > 0, eight to a byte, the first component in the
    high bit (np.packbits, quantization.py L439-440). The library packs the flattened array, so rows of a width that is not
    a multiple of 8 would share bytes: each row is padded with zeros (bits 0) to whole bytes first, as quantize.ts does."""
    pad = -x.shape[1] % 8
    if pad:
        x = np.concatenate([x, np.zeros((x.shape[0], pad), dtype=x.dtype)], axis=1)
    return quantize_embeddings(x, precision="ubinary")


def best_first(scores, n, relevant):
    """Per row, the columns of the n largest scores, best first. Ties are pessimistic, as in the bundled engine
    (src/trainer/eval/quantizedRetrieval.ts): among equal scores every non-relevant column (relevant[i, j] False) ranks
    before the relevant ones, each group in column order (the columns are in corpus order). Corpus order alone would
    favour the relevant document: the eval set numbers each query's positive before its distractors. Integer scores
    (the quantised indexes') go through a partial sort of a key that is unique per column,
    ((best - score) * 2 + relevant) * columns + column: the same order as a full sort, at a fraction of its cost."""
    columns = scores.shape[1]
    if scores.dtype.kind != "i":
        order = np.lexsort((np.broadcast_to(np.arange(columns), scores.shape), relevant, -scores), axis=1)
        return order[:, :n]
    key = ((scores.max(axis=1, keepdims=True) - scores) * 2 + relevant) * columns + np.arange(columns)
    if n < columns:
        key = np.partition(key, n - 1, axis=1)[:, :n]
    return np.sort(key, axis=1) % columns


def retrieval_metrics(hits, n_relevant):
    """Per query, from hits[i, r] (the document ranked r by query i is relevant) and the count of relevant documents:
    NDCG@10, MRR@10, Recall@1/10, MAP@100 with binary relevance, as sentence_transformers/evaluation/
    InformationRetrievalEvaluator.py compute_metrics defines them (L437-500) and the bundled trainer computes them
    (src/trainer/eval/metrics.ts queryMetrics)."""
    h = hits[:, :100].astype(np.float64)
    n = np.maximum(np.asarray(n_relevant), 1)
    discount = 1 / np.log2(np.arange(2, 12))
    top10 = h[:, :10]
    found = top10.any(axis=1)
    precision_at = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
    return {
        "ndcg@10": top10 @ discount[: top10.shape[1]] / np.cumsum(discount)[np.minimum(n, 10) - 1],
        "mrr@10": np.where(found, 1 / (top10.argmax(axis=1) + 1), 0.0),
        "recall@1": h[:, :1].sum(axis=1) / n,
        "recall@10": top10.sum(axis=1) / n,
        "map@100": (precision_at * h).sum(axis=1) / np.minimum(n, 100),
    }


def precision_metrics(q, c, relevant, dims, precisions, rescore, rescore_multiplier, top_k=TOP_K, chunk=256):
    """Retrieval metrics of queries q against corpus c (embeddings at full width, float32) at every dim and quantised
    precision: {dim: {"int8" | "int8_rescore" | "binary" | "binary_rescore": {metric: mean over queries}}}.

    Per dim: truncate and re-normalise (cosine on truncated embeddings is what both engines score at float32; the unit
    vectors are what is quantised, in the bundled engine too). int8: corpus and queries quantised with the corpus at that
    dim as calibration, scored by the inner product of the codes (semantic_search_usearch's int8 index, Index(metric="ip",
    dtype="i8"), quantization.py L277-282). binary: ubinary codes scored by Hamming distance, smaller is better (its ubinary
    index, metric="hamming", L289-294). Rescored: the index's best rescore_multiplier * top_k documents re-scored by the
    float32 query against the document codes (int8 values; binary bits unpacked to 0 / 1), the best top_k kept
    (L300-306 k *= rescore_multiplier, L337-352 np.einsum("ij,ikj->ik", ...)). Ties at every stage (who enters the shortlist, and the order after the
    rescore) pessimistic, as best_first breaks them: non-relevant documents first, then relevant ones, each in corpus order."""
    relevant = [sorted(set(r)) for r in relevant]
    n_relevant = np.array([len(r) for r in relevant])
    out = {}
    for dim in dims:
        qf, cf = truncate_unit(q, dim), truncate_unit(c, dim)
        out[dim] = {}
        for precision in precisions:
            if precision == "int8":
                docs = int8_codes(cf, cf).astype(np.float64)
                queries = int8_codes(qf, cf).astype(np.float64)
                doc_ones = None
            elif precision == "binary":
                # Bits unpacked to 0 / 1; the padding bits (zero in every row) dropped.
                docs = np.unpackbits(binary_codes(cf), axis=1)[:, :dim].astype(np.float64)
                queries = np.unpackbits(binary_codes(qf), axis=1)[:, :dim].astype(np.float64)
                doc_ones = docs.sum(axis=1)
            else:
                continue  # float32: the InformationRetrievalEvaluator's
            variants = [(precision, False)] + ([(precision + "_rescore", True)] if rescore else [])
            per_query = {name: [] for name, _ in variants}
            for start in range(0, len(qf), chunk):
                rows = slice(start, start + chunk)
                # Products of integers in float64 (on BLAS; exact, far below 2**53), as integers.
                index_scores = queries[rows] @ docs.T
                if doc_ones is not None:  # Hamming distance = ones(q) + ones(d) - 2 q.d, negated to a score
                    index_scores = 2 * index_scores - queries[rows].sum(axis=1, keepdims=True) - doc_ones
                index_scores = np.rint(index_scores).astype(np.int64)
                truth = np.zeros((index_scores.shape[0], len(cf)), dtype=bool)
                for i, docs_i in enumerate(relevant[rows]):
                    truth[i, docs_i] = True
                for name, rescored in variants:
                    if rescored:
                        # The shortlist in corpus order, so that column order is corpus order for the ties of the rescore.
                        shortlist = np.sort(best_first(index_scores, top_k * rescore_multiplier, truth), axis=1)
                        # The library's np.einsum over the shortlisted codes (L349), as one BLAS product then a gather.
                        new_scores = np.take_along_axis(qf[rows].astype(np.float64) @ docs.T, shortlist, axis=1)
                        short_truth = np.take_along_axis(truth, shortlist, axis=1)
                        ranked = np.take_along_axis(shortlist, best_first(new_scores, top_k, short_truth), axis=1)
                    else:
                        ranked = best_first(index_scores, top_k, truth)
                    per_query[name].append(retrieval_metrics(np.take_along_axis(truth, ranked, axis=1), n_relevant[rows]))
            for name, parts in per_query.items():
                if parts:
                    out[dim][name] = {m: float(np.mean(np.concatenate([p[m] for p in parts]))) for m in parts[0]}
    return out


class PrecisionEvaluator(SentenceEvaluator):
    """Retrieval at the quantised precisions of evaluation.precisions (PRECISIONS), at every dim of DIMS: precision_metrics.
    Reports dim_<d>_<precision>_<metric> and, with RESCORE, dim_<d>_<precision>_rescore_<metric> (dim_64_int8_ndcg@10,
    dim_64_binary_rescore_ndcg@10), which the callback files as byDim["64"]["int8:ndcg@10"], ["binary+rescore:ndcg@10"];
    float32 stays the InformationRetrievalEvaluators' (the bare keys).

    semantic_search_faiss / semantic_search_usearch are not called even where faiss / usearch are installed (neither is a
    dependency of sentence-transformers): their ties follow the index's internals and their rescore sorts with an unstable
    np.argsort (quantization.py L350), so the numbers would depend on what happens to be installed. precision_metrics
    scores as they do, with the bundled engine's pessimistic ties (best_first)."""

    def __init__(self, queries, corpus, relevant, dims, precisions, rescore, rescore_multiplier, metrics):
        super().__init__()
        self.queries, self.corpus, self.relevant = queries, corpus, relevant
        self.dims, self.precisions, self.metrics = dims, precisions, metrics
        self.rescore, self.rescore_multiplier = rescore, rescore_multiplier
        quantised = [p for p in precisions if p != "float32"]
        self.primary_metric = f"dim_{dims[0]}_{quantised[0]}_{metrics[0]}"

    def __call__(self, model, output_path=None, epoch=-1, steps=-1):
        # Encoded as the InformationRetrievalEvaluator encodes (sentence-transformers >= 5: encode_query / encode_document,
        # with the model's prompts), once at full width for every dim.
        q = getattr(model, "encode_query", model.encode)(self.queries, convert_to_numpy=True)
        c = getattr(model, "encode_document", model.encode)(self.corpus, convert_to_numpy=True)
        results = precision_metrics(q, c, self.relevant, self.dims, self.precisions, self.rescore, self.rescore_multiplier)
        return {
            f"dim_{dim}_{variant}_{metric}": value
            for dim, variants in results.items()
            for variant, values in variants.items()
            for metric, value in values.items()
            if metric in self.metrics
        }
`;

/**
 * engine "sentence-transformers": the run config → a readable, self-contained train.py that builds the
 * real sentence-transformers objects (model, loss, evaluators, SentenceTransformerTrainingArguments) and
 * tracks the run with python/matryoshka_lab_callback.py (copied beside it). The data it reads is what
 * the bundled trainer would train and evaluate on, exported by ./data.ts: data/train.jsonl (columns in
 * loss order, "label" for scores) and data/eval.json (queries, corpus, relevant ids, scored pairs).
 * Evaluation: float32 by an InformationRetrievalEvaluator per dim; the quantised precisions of
 * `evaluation.precisions` by the script's PrecisionEvaluator (the PRECISION block below: the recipe, its
 * sources and why semantic_search_faiss / _usearch are not called).
 *
 * Pure: no file system, no process. The user can read, rerun (`python train.py`) or edit the output.
 */
import type { BaseLossConfig, EvaluationConfig, RunConfig, SingleLossConfig } from '../../protocol/runConfig';
import { PRECISIONS, type Precision } from '../../protocol/runFolder';
import type { ResolvedRunConfig } from '../../config/resolve';

/** Oldest sentence-transformers any generated script runs on: MatryoshkaLoss over the Cached* losses. (The
 *  quantised evaluation's quantize_embeddings(..., calibration_embeddings=) is older: v3.4.0's
 *  sentence_transformers/quantization.py L371-440 has it with the same formulas as 85ec645's.) */
export const MIN_ST_VERSION = '3.4.0';

export interface ScriptInput {
  /** The validated config (src/config/resolve.ts): its loss terms are read from there. */
  resolved: ResolvedRunConfig;
  /** The model to load: an absolute folder or a Hugging Face Hub id. */
  model: string;
  /** Each GIST guide (config value → absolute folder / Hub id); "self" needs no entry. */
  guides: Record<string, string>;
  /** The eval split has scored pairs (data/eval.json "pairs"): Spearman per dim. */
  scoredEval: boolean;
  /** Where the config came from, for the header. */
  configFile?: string;
}

/** A JSON value as a Python literal. */
export function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v); // 2e-7, 0.00001, 20: Python reads JavaScript's number text
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${JSON.stringify(k)}: ${py(x)}`)
    .join(', ')}}`;
}

/** a.b.c ≥ x.y.z */
export function versionAtLeast(found: string, wanted: string): boolean {
  const parse = (s: string) => (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s) ?? []).slice(1, 4).map((x) => Number(x ?? 0));
  const a = parse(found);
  const b = parse(wanted);
  if (a.length < 3) return false;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

const isGist = (b: BaseLossConfig): b is Extract<BaseLossConfig, { type: 'GISTEmbedLoss' | 'CachedGISTEmbedLoss' }> =>
  b.type === 'GISTEmbedLoss' || b.type === 'CachedGISTEmbedLoss';
const IN_BATCH_NEGATIVES = /MultipleNegatives|GISTEmbed/;

/** The sentence-transformers version a config needs, and why (for the error that names it). */
export function requiredVersion(resolved: ResolvedRunConfig): { version: string; why: string } {
  const { config, loss } = resolved;
  let need = { version: MIN_ST_VERSION, why: 'SentenceTransformerTrainer with MatryoshkaLoss over the Cached* losses' };
  const bump = (version: string, why: string) => {
    if (!versionAtLeast(need.version, version)) need = { version, why };
  };
  for (const { base } of loss.terms) {
    if (isGist(base)) {
      if (base.marginStrategy !== 'absolute' || base.margin !== 0) bump('4.1.0', `${base.type} margin_strategy / margin`);
      if (!base.contrastAnchors || !base.contrastPositives) bump('5.1.0', `${base.type} contrast_anchors / contrast_positives`);
    }
  }
  if (config.devices > 1 && loss.terms.some((t) => IN_BATCH_NEGATIVES.test(t.base.type)))
    bump('5.1.0', 'in-batch negatives gathered across devices (gather_across_devices)');
  return need;
}

const SCHEDULERS: Record<RunConfig['training']['scheduler'], string> = { linear: 'linear', cosine: 'cosine', constant: 'constant' };

function baseLossCall(b: BaseLossConfig, gather: boolean, guideVar: string | undefined): string {
  const kw: string[] = ['model'];
  const arg = (k: string, v: unknown) => kw.push(`${k}=${py(v)}`);
  switch (b.type) {
    case 'MultipleNegativesRankingLoss':
    case 'MultipleNegativesSymmetricRankingLoss':
    case 'CachedMultipleNegativesRankingLoss':
    case 'CachedMultipleNegativesSymmetricRankingLoss':
      arg('scale', b.scale);
      break;
    case 'GISTEmbedLoss':
    case 'CachedGISTEmbedLoss':
      kw.push(`guide=${guideVar}`);
      arg('temperature', b.temperature);
      // Only what differs from sentence-transformers' defaults, so older versions run what they can.
      if (b.marginStrategy !== 'absolute') arg('margin_strategy', b.marginStrategy);
      if (b.margin !== 0) arg('margin', b.margin);
      if (!b.contrastAnchors) arg('contrast_anchors', false);
      if (!b.contrastPositives) arg('contrast_positives', false);
      break;
    case 'CoSENTLoss':
    case 'AnglELoss':
      arg('scale', b.scale);
      break;
  }
  if ('miniBatchSize' in b) arg('mini_batch_size', b.miniBatchSize);
  if (gather && IN_BATCH_NEGATIVES.test(b.type)) arg('gather_across_devices', true);
  return `losses.${b.type}(${kw.join(', ')})`;
}

function singleLossCall(l: SingleLossConfig, gather: boolean, guideVar: string | undefined): string {
  if (l.type !== 'MatryoshkaLoss') return baseLossCall(l, gather, guideVar);
  return [
    'losses.MatryoshkaLoss(',
    `        model,`,
    `        ${baseLossCall(l.loss, gather, guideVar)},`,
    `        matryoshka_dims=${py(l.matryoshkaDims)},`,
    `        matryoshka_weights=${py(l.matryoshkaWeights)},`,
    `        n_dims_per_step=${py(l.nDimsPerStep)},`,
    '    )',
  ].join('\n');
}

/** The `build_loss(model)` body: one loss, or a weighted sum of terms. */
function lossSection({ config, loss }: ResolvedRunConfig, guides: Record<string, string>): string {
  const gather = config.devices > 1;
  const out: string[] = [];
  const guideVars = new Map<string, string>();
  const terms = loss.terms;
  for (const { base } of terms) {
    if (!isGist(base) || guideVars.has(base.guide)) continue;
    const v = `guide_${guideVars.size}`;
    guideVars.set(base.guide, v);
    if (base.guide === 'self') out.push(`    ${v} = load_model(MODEL)  # guide "self": a frozen copy of the initial model`);
    else out.push(`    ${v} = load_model(${py(guides[base.guide] ?? base.guide)})  # the guide model (frozen)`);
  }
  const guideOf = (l: SingleLossConfig) => {
    const b = l.type === 'MatryoshkaLoss' ? l.loss : l;
    return isGist(b) ? guideVars.get(b.guide) : undefined;
  };
  if (!Array.isArray(config.loss)) {
    out.push(`    return ${singleLossCall(config.loss, gather, guideOf(config.loss))}`);
  } else {
    out.push('    return WeightedSumLoss(model, [');
    for (const t of config.loss)
      out.push(`        (${py(t.weight)}, ${singleLossCall(t.loss, gather, guideOf(t.loss)).replace(/\n {4}/g, '\n            ')}),`);
    out.push('    ])');
  }
  return out.join('\n');
}

const WEIGHTED_SUM = `

class WeightedSumLoss(torch.nn.Module):
    """Σ weight · loss over the same batch (Matryoshka Lab's list of {weight, loss} terms)."""

    def __init__(self, model, terms):
        super().__init__()
        self.model = model
        self.weights = [w for w, _ in terms]
        self.terms = torch.nn.ModuleList([loss for _, loss in terms])

    def forward(self, sentence_features, labels):
        return sum(w * loss(sentence_features, labels) for w, loss in zip(self.weights, self.terms))
`;

const FUNNEL = `

class FunnelEvaluator(SentenceEvaluator):
    """Funnel retrieval (Matryoshka Lab's evaluation.funnel): score the corpus at SHORTLIST_DIM, keep the best
    shortlist_size, re-rank them at RERANK_DIM. Reports its metrics and the share of multiply-adds saved
    against exhaustive retrieval at the re-rank dim, as funnel_<metric> (the callback's "funnel:<metric>")."""

    def __init__(self, queries, corpus, relevant, shortlist_dim, rerank_dim, shortlist_size):
        super().__init__()
        self.queries, self.corpus, self.relevant = queries, corpus, relevant
        self.s, self.r, self.size = shortlist_dim, rerank_dim, min(shortlist_size, len(corpus))
        self.primary_metric = "funnel_ndcg@10"

    def __call__(self, model, output_path=None, epoch=-1, steps=-1):
        def unit(x, d):
            x = x[:, :d]
            return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

        q = model.encode(self.queries, convert_to_numpy=True)
        c = model.encode(self.corpus, convert_to_numpy=True)
        qs, cs, qr, cr = unit(q, self.s), unit(c, self.s), unit(q, self.r), unit(c, self.r)
        per_query = []
        for i in range(len(self.queries)):
            shortlist = np.argsort(-(cs @ qs[i]), kind="stable")[: self.size]
            reranked = shortlist[np.argsort(-(cr[shortlist] @ qr[i]), kind="stable")][:100]
            per_query.append(ranking_metrics(list(reranked), self.relevant[i]))
        nq, nc = len(self.queries), len(self.corpus)
        out = {f"funnel_{k}": float(np.mean([m[k] for m in per_query])) for k in per_query[0]}
        out["funnel_macsSaved"] = 1 - (nq * nc * self.s + nq * self.size * self.r) / (nq * nc * self.r)
        out["funnel_shortlistDim"] = float(self.s)
        out["funnel_rerankDim"] = float(self.r)
        return out


def ranking_metrics(ranked, relevant):
    """NDCG@10, MRR@10, Recall@1/10, MAP@100 of one query (as the bundled trainer computes them)."""
    dcg = mrr = ap = 0.0
    hits = hits1 = hits10 = 0
    for r, doc in enumerate(ranked[:100]):
        if doc not in relevant:
            continue
        hits += 1
        ap += hits / (r + 1)
        if r < 10:
            dcg += 1 / np.log2(r + 2)
            mrr = mrr or 1 / (r + 1)
            hits10 += 1
        hits1 += r < 1
    idcg = sum(1 / np.log2(r + 2) for r in range(min(len(relevant), 10)))
    n = len(relevant)
    return {"ndcg@10": dcg / idcg, "mrr@10": mrr, "recall@1": hits1 / n, "recall@10": hits10 / n, "map@100": ap / min(n, 100)}
`;

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
const RETRIEVAL_METRICS = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];

// The quantised evaluation (issue 20 §1): sentence-transformers' own quantize_embeddings for the codes, the search and
// rescore of its semantic_search_usearch / _faiss written out in numpy (see the PrecisionEvaluator docstring for why).
const PRECISION = `

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

/** train.py for a resolved config whose engine is sentence-transformers. */
export function generateScript(input: ScriptInput): string {
  const { resolved } = input;
  const { config } = resolved;
  if (!('pretrained' in config.model)) throw new Error('engine "sentence-transformers" needs model.pretrained');
  const pre = config.model.pretrained;
  const t = config.training;
  const ev = config.evaluation;
  const dims = ev.dims;
  const metrics = new Set(ev.metrics);
  const weighted = Array.isArray(config.loss);
  const inBatch = resolved.loss.terms.some((x) => IN_BATCH_NEGATIVES.test(x.base.type));
  const need = requiredVersion(resolved);
  const scheduler = t.scheduler === 'constant' && t.warmupSteps > 0 ? 'constant_with_warmup' : SCHEDULERS[t.scheduler];
  const perDevice = t.batchSize / config.devices;
  const retrievalKs = { ndcg: [10], mrr: [10], recall: [1, 10].filter((k) => metrics.has(`recall@${k}`)), map: [100] };
  const prec = precisionSettings(ev);
  const precMetrics = RETRIEVAL_METRICS.filter((m) => metrics.has(m));
  const quantised = prec.quantised.length > 0 && precMetrics.length > 0;

  const L: string[] = [];
  const w = (...lines: string[]) => L.push(...lines);
  w(
    '#!/usr/bin/env python3',
    `"""Matryoshka Lab run "${config.name.replace(/["\\]/g, '')}" on sentence-transformers (>= ${need.version}).`,
    '',
    `Generated from ${input.configFile ? input.configFile.replace(/["\\]/g, '/') : 'a run config'} by Matryoshka Lab; config.json beside this file is`,
    'the resolved config. Rerun:  python train.py            (several GPUs: torchrun --nproc_per_node N train.py)',
    '       resume:  python train.py --resume   (from the last checkpoint in checkpoints/)',
    'Data: data/train.jsonl and data/eval.json are the rows and eval set the bundled trainer would use.',
    '"""',
    '',
    'import json',
    'import os',
    'import sys',
    '',
    'import numpy as np',
    'import torch',
    'from datasets import Dataset',
    'from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses, models',
    'from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator, SentenceEvaluator, SequentialEvaluator',
    ...(quantised ? ['from sentence_transformers.quantization import quantize_embeddings'] : []),
    'from sentence_transformers.training_args import BatchSamplers',
    '',
    'HERE = os.path.dirname(os.path.abspath(__file__))',
    'sys.path.insert(0, HERE)',
    'from matryoshka_lab_callback import MatryoshkaLabCallback  # noqa: E402',
    '',
    'RUN_DIR = os.environ.get("MRL_RUN_DIR") or HERE',
    'RESUME = "--resume" in sys.argv[1:]',
    `NAME = ${py(config.name)}`,
    `MODEL = ${py(input.model)}`,
    `MAX_SEQ_LENGTH = ${py(pre.maxSeqLength ?? null)}  # None: the model's own (sentence_bert_config.json)`,
    `POOLING = ${py(pre.pooling ?? null)}  # None: the model's own (1_Pooling/config.json)`,
    `DIMS = ${py(dims)}  # evaluated at each, by truncation`,
    ...(quantised
      ? [
          `PRECISIONS = ${py(['float32', ...prec.quantised])}  # evaluation.precisions: float32 by the InformationRetrievalEvaluators, the others by PrecisionEvaluator`,
          `RESCORE = ${py(prec.rescore)}  # evaluation.rescore: the quantised shortlist re-scored with the float32 query too (<precision>+rescore)`,
          `RESCORE_MULTIPLIER = ${py(prec.rescoreMultiplier)}  # evaluation.rescoreMultiplier: shortlist RESCORE_MULTIPLIER * TOP_K documents`,
        ]
      : []),
    '',
    '',
    'def load_model(name_or_path):',
    '    model = SentenceTransformer(name_or_path)',
    '    if MAX_SEQ_LENGTH is not None:',
    '        model.max_seq_length = MAX_SEQ_LENGTH',
    '    if POOLING is not None:',
    '        for i, module in enumerate(model):',
    '            if isinstance(module, models.Pooling):',
    '                model[i] = models.Pooling(module.word_embedding_dimension, pooling_mode=POOLING)',
    '    return model',
    '',
    '',
    'def read_jsonl(path):',
    '    with open(path, encoding="utf-8") as f:',
    '        return [json.loads(line) for line in f if line.strip()]',
  );
  if (weighted) w(WEIGHTED_SUM.trimEnd());
  if (ev.funnel) w(FUNNEL.trimEnd());
  if (quantised) w(PRECISION.trimEnd());
  w('', '', 'def build_loss(model):', lossSection(resolved, input.guides), '', '');
  w(
    'def build_evaluator():',
    '    with open(os.path.join(RUN_DIR, "data", "eval.json"), encoding="utf-8") as f:',
    '        ev = json.load(f)',
    '    queries = {f"q{i}": text for i, text in enumerate(ev["queries"])}',
    '    corpus = {f"d{i}": text for i, text in enumerate(ev["corpus"])}',
    '    relevant = {f"q{i}": {f"d{j}" for j in docs} for i, docs in enumerate(ev["relevant"])}',
    '    evaluators = []',
    ...(quantised
      ? [
          '    if queries:',
          "        # First, so that the SequentialEvaluator's score (its last evaluator's) stays what it was without precisions.",
          `        evaluators.append(PrecisionEvaluator(ev["queries"], ev["corpus"], ev["relevant"], DIMS, PRECISIONS, RESCORE, RESCORE_MULTIPLIER, ${py(precMetrics)}))`,
        ]
      : []),
    '    for dim in DIMS:',
    '        # name "dim_<d>": the callback files these results under byDim["<d>"]',
    '        if queries:',
    '            evaluators.append(InformationRetrievalEvaluator(',
    '                queries, corpus, relevant, name=f"dim_{dim}", truncate_dim=dim,',
    `                ndcg_at_k=${py(retrievalKs.ndcg)}, mrr_at_k=${py(retrievalKs.mrr)}, accuracy_at_k=[1], precision_recall_at_k=${py(retrievalKs.recall.length ? retrievalKs.recall : [1])}, map_at_k=${py(retrievalKs.map)},`,
    '            ))',
  );
  if (input.scoredEval && metrics.has('spearman')) {
    w(
      '        pairs = ev["pairs"]',
      '        evaluators.append(EmbeddingSimilarityEvaluator(pairs["a"], pairs["b"], pairs["scores"], name=f"dim_{dim}", truncate_dim=dim, similarity_fn_names=["cosine"]))',
    );
  }
  if (ev.funnel) {
    const f = ev.funnel;
    w(
      `    if queries:`,
      `        evaluators.append(FunnelEvaluator(ev["queries"], ev["corpus"], [set(r) for r in ev["relevant"]], ${f.shortlistDim}, ${f.rerankDim}, ${f.shortlistSize}))`,
    );
  }
  w('    return SequentialEvaluator(evaluators)', '', '');
  w(
    'def main():',
    '    model = load_model(MODEL)',
    '    train_dataset = Dataset.from_list(read_jsonl(os.path.join(RUN_DIR, "data", "train.jsonl")))',
    '    args = SentenceTransformerTrainingArguments(',
    '        output_dir=os.path.join(RUN_DIR, "checkpoints"),',
    `        max_steps=${t.maxSteps},`,
    `        num_train_epochs=${t.epochs},`,
    `        per_device_train_batch_size=${perDevice},` +
      (config.devices > 1 ? `  # batchSize ${t.batchSize} over ${config.devices} devices` : ''),
    `        learning_rate=${py(t.learningRate)},`,
    `        warmup_steps=${t.warmupSteps},`,
    `        lr_scheduler_type=${py(scheduler)},`,
    `        weight_decay=${py(t.weightDecay)},`,
    `        max_grad_norm=${py(t.maxGradNorm)},`,
    `        seed=${config.seed},`,
    `        data_seed=${config.seed},`,
    `        logging_steps=${t.logEvery},`,
    '        eval_strategy="steps",',
    t.evalEvery > 0 ? `        eval_steps=${t.evalEvery},` : '        eval_steps=10**9,  # evalEvery 0: only at step 0 and at the end',
    '        eval_on_start=True,',
    `        save_strategy=${py(t.checkpointEvery > 0 ? 'steps' : 'no')},`,
    ...(t.checkpointEvery > 0 ? [`        save_steps=${t.checkpointEvery},`] : []),
    `        batch_sampler=${inBatch ? 'BatchSamplers.NO_DUPLICATES,  # a repeated text in a batch would be a false negative' : 'BatchSamplers.BATCH_SAMPLER,'}`,
    '        report_to="none",',
    '        run_name=NAME,',
    '    )',
    '    loss = build_loss(model)',
    '    evaluator = build_evaluator()',
    '    tracker = MatryoshkaLabCallback(run_dir=RUN_DIR, name=NAME, finish_on_train_end=False)',
    '    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_dataset, loss=loss, evaluator=evaluator, callbacks=[tracker])',
    '    try:',
    '        trainer.train(resume_from_checkpoint=True if RESUME else None)',
    '        if not tracker.stop_requested:',
    '            if tracker.last_eval_step != trainer.state.global_step:',
    '                trainer.evaluate()  # the final evaluation, when the last step was not an eval step',
    '            if trainer.is_world_process_zero():',
    '                model.save(os.path.join(RUN_DIR, "model"))',
    '        tracker.finish()',
    '    except BaseException as e:',
    '        tracker.fail(e)',
    '        raise',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  );
  return L.join('\n');
}

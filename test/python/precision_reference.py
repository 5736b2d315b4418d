"""An independent reference for the quantised retrieval metrics of the generated train.py (issue 20 §1), written
from the formulas of sentence-transformers' source (commit 85ec645; v3.4.0 reads the same), in plain Python loops
— no code shared with src/engines/sentenceTransformers/script.ts — so the two can be compared.

  sentence_transformers/quantization.py
    L417-434  int8: ranges = per-component [min, max] of calibration_embeddings; starts = min;
              steps = (max - min) / 255; code = (x - starts) / steps - 128, cast to int8
    L439-440  ubinary: np.packbits(x > 0), then reshaped to one row per embedding
    L277-282  an int8 index: usearch Index(metric="ip", dtype="i8"): the inner product of the codes
    L289-294  a ubinary index: metric="hamming": bits that differ, fewer is better
    L300-306  rescore: search rescore_multiplier * top_k with the quantised query, keep the float32 query
    L337-352  rescore: the float32 query . the shortlisted codes (int8 values; bits unpacked to 0 / 1), best top_k
  sentence_transformers/evaluation/InformationRetrievalEvaluator.py compute_metrics (L437-500)
              binary relevance; NDCG@k (L478-488, compute_dcg_at_k L550-554), MRR@k, Recall@k, MAP@k
              (sum of precisions at the hits / min(k, relevant)).

Where numpy's int8 cast is undefined (a value beyond [-128, 127] or NaN), the reference clamps and maps a
component with max == min to -128: the bundled engine's rule (src/trainer/eval/quantize.ts). Ties, at every stage
(who enters the shortlist, the order after the rescore): pessimistic, the bundled engine's rule
(src/trainer/eval/quantizedRetrieval.ts) — among equal scores every non-relevant document first, then the relevant
ones, each group in corpus order. Float32 arithmetic where the library's is float32 (np.float32 scalars).
"""

from __future__ import annotations

import math

import numpy as np

F = np.float32


def quantize_embeddings_standin(embeddings, precision, ranges=None, calibration_embeddings=None):
    """sentence-transformers' quantize_embeddings for "int8" and "ubinary" when the library is not installed,
    from quantization.py L409-440 — with its quirks: numpy's cast as it falls, and packbits over the
    flattened array (so rows of a width that is not a multiple of 8 run together, or fail to reshape)."""
    x = np.asarray(embeddings)
    if precision == "int8":
        cal = x if calibration_embeddings is None else np.asarray(calibration_embeddings)
        if ranges is None:
            ranges = np.stack([cal.min(axis=0), cal.max(axis=0)])
        step = (ranges[1] - ranges[0]) / 255
        return ((x - ranges[0]) / step - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(x > 0).reshape(x.shape[0], -1)
    raise ValueError(precision)


def int8_codes(rows, calibration):
    """Lists of ints: the int8 codes of `rows` calibrated on `calibration` (lists of np.float32)."""
    dim = len(calibration[0])
    lo = [min(r[k] for r in calibration) for k in range(dim)]
    hi = [max(r[k] for r in calibration) for k in range(dim)]
    out = []
    for r in rows:
        codes = []
        for k in range(dim):
            step = F(F(hi[k] - lo[k]) / F(255))
            if step == 0:
                codes.append(-128)
                continue
            v = F(F(F(r[k] - lo[k]) / step) - F(128))
            codes.append(max(-128, min(127, math.trunc(float(v)))))
        out.append(codes)
    return out


def bits(rows):
    return [[1 if v > 0 else 0 for v in r] for r in rows]


def best_first(scores, n, relevant, ids=None):
    """The n ids (default: 0 .. len(scores) - 1, scores[k] the score of ids[k]) of the largest scores, best first;
    equal scores: non-relevant ids first, then relevant ones, each by id."""
    ids = list(range(len(scores))) if ids is None else ids
    rel = set(relevant)
    order = sorted(range(len(ids)), key=lambda k: (-scores[k], ids[k] in rel, ids[k]))
    return [ids[k] for k in order[:n]]


def query_metrics(ranked, relevant):
    rel = set(relevant)
    hit = [1 if d in rel else 0 for d in ranked]
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hit[:10]))
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
    mrr = next((1 / (i + 1) for i, h in enumerate(hit[:10]) if h), 0.0)
    found, ap = 0, 0.0
    for i, h in enumerate(hit[:100]):
        if h:
            found += 1
            ap += found / (i + 1)
    return {
        "ndcg@10": dcg / idcg,
        "mrr@10": mrr,
        "recall@1": sum(hit[:1]) / len(rel),
        "recall@10": sum(hit[:10]) / len(rel),
        "map@100": ap / min(len(rel), 100),
    }


def reference(queries, corpus, relevant, precisions, rescore, multiplier, top_k):
    """queries / corpus: unit rows at one dim (lists of np.float32). {"int8" | "int8_rescore" | "binary" |
    "binary_rescore": {metric: mean}}."""
    out = {}
    for p in precisions:
        if p == "int8":
            docs, qs = int8_codes(corpus, corpus), int8_codes(queries, corpus)

            def index_score(a, b):
                return sum(x * y for x, y in zip(a, b))

        elif p == "binary":
            docs, qs = bits(corpus), bits(queries)

            def index_score(a, b):
                return -sum(x != y for x, y in zip(a, b))

        else:
            continue
        for name, rescored in [(p, False)] + ([(p + "_rescore", True)] if rescore else []):
            per_query = []
            for i, q in enumerate(qs):
                scores = [index_score(q, d) for d in docs]
                if rescored:
                    shortlist = best_first(scores, top_k * multiplier, relevant[i])
                    new = [sum(float(a) * b for a, b in zip(queries[i], docs[j])) for j in shortlist]
                    ranked = best_first(new, top_k, relevant[i], shortlist)
                else:
                    ranked = best_first(scores, top_k, relevant[i])
                per_query.append(query_metrics(ranked, relevant[i]))
            out[name] = {m: sum(x[m] for x in per_query) / len(per_query) for m in per_query[0]}
    return out

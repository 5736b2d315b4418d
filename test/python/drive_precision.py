"""Runs the quantised evaluation of a generated train.py without torch: the script's own precision code
(TOP_K, the helper functions, PrecisionEvaluator and the constants, taken out of the file by Python's parser
and executed with numpy) against the independent reference in precision_reference.py.

quantize_embeddings is sentence-transformers' own when the library is importable, else the reference's
stand-in written from the library's formulas (printed as "quantizer").

usage: drive_precision.py <train.py> <scenario>
  fixture    seeded embeddings (a constant component, duplicate documents, queries beyond the corpus' range,
             dims 24 / 12 / 8, a shortlist shorter than the corpus): the script's metrics and the reference's
  ties       dim 8, binary: five documents share the query's code, the relevant one first in corpus order; two
             documents the rescore ties, the relevant one first in corpus order; and 150 documents share the
             query's code (and rescore value), the relevant one first in corpus order, with a shortlist of 100
             (multiplier 1): pessimistic ties rank it 5th, 2nd, and leave it out of the shortlist
  conformance  the bundled engine's fixtures (test/conformance/fixtures/quantization/retrieval.json): the
             script's metrics on their inputs, keyed as precisionKey ("int8+rescore:ndcg@10"), per case and dim
  codes      the fixture's unit rows at dim 12 and the script's int8 / ubinary codes of them (for quantize.ts)
  evaluator  the script's PrecisionEvaluator, as build_evaluator() makes it, on a model whose embeddings are
             fixed, and what the callback files its results as (split_metrics)
Prints one JSON object.
"""

import ast
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import precision_reference as ref  # noqa: E402
from matryoshka_lab_callback import split_metrics  # noqa: E402

try:
    from sentence_transformers.quantization import quantize_embeddings

    QUANTIZER = "sentence-transformers"
except Exception:  # noqa: BLE001 - not installed (or a broken torch): the stand-in
    quantize_embeddings = ref.quantize_embeddings_standin
    QUANTIZER = "stand-in"

NEEDED = {
    "TOP_K",
    "DIMS",
    "PRECISIONS",
    "RESCORE",
    "RESCORE_MULTIPLIER",
    "truncate_unit",
    "int8_codes",
    "binary_codes",
    "best_first",
    "retrieval_metrics",
    "precision_metrics",
    "PrecisionEvaluator",
}


class SentenceEvaluator:
    """sentence-transformers' base class, as far as PrecisionEvaluator uses it."""

    def __init__(self):
        self.greater_is_better = True
        self.primary_metric = None


def load(script_path):
    tree = ast.parse(open(script_path, encoding="utf-8").read())
    nodes, found = [], set()
    for node in tree.body:
        names = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else []
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if NEEDED.intersection(names):
            nodes.append(node)
            found.update(names)
    missing = NEEDED - found
    if missing:
        raise SystemExit(f"{script_path}: no {', '.join(sorted(missing))} at the top level")
    ns = {"np": np, "quantize_embeddings": quantize_embeddings, "SentenceEvaluator": SentenceEvaluator}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), script_path, "exec"), ns)
    # The PrecisionEvaluator call in build_evaluator(): its literal last argument (the metrics).
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "PrecisionEvaluator"]
    if len(calls) != 1:
        raise SystemExit(f"{script_path}: {len(calls)} PrecisionEvaluator calls, expected 1")
    return ns, calls[0]


def fixture():
    rng = np.random.default_rng(7)
    nq, nc, width = 40, 300, 24
    c = rng.normal(size=(nc, width)).astype(np.float32)
    c[:, 5] = 0  # a constant component: max == min, step 0
    c[10:20] = c[0]  # duplicates: exact ties at every precision
    q = (rng.normal(size=(nq, width)) * 1.5).astype(np.float32)
    q[:8] = c[:8] + rng.normal(scale=0.05, size=(8, width)).astype(np.float32)
    relevant = [sorted({i % 8 if i < 16 else int(rng.integers(nc)), 15 if i % 3 == 0 else i % 8}) for i in range(nq)]
    return q, c, relevant


def as_rows(x):
    return [[np.float32(v) for v in row] for row in x.tolist()]


def main():
    ns, call = load(sys.argv[1])
    scenario = sys.argv[2]
    out = {"quantizer": QUANTIZER, "topK": ns["TOP_K"]}
    if scenario == "fixture":
        q, c, relevant = fixture()
        dims = [24, 12, 8]
        for multiplier in (2, 4):
            got = ns["precision_metrics"](q, c, relevant, dims, ["float32", "int8", "binary"], True, multiplier, chunk=16)
            want = {}
            for d in dims:
                qf, cf = ns["truncate_unit"](q, d), ns["truncate_unit"](c, d)
                # The unit rows the reference starts from: checked here against the definition.
                norms = np.linalg.norm(cf.astype(np.float64), axis=1)
                assert np.allclose(norms[np.any(c[:, :d] != 0, axis=1)], 1, atol=1e-6)
                assert np.allclose(qf, q[:, :d] / np.linalg.norm(q[:, :d], axis=1, keepdims=True), atol=1e-6)
                want[d] = ref.reference(as_rows(qf), as_rows(cf), relevant, ["int8", "binary"], True, multiplier, ns["TOP_K"])
            out[f"x{multiplier}"] = {"got": got, "want": want}
        out["noRescore"] = ns["precision_metrics"](q, c, relevant, [8], ["binary"], False, 2)
    elif scenario == "ties":
        # Code 10101010 for the query and documents 0-4 (document 0 relevant), the others differ in several bits.
        pattern = np.array([1, -1, 1, -1, 1, -1, 1, -1], dtype=np.float32)
        rng = np.random.default_rng(3)
        same = np.abs(rng.normal(size=(5, 8))).astype(np.float32) * pattern
        other = -np.abs(rng.normal(size=(20, 8))).astype(np.float32) * pattern
        c = np.concatenate([same, other])
        q = (pattern * 0.5)[None, :]
        out["binary"] = ns["precision_metrics"](q, c, [[0]], [8], ["binary"], False, 2)[8]["binary"]
        # Rescored ties: the float32 query scores documents 0 and 1 the same (0.5 = 0.25 + 0.25, exact after scaling by
        # the norm); the relevant document 0, first in corpus order, ranks second.
        q = np.array([[0.5, 0.25, 0.25, -1, -1, -1, -1, -1]], dtype=np.float32)
        c = np.full((7, 8), -1, dtype=np.float32)
        c[0, 0] = c[1, 1] = c[1, 2] = 1
        c[2:, 3:] = np.eye(5, dtype=np.float32) * 2 - 1  # one bit against the query's sign: scored below zero
        out["binaryRescore"] = ns["precision_metrics"](q, c, [[0]], [8], ["binary"], True, 2)[8]["binary_rescore"]
        # Who enters the shortlist: 150 documents share the query's code (so its rescore value too); the 149
        # non-relevant ones go ahead of the relevant document 0 and fill the shortlist of 100 (multiplier 1).
        q = pattern[None, :]
        c = np.tile(pattern * 0.5, (150, 1))
        out["shortlistTies"] = ns["precision_metrics"](q, c, [[0]], [8], ["binary"], True, 1)[8]
    elif scenario == "conformance":
        path = os.path.join(HERE, "..", "conformance", "fixtures", "quantization", "retrieval.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        names = {"int8": "int8", "int8_rescore": "int8+rescore", "binary": "binary", "binary_rescore": "binary+rescore"}
        out["cases"] = []
        for case in doc["cases"]:
            q = np.array(case["queries"], dtype=np.float32)
            c = np.array(case["corpus"], dtype=np.float32)
            got = ns["precision_metrics"](q, c, case["relevant"], case["dims"], ["float32", "int8", "binary"], True, case["rescoreMultiplier"])
            got = {
                str(dim): {f"{names[v]}:{m}": x for v, values in variants.items() for m, x in values.items()}
                for dim, variants in got.items()
            }
            out["cases"].append({"name": case["name"], "got": got, "expected": case["expected"]})
    elif scenario == "codes":
        q, c, _ = fixture()
        cf, qf = ns["truncate_unit"](c, 12), ns["truncate_unit"](q, 12)
        out.update(
            corpus=cf.tolist(),
            queries=qf.tolist(),
            int8Corpus=ns["int8_codes"](cf, cf).tolist(),
            int8Queries=ns["int8_codes"](qf, cf).tolist(),
            binaryCorpus=ns["binary_codes"](cf).tolist(),
            binaryQueries=ns["binary_codes"](qf).tolist(),
        )
    elif scenario == "evaluator":
        dims = ns["DIMS"]
        width = max(dims)
        rng = np.random.default_rng(11)
        corpus = [f"doc {j}" for j in range(60)]
        queries = [f"query {i}" for i in range(12)]
        relevant = [[i, (i * 7) % 60] for i in range(12)]
        table = {t: rng.normal(size=width).astype(np.float32) for t in corpus}
        for i, t in enumerate(queries):
            table[t] = table[corpus[i]] + rng.normal(scale=0.3, size=width).astype(np.float32)

        class Model:
            def encode(self, texts, convert_to_numpy=True):
                return np.stack([table[t] for t in texts])

        metrics = ast.literal_eval(call.args[-1])
        evaluator = ns["PrecisionEvaluator"](queries, corpus, relevant, dims, ns["PRECISIONS"], ns["RESCORE"], ns["RESCORE_MULTIPLIER"], metrics)
        results = evaluator(Model())
        values, by_dim = split_metrics({f"eval_{k}": v for k, v in results.items()}, "eval_")
        out.update(
            dims=dims,
            precisions=ns["PRECISIONS"],
            rescore=ns["RESCORE"],
            rescoreMultiplier=ns["RESCORE_MULTIPLIER"],
            metrics=metrics,
            primary=evaluator.primary_metric,
            results=results,
            values=values,
            byDim=by_dim,
        )
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    print(json.dumps(out))


main()

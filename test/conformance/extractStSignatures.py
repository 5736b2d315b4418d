#!/usr/bin/env python3
"""Records, from sentence-transformers' and transformers' own source, the API the generated train.py and
python/matryoshka_lab_callback.py use: module paths (and which ones only redirect with a DeprecationWarning),
the names they export, constructor signatures of every class the generator emits, module attributes, the
metric key names the evaluators log, TrainingArguments fields, TrainerCallback hooks, TrainerState /
TrainerControl fields. Output: test/conformance/fixtures/sentenceTransformers/signatures.json, read by
test/conformance/stApi.test.ts (the conformance test) and by test/conformance/stScriptCheck.py.

It reads source only (Python's ast; nothing is imported or run), so it needs no torch:

    python3 test/conformance/extractStSignatures.py \\
        --st-repo /path/to/sentence-transformers.git  (a clone or bare mirror holding the release tags) \\
        --transformers 4.57.6=/path/to/unpacked/transformers-4.57.6-wheel \\
        --transformers 5.17.0=/path/to/unpacked/transformers-5.17.0-wheel \\
        [--out FILE]

Each version's entry names where it came from (tag + commit, or wheel file + sha256) and, for every
record, the file and line. What could not be found is written as null with a "missing" note, never guessed.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys

# The sentence-transformers releases recorded: the oldest each feature of the generator claims (3.4: the
# engine itself; 4.1: GIST margins; 5.1: contrast_anchors / gather_across_devices), the releases where the
# API moved (5.3: the symmetric losses deprecated; 5.4: module paths and Pooling.embedding_dimension), and 6.0.
ST_TAGS = ["v3.4.0", "v4.1.0", "v5.1.0", "v5.3.0", "v5.4.0", "v6.0.0"]

# Every module path the generator may import, in any version (old and new paths).
MODULES = [
    "sentence_transformers",
    "sentence_transformers.losses",
    "sentence_transformers.evaluation",
    "sentence_transformers.models",
    "sentence_transformers.training_args",
    "sentence_transformers.quantization",
    "sentence_transformers.sentence_transformer",
    "sentence_transformers.sentence_transformer.losses",
    "sentence_transformers.sentence_transformer.evaluation",
    "sentence_transformers.sentence_transformer.modules",
    "sentence_transformers.sentence_transformer.training_args",
    "sentence_transformers.util.quantization",
    "sentence_transformers.base.sampler",
]

# Classes (and functions) whose signatures are recorded: everything the generator can emit.
CLASSES = [
    "SentenceTransformer",
    "SentenceTransformerTrainer",
    "SentenceTransformerTrainingArguments",
    "MatryoshkaLoss",
    "MultipleNegativesRankingLoss",
    "MultipleNegativesSymmetricRankingLoss",
    "CachedMultipleNegativesRankingLoss",
    "CachedMultipleNegativesSymmetricRankingLoss",
    "GISTEmbedLoss",
    "CachedGISTEmbedLoss",
    "CoSENTLoss",
    "AnglELoss",
    "InformationRetrievalEvaluator",
    "EmbeddingSimilarityEvaluator",
    "SequentialEvaluator",
    "SentenceEvaluator",
    "Pooling",
    "BatchSamplers",
]
FUNCTIONS = ["quantize_embeddings"]
# Other model families of the library define classes of the same names (cross_encoder.losses.MSELoss...).
EXCLUDED_DIRS = ("cross_encoder/", "sparse_encoder/", "multi_vector_encoder/", "late_interaction/")

# Metric key names, each proven by a line of the library's source (the first snippet found counts).
METRIC_EVIDENCE = {
    "InformationRetrievalEvaluator": {
        "key": "{name}_{score_function}_{metric}@{k}",
        "snippets": ["f\"{score_function}_{metric_name.replace('@k', '@' + str(k))}\""],
        "metricsFrom": r'"([a-z]+)@k"',
    },
    "EmbeddingSimilarityEvaluator": {
        "key": "{name}_{correlation}_{similarity_fn}",
        "snippets": ['f"spearman_{fn_name}"', 'f"spearman_{fn_name.value}"'],
    },
    "SentenceEvaluator.prefix_name_to_metrics": {"key": "{name}_{key}", "snippets": ['name + "_" + key']},
    "SentenceTransformerTrainer.evaluate": {
        "key": "{metric_key_prefix}_{key}",
        "snippets": ['f"{metric_key_prefix}_{key}"', 'f"{metric_key_prefix}_"'],
    },
}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


class Source:
    """The .py files of one release: a git tag, or an unpacked wheel folder."""

    def __init__(self, repo: str | None = None, tag: str | None = None, folder: str | None = None):
        self.repo, self.tag, self.folder = repo, tag, folder
        self._cache: dict[str, str | None] = {}
        if repo:
            self.files = [f for f in git(repo, "ls-tree", "-r", "--name-only", tag).splitlines() if f.endswith(".py")]
        else:
            self.files = []
            for root, _, names in os.walk(folder):
                for n in names:
                    if n.endswith(".py"):
                        self.files.append(os.path.relpath(os.path.join(root, n), folder).replace(os.sep, "/"))
        self.fileset = set(self.files)

    def read(self, path: str) -> str | None:
        if path not in self._cache:
            if path not in self.fileset:
                self._cache[path] = None
            elif self.repo:
                self._cache[path] = git(self.repo, "show", f"{self.tag}:{path}")
            else:
                with open(os.path.join(self.folder, path), encoding="utf-8") as f:
                    self._cache[path] = f.read()
        return self._cache[path]

    def tree(self, path: str) -> ast.Module | None:
        text = self.read(path)
        return ast.parse(text) if text is not None else None


def module_file(src: Source, module: str) -> str | None:
    base = module.replace(".", "/")
    for cand in (f"{base}/__init__.py", f"{base}.py"):
        if cand in src.fileset:
            return cand
    return None


def top_level_names(tree: ast.Module) -> list[str]:
    names: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.ImportFrom) or isinstance(node, ast.Import):
                for a in node.names:
                    if a.name != "*":
                        names.add(a.asname or a.name.split(".")[0])
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        names.add(t.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                for h in getattr(node, "handlers", []):
                    visit(h.body)
                visit(node.orelse)

    visit(tree.body)
    return sorted(n for n in names if not n.startswith("_") or n == "__all__")


def deprecated_paths(src: Source) -> tuple[dict[str, str], str | None, dict[str, int]]:
    """sentence_transformers/util/deprecated_import.py's DEPRECATED_MODULE_PATHS (5.4+): old path -> new path."""
    path = "sentence_transformers/util/deprecated_import.py"
    tree = src.tree(path)
    if tree is None:
        return {}, None, {}
    lines: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DEPRECATED_MODULE_PATHS" for t in node.targets):
            out = {}
            for k, v in zip(node.value.keys, node.value.values):
                out[k.value] = v.value
                lines[k.value] = k.lineno
            return out, path, lines
    return {}, path, {}


def params_of(fn: ast.FunctionDef, skip_self: bool = True) -> dict:
    """Parameters in order, as Python writes them: "name", "name=" (has a default), "/name" (positional only),
    "*name" / "*name=" (keyword only); "*args" and "**kwargs" when the function takes them."""
    a = fn.args
    pos = [*a.posonlyargs, *a.args]
    defaults_from = len(pos) - len(a.defaults)
    out = []
    for i, p in enumerate(pos):
        if skip_self and i == 0 and p.arg in ("self", "cls"):
            continue
        out.append(("/" if i < len(a.posonlyargs) else "") + p.arg + ("=" if i >= defaults_from else ""))
    if a.vararg is not None:
        out.append("*" + a.vararg.arg + "*")
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append("*" + p.arg + ("=" if d is not None else ""))
    if a.kwarg is not None:
        out.append("**" + a.kwarg.arg)
    return {"params": out}


def decorator_name(d: ast.expr) -> str:
    f = d.func if isinstance(d, ast.Call) else d
    return ast.unparse(f).split(".")[-1]


class ClassIndex:
    """Class definitions of one release, by name (the library's own, outside other model families)."""

    def __init__(self, src: Source, prefix: str, excluded=EXCLUDED_DIRS):
        self.src = src
        self.defs: dict[str, list[tuple[str, ast.ClassDef]]] = {}
        self.funcs: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
        self.aliases: dict[str, tuple[str, int, str]] = {}
        for f in src.files:
            if not f.startswith(prefix) or any(x in f for x in excluded) or "/tests/" in f:
                continue
            text = src.read(f)
            if text is None or ("class " not in text and "def " not in text):
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    self.defs.setdefault(node.name, []).append((f, node))
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    self.aliases[node.targets[0].id] = (f, node.lineno, node.value.id)  # SentenceEvaluator = BaseEvaluator
                elif isinstance(node, ast.FunctionDef):
                    self.funcs.setdefault(node.name, []).append((f, node))

    def find(self, name: str) -> tuple[str, ast.ClassDef] | None:
        found = self.defs.get(name)
        if not found:
            return None
        # The shortest path: the canonical definition rather than a test helper or a deprecated shim.
        return sorted(found, key=lambda x: (len(x[0]), x[0]))[0]


# The members the generated script and the callback use, per class (the rest of a class is not recorded).
USED_MEMBERS = {
    "SentenceTransformer": {"methods": ["save", "encode"], "attributes": ["max_seq_length"]},
    "Pooling": {"methods": ["get_sentence_embedding_dimension", "get_embedding_dimension"], "attributes": ["word_embedding_dimension", "embedding_dimension", "pooling_mode"]},
}


def class_record(index: ClassIndex, name: str, depth: int = 0) -> dict | None:
    rec = _class_record(index, name, depth)
    if rec is None and name in index.aliases and depth == 0:
        f, line, target = index.aliases[name]
        rec = _class_record(index, target, depth)
        if rec is not None:
            rec = {"alias": {"of": target, "file": f, "line": line}, **rec}
    if rec is not None and depth == 0 and "enumMembers" not in rec:
        used = USED_MEMBERS.get(name, {"methods": [], "attributes": []})
        rec["methods"] = {k: v for k, v in rec["methods"].items() if k in used["methods"]}
        rec["attributes"] = [a for a in rec["attributes"] if a in used["attributes"]]
    return rec


def _class_record(index: ClassIndex, name: str, depth: int = 0) -> dict | None:
    found = index.find(name)
    if found is None:
        return None
    path, cls = found
    rec: dict = {"file": path, "line": cls.lineno, "bases": [ast.unparse(b) for b in cls.bases]}
    deprecated = None
    for d in cls.decorator_list:
        if decorator_name(d) == "deprecated" and isinstance(d, ast.Call) and d.args:
            deprecated = ast.literal_eval(d.args[0]) if isinstance(d.args[0], ast.Constant) else ast.unparse(d.args[0])
            if isinstance(d.args[0], ast.JoinedStr) or isinstance(d.args[0], ast.BinOp):
                try:
                    deprecated = "".join(v.value for v in ast.walk(d.args[0]) if isinstance(v, ast.Constant) and isinstance(v.value, str))
                except Exception:  # noqa: BLE001
                    pass
    rec["deprecated"] = deprecated
    class_attrs: dict[str, ast.expr] = {}
    members: dict[str, dict] = {}
    attributes: set[str] = set()
    fields: list[dict] = []
    init = None
    for node in cls.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    class_attrs[t.id] = node.value
                    attributes.add(t.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            attributes.add(node.target.id)
            fields.append(node.target.id + ("=" if node.value is not None else ""))
        elif isinstance(node, ast.FunctionDef):
            decos = [decorator_name(d) for d in node.decorator_list]
            if {"property", "cached_property", "setter"} & set(decos):
                attributes.add(node.name)
            else:
                members[node.name] = {"line": node.lineno, **params_of(node)}
            if node.name == "__init__":
                init = node
    if init is not None:
        sig = params_of(init)
        renames = {}
        for d in init.decorator_list:
            if decorator_name(d) == "deprecated_kwargs" and isinstance(d, ast.Call):
                for kw in d.keywords:
                    if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id in class_attrs:
                        renames.update(ast.literal_eval(class_attrs[kw.value.id]))
                    elif kw.arg:
                        renames[kw.arg] = ast.literal_eval(kw.value)
        for n in ast.walk(init):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" and isinstance(n.ctx, ast.Store):
                attributes.add(n.attr)
        rec["init"] = {"line": init.lineno, **sig, "renamedKwargs": renames}
    elif fields:
        rec["dataclassFields"] = fields
    if any(ast.unparse(b) in ("ExplicitEnum", "Enum", "str, Enum") or "Enum" in ast.unparse(b) for b in cls.bases):
        rec["enumMembers"] = sorted(k for k in class_attrs if k.isupper())
    rec["methods"] = {k: v for k, v in sorted(members.items()) if not k.startswith("_") or k == "__init__"}
    rec["attributes"] = sorted(a for a in attributes if not a.startswith("_"))
    # The library's own base classes: their members are this class's too.
    if depth < 6:
        for b in rec["bases"]:
            bname = b.split(".")[-1]
            if bname in ("object", name) or index.find(bname) is None:
                continue
            base = _class_record(index, bname, depth=depth + 1)
            if base is None:
                continue
            for k, v in base["methods"].items():
                rec["methods"].setdefault(k, v)
            rec["attributes"] = sorted(set(rec["attributes"]) | set(base["attributes"]))
            if "init" not in rec and "init" in base:
                rec["inheritedInit"] = {"from": bname, **base["init"]}
            if "dataclassFields" in base:
                have = {f.rstrip("=") for f in rec.get("dataclassFields", [])}
                rec["dataclassFields"] = [*rec.get("dataclassFields", []), *[f for f in base["dataclassFields"] if f.rstrip("=") not in have]]
    return rec


def function_record(index: ClassIndex, name: str) -> dict | None:
    found = index.funcs.get(name)
    if not found:
        return None
    path, fn = sorted(found, key=lambda x: (len(x[0]), x[0]))[0]
    return {"file": path, "line": fn.lineno, **params_of(fn, skip_self=False)}


def evidence(src: Source, index: ClassIndex, claim: str, spec: dict) -> dict:
    owner = claim.split(".")[0]
    found = index.find(owner) or (index.find(index.aliases[owner][2]) if owner in index.aliases else None)
    files = [found[0]] if found else []
    if owner == "SentenceTransformerTrainer":
        files += [f for f in src.files if f.endswith("trainer.py") and not any(x in f for x in EXCLUDED_DIRS)]
    for f in files:
        text = src.read(f) or ""
        for snippet in spec["snippets"]:
            i = text.find(snippet)
            if i >= 0:
                rec = {"key": spec["key"], "file": f, "line": text.count("\n", 0, i) + 1, "text": snippet}
                if "metricsFrom" in spec:
                    rec["metrics"] = sorted(set(re.findall(spec["metricsFrom"], text)))
                return rec
    return {"key": None, "missing": f"none of {spec['snippets']} in {files}"}


def requirement(src: Source, name: str) -> str | None:
    text = src.read("pyproject.toml") if "pyproject.toml" in src.fileset else None
    if text is None:
        try:
            text = git(src.repo, "show", f"{src.tag}:pyproject.toml")
        except subprocess.CalledProcessError:
            return None
    m = re.search(rf'"{re.escape(name)}\s*([<>=!~][^"]*)"', text)
    return m.group(1).replace(" ", "") if m else None


def st_version(repo: str, tag: str) -> dict:
    src = Source(repo=repo, tag=tag)
    index = ClassIndex(src, "sentence_transformers/")
    commit = git(repo, "rev-list", "-n", "1", tag).strip()
    redirects, redirect_file, redirect_lines = deprecated_paths(src)
    modules = {}
    for m in MODULES:
        f = module_file(src, m)
        if m in redirects:
            modules[m] = {
                "deprecatedRedirect": redirects[m],
                "warning": "DeprecationWarning",
                "file": redirect_file,
                "line": redirect_lines.get(m),
            }
        elif f is not None:
            tree = src.tree(f)
            names = top_level_names(tree)
            # Submodules are importable as names of their package.
            prefix = m.replace(".", "/") + "/"
            subs = {p[len(prefix):].split("/")[0].removesuffix(".py") for p in src.files if p.startswith(prefix) and p != f}
            modules[m] = {"file": f, "names": names, "submodules": sorted(s for s in subs if s and s != "__init__")}
        else:
            modules[m] = None
    classes = {c: class_record(index, c) for c in CLASSES}
    functions = {fn: function_record(index, fn) for fn in FUNCTIONS}
    metric_keys = {claim: evidence(src, index, claim, spec) for claim, spec in METRIC_EVIDENCE.items()}
    return {
        "source": f"sentence-transformers repository, tag {tag} (commit {commit})",
        "requires": {k: requirement(src, k) for k in ("transformers", "torch", "datasets", "accelerate")},
        "requiresPython": (re.search(r'requires-python\s*=\s*"([^"]+)"', git(repo, "show", f"{tag}:pyproject.toml")) or [None, None])[1],
        "modules": modules,
        "classes": classes,
        "functions": functions,
        "metricKeys": metric_keys,
    }


def transformers_version(label: str, folder: str) -> dict:
    src = Source(folder=folder)
    index = ClassIndex(src, "transformers/", excluded=("/models/",))
    wheel = next((os.path.join(os.path.dirname(folder), f) for f in os.listdir(os.path.dirname(folder)) if f.startswith(f"transformers-{label}-") and f.endswith(".whl")), None)
    sha = None
    if wheel:
        with open(wheel, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
    out = {"source": f"transformers {label} wheel {os.path.basename(wheel) if wheel else folder} (sha256 {sha})"}
    for c in ("TrainingArguments", "TrainerCallback", "TrainerState", "TrainerControl", "Trainer"):
        rec = _class_record(index, c)
        if rec is None:
            out[c] = None
            continue
        if c == "Trainer":
            rec = {k: rec[k] for k in ("file", "line")} | {
                "methods": {m: rec["methods"][m] for m in ("train", "evaluate", "is_world_process_zero", "add_callback") if m in rec["methods"]},
                "attributes": [a for a in rec["attributes"] if a in ("state", "args", "model", "control")],
            }
        elif c == "TrainingArguments":
            rec["fields"] = sorted(f.rstrip("=") for f in rec.pop("dataclassFields", []))
            rec["methods"] = {m: rec["methods"][m] for m in ("to_dict",) if m in rec["methods"]}
            rec["attributes"] = [x for x in rec["attributes"] if x in ("world_size", "device", "process_index", "local_process_index")]
        elif c == "TrainerCallback":
            rec["hooks"] = sorted(m for m in rec["methods"] if m.startswith("on_"))
            del rec["methods"]
        else:
            rec["fields"] = sorted(f.rstrip("=") for f in rec.pop("dataclassFields", []))
            rec["methods"] = {}
            rec["attributes"] = []
        out[c] = rec
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--st-repo", required=True, help="a git clone / bare mirror of sentence-transformers with its release tags")
    ap.add_argument("--tags", nargs="*", default=ST_TAGS)
    ap.add_argument("--transformers", action="append", default=[], metavar="VERSION=FOLDER", help="an unpacked transformers wheel")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "fixtures", "sentenceTransformers", "signatures.json"))
    a = ap.parse_args()
    data = {
        "generatedBy": "test/conformance/extractStSignatures.py (regenerate with it; never edit by hand)",
        "notes": [
            "Every record names the file and line it was read from, at the tag / wheel named by its version's 'source'.",
            "transformers releases before 4.57.6 could not be obtained here (the oldest that sentence-transformers 3.4-5.3 accept is 4.41.0): "
            "the TrainingArguments fields and callback hooks are checked against 4.57.6 and 5.17.0 only.",
            "sentence-transformers v6.0.1 (the GPU check's version) has no tag in the repository read; v6.0.0 is recorded.",
        ],
        "sentenceTransformers": {},
        "transformers": {},
    }
    for tag in a.tags:
        print(f"sentence-transformers {tag}", file=sys.stderr)
        data["sentenceTransformers"][tag.lstrip("v")] = st_version(a.st_repo, tag)
    for spec in a.transformers:
        label, folder = spec.split("=", 1)
        print(f"transformers {label}", file=sys.stderr)
        data["transformers"][label] = transformers_version(label, folder)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    text = json.dumps(data, indent=1)
    # Lists of plain values on one line each: the file stays readable in a diff.
    text = re.sub(r"\[\n\s*((?:(?:\"(?:[^\"\\\\]|\\\\.)*\"|-?\d+|true|false|null),\n\s*)*(?:\"(?:[^\"\\\\]|\\\\.)*\"|-?\d+|true|false|null))\n\s*\]",
                  lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

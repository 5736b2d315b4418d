#!/usr/bin/env python3
"""Checks a generated train.py (or the callback) against the API recorded in
test/conformance/fixtures/sentenceTransformers/signatures.json, for one sentence-transformers version and the
transformers versions it accepts. Static: Python's ast only, nothing is imported.

What it follows of the script: `if ST_VERSION >= (a, b, c):` branches are taken or skipped as that version
would; every import of a sentence_transformers module must exist in that version and not be a path that only
redirects with a DeprecationWarning, and every imported name must be there; every call of a recorded class or
function must match its signature there (positional count, each keyword, required parameters; no deprecated
class, no renamed keyword); attributes read on a value narrowed by `isinstance(x, Pooling)`, on a
SentenceTransformer (`model = SentenceTransformer(...)`, or a function returning one) and on the trainer must
exist; `BatchSamplers.X` must be a member. Callback mode checks TrainerCallback hooks and the TrainerState /
TrainingArguments / TrainerControl fields the callback reads.

stdin: {"fixture": path, "jobs": [{"id", "file", "st": "6.0.0", "mode": "script" | "callback"}]}
stdout: {"results": [{"id", "problems": [{"line", "message"}], "checked": ["MatryoshkaLoss(…)", …]}]}
"""

from __future__ import annotations

import ast
import json
import re
import sys


def parse_version(s: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", s)[:3])


def allows(spec: str | None, version: str) -> bool:
    """pyproject specifiers such as ">=4.41.0,<5.0.0"."""
    if not spec:
        return True
    v = parse_version(version)
    for part in spec.split(","):
        m = re.match(r"(>=|<=|==|!=|<|>)\s*([\d.]+)", part.strip())
        if not m:
            continue
        op, w = m.group(1), parse_version(m.group(2))
        w = w + (0,) * (3 - len(w))
        ok = {">=": v >= w, "<=": v <= w, "==": v == w, "!=": v != w, "<": v < w, ">": v > w}[op]
        if not ok:
            return False
    return True


def split_params(params: list[str]):
    positional, keywords, required = [], set(), set()
    varargs = varkw = False
    for p in params:
        if p.startswith("**"):
            varkw = True
        elif p.startswith("*") and p.endswith("*"):
            varargs = True
        elif p.startswith("*"):
            name = p[1:].rstrip("=")
            keywords.add(name)
            if not p.endswith("="):
                required.add(name)
        else:
            name = p.lstrip("/").rstrip("=")
            positional.append(name)
            if not p.startswith("/"):
                keywords.add(name)
            if not p.endswith("="):
                required.add(name)
    return positional, keywords, required, varargs, varkw


class Checker:
    def __init__(self, fixture: dict, st: str):
        self.fx = fixture
        self.st = st
        self.v = fixture["sentenceTransformers"][st]
        self.vt = parse_version(st)
        self.tf = {k: x for k, x in fixture["transformers"].items() if allows(self.v["requires"].get("transformers"), k)}
        self.problems: list[dict] = []
        self.checked: list[str] = []
        self.returns: dict[str, tuple] = {}

    def problem(self, node, msg: str) -> None:
        self.problems.append({"line": getattr(node, "lineno", 0), "message": f"sentence-transformers {self.st}: {msg}"})

    # ------------------------------------------------------------------ version branches

    def version_test(self, test) -> bool | None:
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "ST_VERSION" and len(test.ops) == 1:
            try:
                w = tuple(ast.literal_eval(test.comparators[0]))
            except ValueError:
                return None
            w = w + (0,) * (3 - len(w))
            op = type(test.ops[0])
            return {ast.GtE: self.vt >= w, ast.Lt: self.vt < w, ast.Gt: self.vt > w, ast.LtE: self.vt <= w}.get(op)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.version_test(test.operand)
            return None if inner is None else not inner
        return None

    # ------------------------------------------------------------------ imports

    def module(self, name: str, node):
        mods = self.v["modules"]
        if name not in mods:
            if name.split(".")[0] == "sentence_transformers":
                self.problem(node, f"module {name} is not recorded: add it to MODULES in extractStSignatures.py")
            return None
        rec = mods[name]
        if rec is None:
            self.problem(node, f"no module {name}")
            return None
        if "deprecatedRedirect" in rec:
            self.problem(node, f"{name} only redirects to {rec['deprecatedRedirect']} with a DeprecationWarning ({rec['file']}:{rec['line']})")
            return mods.get(rec["deprecatedRedirect"])
        return rec

    def bind_from(self, node: ast.ImportFrom, env: dict) -> None:
        m = node.module or ""
        if m.split(".")[0] != "sentence_transformers":
            for a in node.names:
                env[a.asname or a.name] = ("external",)
            return
        rec = self.module(m, node)
        for a in node.names:
            local = a.asname or a.name
            full = f"{m}.{a.name}"
            if rec is not None and full not in self.v["modules"] and a.name not in rec.get("names", []) and a.name not in rec.get("submodules", []):
                self.problem(node, f"{m} has no {a.name}")
            if full in self.v["modules"]:
                self.module(full, node)
                env[local] = ("module", full)
            else:
                env[local] = self.symbol(a.name)

    def symbol(self, name: str):
        if name in self.v["classes"]:
            return ("class", name)
        if name in self.v["functions"]:
            return ("func", name)
        return ("external",)

    # ------------------------------------------------------------------ signatures

    def class_params(self, cls: str) -> list[list[str]]:
        """One parameter list per transformers version (they differ only for the training arguments)."""
        rec = self.v["classes"][cls]
        if "init" in rec:
            return [rec["init"]["params"]]
        if "inheritedInit" in rec:
            return [rec["inheritedInit"]["params"]]
        own = rec.get("dataclassFields", [])
        if cls == "SentenceTransformerTrainingArguments":
            return [[*own, *[f + "=" for f in t["TrainingArguments"]["fields"]]] for t in self.tf.values()] or [own]
        return [own]

    def check_call(self, node: ast.Call, label: str, param_lists: list[list[str]], renamed: dict | None = None) -> None:
        kws = [k.arg for k in node.keywords if k.arg]
        star = any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args)
        self.checked.append(f"{label}({len(node.args)}; {', '.join(kws)})")
        for params in param_lists:
            positional, keywords, required, varargs, varkw = split_params(params)
            if len(node.args) > len(positional) and not varargs:
                self.problem(node, f"{label} takes {len(positional)} positional arguments, given {len(node.args)}")
            for k in kws:
                if renamed and k in renamed:
                    self.problem(node, f"{label}: keyword {k} is deprecated (renamed {renamed[k]})")
                elif k not in keywords and not varkw:
                    self.problem(node, f"{label} has no keyword {k} (it takes {', '.join(p for p in params)})")
            given = set(positional[: len(node.args)]) | set(kws)
            missing = [r for r in required if r not in given]
            if missing and not star:
                self.problem(node, f"{label} needs {', '.join(sorted(missing))}")

    def resolve(self, e, env: dict):
        """What a name or module.attribute refers to: ("class", name), ("module", path), ..."""
        if isinstance(e, ast.Name):
            return env.get(e.id)
        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name):
            base = env.get(e.value.id)
            if base and base[0] == "module":
                return self.symbol(e.attr)
        return None

    def call(self, node: ast.Call, env: dict) -> tuple:
        f = node.func
        target = None
        if isinstance(f, ast.Name):
            target = env.get(f.id) or (("function", f.id) if f.id in self.returns else None)
            if target and target[0] == "function":
                return self.returns.get(f.id, ("external",))
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            base = env.get(f.value.id)
            if base and base[0] == "module":
                rec = self.v["modules"].get(base[1])
                if rec and "deprecatedRedirect" in rec:
                    rec = self.v["modules"].get(rec["deprecatedRedirect"])
                if rec and f.attr not in rec.get("names", []):
                    self.problem(node, f"{base[1]} has no {f.attr}")
                target = self.symbol(f.attr)
            elif base and base[0] == "instance":
                self.method_call(node, base[1], f.attr)
                return ("external",)
        if not target:
            return ("external",)
        if target[0] == "class":
            cls = target[1]
            rec = self.v["classes"][cls]
            if rec is None:
                self.problem(node, f"no class {cls}")
                return ("external",)
            if rec.get("deprecated"):
                self.problem(node, f"{cls} is deprecated: {rec['deprecated']}")
            renamed = (rec.get("init") or {}).get("renamedKwargs")
            self.check_call(node, cls, self.class_params(cls), renamed)
            return ("instance", cls)
        if target[0] == "func":
            rec = self.v["functions"][target[1]]
            if rec is None:
                self.problem(node, f"no function {target[1]}")
            else:
                self.check_call(node, target[1], [rec["params"]])
        return ("external",)

    def method_call(self, node: ast.Call, cls: str, name: str) -> None:
        if cls == "SentenceTransformerTrainer":
            lists = []
            for t in self.tf.values():
                m = t["Trainer"]["methods"].get(name)
                if m is None:
                    self.problem(node, f"transformers' Trainer has no method {name}")
                else:
                    lists.append(m["params"])
            if lists:
                self.check_call(node, f"trainer.{name}", lists)
            return
        rec = self.v["classes"].get(cls) or {}
        m = rec.get("methods", {}).get(name)
        if m is None:
            if cls in ("SentenceTransformer", "Pooling"):
                self.problem(node, f"{cls} has no method {name} (recorded: {', '.join(rec.get('methods', {}))})")
            return
        self.check_call(node, f"{cls}.{name}", [m["params"]])

    def attribute(self, node: ast.Attribute, env: dict) -> None:
        if not isinstance(node.value, ast.Name):
            return
        base = env.get(node.value.id)
        if not base:
            return
        if base[0] == "class" and (self.v["classes"].get(base[1]) or {}).get("enumMembers") is not None:
            members = self.v["classes"][base[1]]["enumMembers"]
            self.checked.append(f"{base[1]}.{node.attr}")
            if node.attr not in members:
                self.problem(node, f"{base[1]} has no member {node.attr} ({', '.join(members)})")
        elif base[0] == "instance" and base[1] in ("SentenceTransformer", "Pooling"):
            rec = self.v["classes"][base[1]]
            if node.attr in rec.get("methods", {}):
                return
            self.checked.append(f"{base[1]}.{node.attr}")
            if node.attr not in rec.get("attributes", []):
                self.problem(node, f"{base[1]} has no attribute {node.attr} (recorded: {', '.join(rec.get('attributes', []))})")
        elif base[0] == "instance" and base[1] == "SentenceTransformerTrainer":
            for t in self.tf.values():
                tr = t["Trainer"]
                if node.attr not in tr["attributes"] and node.attr not in tr["methods"]:
                    self.problem(node, f"transformers' Trainer has no attribute {node.attr}")
            self.checked.append(f"trainer.{node.attr}")

    # ------------------------------------------------------------------ the walk

    def body(self, stmts, env: dict, fn: str | None = None) -> None:
        for s in stmts:
            self.stmt(s, env, fn)

    def stmt(self, s, env: dict, fn: str | None) -> None:
        if isinstance(s, ast.If):
            taken = self.version_test(s.test)
            narrowed = env  # a version branch binds its imports for what follows
            t = s.test
            if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and t.func.id == "isinstance" and isinstance(t.args[0], ast.Name):
                cls = self.resolve(t.args[1], env)
                if cls and cls[0] == "class":
                    narrowed = {**env, t.args[0].id: ("instance", cls[1])}
            if taken is None:
                self.expr(s.test, env)
            if taken in (None, True):
                self.body(s.body, narrowed, fn)
            if taken in (None, False):
                self.body(s.orelse, env, fn)
            return
        if isinstance(s, ast.ImportFrom):
            self.bind_from(s, env)
            return
        if isinstance(s, ast.Import):
            for a in s.names:
                if a.name.split(".")[0] == "sentence_transformers":
                    self.module(a.name, s)
                    env[a.asname or a.name.split(".")[0]] = ("module", a.name if a.asname else a.name.split(".")[0])
                else:
                    env[a.asname or a.name.split(".")[0]] = ("external",)
            return
        if isinstance(s, ast.FunctionDef):
            local = dict(env)
            for a in [*s.args.args, *s.args.kwonlyargs]:
                local.pop(a.arg, None)
            self.body(s.body, local, s.name)
            return
        if isinstance(s, ast.ClassDef):
            for b in s.bases:
                self.expr(b, env)
            self.body(s.body, dict(env), None)
            return
        if isinstance(s, ast.Assign):
            value = self.expr(s.value, env)
            for t in s.targets:
                if isinstance(t, ast.Name):
                    env[t.id] = value if value and value[0] == "instance" else ("external",)
                else:
                    self.expr(t, env)
            return
        if isinstance(s, ast.Return):
            value = self.expr(s.value, env) if s.value is not None else None
            if fn and value and value[0] == "instance":
                self.returns[fn] = value
            return
        if isinstance(s, (ast.Try, ast.For, ast.While, ast.With)):
            for e in [getattr(s, "iter", None), getattr(s, "test", None), *[i.context_expr for i in getattr(s, "items", [])]]:
                if e is not None:
                    self.expr(e, env)
            self.body(s.body, env, fn)
            for h in getattr(s, "handlers", []):
                self.body(h.body, env, fn)
            self.body(getattr(s, "orelse", []), env, fn)
            self.body(getattr(s, "finalbody", []), env, fn)
            return
        for child in ast.iter_child_nodes(s):
            if isinstance(child, ast.expr):
                self.expr(child, env)

    def expr(self, e, env: dict):
        if e is None:
            return None
        result = None
        if isinstance(e, ast.Call):
            for a in e.args:
                self.expr(a, env)
            for k in e.keywords:
                self.expr(k.value, env)
            if isinstance(e.func, ast.Attribute):
                self.expr(e.func.value, env)
            result = self.call(e, env)
            return result
        if isinstance(e, ast.Attribute):
            self.attribute(e, env)
            self.expr(e.value, env)
            return None
        if isinstance(e, ast.Name):
            return env.get(e.id)
        if isinstance(e, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.DictComp, ast.SetComp)):
            return None
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self.expr(child, env)
        return None

    # ------------------------------------------------------------------ the callback

    def callback(self, tree: ast.Module) -> None:
        roles = {"state": "TrainerState", "control": "TrainerControl", "args": "TrainingArguments"}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("on_"):
                self.checked.append(f"hook {node.name}")
                for label, t in self.tf.items():
                    if node.name not in t["TrainerCallback"]["hooks"]:
                        self.problem(node, f"transformers {label}'s TrainerCallback has no hook {node.name}")
            field = None
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in roles:
                field = (node.value.id, node.attr)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in roles
                and isinstance(node.args[1], ast.Constant)
            ):
                field = (node.args[0].id, node.args[1].value)
            if field is None:
                continue
            role, name = field
            self.checked.append(f"{role}.{name}")
            for label, t in self.tf.items():
                rec = t[roles[role]]
                known = set(rec.get("fields", [])) | set(rec.get("attributes", [])) | set(rec.get("methods", {}))
                if name not in known:
                    self.problem(node, f"transformers {label}'s {roles[role]} has no {name}")


def run(job: dict, fixture: dict) -> dict:
    with open(job["file"], encoding="utf-8") as f:
        tree = ast.parse(f.read())
    c = Checker(fixture, job["st"])
    if job.get("mode") == "callback":
        c.callback(tree)
    else:
        c.body(tree.body, {}, None)
    return {"id": job["id"], "st": job["st"], "transformers": sorted(c.tf), "problems": c.problems, "checked": c.checked}


def main() -> int:
    req = json.load(sys.stdin)
    with open(req["fixture"], encoding="utf-8") as f:
        fixture = json.load(f)
    print(json.dumps({"results": [run(j, fixture) for j in req["jobs"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

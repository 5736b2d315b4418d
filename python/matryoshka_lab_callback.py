"""Matryoshka Lab tracking for sentence-transformers training (standard library only).

Add it to a SentenceTransformerTrainer and the run appears in Matryoshka Lab's runs view and panel:

    from matryoshka_lab_callback import MatryoshkaLabCallback
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss, evaluator=evaluator)
    trainer.add_callback(MatryoshkaLabCallback(name="my run"))

It writes a run folder in Matryoshka Lab's format (its repository's docs/architecture.md, "The run folder"):
  run.json       status running -> completed | failed | stopped, pid, times, step, totalSteps,
                 "engine": "sentence-transformers"; replaced atomically (temp file + rename)
  config.json    the training arguments and whatever the script passes as `config` (kept as it is when
                 the folder already has one: Matryoshka Lab's own launcher writes the resolved run config)
  metrics.jsonl  append-only: train loss / learning rate / grad norm (split "train") and evaluator results
                 (split "eval"); per-dim keys such as eval_dim_64_cosine_ndcg@10 (an evaluator named
                 "dim_64", e.g. InformationRetrievalEvaluator(..., name="dim_64", truncate_dim=64)) go to
                 byDim["64"]["ndcg@10"]; quantised precisions (the generated train.py's PrecisionEvaluator)
                 keep theirs as a prefix: eval_dim_64_int8_ndcg@10 -> byDim["64"]["int8:ndcg@10"],
                 eval_dim_64_binary_rescore_ndcg@10 -> byDim["64"]["binary+rescore:ndcg@10"]
Only the main process writes (state.is_world_process_zero). SIGTERM / SIGINT stop training at the end of
the current step, with a checkpoint, and the run is marked "stopped"; a second signal exits at once.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import signal
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone

try:  # A real TrainerCallback when transformers is there; a plain class lets the module load anywhere.
    from transformers import TrainerCallback as _CallbackBase
except Exception:  # noqa: BLE001 - any import failure (missing, broken torch) means "no transformers"
    _CallbackBase = object

ENGINE = "sentence-transformers"
RUN_FILES = {"config": "config.json", "info": "run.json", "metrics": "metrics.jsonl", "log": "log.txt"}

# Launched by Matryoshka Lab's trainer: the run folder to write, and the pid the host stops (the trainer
# process, which forwards signals to this one). Unset when a user's own script uses the callback.
ENV_RUN_DIR = "MRL_RUN_DIR"
ENV_OWNER_PID = "MRL_OWNER_PID"

# Trainer bookkeeping in log dicts: not metrics.
_SKIPPED_KEYS = {"epoch", "step", "total_flos", "runtime", "samples_per_second", "steps_per_second"}
_TRAIN_RENAMES = {"learning_rate": "lr", "grad_norm": "gradNorm"}
# "dim_64_cosine_ndcg@10" -> dim 64, metric "cosine_ndcg@10"; an optional evaluator prefix before "dim_".
_DIM_KEY = re.compile(r"^(?:(?P<prefix>.+?)_)?dim_(?P<dim>\d+)_(?P<metric>.+)$")
_FUNNEL_KEY = re.compile(r"^funnel_(?P<metric>.+)$")
# "int8_ndcg@10" -> "int8:ndcg@10", "binary_rescore_ndcg@10" -> "binary+rescore:ndcg@10": a metric at a quantised
# precision, named as Matryoshka Lab's precisionKey (src/protocol/runFolder.ts); float32 keeps the bare name.
_PRECISION_METRIC = re.compile(r"^(?P<precision>int8|binary)(?P<rescore>_rescore)?_(?P<metric>.+)$")


def _now_iso() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def slugify(name: str) -> str:
    """The run id's name part, as the TypeScript trainer makes it (runWriter.ts slugify)."""
    import unicodedata

    s = unicodedata.normalize("NFKD", name.lower())
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:40].rstrip("-")
    return s or "run"


def make_run_id(name: str, now: datetime | None = None) -> str:
    """<yyyymmdd-hhmmss>-<slug>-<4 hex>, UTC (so ids sort by start time)."""
    now = now or datetime.now(timezone.utc)
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}-{uuid.uuid4().hex[:4]}"


def default_runs_dir(start: str | None = None) -> str:
    """<workspace>/.mrl/runs: the nearest folder upward from `start` (default cwd) holding .mrl, else cwd."""
    here = os.path.abspath(start or os.getcwd())
    d = here
    while True:
        if os.path.isdir(os.path.join(d, ".mrl")):
            return os.path.join(d, ".mrl", "runs")
        up = os.path.dirname(d)
        if up == d:
            return os.path.join(here, ".mrl", "runs")
        d = up


def _finite(v):
    """A metric value for JSON: a finite float, None for NaN / inf, or nothing (not a number)."""
    if isinstance(v, bool):
        return None, False
    if isinstance(v, (int, float)):
        f = float(v)
        return (f if math.isfinite(f) else None), True
    try:  # numpy / torch scalars
        f = float(v)
    except (TypeError, ValueError):
        return None, False
    return (f if math.isfinite(f) else None), True


def _metric_name(metric: str) -> str:
    """sentence-transformers' metric name -> ours: cosine_ndcg@10 -> ndcg@10, spearman_cosine -> spearman,
    int8_ndcg@10 -> int8:ndcg@10, binary_rescore_ndcg@10 -> binary+rescore:ndcg@10. Other similarity functions
    keep their name (dot_ndcg@10), so two functions never collide."""
    p = _PRECISION_METRIC.match(metric)
    if p:
        return f"{p.group('precision')}{'+rescore' if p.group('rescore') else ''}:{_metric_name(p.group('metric'))}"
    if metric.startswith("cosine_"):
        return metric[len("cosine_"):]
    m = re.match(r"^(pearson|spearman)_cosine$", metric)
    return m.group(1) if m else metric


def split_metrics(logs: dict, prefix: str = "") -> tuple[dict, dict]:
    """A log / metrics dict -> (values, byDim). Keys lose `prefix` ("eval_"); per-dim keys go to byDim;
    funnel_<metric> becomes values["funnel:<metric>"]; the rest (loss, a SequentialEvaluator's
    sequential_score, evaluators not named dim_<n>) stay in values under their own name."""
    values: dict = {}
    by_dim: dict = {}
    for key, raw in logs.items():
        if prefix and key.startswith(prefix):
            key = key[len(prefix):]
        if key in _SKIPPED_KEYS:
            continue
        v, ok = _finite(raw)
        if not ok:
            continue
        m = _DIM_KEY.match(key)
        if m:
            metric = _metric_name(m.group("metric"))
            if m.group("prefix"):
                metric = f"{m.group('prefix')}_{metric}"
            by_dim.setdefault(str(int(m.group("dim"))), {})[metric] = v
            continue
        f = _FUNNEL_KEY.match(key)
        if f:
            values["funnel:" + f.group("metric")] = v
            continue
        values[_TRAIN_RENAMES.get(key, key)] = v
    return values, by_dim


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _jsonable(v, depth: int = 0):
    """Training arguments as JSON: enums by value, unknown objects by their str()."""
    if depth > 6:
        return str(v)
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _jsonable(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x, depth + 1) for x in v]
    if hasattr(v, "value") and isinstance(getattr(v, "value"), (str, int, float)):
        return v.value
    return str(v)


def _training_args(args) -> dict:
    if args is None:
        return {}
    to_dict = getattr(args, "to_dict", None)
    try:
        d = to_dict() if callable(to_dict) else dict(vars(args))
    except Exception:  # noqa: BLE001 - a partly built args object: record what can be read
        d = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    # Hub tokens are secrets; they never go to disk.
    return {k: _jsonable(v) for k, v in d.items() if "token" not in k.lower()}


def _device_of(args) -> str:
    try:
        dev = getattr(args, "device", None)
        kind = getattr(dev, "type", None) or (str(dev) if dev is not None else None)
    except Exception:  # noqa: BLE001 - args.device may initialise torch; a failure only loses the label
        kind = None
    return f"pytorch-{kind}" if kind else "pytorch"


class MatryoshkaLabCallback(_CallbackBase):
    """Writes a Matryoshka Lab run folder for a (Sentence)Transformer trainer.

    run_dir: the run folder (default: $MRL_RUN_DIR, else <workspace>/.mrl/runs/<runId>, the workspace
             being the nearest folder upward from the working directory with a .mrl folder, else it).
    name:    the run's name (default: the script's file name).
    config:  extra JSON-able values stored in config.json beside the training arguments.
    finish_on_train_end: mark the run completed when training ends; False when the script calls
             finish() itself after saving its model (so a failed save is a failed run).
    """

    def __init__(self, run_dir: str | None = None, name: str | None = None, config: dict | None = None, finish_on_train_end: bool = True):
        super().__init__()
        script = os.path.splitext(os.path.basename(sys.argv[0] or ""))[0]
        self.name = name or script or "sentence-transformers"
        self.run_dir = os.path.abspath(run_dir or os.environ.get(ENV_RUN_DIR) or os.path.join(default_runs_dir(), make_run_id(self.name)))
        self.extra_config = config or {}
        self.finish_on_train_end = finish_on_train_end
        self.info: dict | None = None
        self.stop_requested = False
        self._is_main = True
        self._t0 = time.time()
        self._error: str | None = None
        self._handlers_installed = False
        self._previous_excepthook = None
        # The step of the last evaluation (None: none yet), so a script can evaluate at the end only when needed.
        self.last_eval_step: int | None = None

    # ------------------------------------------------------------------ the run folder

    def _path(self, key: str) -> str:
        return os.path.join(self.run_dir, RUN_FILES[key])

    def _write_info(self) -> None:
        _write_atomic(self._path("info"), json.dumps(self.info, indent=2) + "\n")

    def _update(self, **patch) -> None:
        if self.info is None or not self._is_main:
            return
        self.info.update(patch)
        self._write_info()

    def _append(self, line: dict) -> None:
        # One write per line: a reader sees whole lines, or a torn last one after a kill -9.
        with open(self._path("metrics"), "a", encoding="utf-8") as f:
            f.write(json.dumps(line, allow_nan=False) + "\n")

    def log(self, message: str) -> None:
        if self.info is None or not self._is_main:
            return
        with open(self._path("log"), "a", encoding="utf-8") as f:
            f.write(f"{_now_iso()} {message}\n")

    def _open(self, args, state) -> None:
        os.makedirs(self.run_dir, exist_ok=True)
        owner = os.environ.get(ENV_OWNER_PID)
        pid = int(owner) if owner and owner.isdigit() else os.getpid()
        existing = None
        try:
            with open(self._path("info"), encoding="utf-8") as f:
                existing = json.load(f)
        except (OSError, ValueError):
            existing = None
        if not os.path.exists(self._path("config")):
            cfg = {"engine": ENGINE, "name": self.name, **_jsonable(self.extra_config), "trainingArguments": _training_args(args)}
            _write_atomic(self._path("config"), json.dumps(cfg, indent=2) + "\n")
        step = int(getattr(state, "global_step", 0) or 0)
        total = int(getattr(state, "max_steps", 0) or 0)
        base = {
            "status": "running",
            "pid": pid,
            "endedAt": None,
            "backend": _device_of(args),
            "engine": ENGINE,
            "step": step,
            "totalSteps": total,
        }
        world = int(getattr(args, "world_size", 1) or 1) if args is not None else 1
        if world > 1:
            base["backendReason"] = f"{world} processes (distributed data parallel)"
            # Where the processes met (torchrun sets these in every worker): with --standalone, a port of this run's own.
            addr, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
            if addr and port:
                base["rendezvousEndpoint"] = f"{addr}:{port}"
        if pid == os.getpid():
            # Not launched by Matryoshka Lab: readers tell this process from a reused pid by its command line.
            try:
                with open(f"/proc/{pid}/cmdline", encoding="utf-8", errors="replace") as f:
                    base["cmdline"] = f.read().rstrip("\0")
            except OSError:
                pass
        if isinstance(existing, dict) and existing.get("id"):
            # A folder Matryoshka Lab's trainer prepared (config.json, run.json), or a run resumed from a checkpoint.
            self.info = {**existing, **base}
            self.info.pop("error", None)
            if step > 0:
                self.info["resumedAt"] = _now_iso()
            self._write_info()
            if step > 0:
                self._append({"type": "resume", "fromStep": step, "time": self._elapsed(), "wallTime": int(time.time() * 1000)})
                self.log(f"resumed at step {step}")
            else:
                self.log(f"training started ({self.info['backend']}), {total} steps")
        else:
            self.info = {"id": os.path.basename(self.run_dir), "name": self.name, "startedAt": _now_iso(), **base}
            self._write_info()
            self.log(f"training started ({self.info['backend']}), {total} steps")

    def _elapsed(self) -> float:
        started = (self.info or {}).get("startedAt")
        try:
            t0 = datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        except (TypeError, ValueError):
            t0 = self._t0
        return round(time.time() - t0, 3)

    def _event(self, state, split: str, values: dict, by_dim: dict) -> None:
        line = {
            "step": int(getattr(state, "global_step", 0) or 0),
            "epoch": float(getattr(state, "epoch", 0.0) or 0.0),
            "time": self._elapsed(),
            "wallTime": int(time.time() * 1000),
            "split": split,
            "values": values,
        }
        if by_dim:
            line["byDim"] = by_dim
        self._append(line)

    def finish(self, status: str | None = None, error: str | None = None) -> None:
        """Marks the end: "stopped" after a stop request, else "completed" (or `status`)."""
        if self.info is None or not self._is_main or self.info.get("status") != "running":
            return
        status = status or ("stopped" if self.stop_requested else "completed")
        patch = {"status": status, "pid": None, "endedAt": _now_iso()}
        if error:
            patch["error"] = error
        self._update(**patch)
        self.log(f"run {status}" + (f": {error}" if error else ""))

    def fail(self, exc: BaseException | str) -> None:
        """Marks the run failed (stopped for a KeyboardInterrupt) with the exception's message."""
        if isinstance(exc, KeyboardInterrupt):
            self.finish("stopped", "interrupted (KeyboardInterrupt)")
            return
        msg = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.finish("failed", msg)

    # ------------------------------------------------------------------ signals and exit

    def _on_signal(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self.stop_requested:
            # A second signal: exit now; the last checkpoint is what a resume continues from.
            self.finish("stopped", f"{name} again: exited at once; resume continues from the last checkpoint")
            os._exit(128 + signum)
        self.stop_requested = True
        self.log(f"{name}: finishing this step, then a checkpoint")
        print(f"\n{name}: finishing this step, then a checkpoint...", file=sys.stderr, flush=True)

    def _install_handlers(self) -> None:
        if self._handlers_installed:
            return
        self._handlers_installed = True
        try:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        except ValueError:
            pass  # not the main thread: the trainer's own handling applies
        previous = sys.excepthook

        def hook(tp, value, tb):
            self._error = "".join(traceback.format_exception_only(tp, value)).strip()
            previous(tp, value, tb)

        sys.excepthook = hook
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        # The interpreter is leaving while the run still says running: an exception ended training, or the
        # script returned without finish().
        if self.info is not None and self.info.get("status") == "running":
            if self._error:
                self.finish("failed", self._error)
            elif self.stop_requested:
                self.finish("stopped")
            else:
                self.finish("failed", "the script exited before training ended")

    def _stop_agreed(self) -> bool:
        """Every rank stops at the same step: one rank stopping alone would hang the others in DDP."""
        stop = self.stop_requested
        try:
            import torch.distributed as dist  # only under torchrun, where torch is there anyway

            if dist.is_available() and dist.is_initialized():
                import torch

                backend = dist.get_backend()
                device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
                flag = torch.tensor([1 if stop else 0], device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                stop = bool(flag.item())
        except ImportError:
            pass
        if stop:
            self.stop_requested = True
        return stop

    # ------------------------------------------------------------------ TrainerCallback events

    def on_train_begin(self, args, state, control, **kwargs):
        self._is_main = bool(getattr(state, "is_world_process_zero", True))
        self._install_handlers()
        if self._is_main:
            self._open(args, state)
        return control

    def _owner_gone(self) -> bool:
        """Launched by Matryoshka Lab's trainer, which has been killed (the host's SIGKILL after its stop
        grace): nobody can stop this process any more, and the host has written the final status."""
        owner = os.environ.get(ENV_OWNER_PID)
        if not owner or not owner.isdigit() or int(owner) == os.getpid():
            return False
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def on_step_end(self, args, state, control, **kwargs):
        if self._owner_gone():
            print("Matryoshka Lab's trainer process is gone: exiting (the last checkpoint stays)", file=sys.stderr, flush=True)
            os._exit(137)
        if self._stop_agreed():
            control.should_training_stop = True
            control.should_save = True
        if self._is_main and self.info is not None and state.global_step % 10 == 0:
            self._update(step=int(state.global_step))
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not self._is_main or self.info is None or not logs:
            return control
        if any(k.startswith("eval_") for k in logs):
            return control  # the same metrics come through on_evaluate
        if "train_runtime" in logs:
            # The trainer's closing summary: kept on the run, not a point of the curve.
            summary = {k: v for k, v in ((k, _finite(x)) for k, x in logs.items()) if v[1]}
            self._update(trainSummary={k: v[0] for k, v in summary.items()}, step=int(state.global_step))
            return control
        values, by_dim = split_metrics(logs)
        if values or by_dim:
            self._event(state, "train", values, by_dim)
            self._update(step=int(state.global_step))
        return control

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.last_eval_step = int(getattr(state, "global_step", 0) or 0)
        if not self._is_main or self.info is None or not metrics:
            return control
        values, by_dim = split_metrics(metrics, "eval_")
        if values or by_dim:
            self._event(state, "eval", values, by_dim)
        return control

    def on_save(self, args, state, control, **kwargs):
        if self._is_main and self.info is not None:
            self.log(f"checkpoint at step {state.global_step} in {getattr(args, 'output_dir', '?')}")
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self._is_main and self.info is not None:
            self._update(step=int(state.global_step))
            if self.finish_on_train_end or self.stop_requested:
                self.finish()
        return control

"""Drives python/matryoshka_lab_callback.py the way transformers' Trainer does, without transformers:
args / state / control shaped like TrainingArguments / TrainerState / TrainerControl, and the log
dictionaries a SentenceTransformerTrainer really produces (train logs, a SequentialEvaluator of
InformationRetrievalEvaluator(name="dim_<d>", truncate_dim=d) and EmbeddingSimilarityEvaluator per dim).

usage: drive_callback.py <scenario> <run_dir or "-"> [name]
  completed  a full run: train logs, two evaluations, the closing summary
  stopped    SIGTERM mid-training: the step ends with should_training_stop + should_save
  failed     an exception escapes the training loop (uncaught: excepthook + atexit mark the run)
  worker     a non-main process (is_world_process_zero False): writes nothing
  resume     continues the stopped run from step 4 (its checkpoint), then completes
  default    no run_dir: the folder goes to <cwd's workspace>/.mrl/runs/<runId>
  precisions as completed, the evaluations also carrying the generated train.py's PrecisionEvaluator results
             (dim_<d>_<int8|binary>[_rescore]_<metric>)
Prints the run folder on stdout.
"""

import os
import signal
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from matryoshka_lab_callback import MatryoshkaLabCallback  # noqa: E402


class Args(SimpleNamespace):
    """TrainingArguments' surface the callback reads: to_dict(), device, world_size, output_dir."""

    def to_dict(self):
        return {k: v for k, v in vars(self).items() if k not in ("device",)}


def make_args(**kw):
    base = dict(
        output_dir="checkpoints",
        per_device_train_batch_size=64,
        learning_rate=2e-5,
        warmup_steps=2,
        lr_scheduler_type=SimpleNamespace(value="linear"),
        weight_decay=0.01,
        max_steps=12,
        seed=42,
        logging_steps=3,
        eval_steps=6,
        save_steps=6,
        hub_token="secret-never-written",
        batch_sampler=SimpleNamespace(value="no_duplicates"),
        device=SimpleNamespace(type="cpu"),
        world_size=1,
    )
    base.update(kw)
    return Args(**base)


def make_state(step=0, main=True):
    return SimpleNamespace(global_step=step, max_steps=12, epoch=0.0, is_world_process_zero=main, log_history=[])


def control():
    return SimpleNamespace(should_training_stop=False, should_save=False, should_evaluate=False, should_log=False)


def eval_metrics(step, precisions=False):
    """What SentenceTransformerTrainer.evaluate() returns for SequentialEvaluator([IR dim_64, IR dim_32,
    ES dim_64, ES dim_32]) (keys prefixed eval_ by the trainer), plus its own loss and timings; with
    `precisions`, a PrecisionEvaluator first (its keys as the generated train.py names them)."""
    m = {}
    if precisions:
        for d, q in ((64, 0.45), (32, 0.35)):
            for i, variant in enumerate(("int8", "int8_rescore", "binary", "binary_rescore")):
                for j, metric in enumerate(("ndcg@10", "mrr@10", "recall@1", "recall@10", "map@100")):
                    m[f"eval_dim_{d}_{variant}_{metric}"] = round(q + step / 100 - i / 20 - j / 100, 4)
    for d, q in ((64, 0.5), (32, 0.4)):
        q += step / 100
        for k in (1, 3, 5, 10):
            m[f"eval_dim_{d}_cosine_accuracy@{k}"] = q + k / 100
            m[f"eval_dim_{d}_cosine_precision@{k}"] = q / k
            m[f"eval_dim_{d}_cosine_recall@{k}"] = q + k / 100
        m[f"eval_dim_{d}_cosine_ndcg@10"] = q
        m[f"eval_dim_{d}_cosine_mrr@10"] = q - 0.05
        m[f"eval_dim_{d}_cosine_map@100"] = q - 0.1
        m[f"eval_dim_{d}_pearson_cosine"] = q + 0.1
        m[f"eval_dim_{d}_spearman_cosine"] = q + 0.2
    m["eval_funnel_ndcg@10"] = 0.61
    m["eval_funnel_macsSaved"] = 0.7
    m["eval_sequential_score"] = m["eval_dim_32_spearman_cosine"]
    m["eval_loss"] = 1.25
    m["eval_runtime"] = 0.5
    m["eval_samples_per_second"] = 400.0
    m["eval_steps_per_second"] = 7.0
    m["eval_nan_metric"] = float("nan")
    m["epoch"] = step / 12
    return m


def train_steps(cb, args, state, ctl, steps, stop_at=None, precisions=False):
    for step in steps:
        state.global_step = step
        state.epoch = step / 12
        if stop_at is not None and step == stop_at:
            os.kill(os.getpid(), signal.SIGTERM)
        cb.on_step_end(args, state, ctl)
        if step % 3 == 0:
            cb.on_log(args, state, ctl, logs={"loss": 2.0 - step / 10, "grad_norm": 1.5, "learning_rate": 2e-5 * (1 - step / 12), "epoch": state.epoch})
        if step % 6 == 0:
            metrics = eval_metrics(step, precisions)
            cb.on_log(args, state, ctl, logs=dict(metrics))  # the trainer logs evaluations too
            cb.on_evaluate(args, state, ctl, metrics=metrics)
        if ctl.should_save:
            cb.on_save(args, state, ctl)
        if ctl.should_training_stop:
            return step
    return steps[-1]


def main():
    scenario, run_dir = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else f"st {scenario}"
    cb = MatryoshkaLabCallback(run_dir=None if run_dir == "-" else run_dir, name=name, config={"model": "sentence-transformers/all-MiniLM-L6-v2"})
    args, ctl = make_args(), control()
    if scenario == "worker":
        state = make_state(main=False)
        cb.on_train_begin(args, state, ctl)
        train_steps(cb, args, state, ctl, range(1, 13))
        cb.on_train_end(args, state, ctl)
    elif scenario == "resume":
        state = make_state(step=4)
        cb.on_train_begin(args, state, ctl)
        train_steps(cb, args, state, ctl, range(5, 13))
        cb.on_train_end(args, state, ctl)
    else:
        state = make_state()
        cb.on_train_begin(args, state, ctl)
        metrics = eval_metrics(0, scenario == "precisions")
        cb.on_evaluate(args, state, ctl, metrics=metrics)
        if scenario == "failed":
            train_steps(cb, args, state, ctl, range(1, 5))
            raise RuntimeError("CUDA out of memory (simulated)")
        last = train_steps(cb, args, state, ctl, range(1, 13), stop_at=4 if scenario == "stopped" else None, precisions=scenario == "precisions")
        if scenario == "stopped":
            assert ctl.should_training_stop and ctl.should_save, "a SIGTERM must stop training at the end of the step, with a checkpoint"
            assert last == 4, f"stopped at step {last}, expected 4"
        cb.on_log(args, state, ctl, logs={"train_runtime": 12.5, "train_samples_per_second": 61.4, "train_steps_per_second": 0.96, "total_flos": 0.0, "train_loss": 1.4, "epoch": 1.0})
        cb.on_train_end(args, state, ctl)
    print(cb.run_dir)


main()

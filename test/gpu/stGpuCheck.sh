#!/usr/bin/env bash
# The sentence-transformers engine on a real GPU (issue 23 §4). NOT run in CI (no GPU there): run it on a
# machine with an NVIDIA GPU and a Python with torch + sentence-transformers (e.g. ST 6.0.1, transformers 5.17,
# accelerate 1.15, torch 2.11), no network needed. From the repository root, after `npm run build`:
#
#   PYTHON=/path/to/python bash test/gpu/stGpuCheck.sh            # the checks below, ~10 minutes on one H100
#   bash test/gpu/stGpuCheck.sh --dry-run                         # here: syntax, the plan, the emitted scripts
#
# What it runs, each in its own folder under $OUT (default /tmp/mrl-gpu-check):
#   1. the quick-start-sized config (quickstart.mrl.json's loss, dims, steps) on a pretrained folder that the
#      bundled trainer saved (a short bundled run, then `npm run export`), with engine sentence-transformers;
#   2. MatryoshkaLoss(CachedMultipleNegativesRankingLoss) on an anchor/positive JSONL file;
#   3. Stop -> Resume: run 2 again, SIGTERM after its first checkpoint, then --resume to the end;
#   4. the callback in a hand-written script (python/matryoshka_lab_callback.py added to a SentenceTransformerTrainer);
#   5. per-dim ndcg@10 of 1 next to the bundled trainer's, same config and data (printed, not asserted: they are
#      two engines; the table is the result).
# It stops at the first failure. Every run folder is checked with `node -e` through RunStore's reader (dist/).
#
# A machine without `datasets` (and its pure-Python dependencies dill, multiprocess, xxhash…): build wheels of
# them here, where pip reaches an index, and carry them; install there with --no-index:
#   python3 -m pip download --no-deps --dest wheels datasets dill multiprocess xxhash pyarrow fsspec
#   python3 -m pip wheel --no-deps --wheel-dir wheels <source folder of any of them without a wheel>
#   PIP_WHEELS=wheels bash test/gpu/stGpuCheck.sh                 # installs them with --no-index first
# (pyarrow and xxhash are binary: download the wheels for the GPU machine's Python and platform with
#  --python-version / --platform manylinux_2_28_x86_64 --only-binary=:all:.)
set -euo pipefail
cd "$(dirname "$0")/../.."
DRY=0
[[ "${1:-}" == "--dry-run" ]] && DRY=1
PY="${PYTHON:-python3}"
OUT="${OUT:-/tmp/mrl-gpu-check}"
TRAIN=(node dist/trainer.js)
say() { printf '\n== %s\n' "$*" >&2; }
run() { if ((DRY)); then printf '   would run: %s\n' "$*" >&2; else "$@"; fi; }

[[ -f dist/trainer.js ]] || { echo "dist/trainer.js missing: npm run build first" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"

if [[ -n "${PIP_WHEELS:-}" ]]; then
  say "installing the carried wheels from $PIP_WHEELS"
  run "$PY" -m pip install --no-index --find-links "$PIP_WHEELS" datasets
fi

if ((!DRY)); then
  say "the machine"
  "$PY" - <<'EOF'
import sys, torch, sentence_transformers, transformers, accelerate, datasets
print(f"python {sys.version.split()[0]}, torch {torch.__version__} (cuda {torch.version.cuda}, {torch.cuda.device_count()} GPU: "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}), sentence-transformers {sentence_transformers.__version__}, "
      f"transformers {transformers.__version__}, accelerate {accelerate.__version__}, datasets {datasets.__version__}")
assert torch.cuda.is_available(), "no CUDA device: this check is for a GPU machine"
EOF
fi

# Data: WordNet glosses exported as anchor/positive JSONL (the same rows both engines read).
say "data: $OUT/pairs.jsonl"
node --import tsx test/gpu/stGpuHelpers.ts pairs "$OUT/pairs.jsonl"

# The quick start's loss, dims and schedule; the model is the pretrained folder made in step 0.
config() { # name model data engine steps
  node -e '
const [name, model, data, engine, steps] = process.argv.slice(1);
const c = {
  name, engine, seed: 42,
  model: { pretrained: { path: model } },
  data: { train: { source: data, columns: ["anchor", "positive"] }, evalFraction: 0.05 },
  loss: { type: "MatryoshkaLoss", loss: { type: "CachedMultipleNegativesRankingLoss", miniBatchSize: 16 }, matryoshkaDims: [64, 32, 16, 8] },
  training: { maxSteps: Number(steps), batchSize: 64, learningRate: 0.0005, warmupSteps: 20, logEvery: 10, evalEvery: 100, checkpointEvery: 100 },
  evaluation: { maxQueries: 500 },
};
// No model given: the quick start scratch encoder (post-LN, so that sentence-transformers loads it).
if (!model) c.model = { scratch: { vocabSize: 4000, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128, maxSeqLength: 32, pooling: "mean", hiddenDropout: 0.05, attentionDropout: 0, layerNorm: "post" } };
process.stdout.write(JSON.stringify(c, null, 2));
' "$@"
}

say "0. a pretrained folder saved by the bundled trainer (short bundled run, then npm run export)"
# Run for real in a dry run too (20 steps on the CPU): the later steps need a real folder to emit from.
config base "" "$OUT/pairs.jsonl" bundled $((DRY ? 20 : 250)) >"$OUT/base.mrl.json"
"${TRAIN[@]}" --config "$OUT/base.mrl.json" --out "$OUT/runs/bundled-base"
node dist/export.js "$OUT/runs/bundled-base" --dim 64 --out "$OUT/base-model" --json

say "1. the quick-start-sized config on that folder, engine sentence-transformers"
config st-quickstart "$OUT/base-model" "$OUT/pairs.jsonl" sentence-transformers 250 >"$OUT/st.mrl.json"
run "${TRAIN[@]}" --config "$OUT/st.mrl.json" --out "$OUT/runs/st-quickstart" --python "$PY"

say "2. MatryoshkaLoss(CachedMNRL) on the anchor/positive JSONL, emitted (--emit-script) and run by its run.sh"
config st-emitted "$OUT/base-model" "$OUT/pairs.jsonl" sentence-transformers 300 >"$OUT/emit.mrl.json"
"${TRAIN[@]}" --config "$OUT/emit.mrl.json" --emit-script "$OUT/emitted/20250101-000000-st-emitted-0001"
bash -n "$OUT/emitted/20250101-000000-st-emitted-0001/run.sh"
"$PY" -m py_compile "$OUT/emitted/20250101-000000-st-emitted-0001/train.py"
run env PYTHON="$PY" PYTHONWARNINGS=error::DeprecationWarning:__main__ sh "$OUT/emitted/20250101-000000-st-emitted-0001/run.sh"

say "3. Stop -> Resume: SIGTERM after the first checkpoint, then --resume"
config st-stop "$OUT/base-model" "$OUT/pairs.jsonl" sentence-transformers 300 >"$OUT/stop.mrl.json"
if ((DRY)); then
  printf '   would run: %s --config %s --out %s, SIGTERM once checkpoints/checkpoint-100 exists, then --resume\n' "${TRAIN[*]}" "$OUT/stop.mrl.json" "$OUT/runs/st-stop" >&2
else
  "${TRAIN[@]}" --config "$OUT/stop.mrl.json" --out "$OUT/runs/st-stop" --python "$PY" &
  pid=$!
  until [[ -d "$OUT/runs/st-stop/checkpoints/checkpoint-100" ]] || ! kill -0 "$pid" 2>/dev/null; do sleep 2; done
  kill -TERM "$pid"
  wait "$pid"
  grep -q '"status": "stopped"' "$OUT/runs/st-stop/run.json"
  "${TRAIN[@]}" --resume "$OUT/runs/st-stop" --python "$PY"
fi

say "4. the callback in a hand-written script"
mkdir -p "$OUT/hand" && cp python/matryoshka_lab_callback.py "$OUT/hand/"
cat >"$OUT/hand/train_by_hand.py" <<'EOF'
import json, os, sys
from datasets import Dataset
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
try:
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator, SequentialEvaluator
except ImportError:
    from sentence_transformers import losses
    from sentence_transformers.evaluation import InformationRetrievalEvaluator, SequentialEvaluator
from matryoshka_lab_callback import MatryoshkaLabCallback

out, model_dir, pairs = sys.argv[1:4]
rows = [json.loads(l) for l in open(pairs)][:4000]
train, held = rows[:3500], rows[3500:]
model = SentenceTransformer(model_dir, device="cuda")
loss = losses.MatryoshkaLoss(model, losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=16), matryoshka_dims=[64, 16])
queries = {f"q{i}": r["anchor"] for i, r in enumerate(held)}
corpus = {f"d{i}": r["positive"] for i, r in enumerate(held)}
relevant = {f"q{i}": {f"d{i}"} for i in range(len(held))}
evaluator = SequentialEvaluator([InformationRetrievalEvaluator(queries, corpus, relevant, name=f"dim_{d}", truncate_dim=d) for d in (64, 16)])
args = SentenceTransformerTrainingArguments(output_dir=os.path.join(out, "checkpoints"), max_steps=60, per_device_train_batch_size=64,
                                            eval_strategy="steps", eval_steps=30, logging_steps=10, report_to="none")
trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_list(train), loss=loss, evaluator=evaluator)
trainer.add_callback(MatryoshkaLabCallback(run_dir=out, name="by hand"))
trainer.train()
EOF
"$PY" -m py_compile "$OUT/hand/train_by_hand.py"
run "$PY" "$OUT/hand/train_by_hand.py" "$OUT/runs/by-hand" "$OUT/base-model" "$OUT/pairs.jsonl"

say "5. every run folder through RunStore, and per-dim ndcg@10: sentence-transformers next to the bundled trainer"
config bundled-same "$OUT/base-model" "$OUT/pairs.jsonl" bundled 250 | node -e '
const c = JSON.parse(require("fs").readFileSync(0, "utf8")); c.model = { pretrained: { path: process.argv[1] } };
require("fs").writeFileSync(process.argv[2], JSON.stringify(c, null, 2));' "$OUT/base-model" "$OUT/bundled-same.mrl.json"
run "${TRAIN[@]}" --config "$OUT/bundled-same.mrl.json" --out "$OUT/runs/bundled-same"
if ((!DRY)); then
  cp -r "$OUT/emitted/20250101-000000-st-emitted-0001" "$OUT/runs/"
  node --import tsx test/gpu/stGpuHelpers.ts report "$OUT/runs"
fi
say "done$( ((DRY)) && printf ' (dry run: nothing trained)')"

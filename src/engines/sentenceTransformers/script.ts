/**
 * engine "sentence-transformers": the run config → a readable, self-contained train.py that builds the
 * real sentence-transformers objects (model, loss, evaluators, SentenceTransformerTrainingArguments) and
 * tracks the run with python/matryoshka_lab_callback.py (copied beside it). The data it reads is what
 * the bundled trainer would train and evaluate on, exported by ./data.ts: data/train.jsonl (columns in
 * loss order, "label" for scores) and data/eval.json (queries, corpus, relevant ids, scored pairs).
 * Evaluation: float32 by an InformationRetrievalEvaluator per dim; the quantised precisions of
 * `evaluation.precisions` by the script's PrecisionEvaluator (the PRECISION_EVALUATOR block of precisionEvaluator.ts: the recipe, its
 * sources and why semantic_search_faiss / _usearch are not called).
 *
 * Pure: no file system, no process. The user can read, rerun (`python train.py`) or edit the output.
 */
import type { BaseLossConfig, RunConfig, SingleLossConfig } from '../../protocol/runConfig';
import { PRECISION_EVALUATOR, precisionSettings, RETRIEVAL_METRICS } from './precisionEvaluator';
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
  /** The model and guide values that are folders relative to train.py's own folder (an emitted script that
   *  carries its models: ./emitScript.ts), rather than absolute folders or Hub ids. */
  relative?: { model?: boolean; guides?: string[] };
}

/** A model location as a Python expression: a folder beside train.py is found from HERE wherever the folder goes. */
function location(value: string, besideScript: boolean): string {
  return besideScript ? `os.path.join(HERE, ${py(value)})` : py(value);
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

/** The symmetric losses, deprecated since sentence-transformers 5.3 (their classes carry `@deprecated`: v5.3.0
 *  losses/MultipleNegativesSymmetricRankingLoss.py, CachedMultipleNegativesSymmetricRankingLoss.py), whose message
 *  names the same loss under the other class: both directions, each normalised on its own. */
const SYMMETRIC: Partial<Record<BaseLossConfig['type'], string>> = {
  MultipleNegativesSymmetricRankingLoss: 'MultipleNegativesRankingLoss',
  CachedMultipleNegativesSymmetricRankingLoss: 'CachedMultipleNegativesRankingLoss',
};
/** The release that deprecated the symmetric losses (and gave the ranking losses `directions` / `partition_mode`). */
export const SYMMETRIC_RENAMED = '5.3.0';
/** The release that moved the modules (sentence_transformers.losses → sentence_transformers.sentence_transformer.losses …:
 *  v5.4.0 util/deprecated_import.py, DEPRECATED_MODULE_PATHS) and renamed Pooling.word_embedding_dimension. */
export const MODULES_MOVED = '5.4.0';
const pyVersion = (v: string) => `(${v.split('.').map(Number).join(', ')})`;

function baseLossCall(b: BaseLossConfig, gather: boolean, guideVar: string | undefined, renamed = false): string {
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
  const symmetric = SYMMETRIC[b.type];
  if (renamed && symmetric) {
    kw.push('directions=("query_to_doc", "doc_to_query")', 'partition_mode="per_direction"');
    return `losses.${symmetric}(${kw.join(', ')})`;
  }
  return `losses.${b.type}(${kw.join(', ')})`;
}

/** A term's loss; `baseVar` names its base loss when that was built beforehand (a symmetric loss, by version). */
function singleLossCall(l: SingleLossConfig, gather: boolean, guideVar: string | undefined, baseVar?: string): string {
  if (l.type !== 'MatryoshkaLoss') return baseVar ?? baseLossCall(l, gather, guideVar);
  return [
    'losses.MatryoshkaLoss(',
    `        model,`,
    `        ${baseVar ?? baseLossCall(l.loss, gather, guideVar)},`,
    `        matryoshka_dims=${py(l.matryoshkaDims)},`,
    `        matryoshka_weights=${py(l.matryoshkaWeights)},`,
    `        n_dims_per_step=${py(l.nDimsPerStep)},`,
    '    )',
  ].join('\n');
}

/** The `build_loss(model)` body: one loss, or a weighted sum of terms. */
function lossSection({ config, loss }: ResolvedRunConfig, guides: Record<string, string>, relativeGuides: string[] = []): string {
  const gather = config.devices > 1;
  const out: string[] = [];
  const guideVars = new Map<string, string>();
  const terms = loss.terms;
  for (const { base } of terms) {
    if (!isGist(base) || guideVars.has(base.guide)) continue;
    const v = `guide_${guideVars.size}`;
    guideVars.set(base.guide, v);
    if (base.guide === 'self') out.push(`    ${v} = load_model(MODEL)  # guide "self": a frozen copy of the initial model`);
    else
      out.push(
        `    ${v} = load_model(${location(guides[base.guide] ?? base.guide, relativeGuides.includes(base.guide))})  # the guide model (frozen)`,
      );
  }
  const baseOf = (l: SingleLossConfig) => (l.type === 'MatryoshkaLoss' ? l.loss : l);
  const guideOf = (l: SingleLossConfig) => {
    const b = baseOf(l);
    return isGist(b) ? guideVars.get(b.guide) : undefined;
  };
  const singles = Array.isArray(config.loss) ? config.loss.map((t) => t.loss) : [config.loss];
  // A symmetric base loss is built under the name the installed release wants (no DeprecationWarning on 5.3+).
  const baseVars = singles.map((l, i) => {
    const b = baseOf(l);
    if (!SYMMETRIC[b.type]) return undefined;
    const v = `base_${i}`;
    out.push(
      `    if ST_VERSION >= ${pyVersion(SYMMETRIC_RENAMED)}:  # ${b.type} is deprecated since ${SYMMETRIC_RENAMED}: the same loss, both directions`,
      `        ${v} = ${baseLossCall(b, gather, undefined, true)}`,
      '    else:',
      `        ${v} = ${baseLossCall(b, gather, undefined)}`,
    );
    return v;
  });
  if (!Array.isArray(config.loss)) {
    out.push(`    return ${singleLossCall(config.loss, gather, guideOf(config.loss), baseVars[0])}`);
  } else {
    out.push('    return WeightedSumLoss(model, [');
    config.loss.forEach((t, i) =>
      out.push(
        `        (${py(t.weight)}, ${singleLossCall(t.loss, gather, guideOf(t.loss), baseVars[i]).replace(/\n {4}/g, '\n            ')}),`,
      ),
    );
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
    'the resolved config. Rerun:  python train.py            (several GPUs: torchrun --standalone --nproc_per_node N train.py)',
    '       resume:  python train.py --resume   (from the last checkpoint in checkpoints/)',
    'Data: data/train.jsonl and data/eval.json are the rows and eval set the bundled trainer would use; train.jsonl is in',
    "the order of the config's seed (the bundled trainer's seeded shuffle), which sets the data order here too.",
    `Versions: it runs on sentence-transformers >= ${need.version} and builds each object under the name the installed release`,
    `wants: ${MODULES_MOVED} moved the modules (the old paths only redirect, with a DeprecationWarning) and renamed Pooling's`,
    `word_embedding_dimension; ${SYMMETRIC_RENAMED} deprecated the symmetric losses for their ranking loss in both directions.`,
    '"""',
    '',
    'import json',
    'import os',
    'import re',
    'import sys',
    '',
    'import numpy as np',
    'import torch',
    'from datasets import Dataset',
    'import sentence_transformers',
    `from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments${quantised ? ', quantize_embeddings' : ''}`,
    '',
    'ST_VERSION = tuple(int(x) for x in re.findall(r"\\d+", sentence_transformers.__version__)[:3])',
    `if ST_VERSION >= ${pyVersion(MODULES_MOVED)}:`,
    '    from sentence_transformers.sentence_transformer import losses',
    '    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator, SentenceEvaluator, SequentialEvaluator',
    '    from sentence_transformers.sentence_transformer.modules import Pooling',
    '    from sentence_transformers.sentence_transformer.training_args import BatchSamplers',
    'else:',
    '    from sentence_transformers import losses',
    '    from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator, SentenceEvaluator, SequentialEvaluator',
    '    from sentence_transformers.models import Pooling',
    '    from sentence_transformers.training_args import BatchSamplers',
    '',
    'HERE = os.path.dirname(os.path.abspath(__file__))',
    'sys.path.insert(0, HERE)',
    'from matryoshka_lab_callback import MatryoshkaLabCallback  # noqa: E402',
    '',
    'RUN_DIR = os.environ.get("MRL_RUN_DIR") or HERE',
    'RESUME = "--resume" in sys.argv[1:]',
    `NAME = ${py(config.name)}`,
    `MODEL = ${location(input.model, !!input.relative?.model)}`,
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
    '            if isinstance(module, Pooling):',
    `                if ST_VERSION >= ${pyVersion(MODULES_MOVED)}:  # the token embeddings' width, renamed in ${MODULES_MOVED}`,
    '                    width = module.embedding_dimension',
    '                else:',
    '                    width = module.word_embedding_dimension',
    '                model[i] = Pooling(width, pooling_mode=POOLING)',
    '    return model',
    '',
    '',
    'def read_jsonl(path):',
    '    with open(path, encoding="utf-8") as f:',
    '        return [json.loads(line) for line in f if line.strip()]',
  );
  if (weighted) w(WEIGHTED_SUM.trimEnd());
  if (ev.funnel) w(FUNNEL.trimEnd());
  if (quantised) w(PRECISION_EVALUATOR.trimEnd());
  w('', '', 'def build_loss(model):', lossSection(resolved, input.guides, input.relative?.guides), '', '');
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
    // seed: PyTorch's generators (initial state of new layers, dropout). The data order comes from data/train.jsonl,
    // exported in the seed's order: sentence-transformers' samplers never read data_seed, and its no-duplicates
    // sampler reseeds with the epoch alone from 5.1 (sampler.py NoDuplicatesBatchSampler.__iter__).
    `        seed=${config.seed},`,
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

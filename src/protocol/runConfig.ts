/**
 * The run config: what a `*.mrl.json` file holds once defaults are filled in (the resolved config that
 * `config.json` in a run folder stores). `schemas/run-config.schema.json` is the source of truth for
 * validation and defaults; these types mirror it so that every program is checked by the compiler.
 * Loss type names are the sentence-transformers class names; parameters are theirs in camelCase.
 */

import type { Precision } from './runFolder';

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

/** An encoder trained from scratch with these sizes (BERT-family). */
export interface ScratchModelConfig {
  /** Vocabulary size cap for the WordPiece vocabulary built from the training text. */
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxSeqLength: number;
  pooling: 'mean' | 'cls';
  hiddenDropout: number;
  attentionDropout: number;
  /** BERT places LayerNorm after each residual add ("post", the default: the saved model loads in
   *  transformers); "pre" trains more stably from scratch, but its saved model loads only here. */
  layerNorm: 'post' | 'pre';
}

/** A local Hugging Face BERT-family folder: config.json + tokenizer.json + model.safetensors (engine
 *  sentence-transformers: also a Hugging Face Hub id). */
export interface PretrainedModelConfig {
  path: string;
  /** Absent: the folder's own (1_Pooling/config.json), else mean. A run's config.json holds the value used. */
  pooling?: 'mean' | 'cls';
  /** Absent: the folder's own (sentence_bert_config.json, tokenizer_config.json). */
  maxSeqLength?: number;
}

export type ModelConfig = { scratch: ScratchModelConfig } | { pretrained: PretrainedModelConfig };

// ---------------------------------------------------------------- losses

export interface MnrlParams {
  scale: number;
}
export interface CachedParams {
  miniBatchSize: number;
}
export interface GistParams {
  /** The frozen guide encoder: a local HF folder, or "self" (a frozen copy of the initial model). */
  guide: string;
  temperature: number;
  marginStrategy: 'absolute' | 'relative';
  margin: number;
  contrastAnchors: boolean;
  contrastPositives: boolean;
}

export type BaseLossConfig =
  | ({ type: 'MultipleNegativesRankingLoss' } & MnrlParams)
  | ({ type: 'CachedMultipleNegativesRankingLoss' } & MnrlParams & CachedParams)
  | ({ type: 'MultipleNegativesSymmetricRankingLoss' } & MnrlParams)
  | ({ type: 'CachedMultipleNegativesSymmetricRankingLoss' } & MnrlParams & CachedParams)
  | ({ type: 'GISTEmbedLoss' } & GistParams)
  | ({ type: 'CachedGISTEmbedLoss' } & GistParams & CachedParams)
  | { type: 'CoSENTLoss'; scale: number }
  | { type: 'AnglELoss'; scale: number };

export interface MatryoshkaLossConfig {
  type: 'MatryoshkaLoss';
  loss: BaseLossConfig;
  matryoshkaDims: number[];
  /** null = all 1 (as in sentence-transformers). */
  matryoshkaWeights: number[] | null;
  /** -1 = every dim at every step; k > 0 = k dims sampled per step (honoured for cached losses too). */
  nDimsPerStep: number;
}

export type SingleLossConfig = BaseLossConfig | MatryoshkaLossConfig;

/** A weighted sum of several losses over the same batch. */
export interface WeightedLossTerm {
  weight: number;
  loss: SingleLossConfig;
}
export type LossConfig = SingleLossConfig | WeightedLossTerm[];

export type LossType = BaseLossConfig['type'] | 'MatryoshkaLoss';

// ---------------------------------------------------------------- data, training, evaluation

export interface DataSourceConfig {
  /** A .jsonl / .csv / .tsv path (relative to the config file), or "builtin:wordnet". */
  source: string;
  /** Dataset columns in loss order, e.g. ["anchor", "positive", "negative"] or ["sentence1", "sentence2"]. */
  columns?: string[];
  /** Column holding the score for CoSENT / AnglE / Spearman. */
  scoreColumn?: string;
  /** Cap on rows read (after shuffling by seed). */
  maxRows?: number;
}

export interface DataConfig {
  train: DataSourceConfig;
  /** Eval split: its own source, or a fraction held out of train (deterministic by seed). */
  eval?: DataSourceConfig;
  evalFraction: number;
}

export interface TrainingConfig {
  epochs: number;
  /** Stops after this many optimizer steps; -1 = run the epochs. */
  maxSteps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  scheduler: 'constant' | 'linear' | 'cosine';
  weightDecay: number;
  maxGradNorm: number;
  logEvery: number;
  evalEvery: number;
  checkpointEvery: number;
  /** Keep the best checkpoint per listed dim besides the latest ones; absent or null = off. */
  keepBest?: KeepBestConfig | null;
}

/**
 * `training.keepBest`: after every evaluation, each listed dim whose `metric` improved gets its model
 * written to `checkpoints/best-<dim>/` (src/protocol/runFolder.ts bestCheckpointDir) and recorded in
 * run.json `bestCheckpoints`. Bundled engine only.
 */
export interface KeepBestConfig {
  /** An eval metric (`ndcg@10`), optionally at a precision (`int8:ndcg@10`, `binary+rescore:ndcg@10`). */
  metric: string;
  /** Evaluated dims (evaluation.dims) to keep a best checkpoint for. */
  dims: number[];
}

export interface FunnelConfig {
  shortlistDim: number;
  rerankDim: number;
  shortlistSize: number;
}

export interface EvaluationConfig {
  /** Dims to evaluate at; empty = the Matryoshka dims (or the full width). */
  dims: number[];
  metrics: string[];
  funnel: FunnelConfig | null;
  maxQueries: number;
  /**
   * Precisions the retrieval metrics are measured at (always with "float32", the reference): "int8" and
   * "binary" as sentence-transformers' quantize_embeddings; keys `int8:<metric>` etc. (runFolder.ts precisionKey).
   */
  precisions: Precision[];
  /** Also the `+rescore` variant of each quantised precision. */
  rescore: boolean;
  /** Rescore shortlist = rescoreMultiplier × 100 documents per query. */
  rescoreMultiplier: number;
}

/**
 * A sweep: the config expands into one ordinary run per combination (docs/architecture.md#sweeps). `parameters` maps a
 * dotted JSON path of this config (`training.learningRate`, `loss.loss.miniBatchSize`) to the values to
 * try. grid = every combination (in order, first path slowest), capped at `maxRuns`; random = `maxRuns`
 * combinations drawn with `seed`.
 */
export interface SweepConfig {
  method: 'grid' | 'random';
  /** Absent: no values to vary (a sweep of repeats only, `{"repeat": 5}`). */
  parameters: Record<string, unknown[]>;
  /** How many combinations (not runs: each combination runs `repeat` times). */
  maxRuns?: number;
  seed?: number;
  /** Runs per combination (1..100, 1 when absent), each with its own seed derived from the config's `seed`
   *  and the repeat index (src/config/sweep.ts repeatSeeds). */
  repeat?: number;
}

/** What trains a config: this extension's trainer, or a generated sentence-transformers script. */
export type EngineName = 'bundled' | 'sentence-transformers';

export interface RunConfig {
  $schema?: string;
  /** Only in a config file: a run's config.json holds the concrete values, never `sweep`. */
  sweep?: SweepConfig;
  name: string;
  seed: number;
  backend: BackendName;
  engine: EngineName;
  /** Processes training together (engine sentence-transformers: torchrun when > 1). */
  devices: number;
  model: ModelConfig;
  data: DataConfig;
  loss: LossConfig;
  training: TrainingConfig;
  evaluation: EvaluationConfig;
}

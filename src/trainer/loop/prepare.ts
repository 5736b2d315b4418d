/**
 * Everything before the first step of a run: backend, data, tokenizer, model, loss, guide, the memory
 * and kernel checks (docs/architecture.md). It takes the resolved config (src/config/resolve.ts): the
 * config's own facts — widths, dims, mini-batch size, guide, columns — were derived and checked by
 * validation and are used here as given. What only the inputs can show (too few data rows, a batch that
 * cannot fit, a kernel the backend lacks) is refused here, before the run folder exists: a bad config or
 * data file creates nothing on disk.
 */
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ResolvedRunConfig } from '../../config/resolve';
import type { BackendName, RunConfig, ScratchModelConfig } from '../../protocol/runConfig';
import type { DataProvenance } from '../../protocol/runFolder';
import { runAsync } from '../../common/cooperative';
import { epochBatchCount } from '../../data/batches';
import { prepareDataWork, tableSize, type PairTable } from '../../data/dataset';
import { buildEvalSet, type EvalSet } from '../../data/evalSet';
import { createLoss } from '../losses/registry';
import type { EmbeddingLoss } from '../losses/types';
import { BertEncoder, type EncoderSpec } from '../model/encoder';
import { loadHfModel } from '../model/hfFolder';
import { initBackend, preflightKernels, type BackendChoice } from '../runtime/backend';
import { estimateStepMemory, stepDoesNotFit, type BlockShape, type StepMemory } from '../runtime/memoryBudget';
import { WordPieceTokenizer } from '../tokenizer/wordpiece';
import type { LoadedCheckpoint } from './checkpoint';
import { lossAndGradsPlain } from './gradCache';
import { disposeBatch, encoderRows, tokenize } from './textBatch';
import type { GuideModel } from './trainStep';

/** Texts the from-scratch vocabulary is learned from (enough for a stable vocabulary, bounded time). */
const TOKENIZER_TEXTS = 60_000;

/** An input problem found while preparing (not a crash): the CLI prints it with its JSON pointer, exit 2. */
export class RunInputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunInputError';
  }
}

export interface PreparedRun {
  /** The config the run folder stores: a pretrained model's pooling / maxSeqLength as used. */
  config: RunConfig;
  backend: BackendChoice;
  train: PairTable;
  evalSet: EvalSet;
  encoder: BertEncoder;
  tokenizer: WordPieceTokenizer;
  maxSeqLength: number;
  loss: EmbeddingLoss;
  guide?: GuideModel;
  /** The dims every evaluation reports. */
  dims: number[];
  /** Where each split's rows came from (run.json `data`). */
  data: DataProvenance[];
  /** Worker threads that will share each step (resolved from --workers and the backend). */
  workers: number;
  /** What a step is estimated to take (runtime/memoryBudget.ts), at the longest sequences. */
  memory: StepMemory;
}

export interface PrepareOptions {
  /** Overrides the config's backend. */
  backend?: BackendName;
  /** Continue this checkpoint's run: its tokenizer is reused (a from-scratch one is not learned again). */
  resumeFrom?: LoadedCheckpoint;
  /** Worker threads (--workers); absent: one per core beyond the first, at most 3 (none on tensorflow). */
  workers?: number;
  log?: (s: string) => void;
}

/** --workers as given, else the default: wasm and cpu run one thread per tfjs instance, tfjs-node threads itself. */
export function resolveWorkers(requested: number | undefined, backend: string): number {
  return requested ?? (backend === 'tensorflow' ? 0 : Math.max(0, Math.min(3, availableParallelism() - 1)));
}

interface ModelParts {
  encoder: BertEncoder;
  tokenizer: WordPieceTokenizer;
  maxSeqLength: number;
  /** A fresh copy of the initial model (a "self" guide): rebuilt from the seed or reloaded, not stored. */
  initial: () => { encoder: BertEncoder; tokenizer: WordPieceTokenizer };
}

/** Backend, data, tokenizer, model, loss, guide. Throws DataError / RunInputError / Error; writes nothing. */
export async function prepareRun(r: ResolvedRunConfig, o: PrepareOptions = {}): Promise<PreparedRun> {
  let { config } = r;
  const log = o.log ?? (() => {});
  const backend = await initBackend(o.backend ?? config.backend);
  log(`backend: ${backend.name} (${backend.reason})`);
  const workers = resolveWorkers(o.workers, backend.name);
  if ('scratch' in config.model) {
    // Before anything slow: a batch that cannot fit is refused within a second (vocabSize is the upper bound).
    const s = config.model.scratch;
    const width = r.width!;
    const params = scratchParamCount(s, s.vocabSize, width);
    checkRunMemory(r, backend.name, workers, {
      block: s,
      params,
      largestParam: s.vocabSize * s.hiddenSize,
      dim: width,
      seqLen: s.maxSeqLength,
    });
  }
  const data = await runAsync(prepareDataWork(config, r.baseDir));
  log(`data: ${tableSize(data.train)} train rows, ${tableSize(data.eval)} eval rows`);
  if (epochBatchCount(tableSize(data.train), config.training.batchSize) === 0) {
    throw new RunInputError(
      '/data/train',
      `${tableSize(data.train)} training row(s): not enough for one batch of at least 2 (add rows, or hold fewer out with data.evalFraction)`,
    );
  }

  const { encoder, tokenizer, maxSeqLength, initial } =
    'scratch' in config.model ? await scratchModel(r, config.model.scratch, data.train, o, log) : pretrainedModel(r);
  const sizes = [...encoder.params.values()].map((v) => v.size);
  const modelShape = {
    block: encoder.spec,
    params: sizes.reduce((a, n) => a + n, 0),
    largestParam: Math.max(...sizes),
    dim: encoder.dim,
    seqLen: maxSeqLength,
  };
  // A from-scratch model was checked above at its upper bound; this is its actual size (and the data's rows).
  const memory = checkRunMemory(r, backend.name, workers, modelShape, tableSize(data.train));
  const loss = createLoss(r.loss, config.seed);
  const guide = loss.needsGuide ? guideModel(r, initial, maxSeqLength) : undefined;
  const kernels = await checkTrainingKernels(r, data.train, encoder, tokenizer, maxSeqLength, guide);
  log(`kernels: ${kernels.length} used by a training step, all registered on ${backend.name}`);
  const evalSet = buildEvalSet(data.eval, config.evaluation.maxQueries);
  log(
    `eval: ${evalSet.queries.length} queries, corpus of ${evalSet.corpus.length}${evalSet.pairs ? `, ${evalSet.pairs.scores.length} scored pairs` : ''}; dims ${r.evalDims.join(', ')}`,
  );
  // A pretrained model's pooling / maxSeqLength default to the folder's own (1_Pooling/config.json,
  // sentence_bert_config.json), as sentence-transformers reads them; the run's config.json records what was used.
  if ('pretrained' in config.model)
    config = { ...config, model: { pretrained: { ...config.model.pretrained, pooling: encoder.spec.pooling, maxSeqLength } } };
  return {
    config,
    backend,
    train: data.train,
    evalSet,
    encoder,
    tokenizer,
    maxSeqLength,
    loss,
    guide,
    dims: [...r.evalDims],
    data: data.sources,
    workers,
    memory,
  };
}

/** A from-scratch encoder of the resolved width, its WordPiece vocabulary learned from the training texts (or the checkpoint's). */
async function scratchModel(
  r: ResolvedRunConfig,
  s: ScratchModelConfig,
  train: PairTable,
  o: PrepareOptions,
  log: (s: string) => void,
): Promise<ModelParts> {
  let tokenizer: WordPieceTokenizer;
  if (o.resumeFrom) tokenizer = WordPieceTokenizer.fromFile(join(o.resumeFrom.dir, 'tokenizer.json'));
  else {
    const texts: string[] = [];
    for (let i = 0; i < tableSize(train) && texts.length < TOKENIZER_TEXTS; i++) for (const col of train.texts) texts.push(col[i]);
    tokenizer = await runAsync(WordPieceTokenizer.trainWork(texts, { vocabSize: s.vocabSize }));
    log(`tokenizer: ${tokenizer.vocabSize} WordPiece ids learned from ${texts.length} training texts`);
  }
  const spec = scratchSpec(s, tokenizer.vocabSize, r.width!);
  const seed = r.config.seed;
  // The initial weights are a function of the seed: "self" guides are rebuilt, not stored.
  return {
    encoder: new BertEncoder(spec, { seed }),
    tokenizer,
    maxSeqLength: s.maxSeqLength,
    initial: () => ({ encoder: new BertEncoder(spec, { seed }), tokenizer }),
  };
}

/** The pretrained folder's encoder and tokenizer; pooling / maxSeqLength from the config, else the folder's. */
function pretrainedModel(r: ResolvedRunConfig): ModelParts {
  if (!('pretrained' in r.config.model) || r.pretrained?.kind !== 'folder')
    throw new Error('internal: the bundled trainer loads a local pretrained folder');
  const p = r.config.model.pretrained;
  const dir = r.pretrained.dir;
  const load = () => loadHfModel(dir, { pooling: p.pooling, maxSeqLength: p.maxSeqLength, seed: r.config.seed });
  const m = load();
  // Validation read the width from the same folder (src/config/modelFolder.ts): only a bug or a folder changed since makes them differ.
  if (m.encoder.dim !== r.width) throw new Error(`internal: ${dir} has width ${m.encoder.dim}, validation read ${r.width}`);
  return {
    encoder: m.encoder,
    tokenizer: m.tokenizer,
    maxSeqLength: m.maxSeqLength,
    initial: () => {
      const g = load();
      return { encoder: g.encoder, tokenizer: g.tokenizer };
    },
  };
}

/** The frozen guide of a GIST loss: a copy of the initial model ("self"), or its folder. */
function guideModel(r: ResolvedRunConfig, initial: ModelParts['initial'], maxSeqLength: number): GuideModel {
  const name = r.loss.guide ?? 'self';
  if (name === 'self') {
    const g = initial();
    return { encoder: g.encoder, tokenizer: g.tokenizer, maxSeqLength };
  }
  const where = r.guides[name];
  if (where?.kind !== 'folder') throw new Error(`internal: the guide ${name} was not resolved to a folder`);
  const g = loadHfModel(where.dir, { seed: r.config.seed });
  return { encoder: g.encoder, tokenizer: g.tokenizer, maxSeqLength: g.maxSeqLength };
}

export function scratchSpec(s: ScratchModelConfig, vocabSize: number, width: number): EncoderSpec {
  return {
    vocabSize,
    hiddenSize: s.hiddenSize,
    numLayers: s.numLayers,
    numHeads: s.numHeads,
    intermediateSize: s.intermediateSize,
    maxPositions: s.maxSeqLength,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    pooling: s.pooling,
    layerNorm: s.layerNorm,
    hiddenDropout: s.hiddenDropout,
    attentionDropout: s.attentionDropout,
    outputDim: width !== s.hiddenSize ? width : undefined,
  };
}

/** Parameters of a from-scratch encoder (embeddings, blocks, output projection). */
function scratchParamCount(s: BlockShape & { maxSeqLength: number }, vocab: number, width: number): number {
  const h = s.hiddenSize;
  const I = s.intermediateSize;
  const embeddings = vocab * h + s.maxSeqLength * h + 2 * h + 2 * h;
  const block = 4 * (h * h + h) + 2 * h * I + I + h + 4 * h;
  return embeddings + s.numLayers * block + (width !== h ? h * width + width : 0);
}

/**
 * Refuses (RunInputError at /training/batchSize, naming what fits and what to change) a step whose
 * estimated memory — per thread's heap and for the whole process — does not fit; returns the estimate.
 */
function checkRunMemory(
  r: ResolvedRunConfig,
  backend: string,
  workers: number,
  model: { block: BlockShape; params: number; largestParam: number; dim: number; seqLen: number },
  rows = Infinity,
): StepMemory {
  const { config } = r;
  const shape = {
    ...model,
    batchRows: Math.min(config.training.batchSize, rows),
    nColumns: config.data.train.columns?.length ?? 2,
    miniBatchSize: r.loss.miniBatchSize,
    workers,
  };
  const why = stepDoesNotFit(shape, backend, totalmem(), Math.max(1 + workers, Math.min(4, availableParallelism())));
  if (why) throw new RunInputError('/training/batchSize', why);
  return estimateStepMemory(shape);
}

/**
 * One tiny forward + backward of this run's encoder and loss under the profiler, before anything is
 * written: a kernel the backend lacks (or one that marks a pathological fallback, docs/performance.md)
 * is an error now, not a crash or a 25x slowdown mid-run. A fresh loss instance keeps the run's loss
 * RNG untouched.
 */
async function checkTrainingKernels(
  r: ResolvedRunConfig,
  train: PairTable,
  encoder: BertEncoder,
  tokenizer: WordPieceTokenizer,
  maxSeqLength: number,
  guide: GuideModel | undefined,
): Promise<string[]> {
  const loss = createLoss(r.loss, r.config.seed);
  const rows = Math.min(2, tableSize(train));
  if (rows === 0) return [];
  const texts = train.texts.map((col) => col.slice(0, rows));
  return preflightKernels(() => {
    const tokens = tokenize(tokenizer, texts.flat(), maxSeqLength);
    const labels = loss.needsLabels ? tf.tensor1d((train.scores ?? []).slice(0, rows).concat([0, 1]).slice(0, rows)) : undefined;
    const guideReps =
      guide && loss.needsGuide
        ? texts.map((col) => {
            const t = tokenize(guide.tokenizer, col, guide.maxSeqLength);
            const e = tf.tidy(() => guide.encoder.encode(t));
            disposeBatch(t);
            return e;
          })
        : undefined;
    try {
      const step = lossAndGradsPlain(encoderRows(encoder, tokens, 0), texts.length, rows, loss, { labels, guide: guideReps });
      for (const g of step.grads.values()) g.dispose();
    } finally {
      disposeBatch(tokens);
      labels?.dispose();
      guideReps?.forEach((t) => t.dispose());
    }
  });
}

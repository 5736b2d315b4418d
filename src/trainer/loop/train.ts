/**
 * One training run, from a resolved config to a run folder (DESIGN.md): data, model, loss, AdamW with
 * warmup + decay, evaluation at step 0 / every evalEvery steps / at the end (every dim), checkpoints,
 * stop (finish the step, checkpoint, status "stopped"), crash (status "failed"), resume (continue the
 * same curve from the last checkpoint), and the trained model as a Hugging Face folder.
 *
 * Everything that can be wrong with the inputs (data rows, loss vs model width, backend) is checked in
 * prepareRun() before the run folder exists, so a bad config or data file creates nothing on disk.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { guideOf, modelWidth } from '../../config/lossConfig';
import type { BackendName, RunConfig } from '../../protocol/runConfig';
import { FUNNEL_PREFIX, type ByDim, type RunInfo, type RunStatus } from '../../protocol/runFolder';
import { initBackend, preflightKernels, type BackendChoice } from '../runtime/backend';
import { totalmem } from 'node:os';
import { latestCheckpoint, lossRngState, removeTempCheckpoints, restoreCheckpoint, saveCheckpoint, setLossRngState, type LoadedCheckpoint, type LossWindow, type TrainerState } from './checkpoint';
import { runAsync, WorkAbandoned } from '../../common/cooperative';
import { epochBatchCount, epochBatches } from '../../data/batches';
import { prepareDataWork, tableSize, type PairTable } from '../../data/dataset';
import { EVAL_BATCH, embedTextsWork } from '../eval/embed';
import { evaluateWork, type EvalResult } from '../eval/evaluator';
import { buildEvalSet, type EvalSet } from '../../data/evalSet';
import { runDoesNotFit, type BlockShape } from '../runtime/memoryBudget';
import { createLoss } from '../losses/registry';
import type { EmbeddingLoss } from '../losses/types';
import { BertEncoder, type EncoderSpec } from '../model/encoder';
import { loadHfModel, saveHfModel } from '../model/hfFolder';
import { AdamW } from './optimizer';
import { metricsTable, Progress, type ProgressSink } from '../cli/progress';
import { acquireRunLock, releaseRunLock, RunWriter } from '../../runs/runWriter';
import { learningRateAt } from './schedule';
import { WordPieceTokenizer } from '../tokenizer/wordpiece';
import { StepRunner, type GuideModel, type TrainBatch } from './trainStep';
import { DataParallelPool } from '../runtime/parallel/pool';
import { lossAndGradsPlain } from './gradCache';
import { disposeBatch, encoderRows, tokenize } from './textBatch';

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
  config: RunConfig;
  baseDir: string;
  backend: BackendChoice;
  train: PairTable;
  evalSet: EvalSet;
  encoder: BertEncoder;
  tokenizer: WordPieceTokenizer;
  maxSeqLength: number;
  loss: EmbeddingLoss;
  guide?: GuideModel;
  dims: number[];
}

function scratchSpec(config: RunConfig, vocabSize: number, width: number): EncoderSpec {
  if (!('scratch' in config.model)) throw new Error('not a scratch model');
  const s = config.model.scratch;
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


/**
 * Everything before the first step: backend, data, tokenizer, model, loss. Throws DataError /
 * LossConfigError / Error; nothing is written to disk. `resumeFrom` reuses the checkpoint's tokenizer.
 */
export async function prepareRun(config: RunConfig, baseDir: string, o: { backend?: BackendName; resumeFrom?: LoadedCheckpoint; log?: (s: string) => void } = {}): Promise<PreparedRun> {
  const log = o.log ?? (() => {});
  const backend = await initBackend(o.backend ?? config.backend);
  log(`backend: ${backend.name} (${backend.reason})`);
  if ('scratch' in config.model) {
    // Before anything slow: a batch that cannot fit is refused within a second (vocabSize is the upper bound).
    const s = config.model.scratch;
    const width = modelWidth(config, s.hiddenSize);
    checkRunMemory(config, backend.name, s, scratchParamCount(s, s.vocabSize, width), width, s.maxSeqLength);
  }
  const data = await runAsync(prepareDataWork(config, baseDir));
  log(`data: ${tableSize(data.train)} train rows, ${tableSize(data.eval)} eval rows`);
  // Input, not a crash: refused (exit 2) before the run folder exists.
  if (epochBatchCount(tableSize(data.train), config.training.batchSize) === 0) {
    throw new RunInputError('/data/train', `${tableSize(data.train)} training row(s): not enough for one batch of at least 2 (add rows, or hold fewer out with data.evalFraction)`);
  }

  let encoder: BertEncoder;
  let tokenizer: WordPieceTokenizer;
  let maxSeqLength: number;
  let initial: () => { encoder: BertEncoder; tokenizer: WordPieceTokenizer };
  if ('scratch' in config.model) {
    const s = config.model.scratch;
    if (o.resumeFrom) tokenizer = WordPieceTokenizer.fromFile(join(o.resumeFrom.dir, 'tokenizer.json'));
    else {
      const texts: string[] = [];
      for (let i = 0; i < tableSize(data.train) && texts.length < TOKENIZER_TEXTS; i++) for (const col of data.train.texts) texts.push(col[i]);
      tokenizer = await runAsync(WordPieceTokenizer.trainWork(texts, { vocabSize: s.vocabSize }));
      log(`tokenizer: ${tokenizer.vocabSize} WordPiece ids learned from ${texts.length} training texts`);
    }
    const spec = scratchSpec(config, tokenizer.vocabSize, modelWidth(config, s.hiddenSize));
    encoder = new BertEncoder(spec, { seed: config.seed });
    maxSeqLength = s.maxSeqLength;
    // The initial weights are a function of the seed: "self" guides are rebuilt, not stored.
    initial = () => ({ encoder: new BertEncoder(spec, { seed: config.seed }), tokenizer });
  } else {
    const p = config.model.pretrained;
    const dir = resolve(baseDir, p.path);
    const load = () => loadHfModel(dir, { pooling: p.pooling, maxSeqLength: p.maxSeqLength, seed: config.seed });
    const m = load();
    encoder = m.encoder;
    tokenizer = m.tokenizer;
    maxSeqLength = m.maxSeqLength;
    initial = () => {
      const g = load();
      return { encoder: g.encoder, tokenizer: g.tokenizer };
    };
  }
  if (!('scratch' in config.model)) {
    const params = [...encoder.params.values()].reduce((a, v) => a + v.size, 0);
    checkRunMemory(config, backend.name, encoder.spec, params, encoder.dim, maxSeqLength, tableSize(data.train));
  }
  const loss = createLoss(config.loss, { embeddingDim: encoder.dim, seed: config.seed });
  const [lo, hi] = loss.columnRange;
  for (const split of ['train', 'eval'] as const) {
    const cols = config.data[split]?.columns;
    if (cols && (cols.length < lo || cols.length > hi)) {
      throw new RunInputError(`/data/${split}/columns`, `${loss.name} takes ${hi === lo ? lo : hi === Infinity ? `${lo} or more` : `${lo} to ${hi}`} columns, got ${cols.length} (${cols.join(', ')})`);
    }
  }

  let guide: GuideModel | undefined;
  if (loss.needsGuide) {
    const name = guideOf(config.loss) ?? 'self';
    if (name === 'self') {
      const g = initial();
      guide = { encoder: g.encoder, tokenizer: g.tokenizer, maxSeqLength };
    } else {
      const g = loadHfModel(resolve(baseDir, name), { seed: config.seed });
      guide = { encoder: g.encoder, tokenizer: g.tokenizer, maxSeqLength: g.maxSeqLength };
    }
  }
  const kernels = await checkTrainingKernels(config, data.train, encoder, tokenizer, maxSeqLength, guide);
  log(`kernels: ${kernels.length} used by a training step, all registered on ${backend.name}`);
  const dims = config.evaluation.dims.length ? config.evaluation.dims : [encoder.dim];
  const evalSet = buildEvalSet(data.eval, config.evaluation.maxQueries);
  log(`eval: ${evalSet.queries.length} queries, corpus of ${evalSet.corpus.length}${evalSet.pairs ? `, ${evalSet.pairs.scores.length} scored pairs` : ''}; dims ${dims.join(', ')}`);
  // A pretrained model's pooling / maxSeqLength default to the folder's own (1_Pooling/config.json,
  // sentence_bert_config.json), as sentence-transformers reads them; the run's config.json records what was used.
  if ('pretrained' in config.model) config = { ...config, model: { pretrained: { ...config.model.pretrained, pooling: encoder.spec.pooling, maxSeqLength } } };
  return { config, baseDir, backend, train: data.train, evalSet, encoder, tokenizer, maxSeqLength, loss, guide, dims };
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
 * Refuses (RunInputError at /training/batchSize, naming what fits) a step whose estimated memory — params
 * and optimizer state, activations, embeddings cache, in-batch scores — does not fit the backend.
 */
function checkRunMemory(config: RunConfig, backend: string, block: BlockShape, params: number, dim: number, seqLen: number, rows = Infinity): void {
  const loss = createLoss(config.loss, { embeddingDim: dim, seed: config.seed });
  const nColumns = config.data.train.columns?.length ?? 2;
  const batchRows = Math.min(config.training.batchSize, rows);
  const why = runDoesNotFit({ block, params, batchRows, nColumns, seqLen, dim, miniBatchSize: loss.miniBatchSize }, backend, totalmem());
  if (why) throw new RunInputError('/training/batchSize', why);
}

/**
 * One tiny forward + backward of this run's encoder and loss under the profiler, before anything is
 * written: a kernel the backend lacks (or one that marks a pathological fallback, PERF.md) is an error
 * now, not a crash or a 25x slowdown mid-run. A fresh loss instance keeps the run's loss RNG untouched.
 */
async function checkTrainingKernels(
  config: RunConfig,
  train: PairTable,
  encoder: BertEncoder,
  tokenizer: WordPieceTokenizer,
  maxSeqLength: number,
  guide: GuideModel | undefined,
): Promise<string[]> {
  const loss = createLoss(config.loss, { embeddingDim: encoder.dim, seed: config.seed });
  const rows = Math.min(2, tableSize(train));
  if (rows === 0) return [];
  const texts = train.texts.map((col) => col.slice(0, rows));
  return preflightKernels(() => {
    const tokens = tokenize(tokenizer, texts.flat(), maxSeqLength);
    const labels = loss.needsLabels ? tf.tensor1d((train.scores ?? []).slice(0, rows).concat([0, 1]).slice(0, rows)) : undefined;
    const guideReps = guide && loss.needsGuide
      ? texts.map((col) => {
          const t = tokenize(guide.tokenizer, col, guide.maxSeqLength);
          const e = tf.tidy(() => guide.encoder.encode(t));
          disposeBatch(t);
          return e;
        })
      : undefined;
    try {
      const r = lossAndGradsPlain(encoderRows(encoder, tokens, 0), texts.length, rows, loss, { labels, guide: guideReps });
      for (const g of r.grads.values()) g.dispose();
    } finally {
      disposeBatch(tokens);
      labels?.dispose();
      guideReps?.forEach((t) => t.dispose());
    }
  });
}

export interface TrainRunOptions {
  runDir: string;
  /** Continue the run in runDir from its last checkpoint (prepared with resumeFrom = that checkpoint). */
  resumeFrom?: LoadedCheckpoint;
  /** Extra fields for run.json (configFile, baseDir: what --resume needs). */
  infoExtra?: Record<string, unknown>;
  /** Set `requested` (e.g. from a signal handler): the run finishes its step, checkpoints, stops. */
  stop?: { requested: boolean };
  /** Default: a terminal progress bar on stderr; null: silent. */
  progress?: ProgressSink | null;
  /** Printed output (the final table); default: stdout. */
  print?: (s: string) => void;
  /**
   * Worker threads that share each step (data-parallel GradCache, see parallel/pool.ts); 0 = this
   * thread alone. The gradients are the single-thread ones up to float summation order, so a run is
   * reproducible for a given worker count.
   */
  workers?: number;
  /** The worker thread script (default: parallel/pool.ts resolveWorkerScript()). */
  workerScript?: string;
}

export interface TrainRunResult {
  status: RunStatus;
  step: number;
  totalSteps: number;
  initial?: EvalResult;
  final?: EvalResult;
  error?: Error;
}

function emptyWindow(): LossWindow {
  return { sum: 0, count: 0, byDim: {}, byDimCount: {}, samples: 0 };
}

/** Runs (or resumes) training; the run folder is created here. Never throws for a failure inside the run: status "failed". */
export async function runTraining(p: PreparedRun, o: TrainRunOptions): Promise<TrainRunResult> {
  const { config, encoder, tokenizer, loss, train } = p;
  const t = config.training;
  const print = o.print ?? ((s: string) => process.stdout.write(s + '\n'));
  const progress = o.progress === undefined ? new Progress(process.stderr, t.logEvery) : o.progress;
  const stop = o.stop ?? { requested: false };
  const distinctTexts = !loss.needsLabels;
  const batchOpts = { batchSize: t.batchSize, seed: config.seed, distinctTexts };
  const epochCache = new Map<number, number[][]>();
  const batchesOf = (e: number) => {
    let b = epochCache.get(e);
    if (!b) {
      epochCache.clear();
      b = epochBatches(train.texts, e, batchOpts);
      epochCache.set(e, b);
    }
    return b;
  };
  const rowsN = tableSize(train);
  const perEpoch = epochBatchCount(rowsN, t.batchSize);
  if (perEpoch === 0) throw new Error(`the training data has ${rowsN} rows: not enough for one batch of at least 2`);
  // Arithmetic, not enumerated: `epochs` may be huge and nothing may block before the run folder exists.
  const totalSteps = t.maxSteps > 0 ? t.maxSteps : perEpoch * t.epochs;

  const optimizer = new AdamW(encoder.params, { learningRate: t.learningRate, weightDecay: t.weightDecay, maxGradNorm: t.maxGradNorm });
  let state: TrainerState = { step: 0, epoch: 0, batchInEpoch: 0, elapsed: 0, lossRng: lossRngState(loss), window: emptyWindow(), optimizerStep: 0 };
  let writer: RunWriter;
  const now = new Date();
  const runId = o.runDir.split(/[\\/]/).filter(Boolean).pop()!;
  try {
    if (o.resumeFrom) {
      // Throws RunLockedError (nothing written) if another live trainer writes this run.
      acquireRunLock(o.runDir);
      writer = RunWriter.open(o.runDir);
    } else {
      const info: RunInfo = {
        id: runId,
        name: config.name,
        status: 'running',
        pid: process.pid,
        startedAt: now.toISOString(),
        endedAt: null,
        backend: p.backend.name,
        backendReason: p.backend.reason,
        step: 0,
        totalSteps,
        ...o.infoExtra,
      };
      // Appears complete (config.json, run.json, checkpoints/, .lock) or not at all.
      writer = RunWriter.create(o.runDir, info, config);
    }
  } catch (e) {
    optimizer.dispose();
    // A resume whose run.json cannot be read: the lock just taken (ours only) must not outlive this attempt.
    if (o.resumeFrom) releaseRunLock(o.runDir);
    throw e;
  }
  // From here on the run folder exists: every failure ends as status "failed" with its error.
  const result: TrainRunResult = { status: 'running', step: state.step, totalSteps };
  let pool: DataParallelPool | undefined;
  try {
    if (o.resumeFrom) {
      const removed = removeTempCheckpoints(o.runDir);
      if (removed.length) writer.log(`removed ${removed.length} unfinished checkpoint folder(s): ${removed.join(', ')}`);
      writer.update({ status: 'running', pid: process.pid, endedAt: null, error: undefined, backend: p.backend.name, backendReason: p.backend.reason, totalSteps, resumedAt: now.toISOString() });
      restoreCheckpoint(o.resumeFrom, encoder.params, optimizer);
      state = { ...o.resumeFrom.state, window: { ...emptyWindow(), ...o.resumeFrom.state.window } };
      setLossRngState(loss, state.lossRng);
      writer.append({ type: 'resume', fromStep: state.step, time: state.elapsed, wallTime: now.getTime() });
      writer.update({ step: state.step });
      writer.log(`resumed from step ${state.step} (${o.resumeFrom.dir})`);
    } else {
      writer.log(`run ${runId}: ${totalSteps} steps of ${t.batchSize} rows, backend ${p.backend.name} (${p.backend.reason})`);
    }
    result.step = state.step;
    const workers = o.workers ?? 0;
    if (workers > 0) {
      try {
        // Buffers for the largest batch there can be: min(batchSize, rows) rows of every column.
        pool = await DataParallelPool.start({ encoder, backend: p.backend.name, workers, maxRows: Math.min(t.batchSize, rowsN) * train.texts.length, maxLen: p.maxSeqLength, workerScript: o.workerScript });
        writer.log(`${workers} worker thread(s) share each step`);
      } catch (e) {
        const msg = `warning: the ${workers} worker thread(s) did not start (${(e as Error).message}); training on this thread alone`;
        writer.log(msg);
        if (progress) progress.message(msg);
        else process.stderr.write(msg + '\n');
        writer.update({ workers: 0 } as Partial<RunInfo>);
      }
    }
  } catch (e) {
    await pool?.close();
    optimizer.dispose();
    const err = e as Error;
    writer.log(`failed: ${err.stack ?? err.message}`);
    writer.update({ status: 'failed', pid: null, endedAt: new Date().toISOString(), error: err.message, step: state.step });
    releaseRunLock(o.runDir);
    return { ...result, status: 'failed', error: err, step: state.step };
  }
  const runner = new StepRunner({ encoder, tokenizer, maxSeqLength: p.maxSeqLength, loss, optimizer, guide: p.guide, seed: config.seed, pool });
  const startClock = performance.now();
  const elapsed = () => state.elapsed + (performance.now() - startClock) / 1000;
  const epochFloat = () => state.epoch + state.batchInEpoch / perEpoch;
  // Evaluation yields to the event loop between batches; a stop request abandons it (WorkAbandoned).
  const embed = (texts: string[]) => embedTextsWork(encoder, tokenizer, texts, { maxSeqLength: p.maxSeqLength, batchSize: EVAL_BATCH });
  const runEval = async (): Promise<EvalResult> => {
    const r = await runAsync(evaluateWork(p.evalSet, embed, encoder.dim, { dims: p.dims, metrics: config.evaluation.metrics, funnel: config.evaluation.funnel }), {
      abort: () => stop.requested,
      what: `the evaluation at step ${state.step}`,
    });
    writer.append({ step: state.step, epoch: epochFloat(), time: elapsed(), wallTime: Date.now(), split: 'eval', values: r.values, byDim: r.byDim });
    return r;
  };
  const checkpoint = () =>
    saveCheckpoint(o.runDir, { params: encoder.params, optimizer, tokenizer, state: { ...state, elapsed: elapsed(), lossRng: lossRngState(loss), optimizerStep: optimizer.step } });

  const stepsAtStart = state.step;
  let lastEvalStep = -1;
  let lastCheckpointStep = o.resumeFrom ? state.step : -1;
  let abandoned = false;
  try {
    try {
      if (!o.resumeFrom) {
        result.initial = await runEval();
        lastEvalStep = 0;
        progress?.message(`step 0 (untrained): ${summary(result.initial.byDim)}`);
      }
      while (state.step < totalSteps && !stop.requested) {
        let batches = batchesOf(state.epoch);
        if (state.batchInEpoch >= batches.length) {
          state.epoch += 1;
          state.batchInEpoch = 0;
          batches = batchesOf(state.epoch);
        }
        const rows = batches[state.batchInEpoch];
        const batch: TrainBatch = { columns: train.texts.map((col) => rows.map((i) => col[i])) };
        if (loss.needsLabels) batch.labels = rows.map((i) => train.scores![i]);
        optimizer.learningRate = learningRateAt(state.step, { learningRate: t.learningRate, warmupSteps: t.warmupSteps, totalSteps, scheduler: t.scheduler });
        const out = runner.step(batch, state.step);
        if (!Number.isFinite(out.loss)) throw new Error(`the loss is ${out.loss} at step ${state.step + 1}: lower the learning rate or check the data`);
        state.step += 1;
        state.batchInEpoch += 1;
        const w = state.window;
        w.sum += out.loss;
        w.count += 1;
        w.samples += rows.length;
        for (const [d, v] of Object.entries(out.byDim)) {
          w.byDim[d] = (w.byDim[d] ?? 0) + v;
          w.byDimCount[d] = (w.byDimCount[d] ?? 0) + 1;
        }
        const secs = elapsed();
        const rate = ((state.step - stepsAtStart) * t.batchSize) / Math.max(1e-9, (performance.now() - startClock) / 1000);
        if (state.step % t.logEvery === 0 || state.step === totalSteps) {
          const byDim: ByDim = {};
          for (const d of Object.keys(w.byDim)) byDim[d] = { loss: w.byDim[d] / w.byDimCount[d] };
          writer.append({
            step: state.step,
            epoch: epochFloat(),
            time: secs,
            wallTime: Date.now(),
            split: 'train',
            values: { loss: w.sum / w.count, lr: optimizer.learningRate, gradNorm: out.gradNorm },
            byDim,
          });
          state.window = emptyWindow();
          writer.update({ step: state.step });
        }
        progress?.update({ step: state.step, total: totalSteps, loss: out.loss, samplesPerSec: rate, etaSeconds: ((totalSteps - state.step) * t.batchSize) / Math.max(1e-9, rate) });
        if (t.evalEvery > 0 && state.step % t.evalEvery === 0 && state.step < totalSteps) {
          const r = await runEval();
          lastEvalStep = state.step;
          progress?.message(`step ${state.step}: ${summary(r.byDim)}`);
        }
        if (t.checkpointEvery > 0 && state.step % t.checkpointEvery === 0 && state.step < totalSteps) {
          checkpoint();
          lastCheckpointStep = state.step;
        }
        // Let signal handlers run between steps (a step itself is synchronous).
        await new Promise((r) => setImmediate(r));
        if (stop.requested && state.step < totalSteps) break;
      }
      if (state.step >= totalSteps && !stop.requested && lastEvalStep !== state.step) result.final = await runEval();
    } catch (e) {
      if (!(e instanceof WorkAbandoned)) throw e;
      abandoned = true;
      writer.log(`${e.message} (stop requested)`);
    }
    progress?.done();
    if (lastCheckpointStep !== state.step) checkpoint();
    result.step = state.step;
    if (state.step < totalSteps || abandoned || (stop.requested && !result.final && lastEvalStep !== state.step)) {
      writer.log(`stopped at step ${state.step} (checkpoint written; --resume ${o.runDir} continues)`);
      writer.update({ status: 'stopped', pid: null, endedAt: new Date().toISOString(), step: state.step });
      result.status = 'stopped';
      print(`stopped at step ${state.step}/${totalSteps}; resume with: npm run train -- --resume ${o.runDir}`);
      return result;
    }
    saveHfModel(join(o.runDir, 'model'), encoder, tokenizer, { maxSeqLength: p.maxSeqLength });
    writer.log(`completed ${state.step} steps; model saved to ${join(o.runDir, 'model')}`);
    if (encoder.spec.layerNorm === 'pre') {
      const why = 'the model is pre-LN (layerNorm "pre"): it loads in Matryoshka Lab, while transformers / sentence-transformers refuse it (they have no such BERT); train with layerNorm "post" to use it there';
      writer.log(why);
      print(`note: ${why}`);
    }
    writer.update({ status: 'completed', pid: null, endedAt: new Date().toISOString(), step: state.step });
    result.status = 'completed';
    if (result.final) {
      print(`\n${config.name}: ${state.step} steps, ${formatSeconds(elapsed())}, backend ${p.backend.name}\n`);
      print(metricsTable(result.final.byDim, result.initial?.byDim));
      const v = result.final.values;
      const f = config.evaluation.funnel;
      if (f && v[`${FUNNEL_PREFIX}macsSaved`] !== undefined) {
        const headline = Object.keys(v).find((k) => k.startsWith(FUNNEL_PREFIX) && !/(macsSaved|shortlistDim|rerankDim)$/.test(k));
        const full = headline ? result.final.byDim[String(f.rerankDim)]?.[headline.slice(FUNNEL_PREFIX.length)] : undefined;
        print(
          `\nfunnel (shortlist ${f.shortlistSize} at dim ${f.shortlistDim}, re-rank at dim ${f.rerankDim}): ` +
            (headline ? `${headline.slice(FUNNEL_PREFIX.length)} ${v[headline].toFixed(4)}${full !== undefined ? ` vs ${full.toFixed(4)} at full dim ${f.rerankDim}` : ''}, ` : '') +
            `${(100 * v[`${FUNNEL_PREFIX}macsSaved`]).toFixed(1)}% fewer multiply-adds`,
        );
      }
      print(`\nrun folder: ${o.runDir}`);
    }
    return result;
  } catch (e) {
    progress?.done();
    const err = e as Error;
    writer.log(`failed: ${err.stack ?? err.message}`);
    writer.update({ status: 'failed', pid: null, endedAt: new Date().toISOString(), error: err.message, step: state.step });
    result.status = 'failed';
    result.error = err;
    result.step = state.step;
    return result;
  } finally {
    await pool?.close();
    optimizer.dispose();
    releaseRunLock(o.runDir);
    void tf;
  }
}

function formatSeconds(s: number): string {
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

/** "ndcg@10 64: 0.123, 32: 0.101" for progress lines. */
function summary(byDim: ByDim): string {
  const dims = Object.keys(byDim).sort((a, b) => Number(b) - Number(a));
  const key = dims.length && byDim[dims[0]]['ndcg@10'] !== undefined ? 'ndcg@10' : 'spearman';
  return `${key} ` + dims.map((d) => `${d}: ${byDim[d][key]?.toFixed(4) ?? '-'}`).join(', ');
}

export { latestCheckpoint };

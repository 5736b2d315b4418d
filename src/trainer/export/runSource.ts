/**
 * What Export Model reads from a run folder (docs/architecture.md#the-run-folder): run.json, config.json,
 * the chosen checkpoint, and the eval line at that checkpoint's step. Never writes there: a running run
 * is exported from its last complete checkpoint (a `step-<n>` folder is complete once it has that name,
 * src/trainer/loop/checkpoint.ts; temp folders are never read).
 *
 * Every problem with the inputs is an ExportInputError (the CLI's exit 2) that names the file or the
 * argument and what was expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatConfigErrors, validateRunConfig } from '../../config/validate';
import type { ResolvedRunConfig } from '../../config/resolve';
import type { RunConfig } from '../../protocol/runConfig';
import {
  bestCheckpointDir,
  parseMetricsJsonl,
  RUN_FILES,
  type BestCheckpoint,
  type MetricsEvent,
  type RunInfo,
} from '../../protocol/runFolder';
import { applyResume } from '../../insights/metricRules';
import { checkpointDir, listCheckpoints } from '../loop/checkpoint';
import { scratchSpec } from '../loop/prepare';
import { BertEncoder } from '../model/encoder';
import { loadHfModel } from '../model/hfFolder';
import { readSafetensors } from '../model/safetensors';
import { WordPieceTokenizer } from '../tokenizer/wordpiece';

/** A bad argument or input (run folder, checkpoint, dim, --out): exit 2, nothing written. */
export class ExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportInputError';
  }
}

export type CheckpointRequest = 'best' | 'last' | number;

export interface RunSource {
  runDir: string;
  info: RunInfo;
  config: RunConfig;
  resolved: ResolvedRunConfig;
  /** The dims the run evaluates (config.json /evaluation/dims, else the resolved ones). */
  dims: number[];
}

export interface ChosenCheckpoint {
  kind: 'best' | 'step';
  step: number;
  dir: string;
  /** run.json bestCheckpoints[dim], for `best`. */
  best?: BestCheckpoint;
}

function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new ExportInputError(`${path}: missing (${what})`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new ExportInputError(`${path}: invalid JSON (${(e as Error).message}); expected ${what}`);
  }
}

/** run.json + config.json of a bundled-trainer run, its config validated as the trainer's --resume does. */
export function readRunSource(runDir: string): RunSource {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new ExportInputError(`<run dir> ${runDir}: not a folder (expected a run folder such as .mrl/runs/<id>)`);
  const infoPath = join(runDir, RUN_FILES.info);
  const configPath = join(runDir, RUN_FILES.config);
  const info = readJsonFile(infoPath, 'the run record: a run folder holds run.json and config.json') as RunInfo;
  if (typeof info !== 'object' || info === null || typeof info.id !== 'string')
    throw new ExportInputError(`${infoPath}: expected a run record with an "id"`);
  if (info.engine === 'sentence-transformers') {
    throw new ExportInputError(
      `${infoPath}: run ${info.id} was trained by the sentence-transformers engine, whose checkpoints (checkpoints/checkpoint-<n>/) are transformers' own: ` +
        `load one with SentenceTransformer("<checkpoint dir>", truncate_dim=D) instead; Export Model reads the bundled trainer's checkpoints`,
    );
  }
  const json = readJsonFile(configPath, 'the resolved run config');
  const baseDir = typeof info.baseDir === 'string' ? info.baseDir : runDir;
  // Files are not checked here: a data file is needed only for int8 calibration (loaded, and checked, then).
  const v = validateRunConfig(json, configPath, { baseDir, checkFiles: false });
  if (!v.resolved) throw new ExportInputError(formatConfigErrors(configPath, v.errors).replace(/\n\s*/g, '; '));
  const config = v.resolved.config;
  if ((config.engine ?? 'bundled') !== 'bundled') {
    throw new ExportInputError(`${configPath}: /engine is "${config.engine}"; Export Model reads the bundled trainer's checkpoints`);
  }
  const dims = config.evaluation.dims.length ? [...config.evaluation.dims] : [...v.resolved.evalDims];
  return { runDir, info, config, resolved: v.resolved, dims: dims.sort((a, b) => b - a) };
}

/** `last` (the latest complete step-<n>), `<step>` (that one) or `best` (checkpoints/best-<dim>/ from run.json). */
export function chooseCheckpoint(src: RunSource, request: CheckpointRequest, dim: number): ChosenCheckpoint {
  const root = join(src.runDir, RUN_FILES.checkpoints);
  const steps = listCheckpoints(src.runDir);
  const have = steps.length ? `complete checkpoints: step ${steps.join(', ')}` : 'no complete checkpoint';
  if (request === 'best') {
    const infoPath = join(src.runDir, RUN_FILES.info);
    const rec = src.info.bestCheckpoints?.[String(dim)];
    const kept = Object.keys(src.info.bestCheckpoints ?? {});
    if (!rec || !Number.isInteger(rec.step)) {
      throw new ExportInputError(
        `--checkpoint best: ${infoPath} has no bestCheckpoints["${dim}"] (training.keepBest ${
          kept.length ? `kept dims ${kept.join(', ')}` : 'kept no best checkpoint'
        }); expected a dim listed in training.keepBest.dims, or --checkpoint last|<step> (${have})`,
      );
    }
    const dir = join(root, bestCheckpointDir(dim));
    if (!existsSync(join(dir, 'model.safetensors')) || !existsSync(join(dir, 'tokenizer.json'))) {
      throw new ExportInputError(
        `--checkpoint best: ${dir} is missing or incomplete (expected model.safetensors and tokenizer.json, as run.json records step ${rec.step})`,
      );
    }
    return { kind: 'best', step: rec.step, dir, best: rec };
  }
  if (request === 'last') {
    if (!steps.length) throw new ExportInputError(`--checkpoint last: ${root} holds no complete step-<n> checkpoint yet`);
    const step = steps[steps.length - 1];
    return { kind: 'step', step, dir: checkpointDir(src.runDir, step) };
  }
  if (!steps.includes(request)) throw new ExportInputError(`--checkpoint ${request}: ${root} has no complete step-${request}/ (${have})`);
  return { kind: 'step', step: request, dir: checkpointDir(src.runDir, request) };
}

export interface LoadedRunModel {
  encoder: BertEncoder;
  tokenizer: WordPieceTokenizer;
  maxSeqLength: number;
}

/**
 * The checkpoint's encoder: built with the run's own spec (as prepare.ts builds it: a scratch spec from
 * the config and the checkpoint's vocabulary, or the pretrained folder's), then every parameter read
 * from the checkpoint's model.safetensors (the encoder's names and layout, checkpoint.ts).
 */
export function loadCheckpointModel(src: RunSource, ckpt: ChosenCheckpoint): LoadedRunModel {
  const tokPath = join(ckpt.dir, 'tokenizer.json');
  const weightsPath = join(ckpt.dir, 'model.safetensors');
  let tokenizer: WordPieceTokenizer;
  let tensors: ReturnType<typeof readSafetensors>;
  try {
    tokenizer = WordPieceTokenizer.fromFile(tokPath);
    tensors = readSafetensors(weightsPath);
  } catch (e) {
    throw new ExportInputError(
      `${ckpt.dir}: unreadable checkpoint (${(e as Error).message}); expected model.safetensors and tokenizer.json`,
    );
  }
  const model = src.config.model;
  let encoder: BertEncoder;
  let maxSeqLength: number;
  if ('scratch' in model) {
    const s = model.scratch;
    encoder = new BertEncoder(scratchSpec(s, tokenizer.vocabSize, src.resolved.width!), { seed: src.config.seed });
    maxSeqLength = s.maxSeqLength;
  } else {
    const loc = src.resolved.pretrained;
    if (loc?.kind !== 'folder' || !existsSync(loc.dir)) {
      throw new ExportInputError(
        `${join(src.runDir, RUN_FILES.config)}: /model/pretrained/path ${model.pretrained.path} is not a local folder any more (expected the folder the run started from: its architecture is read there)`,
      );
    }
    const m = loadHfModel(loc.dir, {
      pooling: model.pretrained.pooling,
      maxSeqLength: model.pretrained.maxSeqLength,
      seed: src.config.seed,
    });
    encoder = m.encoder;
    maxSeqLength = m.maxSeqLength;
  }
  try {
    for (const [name, v] of encoder.params) {
      const t = tensors.get(name);
      if (!t) throw new ExportInputError(`${weightsPath}: no tensor "${name}" (expected every parameter of the run's encoder)`);
      if (t.shape.join(',') !== v.shape.join(','))
        throw new ExportInputError(`${weightsPath}: tensor "${name}" has shape [${t.shape}], the run's encoder [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, 'float32')));
    }
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return { encoder, tokenizer, maxSeqLength };
}

/**
 * The eval line written at `step` (resume markers applied: the line a reader shows), or undefined when the
 * run did not evaluate at that step (a checkpoint between evaluations) or metrics.jsonl is missing.
 */
export function evalLineAt(runDir: string, step: number): MetricsEvent | undefined {
  const path = join(runDir, RUN_FILES.metrics);
  if (!existsSync(path)) return undefined;
  const events = applyResume(parseMetricsJsonl(readFileSync(path, 'utf8')).lines);
  let found: MetricsEvent | undefined;
  for (const e of events) if (e.split === 'eval' && e.step === step) found = e;
  return found;
}

/**
 * Export Model: one checkpoint of a bundled-trainer run → a sentence-transformers folder that gives
 * D-dim embeddings with no `truncate_dim`, checked before it is announced.
 *
 * How the folder carries its width. sentence-transformers never reads a saved `truncate_dim` back:
 * config_sentence_transformers.json is read for similarity_fn_name, prompts and default_prompt_name only
 * (sentence_transformers/SentenceTransformer.py: v3.4.0 lines 1633-1637, v4.1.0 lines 1703-1707, v5.1.0
 * lines 2157-2163). A module after pooling is loaded by every version: `models.Dense` (v3.4.0
 * models/Dense.py lines 80-94, v4.1.0 lines 81-95, v5.1.0 lines 84-105: config.json + model.safetensors,
 * `y = activation(linear(x))`) and `models.Normalize` (no files: SentenceTransformer.py v3.4.0 lines
 * 1742-1744, v4.1.0 lines 1812-1814; v5.1.0 models/Normalize.py lines 27-29: `load` returns `cls()`). So the folder is
 * Transformer → Pooling → Dense(hidden → D, Identity activation) → Normalize:
 *   - the Dense holds the first D rows of the run's projection when it has one (truncating a linear
 *     map = keeping its first D outputs), else the first D rows of the identity (zero bias): exact in
 *     float32, since every other product is 0;
 *   - Normalize re-normalises after truncation, because the evaluation scores cosine on truncated
 *     embeddings (src/trainer/eval/metrics.ts truncateNormalize) and vector databases expect unit vectors
 *     for dot-product search; dot product = cosine then, and int8 / binary quantise exactly what the
 *     evaluation quantised (the truncated, re-normalised embeddings).
 * A Dense is written by saveHfModel (src/trainer/model/hfFolder.ts) from an encoder whose projection is
 * that matrix, so loadHfModel reads the folder back to the same D-dim encoder for the check.
 *
 * Atomic: everything is written into a temp sibling of --out (`.<name>.export-<pid>`), re-loaded with
 * loadHfModel and compared with the checkpoint's own encoder on a few texts (max |Δ| ≤ 1e-5 after
 * truncation and normalisation), then renamed into place. Any failure removes the temp folder: --out
 * holds the whole export or nothing. A non-empty --out is refused unless `force` (then replaced only once
 * the new folder passed its check).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../protocol/runConfig';
import type { Precision } from '../../protocol/runFolder';
import { adviseFrontier, describeFrontierAdvice } from '../../insights/frontier';
import { runAsync } from '../../common/cooperative';
import { prepareDataWork, tableSize } from '../../data/dataset';
import { buildEvalSet, type EvalSet } from '../../data/evalSet';
import { embedTexts, EVAL_BATCH } from '../eval/embed';
import { truncateNormalize } from '../eval/metrics';
import { int8Calibration } from '../eval/quantize';
import { BertEncoder } from '../model/encoder';
import { loadHfModel, saveHfModel } from '../model/hfFolder';
import { initBackend } from '../runtime/backend';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece';
import { modelCard } from './modelCard';
import { QUANTIZATION_FILE, quantizationRecipe } from './quantizationRecipe';
import {
  chooseCheckpoint,
  evalLineAt,
  ExportInputError,
  loadCheckpointModel,
  readRunSource,
  type CheckpointRequest,
  type RunSource,
} from './runSource';

export { ExportInputError } from './runSource';

/** The largest |Δ| an export may show against its checkpoint's truncated, normalised embeddings. */
export const EXPORT_TOLERANCE = 1e-5;
const ST_NORMALIZE = 'sentence_transformers.models.Normalize';

/** Texts every export is checked on, besides some of the run's own eval texts: short, long, non-ASCII, empty. */
const CHECK_TEXTS = [
  'a quick check of the exported model',
  'Matryoshka embeddings keep their quality when truncated to their first components, which is the whole point of training them that way.',
  'Café au lait, naïve façade — résumé',
  '',
];

export interface ExportOptions {
  runDir: string;
  dim: number;
  precision: Precision;
  checkpoint: CheckpointRequest;
  out: string;
  /** Replace a non-empty --out (after the new folder passed its check). */
  force?: boolean;
  /** Default: the run's config backend. */
  backend?: BackendName;
  log?: (s: string) => void;
}

export interface ExportResult {
  out: string;
  dim: number;
  precision: Precision;
  checkpoint: { kind: 'best' | 'step'; step: number };
  maxAbsDiff: number;
  /** Relative paths of the files written, sorted. */
  files: string[];
  /** The frontier's answer at that checkpoint's eval, in words; undefined without one. */
  advice?: string;
}

/** Test-only fault injection (test/trainer/export.test.ts): throws at the named stage, to check the clean-up. */
function faultAt(stage: 'written' | 'verified'): void {
  if (process.env.MRL_EXPORT_FAIL_AT === stage) throw new Error(`injected failure after the export was ${stage} (MRL_EXPORT_FAIL_AT)`);
}

function writeJson(path: string, v: unknown): void {
  writeFileSync(path, JSON.stringify(v, null, 2) + '\n');
}

/** Refuses an --out that is a file, or a non-empty folder without force. */
function checkOut(out: string, force: boolean, runDir: string): void {
  const rel = resolve(out);
  if (rel === resolve(runDir) || resolve(runDir).startsWith(rel + sep))
    throw new ExportInputError(`--out ${out}: is the run folder or holds it (expected a folder of its own)`);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new ExportInputError(`--out ${out}: exists and is not a folder (expected a new or empty folder)`);
  if (readdirSync(out).length > 0 && !force)
    throw new ExportInputError(`--out ${out}: exists and is not empty (expected a new or empty folder; --force replaces it)`);
}

/** The export encoder: the checkpoint's parameters, its output cut to the first `dim` components by a projection. */
function truncatedEncoder(src: BertEncoder, dim: number): BertEncoder {
  const H = src.spec.hiddenSize;
  const hasProjection = src.params.has('projection.weight');
  if (dim === H && hasProjection) {
    throw new ExportInputError(
      `--dim ${dim}: equals the transformer's hidden size while the run projects it to ${src.dim}; a ${H} → ${H} Dense cannot be re-loaded by the trainer (choose another dim)`,
    );
  }
  const spec = { ...src.spec, outputDim: dim === H ? undefined : dim };
  const enc = new BertEncoder(spec, { seed: 0 });
  for (const [name, v] of enc.params) {
    if (name.startsWith('projection.')) continue;
    v.assign(src.params.get(name)!);
  }
  if (dim !== H) {
    // Encoder layout: projection.weight is [in = H, out]; the first `dim` outputs are its first `dim` columns.
    const w = new Float32Array(H * dim);
    const b = new Float32Array(dim);
    if (hasProjection) {
      const full = src.params.get('projection.weight')!.dataSync() as Float32Array;
      const fullBias = src.params.get('projection.bias')!.dataSync() as Float32Array;
      const W = src.dim;
      for (let i = 0; i < H; i++) for (let j = 0; j < dim; j++) w[i * dim + j] = full[i * W + j];
      b.set(fullBias.subarray(0, dim));
    } else {
      for (let j = 0; j < dim; j++) w[j * dim + j] = 1;
    }
    tf.tidy(() => {
      enc.params.get('projection.weight')!.assign(tf.tensor2d(w, [H, dim]));
      enc.params.get('projection.bias')!.assign(tf.tensor1d(b));
    });
  }
  return enc;
}

/** modules.json gains a Normalize module after the last one (and its empty folder, as sentence-transformers saves it). */
function appendNormalize(dir: string): void {
  const path = join(dir, 'modules.json');
  const modules = JSON.parse(readFileSync(path, 'utf8')) as { idx: number; name: string; path: string; type: string }[];
  const idx = modules.length;
  modules.push({ idx, name: String(idx), path: `${idx}_Normalize`, type: ST_NORMALIZE });
  mkdirSync(join(dir, `${idx}_Normalize`));
  writeJson(path, modules);
}

function embedNormalized(encoder: BertEncoder, tokenizer: WordPieceTokenizer, texts: string[], maxSeqLength: number, dim: number) {
  const full = embedTexts(encoder, tokenizer, texts, { maxSeqLength, batchSize: EVAL_BATCH });
  return truncateNormalize(full, texts.length, encoder.dim, dim);
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** A Hub id the pretrained folder came from (transformers' save_pretrained records `_name_or_path`). */
function hubId(src: RunSource): string | undefined {
  const loc = src.resolved.pretrained;
  if (loc?.kind !== 'folder') return undefined;
  try {
    const cfg = JSON.parse(readFileSync(join(loc.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const n = cfg._name_or_path;
    return typeof n === 'string' && /^[\w.-]+\/[\w.-]+$/.test(n) && !existsSync(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  const log = o.log ?? (() => {});
  const runDir = resolve(o.runDir);
  const out = resolve(o.out);
  const src = readRunSource(runDir);
  if (!Number.isInteger(o.dim) || !src.dims.includes(o.dim)) {
    throw new ExportInputError(
      `--dim ${o.dim}: not a dim of run ${src.info.id} (expected one of ${src.dims.join(', ')}: its evaluation dims, ${join(runDir, 'config.json')} /evaluation/dims)`,
    );
  }
  const ckpt = chooseCheckpoint(src, o.checkpoint, o.dim);
  checkOut(out, o.force ?? false, runDir);
  const backend = await initBackend(o.backend ?? src.config.backend);
  log(`backend: ${backend.name}; checkpoint: ${ckpt.kind === 'best' ? `best for dim ${o.dim}, ` : ''}step ${ckpt.step} (${ckpt.dir})`);

  // The run's data: the same split the run evaluated on (src/data/, as prepare.ts builds it). Needed for the
  // int8 calibration; otherwise only for the card's row counts and some check texts.
  let evalSet: EvalSet | undefined;
  let trainRows: number | undefined;
  try {
    const data = await runAsync(prepareDataWork(src.config, src.resolved.baseDir));
    evalSet = buildEvalSet(data.eval, src.config.evaluation.maxQueries);
    trainRows = tableSize(data.train);
  } catch (e) {
    if (o.precision === 'int8') {
      throw new ExportInputError(
        `int8 calibration needs the run's eval set, which could not be loaded: ${(e as Error).message} (config ${join(runDir, 'config.json')} /data)`,
      );
    }
    log(`note: the run's data could not be loaded (${(e as Error).message}); the model card leaves out row counts`);
  }

  const run = loadCheckpointModel(src, ckpt);
  let exported: BertEncoder | undefined;
  let reloaded: BertEncoder | undefined;
  const tmp = join(dirname(out), `.${basename(out)}.export-${process.pid}`);
  let old: string | undefined;
  try {
    if (o.dim > run.encoder.dim) throw new ExportInputError(`--dim ${o.dim}: wider than the run's encoder (${run.encoder.dim})`);
    exported = truncatedEncoder(run.encoder, o.dim);
    mkdirSync(dirname(out), { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    saveHfModel(tmp, exported, run.tokenizer, { maxSeqLength: run.maxSeqLength, pooling: run.encoder.spec.pooling });
    appendNormalize(tmp);
    faultAt('written');

    // The check: the folder as a loader sees it, against the checkpoint's own encoder.
    const loaded = loadHfModel(tmp);
    reloaded = loaded.encoder;
    if (reloaded.dim !== o.dim) throw new Error(`the exported folder re-loads with width ${reloaded.dim}, expected ${o.dim}`);
    const texts = [...CHECK_TEXTS, ...(evalSet ? [...evalSet.queries.slice(0, 4), ...evalSet.corpus.slice(0, 4)] : [])];
    const want = embedNormalized(run.encoder, run.tokenizer, texts, run.maxSeqLength, o.dim);
    const got = embedNormalized(reloaded, loaded.tokenizer, texts, loaded.maxSeqLength, o.dim);
    let maxAbsDiff = 0;
    for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(want[i] - got[i]));
    if (!(maxAbsDiff <= EXPORT_TOLERANCE)) {
      throw new Error(
        `the exported folder's embeddings differ from the checkpoint's by up to ${maxAbsDiff} on ${texts.length} texts (allowed ${EXPORT_TOLERANCE}); nothing was exported`,
      );
    }
    log(`checked: ${texts.length} texts, max |Δ| ${maxAbsDiff.toExponential(2)} (allowed ${EXPORT_TOLERANCE})`);

    if (o.precision === 'int8') {
      // Calibrated as the evaluation calibrates: the eval corpus at dim D, truncated and re-normalised —
      // here embedded by the exported model itself, which is what a search system will run.
      const corpus = evalSet!.corpus.length ? evalSet!.corpus : [...new Set([...(evalSet!.pairs?.a ?? []), ...(evalSet!.pairs?.b ?? [])])];
      const emb = embedNormalized(reloaded, loaded.tokenizer, corpus, loaded.maxSeqLength, o.dim);
      const calibration = int8Calibration(emb, corpus.length, o.dim);
      const maxs = new Float32Array(o.dim).fill(-Infinity);
      for (let r = 0; r < corpus.length; r++) for (let c = 0; c < o.dim; c++) maxs[c] = Math.max(maxs[c], emb[r * o.dim + c]);
      const source = evalSet!.corpus.length
        ? `the run's eval corpus (${corpus.length} distinct texts, src/data/evalSet.ts) embedded by this model`
        : `the run's eval pairs (${corpus.length} distinct texts) embedded by this model`;
      writeJson(
        join(tmp, QUANTIZATION_FILE),
        quantizationRecipe({ precision: 'int8', dim: o.dim, calibration, maxs, rows: corpus.length, source }),
      );
    } else if (o.precision === 'binary') {
      writeJson(join(tmp, QUANTIZATION_FILE), quantizationRecipe({ precision: 'binary', dim: o.dim }));
    }

    const line = evalLineAt(runDir, ckpt.step);
    const advice = line?.byDim ? adviseFrontier(line.byDim) : null;
    const s = run.encoder.spec;
    writeFileSync(
      join(tmp, 'README.md'),
      modelCard({
        runId: src.info.id,
        config: src.config,
        dim: o.dim,
        precision: o.precision,
        checkpoint: { kind: ckpt.kind, step: ckpt.step, metric: ckpt.best?.metric, value: ckpt.best?.value },
        totalSteps: src.info.totalSteps,
        model: {
          hiddenSize: s.hiddenSize,
          numLayers: s.numLayers,
          numHeads: s.numHeads,
          vocabSize: s.vocabSize,
          maxSeqLength: run.maxSeqLength,
          pooling: s.pooling,
          width: run.encoder.dim,
        },
        baseModel: hubId(src),
        rows:
          evalSet && trainRows !== undefined
            ? { train: trainRows, evalQueries: evalSet.queries.length, evalCorpus: evalSet.corpus.length }
            : undefined,
        byDim: line?.byDim,
        advice,
      }),
    );
    faultAt('verified');

    if (existsSync(out)) {
      // Empty, or --force: moved aside first, so that --out is never missing a whole folder for long.
      old = join(dirname(out), `.${basename(out)}.replaced-${process.pid}`);
      renameSync(out, old);
    }
    renameSync(tmp, out);
    if (old) rmSync(old, { recursive: true, force: true });
    return {
      out,
      dim: o.dim,
      precision: o.precision,
      checkpoint: { kind: ckpt.kind, step: ckpt.step },
      maxAbsDiff,
      files: listFiles(out),
      advice: advice ? describeFrontierAdvice(advice) : undefined,
    };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (old && !existsSync(out) && existsSync(old)) renameSync(old, out);
    throw e;
  } finally {
    run.encoder.dispose();
    exported?.dispose();
    reloaded?.dispose();
  }
}

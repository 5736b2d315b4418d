/**
 * The resolved run config: what validation hands to the programs that run a config, the bundled trainer
 * (src/trainer/loop/prepare.ts) and the sentence-transformers engine (src/engines/sentenceTransformers/).
 * It is the config with every default filled in plus the facts derived from it — where the models are,
 * the encoder's output width, what the loss trains and how it batches — computed once, here, from a
 * config that passed every check. Its readers take these facts as given: they neither re-derive nor
 * re-check them. No vscode, no tfjs.
 */
import { isAbsolute, resolve } from 'node:path';
import type { RunConfig } from '../protocol/runConfig';
import { pretrainedLocation, type ModelLocation } from './engineChecks';
import { lossFacts, modelWidth, type ResolvedLoss } from './lossConfig';

export interface ResolvedRunConfig {
  /** The config, defaults filled in: what a run folder's config.json stores (never a `sweep`). */
  readonly config: RunConfig;
  /** The folder that relative paths in the config resolve against. */
  readonly baseDir: string;
  /** Where the pretrained model is; undefined for an encoder trained from scratch (config.model.scratch). */
  readonly pretrained: ModelLocation | undefined;
  /**
   * The encoder's output width. From scratch: the largest dim the loss trains — the hidden size, or a
   * smaller largest Matryoshka dim, which the encoder projects to. Pretrained: the folder's (its Dense
   * projection's out features, else its hidden size). Undefined when validation did not read a folder:
   * a Hub id, or a validation that does not check files.
   */
  readonly width: number | undefined;
  readonly loss: ResolvedLoss;
  /** Every GIST guide other than "self", as the config writes it → where it is. */
  readonly guides: Readonly<Record<string, ModelLocation>>;
  /** The dims the evaluation reports: evaluation.dims, else the full width (none while the width is unknown). */
  readonly evalDims: readonly number[];
}

/**
 * Resolves a config that passed validation (defaults filled in); `folderWidth` is the output width that
 * validation read from the pretrained model's folder. Only validate.ts calls this.
 */
export function resolveRunConfig(config: RunConfig, baseDir: string, folderWidth: number | undefined): ResolvedRunConfig {
  // The bundled trainer reads local folders only; sentence-transformers also downloads Hub ids.
  const locate = (path: string): ModelLocation =>
    config.engine === 'sentence-transformers'
      ? pretrainedLocation(path, baseDir)
      : { kind: 'folder', dir: isAbsolute(path) ? path : resolve(baseDir, path) };
  const width = 'scratch' in config.model ? modelWidth(config, config.model.scratch.hiddenSize) : folderWidth;
  const loss = lossFacts(config.loss, width);
  const guides: Record<string, ModelLocation> = {};
  for (const { base } of loss.terms) {
    if ((base.type === 'GISTEmbedLoss' || base.type === 'CachedGISTEmbedLoss') && base.guide !== 'self')
      guides[base.guide] = locate(base.guide);
  }
  const dims = config.evaluation.dims;
  return {
    config,
    baseDir,
    pretrained: 'pretrained' in config.model ? locate(config.model.pretrained.path) : undefined,
    width,
    loss,
    guides,
    evalDims: dims.length ? dims : width !== undefined ? [width] : [],
  };
}

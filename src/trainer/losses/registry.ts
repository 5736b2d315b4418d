/**
 * Builds an EmbeddingLoss from the run config's `loss` (src/protocol/runConfig.ts). A short factory:
 * the config tree and its checks live in src/config/lossConfig.ts; createLoss throws the first of its
 * problems (a LossConfigError naming the JSON path and what was expected) and otherwise trusts the config.
 *
 *   Cached* = the uncached loss with `miniBatchSize` (losses/Cached*.ts; GradCache does the caching, see
 *   ../gradCache.ts). MatryoshkaLoss(inner) inherits inner's miniBatchSize; a weighted sum takes the
 *   smallest of its terms'.
 */
import type { BaseLossConfig, LossConfig, SingleLossConfig } from '../../protocol/runConfig';
import { LossConfigError, dottedPath, lossConfigProblems } from '../../config/lossConfig';
import type { EmbeddingLoss } from './types';
import { AnglELoss } from './AnglELoss';
import { CachedGISTEmbedLoss } from './CachedGISTEmbedLoss';
import { CachedMultipleNegativesRankingLoss } from './CachedMultipleNegativesRankingLoss';
import { CachedMultipleNegativesSymmetricRankingLoss } from './CachedMultipleNegativesSymmetricRankingLoss';
import { CoSENTLoss } from './CoSENTLoss';
import { GISTEmbedLoss } from './GISTEmbedLoss';
import { MatryoshkaLoss } from './MatryoshkaLoss';
import { MultipleNegativesRankingLoss } from './MultipleNegativesRankingLoss';
import { MultipleNegativesSymmetricRankingLoss } from './MultipleNegativesSymmetricRankingLoss';
import { WeightedSumLoss } from './weightedSum';

export { BASE_LOSS_TYPES, LOSS_TYPES, LossConfigError } from '../../config/lossConfig';

export interface CreateLossOptions {
  /** The model's output width (the largest dim a loss may see). */
  embeddingDim: number;
  /** Seeds the loss-side randomness (MatryoshkaLoss' nDimsPerStep). */
  seed: number;
  /** JSON path of `config`, for error messages; default "loss". */
  path?: string;
}

/** Builds a loss from the run config's `loss`. Throws LossConfigError for the first problem of the config. */
export function createLoss(config: LossConfig, opts: CreateLossOptions): EmbeddingLoss {
  const path = opts.path ?? 'loss';
  const { embeddingDim, seed } = opts;
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) {
    throw new LossConfigError(path, `the embedding dim must be an integer ≥ 1, got ${embeddingDim}`);
  }
  const [problem] = lossConfigProblems(config, { maxDim: embeddingDim, maxDimName: 'embedding dim', embeddingDim, path });
  if (problem) throw new LossConfigError(dottedPath(path, problem.path), problem.message);
  if (!Array.isArray(config)) return createSingle(config, seed);
  const terms = config.map((term, i) => ({
    weight: term.weight,
    // Distinct seeds so that two Matryoshka terms do not draw the same dims in lockstep.
    loss: createSingle(term.loss, (seed ^ Math.imul(i + 1, 0x9e3779b1)) | 0),
  }));
  try {
    return new WeightedSumLoss(terms);
  } catch (e) {
    throw new LossConfigError(path, (e as Error).message);
  }
}

function createSingle(config: SingleLossConfig, seed: number): EmbeddingLoss {
  if (config.type !== 'MatryoshkaLoss') return createBase(config);
  return new MatryoshkaLoss(createBase(config.loss), {
    dims: config.matryoshkaDims,
    weights: config.matryoshkaWeights ?? null,
    nDimsPerStep: config.nDimsPerStep ?? -1,
    seed,
  });
}

function createBase(c: BaseLossConfig): EmbeddingLoss {
  switch (c.type) {
    case 'MultipleNegativesRankingLoss':
      return new MultipleNegativesRankingLoss({ scale: c.scale });
    case 'CachedMultipleNegativesRankingLoss':
      return new CachedMultipleNegativesRankingLoss({ scale: c.scale, miniBatchSize: c.miniBatchSize });
    case 'MultipleNegativesSymmetricRankingLoss':
      return new MultipleNegativesSymmetricRankingLoss({ scale: c.scale });
    case 'CachedMultipleNegativesSymmetricRankingLoss':
      return new CachedMultipleNegativesSymmetricRankingLoss({ scale: c.scale, miniBatchSize: c.miniBatchSize });
    case 'GISTEmbedLoss':
    case 'CachedGISTEmbedLoss': {
      const gist = {
        temperature: c.temperature,
        marginStrategy: c.marginStrategy,
        margin: c.margin,
        contrastAnchors: c.contrastAnchors,
        contrastPositives: c.contrastPositives,
      };
      return c.type === 'CachedGISTEmbedLoss' ? new CachedGISTEmbedLoss({ ...gist, miniBatchSize: c.miniBatchSize }) : new GISTEmbedLoss(gist);
    }
    case 'CoSENTLoss':
      return new CoSENTLoss({ scale: c.scale });
    case 'AnglELoss':
      return new AnglELoss({ scale: c.scale });
  }
}

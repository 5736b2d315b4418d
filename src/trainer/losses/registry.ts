/**
 * Builds an EmbeddingLoss from a resolved loss (src/config/lossConfig.ts ResolvedLoss: a `loss` value
 * that passed validation). A factory, nothing more: the config's checks and facts live in src/config/.
 *
 *   Cached* = the uncached loss with `miniBatchSize` (losses/Cached*.ts; GradCache does the caching, see
 *   ../loop/gradCache.ts). MatryoshkaLoss(inner) inherits inner's miniBatchSize; a weighted sum takes the
 *   smallest of its terms'.
 */
import type { BaseLossConfig, SingleLossConfig } from '../../protocol/runConfig';
import type { ResolvedLoss } from '../../config/lossConfig';
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

/** Builds the loss; `seed` seeds the loss-side randomness (MatryoshkaLoss' nDimsPerStep). */
export function createLoss(loss: ResolvedLoss, seed: number): EmbeddingLoss {
  const config = loss.config;
  if (!Array.isArray(config)) return createSingle(config, seed);
  return new WeightedSumLoss(
    config.map((term, i) => ({
      weight: term.weight,
      // Distinct seeds so that two Matryoshka terms do not draw the same dims in lockstep.
      loss: createSingle(term.loss, (seed ^ Math.imul(i + 1, 0x9e3779b1)) | 0),
    })),
  );
}

function createSingle(config: SingleLossConfig, seed: number): EmbeddingLoss {
  if (config.type !== 'MatryoshkaLoss') return createBase(config);
  return new MatryoshkaLoss(createBase(config.loss), {
    dims: config.matryoshkaDims,
    weights: config.matryoshkaWeights,
    nDimsPerStep: config.nDimsPerStep,
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
      return c.type === 'CachedGISTEmbedLoss'
        ? new CachedGISTEmbedLoss({ ...gist, miniBatchSize: c.miniBatchSize })
        : new GISTEmbedLoss(gist);
    }
    case 'CoSENTLoss':
      return new CoSENTLoss({ scale: c.scale });
    case 'AnglELoss':
      return new AnglELoss({ scale: c.scale });
  }
}

/**
 * CachedMultipleNegativesSymmetricRankingLoss — MultipleNegativesSymmetricRankingLoss (MNRL in both
 * directions; Henderson et al. 2017, "Efficient Natural Language Response Suggestion for Smart Reply")
 * trained with GradCache (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch Size under Memory
 * Limited Setup").
 *
 * The cached variant is the SAME loss function as MultipleNegativesSymmetricRankingLoss.ts, with a
 * miniBatchSize:
 *
 *   F = scale · cos_sim(a, concat([p, n_1, …, n_k])),   Bk = F[:, :B]ᵀ
 *   L = ( CE(F, arange B) + CE(Bk, arange B) ) / 2
 *
 * Inputs: columns [a, p, n_1..n_k] (any k ≥ 0), each [B, D]. Value and gradient equal MNSRL's.
 * The caching is not here: a loss with a miniBatchSize is run by ../loop/gradCache.ts (embed in chunks without
 * the tape, loss and ∂L/∂embeddings on the whole batch, re-embed each chunk and back-propagate the cached
 * gradient). Defaults (sentence-transformers): scale 20, mini_batch_size 32.
 */
import type { MnrlOptions } from './MultipleNegativesRankingLoss';
import { DEFAULT_MINI_BATCH_SIZE } from '../../config/defaults';
import { MultipleNegativesSymmetricRankingLoss } from './MultipleNegativesSymmetricRankingLoss';

export class CachedMultipleNegativesSymmetricRankingLoss extends MultipleNegativesSymmetricRankingLoss {
  declare readonly miniBatchSize: number;

  constructor(opts: MnrlOptions = {}) {
    super({ ...opts, miniBatchSize: opts.miniBatchSize ?? DEFAULT_MINI_BATCH_SIZE });
  }
}

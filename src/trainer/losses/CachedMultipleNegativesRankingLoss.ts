/**
 * CachedMultipleNegativesRankingLoss — MultipleNegativesRankingLoss (Henderson et al. 2017, "Efficient
 * Natural Language Response Suggestion for Smart Reply") trained with GradCache (Gao et al. 2021,
 * "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup").
 *
 * The cached variant is the SAME loss function as MultipleNegativesRankingLoss.ts, with a miniBatchSize:
 *
 *   C = concat([p, n_1, …, n_k], rows),   S = scale · cos_sim(a, C),   L = CE(S, arange(B))
 *
 * Inputs: columns [a, p, n_1..n_k] (any k ≥ 0), each [B, D]. Value and gradient equal MNRL's.
 * The caching is not here: a loss with a miniBatchSize is run by ../loop/gradCache.ts (lossAndGrads →
 * lossAndGradsCached, or the data-parallel pool, which composes the same steps): embed the batch in
 * chunks of miniBatchSize rows without the tape, take the loss and ∂L/∂embeddings on the whole batch,
 * then re-embed each chunk with the tape and back-propagate the cached gradient. Memory grows with
 * miniBatchSize, not with the batch size. MatryoshkaLoss around it (MatryoshkaLoss.ts) truncates inside
 * the loss step, so one cache serves every dim.
 * Defaults (sentence-transformers): scale 20, mini_batch_size 32.
 */
import { MultipleNegativesRankingLoss, type MnrlOptions } from './MultipleNegativesRankingLoss';
import { DEFAULT_MINI_BATCH_SIZE } from '../../config/defaults';

export class CachedMultipleNegativesRankingLoss extends MultipleNegativesRankingLoss {
  declare readonly miniBatchSize: number;

  constructor(opts: MnrlOptions = {}) {
    super({ ...opts, miniBatchSize: opts.miniBatchSize ?? DEFAULT_MINI_BATCH_SIZE });
  }
}

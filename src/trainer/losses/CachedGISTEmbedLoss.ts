/**
 * CachedGISTEmbedLoss — GISTEmbedLoss (Solatorio 2024, "GISTEmbed: Guided In-sample Selection of Training
 * Negatives for Text Embedding Fine-tuning") trained with GradCache (Gao et al. 2021, "Scaling Deep
 * Contrastive Learning Batch Size under Memory Limited Setup").
 *
 * The cached variant is the SAME loss function as GISTEmbedLoss.ts, with a miniBatchSize:
 *
 *   L = CE(concat([ap, aa?, pp?, an_1..an_k], 1) / temperature, arange(B))   blocks masked by the guide
 *
 * Inputs: columns [a, p, n_1..n_k] of the trained model, each [B, D], and the guide's embeddings of the
 * same columns (never truncated, never differentiated). Unlike GISTEmbedLoss (at most one negative
 * column), it takes any number of negative columns, as in sentence-transformers.
 * The caching is not here: a loss with a miniBatchSize is run by ../loop/gradCache.ts (embed in chunks without
 * the tape, loss and ∂L/∂embeddings on the whole batch, re-embed each chunk and back-propagate the cached
 * gradient); the guide is embedded once, outside the tape. Defaults: those of GISTEmbedLoss, plus
 * mini_batch_size 32.
 */
import { DEFAULT_MINI_BATCH_SIZE } from '../../config/defaults';
import { GISTEmbedLoss, type GistOptions } from './GISTEmbedLoss';

export class CachedGISTEmbedLoss extends GISTEmbedLoss {
  declare readonly miniBatchSize: number;

  constructor(opts: GistOptions = {}) {
    super({ ...opts, miniBatchSize: opts.miniBatchSize ?? DEFAULT_MINI_BATCH_SIZE });
  }
}

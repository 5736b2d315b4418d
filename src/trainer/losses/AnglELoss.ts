/**
 * AnglELoss — Li & Li 2023, "AnglE-optimized Text Embeddings": CoSENTLoss with the angle similarity (sentence-transformers' AnglELoss is only the angle
 * term, not the paper's combined cosine + in-batch + angle objective).
 *
 * Inputs: columns [a, p], each [B, D] with D EVEN (each vector is split in two halves); labels y [B].
 *
 *   s_i = scale · pairwise_angle_sim(a_i, p_i)
 *       = scale · | cos(a_i, p_i) + (Σ(b∘c) − Σ(a∘d)) / (‖a_i‖ ‖p_i‖) |     a_i = [a | b], p_i = [c | d]
 *   L   = logsumexp([0] ∪ { s_i − s_j : y_i < y_j })                          (a sum, no mean)
 *
 * Not symmetric in (a, p). The |·| has gradient 0 at 0, as torch's. Default: scale 20.
 */
import { CoSENTLoss, type CosentOptions, type PairSimilarity } from './CoSENTLoss';
import { pairwiseAngleSim } from './similarity';

export class AnglELoss extends CoSENTLoss {
  override readonly name: string = 'AnglELoss';
  protected override readonly similarity: PairSimilarity = pairwiseAngleSim;

  constructor(opts: CosentOptions = {}) {
    super(opts);
  }
}

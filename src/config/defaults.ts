/**
 * Defaults that depend on other fields, which a JSON Schema `default` cannot express (ajv fills the
 * plain ones from schemas/run-config.schema.json): the data columns a loss reads, and the eval dims
 * (the Matryoshka dims). The resolved config written to a run folder holds them explicitly, so a reader
 * never has to re-derive them. No vscode, no tfjs.
 */
import schema from '../../schemas/run-config.schema.json';
import type { DataSourceConfig, RunConfig } from '../protocol/runConfig';
// What these defaults read off the loss tree (columns, dims, width) comes from lossConfig.ts.
import { lossDims, lossNeedsLabels, modelWidth } from './lossConfig';

/**
 * The GradCache mini-batch size of a Cached* loss that sets none (sentence-transformers' mini_batch_size):
 * the schema's default, which ajv fills into run configs. The loss classes and the conformance fixtures
 * default to it too: read from the schema, not restated.
 */
export const DEFAULT_MINI_BATCH_SIZE: number = schema.$defs.CachedMultipleNegativesRankingLoss.properties.miniBatchSize.default;

/**
 * The rescore shortlist's oversampling when a config sets none (evaluation.rescoreMultiplier): the schema's
 * default, read from it so that the evaluation of a config written before the field existed uses the same.
 */
export const DEFAULT_RESCORE_MULTIPLIER: number = schema.properties.evaluation.properties.rescoreMultiplier.default;

function fillSource(src: DataSourceConfig, labels: boolean): DataSourceConfig {
  const out = { ...src };
  out.columns ??= labels ? ['sentence1', 'sentence2'] : ['anchor', 'positive'];
  if (labels) out.scoreColumn ??= 'score';
  return out;
}

/** Fills the derived defaults of a config that passed the schema (plain defaults already filled). */
export function applyDerivedDefaults(config: RunConfig): RunConfig {
  const labels = lossNeedsLabels(config.loss);
  const out: RunConfig = { ...config, data: { ...config.data, train: fillSource(config.data.train, labels) } };
  if (config.data.eval) out.data.eval = fillSource(config.data.eval, labels);
  if (config.evaluation.dims.length === 0) {
    const width = modelWidth(config, 'scratch' in config.model ? config.model.scratch.hiddenSize : undefined);
    const dims = width !== undefined ? lossDims(config.loss, width) : [];
    out.evaluation = { ...config.evaluation, dims };
  }
  return out;
}

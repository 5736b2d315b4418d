/**
 * Defaults that depend on other fields, which a JSON Schema `default` cannot express (ajv fills the
 * plain ones from schemas/run-config.schema.json): the data columns a loss reads, and the eval dims
 * (the Matryoshka dims). The resolved config written to a run folder holds them explicitly, so a reader
 * never has to re-derive them. No vscode, no tfjs.
 */
import type { DataSourceConfig, RunConfig } from '../protocol/runConfig';
// What these defaults read off the loss tree (columns, dims, width) comes from lossConfig.ts.
import { lossDims, lossNeedsLabels, modelWidth } from './lossConfig';

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

/**
 * Defaults that depend on other fields, which a JSON Schema `default` cannot express (ajv fills the
 * plain ones from schemas/run-config.schema.json): the data columns a loss reads, and the eval dims
 * (the Matryoshka dims). The resolved config written to a run folder holds them explicitly, so a reader
 * never has to re-derive them. No vscode, no tfjs.
 */
import type { BaseLossConfig, DataSourceConfig, LossConfig, RunConfig, SingleLossConfig } from '../protocol/runConfig';

const LABEL_LOSSES: ReadonlySet<string> = new Set(['CoSENTLoss', 'AnglELoss']);

function baseOf(l: SingleLossConfig): BaseLossConfig {
  return l.type === 'MatryoshkaLoss' ? l.loss : l;
}

function singles(loss: LossConfig): SingleLossConfig[] {
  return Array.isArray(loss) ? loss.map((t) => t.loss) : [loss];
}

/** True when the loss trains on scored pairs (CoSENT / AnglE, in any term). */
export function lossNeedsLabels(loss: LossConfig): boolean {
  return singles(loss).some((l) => LABEL_LOSSES.has(baseOf(l).type));
}

/**
 * The dims a loss trains, largest first, distinct (the union over the terms of a weighted sum); a loss
 * without MatryoshkaLoss trains the full `width`.
 */
export function lossDims(loss: LossConfig, width: number): number[] {
  const dims = new Set<number>();
  for (const l of singles(loss)) {
    if (l.type === 'MatryoshkaLoss') l.matryoshkaDims.forEach((d) => dims.add(d));
    else dims.add(width);
  }
  return [...dims].filter((d) => Number.isFinite(d)).sort((a, b) => b - a);
}

/**
 * The encoder's output width: the largest Matryoshka dim (a from-scratch encoder projects to it when it
 * differs from hiddenSize), else the hidden size. Undefined for a pretrained model without Matryoshka
 * dims (its width is read from its config.json).
 */
export function modelWidth(config: RunConfig): number | undefined {
  const hidden = 'scratch' in config.model ? config.model.scratch.hiddenSize : undefined;
  const dims = lossDims(config.loss, Infinity);
  if (dims.length) return dims[0];
  return hidden;
}

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
    const width = modelWidth(config);
    const dims = width !== undefined ? lossDims(config.loss, width) : [];
    out.evaluation = { ...config.evaluation, dims };
  }
  return out;
}

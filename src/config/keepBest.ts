/**
 * The checks of `training.keepBest` that the schema cannot express: its metric must be one the
 * evaluation reports (a known metric, listed in evaluation.metrics, at a precision the evaluation
 * scores), and its dims must be evaluated dims — otherwise no eval line would ever carry the value and
 * the run would silently keep nothing. No vscode, no tfjs.
 */
import schema from '../../schemas/run-config.schema.json';
import { parsePrecisionKey } from '../protocol/runFolder';
import type { RunConfig } from '../protocol/runConfig';
import { lossNeedsLabels } from './lossConfig';

/** The metric names an evaluation can report (float32), from the schema's evaluation.metrics. */
export const EVAL_METRICS: readonly string[] = schema.properties.evaluation.properties.metrics.items.enum;

export interface KeepBestProblem {
  path: string;
  keyword: string;
  message: string;
}

/** Problems of config.training.keepBest (defaults filled, evaluation.dims resolved); `suggest`: a "did you mean". */
export function keepBestProblems(
  config: RunConfig,
  suggest: (word: string, candidates: readonly string[]) => string | undefined,
): KeepBestProblem[] {
  const kb = config.training.keepBest;
  if (!kb) return [];
  const out: KeepBestProblem[] = [];
  const at = '/training/keepBest';
  const { metric, precision } = parsePrecisionKey(kb.metric);
  if (!EVAL_METRICS.includes(metric)) {
    const guess = suggest(metric, EVAL_METRICS);
    out.push({
      path: `${at}/metric`,
      keyword: 'keepBest',
      message:
        `unknown eval metric ${JSON.stringify(metric)}` +
        (guess ? `; did you mean "${guess}"?` : '.') +
        ` Expected one of ${EVAL_METRICS.join(', ')}, optionally prefixed int8:, binary:, int8+rescore: or binary+rescore:`,
    });
  } else if (!config.evaluation.metrics.includes(metric)) {
    out.push({
      path: `${at}/metric`,
      keyword: 'keepBest',
      message: `the evaluation does not report ${metric}: add it to evaluation.metrics (now ${config.evaluation.metrics.join(', ') || 'empty'})`,
    });
  } else if (metric === 'spearman' && !lossNeedsLabels(config.loss)) {
    out.push({
      path: `${at}/metric`,
      keyword: 'keepBest',
      message:
        'spearman is measured on scored pairs only (CoSENTLoss / AnglELoss data): with a ranking loss choose a retrieval metric such as ndcg@10',
    });
  }
  if (precision !== 'float32') {
    // evaluation.precisions (the precisions the evaluation scores) is read loosely: a config without it scores float32 only.
    const precisions = (config.evaluation as { precisions?: unknown }).precisions;
    if (!Array.isArray(precisions) || !precisions.includes(precision))
      out.push({
        path: `${at}/metric`,
        keyword: 'keepBest',
        message: `the evaluation does not score ${precision} embeddings: add "${precision}" to evaluation.precisions, or keep the best by a float32 metric (${metric})`,
      });
  }
  // evaluation.dims is resolved by now (the Matryoshka dims by default); empty only while the model's width is unknown.
  const evalDims = config.evaluation.dims;
  if (evalDims.length)
    kb.dims.forEach((d, i) => {
      if (!evalDims.includes(d))
        out.push({
          path: `${at}/dims/${i}`,
          keyword: 'keepBest',
          message: `dim ${d} is not evaluated: expected one of the evaluated dims ${evalDims.join(', ')} (evaluation.dims, by default the Matryoshka dims)`,
        });
    });
  return out;
}

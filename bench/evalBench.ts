/**
 * The `eval` case of bench.ts: one evaluation as the trainer runs it (src/trainer/loop/train.ts: evaluateWork
 * over embedTextsWork, EVAL_BATCH texts per forward pass, under runAsync) on the reference model.
 *
 * Data: builtin:wordnet with the quick start's split (examples/quickstart.mrl.json: seed, evalFraction),
 * read as anchor / positive / negative so that buildEvalSet takes the hard negatives (a sibling synset's
 * definition) as distractors: 1,000 queries (lemma lists and example sentences), their definitions plus
 * the distractors as corpus. The WordPiece vocabulary is learned from the training split as a
 * from-scratch run does (capped at the reference model's 8000 ids). Dims: the quick start's Matryoshka
 * dims plus the reference model's full width; its funnel. The model is untrained: evaluation costs the
 * same whatever the weights.
 */
import { join } from 'node:path';
import { loadRunConfig } from '../src/config/loadConfig';
import { initBackend } from '../src/trainer/runtime/backend';
import { runAsync } from '../src/common/cooperative';
import { prepareData, tableSize } from '../src/data/dataset';
import { EVAL_BATCH, embedTextsWork } from '../src/trainer/eval/embed';
import { evaluateWork, type EvalTimings } from '../src/trainer/eval/evaluator';
import { buildEvalSet } from '../src/data/evalSet';
import { BertEncoder, type EncoderSpec } from '../src/trainer/model/encoder';
import { scratchSpec } from '../src/trainer/loop/prepare';
import { WordPieceTokenizer } from '../src/trainer/tokenizer/wordpiece';

export const EVAL_QUERIES = 1000;
const QUICKSTART = join('examples', 'quickstart.mrl.json');
const TOKENIZER_TEXTS = 60_000;

export interface EvalBenchResult {
  /** Median wall time of one evaluation, ms. */
  totalMs: number;
  /** The same run's split (ms, medians per phase): forward passes, every dim, funnel, quantised precisions. */
  embedMs: number;
  dimsMs: number;
  funnelMs: number;
  quantizedMs: number;
  msPer100Queries: number;
  queries: number;
  corpus: number;
  /** Distinct texts embedded (queries + corpus). */
  texts: number;
  dims: number[];
  funnel: { shortlistDim: number; rerankDim: number; shortlistSize: number } | null;
  data: string;
  runs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The eval set, tokenizer, model and options of the case (not timed). */
export async function prepareEvalCase(spec: EncoderSpec) {
  await initBackend('wasm');
  const loaded = loadRunConfig(QUICKSTART);
  if (!loaded.config) throw new Error(`${QUICKSTART}: ${loaded.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  const quick = loaded.config;
  const config = {
    ...quick,
    data: { ...quick.data, train: { ...quick.data.train, columns: ['anchor', 'positive', 'negative'] } },
  };
  const data = prepareData(config, 'examples');
  const texts: string[] = [];
  for (let i = 0; i < tableSize(data.train) && texts.length < TOKENIZER_TEXTS; i++) for (const col of data.train.texts) texts.push(col[i]);
  const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: spec.vocabSize });
  const set = buildEvalSet(data.eval, EVAL_QUERIES);
  const encoder = new BertEncoder(spec, { seed: 1 });
  const dims = [...new Set([encoder.dim, ...quick.evaluation.dims])].sort((a, b) => b - a);
  const ev = quick.evaluation;
  const options = {
    dims,
    metrics: ev.metrics,
    funnel: ev.funnel,
    precisions: ev.precisions,
    rescore: ev.rescore,
    rescoreMultiplier: ev.rescoreMultiplier,
  };
  return { quick, set, tokenizer, encoder, options };
}

/**
 * `between`, when given, runs after each evaluation (warm-ups included) and returns the ms of whatever
 * it timed: the caller's training steps, so that the evaluation and the step it is compared with
 * alternate in one process and weather the same load (bench.ts).
 */
export async function runEvalBench(
  spec: EncoderSpec,
  seqLen: number,
  o: { runs: number; warmup: number },
  between?: () => number[],
): Promise<EvalBenchResult & { between: number[] }> {
  const { quick, set, tokenizer, encoder, options } = await prepareEvalCase(spec);
  const { dims, funnel } = options;
  const embed = (t: string[]) => embedTextsWork(encoder, tokenizer, t, { maxSeqLength: seqLen, batchSize: EVAL_BATCH });
  const runs: number[] = [];
  const phases: EvalTimings[] = [];
  const betweenMs: number[] = [];
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const timings: EvalTimings = { embedMs: 0, dimsMs: 0, funnelMs: 0, quantizedMs: 0 };
    const t0 = performance.now();
    await runAsync(evaluateWork(set, embed, encoder.dim, options, timings));
    if (i >= o.warmup) {
      runs.push(performance.now() - t0);
      phases.push(timings);
    }
    const timed = between?.() ?? [];
    if (i >= o.warmup) betweenMs.push(...timed);
  }
  encoder.dispose();
  const distinct = new Set([...set.queries, ...set.corpus]).size;
  const totalMs = median(runs);
  return {
    totalMs,
    embedMs: median(phases.map((p) => p.embedMs)),
    dimsMs: median(phases.map((p) => p.dimsMs)),
    funnelMs: median(phases.map((p) => p.funnelMs)),
    quantizedMs: median(phases.map((p) => p.quantizedMs)),
    msPer100Queries: (100 * totalMs) / set.queries.length,
    queries: set.queries.length,
    corpus: set.corpus.length,
    texts: distinct,
    dims,
    funnel,
    data: `builtin:wordnet eval split of ${QUICKSTART} (seed ${quick.seed}, evalFraction ${quick.data.evalFraction}): queries = anchors, corpus = their positives + hard negatives as distractors`,
    runs,
    between: betweenMs,
  };
}

export interface PrecisionsBenchResult {
  /** Median ms of one evaluation with the default precisions (evaluation.precisions / rescore / rescoreMultiplier). */
  defaultMs: number;
  /** Median ms of the same evaluation with precisions ["float32"]. */
  float32Ms: number;
  /** Median over the runs of defaultMs / float32Ms, each pair timed back to back (target ≤ 1.5). */
  ratio: number;
  /** The same ratio in CPU time of the process. */
  cpuRatio: number;
  /** Medians of the default run's phases (ms). */
  embedMs: number;
  dimsMs: number;
  funnelMs: number;
  quantizedMs: number;
  precisions: string[];
  rescore: boolean;
  rescoreMultiplier: number;
  queries: number;
  corpus: number;
  dims: number[];
  model: string;
  runs: { defaultMs: number; float32Ms: number }[];
}

/**
 * The quick start's own evaluation (examples/quickstart.mrl.json as it is: its model sizes, its eval set of
 * maxQueries queries against their positives, its dims and funnel), with the default precisions and with
 * float32 only, alternating (the order flips every run) so that both weather the same load. Untrained
 * weights: the cost hardly depends on them (quantizedRetrieval.ts passes over the whole corpus), except
 * its rescore pass, run per relevant document that makes the shortlist: fewer of them untrained (about
 * 40 % of queries here, most of them once trained), so this ratio understates that pass a little.
 */
export async function runPrecisionsBench(o: { runs: number; warmup: number }): Promise<PrecisionsBenchResult> {
  await initBackend('wasm');
  const loaded = loadRunConfig(QUICKSTART);
  if (!loaded.config) throw new Error(`${QUICKSTART}: ${loaded.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  const quick = loaded.config;
  if (!('scratch' in quick.model)) throw new Error(`${QUICKSTART}: expected a scratch model`);
  const s = quick.model.scratch;
  const data = prepareData(quick, 'examples');
  const texts: string[] = [];
  for (let i = 0; i < tableSize(data.train) && texts.length < TOKENIZER_TEXTS; i++) for (const col of data.train.texts) texts.push(col[i]);
  const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: s.vocabSize });
  // The quick start's encoder at its full width (no projection): the trainer's own spec.
  const spec = scratchSpec(s, tokenizer.vocabSize, s.hiddenSize);
  const ev = quick.evaluation;
  const set = buildEvalSet(data.eval, ev.maxQueries);
  const encoder = new BertEncoder(spec, { seed: 1 });
  const base = { dims: ev.dims, metrics: ev.metrics, funnel: ev.funnel };
  const withPrecisions = { ...base, precisions: ev.precisions, rescore: ev.rescore, rescoreMultiplier: ev.rescoreMultiplier };
  const float32 = { ...base, precisions: ['float32' as const] };
  const embed = (t: string[]) => embedTextsWork(encoder, tokenizer, t, { maxSeqLength: s.maxSeqLength, batchSize: EVAL_BATCH });
  const cpu: { default: number[]; float32: number[] } = { default: [], float32: [] };
  const time = async (options: typeof withPrecisions | typeof float32, timings: EvalTimings) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runAsync(evaluateWork(set, embed, encoder.dim, options, timings));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    (options === float32 ? cpu.float32 : cpu.default).push((c.user + c.system) / 1000);
    return ms;
  };
  const runs: { defaultMs: number; float32Ms: number }[] = [];
  const phases: EvalTimings[] = [];
  try {
    for (let i = 0; i < o.warmup + o.runs; i++) {
      const timings: EvalTimings = { embedMs: 0, dimsMs: 0, funnelMs: 0, quantizedMs: 0 };
      const scratch: EvalTimings = { embedMs: 0, dimsMs: 0, funnelMs: 0, quantizedMs: 0 };
      let defaultMs: number;
      let float32Ms: number;
      if (i % 2 === 0) {
        defaultMs = await time(withPrecisions, timings);
        float32Ms = await time(float32, scratch);
      } else {
        float32Ms = await time(float32, scratch);
        defaultMs = await time(withPrecisions, timings);
      }
      if (i >= o.warmup) {
        runs.push({ defaultMs, float32Ms });
        phases.push(timings);
      }
    }
  } finally {
    encoder.dispose();
  }
  return {
    defaultMs: median(runs.map((r) => r.defaultMs)),
    float32Ms: median(runs.map((r) => r.float32Ms)),
    ratio: median(runs.map((r) => r.defaultMs / r.float32Ms)),
    // CPU time (this process, every thread): steadier than wall time where other processes share the cores.
    cpuRatio: median(cpu.default.slice(o.warmup).map((d, i) => d / cpu.float32[o.warmup + i])),
    embedMs: median(phases.map((p) => p.embedMs)),
    dimsMs: median(phases.map((p) => p.dimsMs)),
    funnelMs: median(phases.map((p) => p.funnelMs)),
    quantizedMs: median(phases.map((p) => p.quantizedMs)),
    precisions: [...ev.precisions],
    rescore: ev.rescore,
    rescoreMultiplier: ev.rescoreMultiplier,
    queries: set.queries.length,
    corpus: set.corpus.length,
    dims: [...ev.dims],
    model: `${QUICKSTART} scratch model (hidden ${s.hiddenSize}, ${s.numLayers} layers, vocab ${tokenizer.vocabSize}), untrained`,
    runs,
  };
}

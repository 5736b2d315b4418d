// The memory estimate (src/trainer/runtime/memoryBudget.ts): its arithmetic per wasm heap, and refusals
// that say what fits and what to change — with numbers that are right (each way out is checked to fit,
// and one more row not to). The measured side is in `npm run bench -- --only realSizes`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activationFloatsPerToken,
  ACTIVATION_FACTOR,
  estimateStepMemory,
  largestFittingBatch,
  stepDoesNotFit,
  WASM_HEAP_BUDGET_BYTES,
  type StepShape,
} from '../../src/trainer/runtime/memoryBudget';

const GiB = 2 ** 30;
const MINI_LM = { hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536 };
const BERT_BASE = { hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072 };
const paramsOf = (b: typeof MINI_LM) =>
  30522 * b.hiddenSize + 514 * b.hiddenSize + b.numLayers * (4 * b.hiddenSize ** 2 + 2 * b.hiddenSize * b.intermediateSize);
const shape = (block: typeof MINI_LM, batchRows: number, workers: number, miniBatchSize?: number): StepShape => ({
  block,
  params: paramsOf(block),
  largestParam: 30522 * block.hiddenSize,
  batchRows,
  nColumns: 2,
  seqLen: 64,
  dim: block.hiddenSize,
  miniBatchSize,
  workers,
});
const RAM = 16 * GiB;

test('activations per token: per layer 8·hidden + 2·ffn + 2·heads·seqLen kept, plus one layer working', () => {
  const b = { hiddenSize: 10, numLayers: 3, numHeads: 2, intermediateSize: 40 };
  const kept = 3 * (80 + 80 + 2 * 2 * 16) + 30;
  const working = 80 + 2 * 2 * 16 + 40;
  assert.equal(activationFloatsPerToken(b, 16), kept + working);
});

test('the rows are split among the threads; each heap holds its own share, only the main thread the optimizer', () => {
  const one = estimateStepMemory(shape(MINI_LM, 32, 0));
  const two = estimateStepMemory(shape(MINI_LM, 32, 1));
  assert.equal(one.rowsPerThread, 64);
  assert.equal(two.rowsPerThread, 32);
  const perToken = activationFloatsPerToken(MINI_LM, 64) * 4 * ACTIVATION_FACTOR;
  assert.equal(one.main.activations, 64 * 64 * perToken);
  assert.equal(two.main.activations, 32 * 64 * perToken);
  assert.equal(two.worker!.activations, two.main.activations);
  const P = paramsOf(MINI_LM) * 4;
  assert.equal(two.main.weights, P);
  assert.equal(two.main.optimizer, 2 * P, "AdamW's m and v");
  assert.equal(two.worker!.optimizer, 0, 'a worker keeps no optimizer state');
  assert.equal(two.worker!.loss, 0, 'the loss runs on the main thread');
  assert.equal(two.worker!.total, 2 * P + two.worker!.activations, 'a worker: weights, gradients, its activations');
  // The process: both heaps, the shared gradient buffer (the weights travel in it), and more than either heap.
  assert.ok(two.total > two.main.total + two.worker!.total + P);
  assert.ok(one.worker === undefined && one.shared === 0);
  // Two threads: less in the largest heap than one thread alone holds.
  assert.ok(two.main.total < one.main.total - 0.4 * one.main.activations);
});

test('a cached loss holds one mini-batch on the tape, whatever the batch: flat memory', () => {
  const b32 = estimateStepMemory(shape(BERT_BASE, 32, 1, 4));
  const b512 = estimateStepMemory(shape(BERT_BASE, 512, 1, 4));
  assert.equal(b32.rowsOnTape, 4);
  assert.equal(b512.rowsOnTape, 4);
  assert.equal(b512.main.activations, b32.main.activations);
  assert.ok(b512.total / b32.total < 1.1, `${b512.total} vs ${b32.total}`);
  // Fewer rows than a mini-batch per thread: the thread's rows.
  assert.equal(estimateStepMemory(shape(BERT_BASE, 2, 1, 32)).rowsOnTape, 2);
});

test("the issue's steps fit: MiniLM-L6 batch 32 and BERT-base batch 8 (MNRL, two threads) are not refused", () => {
  assert.equal(stepDoesNotFit(shape(MINI_LM, 32, 1), 'wasm', RAM, 2), undefined);
  assert.equal(stepDoesNotFit(shape(BERT_BASE, 8, 1), 'wasm', RAM, 2), undefined);
  assert.equal(stepDoesNotFit(shape(BERT_BASE, 512, 1, 4), 'wasm', RAM, 2), undefined);
});

test('a refusal names the heap that overflows and ways out that fit, each checked', () => {
  const s = shape(BERT_BASE, 64, 1);
  const why = stepDoesNotFit(s, 'wasm', RAM, 4);
  assert.ok(why);
  const m = estimateStepMemory(s);
  assert.ok(m.main.total > WASM_HEAP_BUDGET_BYTES);
  assert.match(why, /^a step of 64 rows needs about [\d.]+ GB \(64 sequences of 64 tokens per thread split over 2 threads\)/);
  assert.match(
    why,
    /the main thread's wasm heap would need [\d.]+ GB \(parameters \d+ MB, optimizer \d+ MB, gradients \d+ MB, activations of 64 sequences [\d.]+ GB/,
  );
  const fit = Number(/A batchSize of at most (\d+) fits/.exec(why)?.[1]);
  assert.ok(fit >= 2 && fit < 64);
  assert.equal(fit, largestFittingBatch(s, 'wasm', RAM));
  assert.equal(stepDoesNotFit({ ...s, batchRows: fit }, 'wasm', RAM, 4), undefined, 'the batch it names fits');
  assert.ok(stepDoesNotFit({ ...s, batchRows: fit + 1 }, 'wasm', RAM, 4), 'one more row does not');
  const mb = Number(/the Cached\* variant of the loss with miniBatchSize (\d+) fits at this batch/.exec(why)?.[1]);
  assert.ok(mb > 0);
  assert.equal(stepDoesNotFit({ ...s, miniBatchSize: mb }, 'wasm', RAM, 4), undefined, 'the mini-batch it names fits');
  const workers = Number(/--workers (\d+) fits \(the rows split over \d+ threads/.exec(why)?.[1]);
  assert.ok(workers > 1);
  assert.equal(stepDoesNotFit({ ...s, workers }, 'wasm', RAM, 4), undefined, 'the workers it names fit');
  assert.ok(stepDoesNotFit({ ...s, workers: workers - 1 }, 'wasm', RAM, 4), 'and fewer do not');
  // On two cores there is no worker to add: not offered.
  assert.doesNotMatch(stepDoesNotFit(s, 'wasm', RAM, 2)!, /--workers/);
});

test('a cached loss that overflows is told a smaller miniBatchSize; the machine RAM bounds the whole process', () => {
  const s = shape(BERT_BASE, 32, 0, 256);
  const why = stepDoesNotFit(s, 'wasm', RAM, 1)!;
  const mb = Number(/miniBatchSize (\d+) fits at this batch/.exec(why)?.[1]);
  assert.ok(mb > 0 && mb < 256);
  assert.equal(stepDoesNotFit({ ...s, miniBatchSize: mb }, 'wasm', RAM, 1), undefined);
  // cpu has no 4 GB heap, but RAM: 2 GB of it is too little for BERT-base at batch 8.
  const cpu = stepDoesNotFit(shape(BERT_BASE, 8, 0), 'cpu', 2 * GiB, 1)!;
  assert.match(cpu, /the process would need [\d.]+ GB, more than [\d.]+ GB \(¾ of this machine's 2\.0 GB of RAM\)/);
  assert.equal(stepDoesNotFit(shape(BERT_BASE, 8, 0), 'cpu', 64 * GiB, 1), undefined);
});

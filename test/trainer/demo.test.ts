// The quick-start config (examples/quickstart.mrl.json, what `npm run demo` trains) at a tiny size:
// same loss, data source, backend and evaluation, fewer rows, steps and layers. It must train, beat the
// untrained model at the largest dim, and leave a Hugging Face folder that loads and embeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadRunConfig } from '../../src/config/loadConfig';
import { validateRunConfig } from '../../src/config/validate';
import { embedTexts } from '../../src/trainer/eval/embed';
import { loadHfModel } from '../../src/trainer/model/hfFolder';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';

test('the quick-start config trains at a tiny size and improves on the untrained model', async () => {
  const file = resolve('examples/quickstart.mrl.json');
  const base = loadRunConfig(file).config!;
  const json = structuredClone(base) as unknown as Record<string, any>;
  json.model.scratch = { ...json.model.scratch, vocabSize: 1500, numLayers: 1, intermediateSize: 64, maxSeqLength: 20 };
  json.data.train.maxRows = 6000;
  json.training = { ...json.training, maxSteps: 40, batchSize: 32, evalEvery: 20, checkpointEvery: 20, logEvery: 5 };
  json.evaluation.maxQueries = 150;
  const v = validateRunConfig(json, file);
  assert.deepEqual(v.errors, []);
  const lines: string[] = [];
  const runDir = join(mkdtempSync(join(tmpdir(), 'mrl-demo-')), 'run');
  const prepared = await prepareRun(v.resolved!);
  const r = await runTraining(prepared, { runDir, progress: null, print: (s) => lines.push(s) });
  assert.equal(r.status, 'completed', r.error?.message);
  const dims = ['64', '32', '16', '8'];
  assert.deepEqual(Object.keys(r.final!.byDim).sort(), [...dims].sort());
  const before = r.initial!.byDim['64']['ndcg@10'];
  const after = r.final!.byDim['64']['ndcg@10'];
  assert.ok(after > before, `ndcg@10 at 64: ${before} → ${after}`);
  // The printed table: one row per dim, the step-0 column beside.
  const table = lines.join('\n');
  for (const d of dims) assert.match(table, new RegExp(`^\\s*${d}\\s+0\\.\\d{4}`, 'm'));
  assert.match(table, /ndcg@10 \(step 0\)/);
  // Then ndcg@10 at every precision (evaluation.precisions' default), one row per dim, and the frontier's answer.
  assert.match(table, /^\s*dim\s+float32\s+int8\s+int8\+rescore\s+binary\s+binary\+rescore$/m);
  for (const d of dims) assert.match(table, new RegExp(`^\\s*${d}(\\s+\\d\\.\\d{4} \\(\\d+ B\\)){5}$`, 'm'));
  assert.match(
    table,
    /^frontier \(cheapest dim × precision\): (reaches 95 % at|needs) \d+ bytes\/vector: (float32|int8|binary) at dim \d+/m,
  );
  // The funnel scores the corpus at the shortlist dim, then re-ranks its shortlist at the full dim: per query
  // nc·s + S·r multiply-adds instead of nc·r, a saving of 1 − s/r − S/nc (s 16, r 64, S 50 in the quick start).
  const f = v.config!.evaluation.funnel!;
  assert.deepEqual(f, { shortlistDim: 16, rerankDim: 64, shortlistSize: 50 });
  const nc = prepared.evalSet.corpus.length;
  assert.ok(nc > f.shortlistSize, `a corpus of ${nc}`);
  const saved = 1 - f.shortlistDim / f.rerankDim - f.shortlistSize / nc;
  assert.ok(
    Math.abs(r.final!.values['funnel:macsSaved'] - saved) < 1e-12,
    `funnel:macsSaved ${r.final!.values['funnel:macsSaved']}, expected ${saved}`,
  );
  assert.ok(r.final!.values['funnel:ndcg@10'] > 0);
  // The model folder is a usable Hugging Face folder: same embeddings as the trained encoder.
  const m = loadHfModel(join(runDir, 'model'));
  assert.equal(m.encoder.dim, 64);
  const texts = ['a domestic animal', 'draw air into, and expel out of, the lungs'];
  const loaded = embedTexts(m.encoder, m.tokenizer, texts, { maxSeqLength: 20, batchSize: 2 });
  const trained = embedTexts(prepared.encoder, prepared.tokenizer, texts, { maxSeqLength: 20, batchSize: 2 });
  assert.equal(loaded.length, 128);
  loaded.forEach((x, i) => assert.ok(Math.abs(x - trained[i]) < 1e-4, `value ${i}: ${x} vs ${trained[i]}`));
});

// A `pretrained` folder as sentence-transformers saves it (modules.json, sentence_bert_config.json with
// max_seq_length, 1_Pooling/config.json, 2_Normalize) trains with the folder's own defaults, as
// sentence-transformers reads them: no maxSeqLength / pooling to repeat in the config. The folder is
// written here: a tiny BERT whose max_position_embeddings (32) is below the old default length (128),
// so a config-side default would be refused.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validateRunConfig } from '../../src/config/validate';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import { initBackend } from '../../src/trainer/runtime/backend';
import { loadWordnet } from '../../src/data/wordnet';
import { BertEncoder } from '../../src/trainer/model/encoder';
import { saveHfModel } from '../../src/trainer/model/hfFolder';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';

const root = mkdtempSync(join(tmpdir(), 'mrl-pretrained-'));
after(() => rmSync(root, { recursive: true, force: true }));
const rows = loadWordnet()
  .rows.filter((_, i) => i % 113 === 0)
  .slice(0, 200);

before(async () => {
  await initBackend('cpu');
  writeFileSync(join(root, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
  const tokenizer = WordPieceTokenizer.train(
    rows.flatMap((r) => [String(r.anchor), String(r.positive)]),
    { vocabSize: 150, minFrequency: 1 },
  );
  const enc = new BertEncoder(
    {
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      intermediateSize: 32,
      maxPositions: 32,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      pooling: 'mean',
      layerNorm: 'post',
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    },
    { seed: 5 },
  );
  const dir = join(root, 'st-model');
  try {
    saveHfModel(dir, enc, tokenizer, { maxSeqLength: 32 });
  } finally {
    enc.dispose();
  }
  // The module files as sentence-transformers writes them (CLS pooling, a Normalize module).
  writeFileSync(
    join(dir, 'modules.json'),
    JSON.stringify(
      [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ],
      null,
      2,
    ),
  );
  mkdirSync(join(dir, '2_Normalize'), { recursive: true });
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 32, do_lower_case: false }));
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: 16,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: false,
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: false,
      include_prompt: true,
    }),
  );
  writeFileSync(
    join(dir, 'config_sentence_transformers.json'),
    JSON.stringify({ __version__: { sentence_transformers: '3.4.1' }, prompts: {}, similarity_fn_name: 'cosine' }),
  );
});

function config(pretrained: Record<string, unknown>): ResolvedRunConfig {
  const json = {
    name: 'from st folder',
    backend: 'cpu',
    model: { pretrained: { path: 'st-model', ...pretrained } },
    data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
    training: { maxSteps: 2, batchSize: 8, evalEvery: 0, checkpointEvery: 0 },
    evaluation: { maxQueries: 10 },
  };
  const v = validateRunConfig(json, join(root, 'c.mrl.json'));
  assert.deepEqual(v.errors, []);
  return v.resolved!;
}

test("no maxSeqLength / pooling in the config: the folder's own (32, cls), recorded in the run's config.json", async () => {
  const c = config({});
  assert.deepEqual(c.config.model, { pretrained: { path: 'st-model' } }, 'the resolved config does not invent a default');
  const prepared = await prepareRun(c);
  assert.equal(prepared.maxSeqLength, 32);
  assert.equal(prepared.encoder.spec.pooling, 'cls');
  assert.deepEqual(prepared.config.model, { pretrained: { path: 'st-model', pooling: 'cls', maxSeqLength: 32 } });
  const runDir = join(root, 'runs', 'a');
  const r = await runTraining(prepared, { runDir, progress: null, print: () => {} });
  assert.equal(r.status, 'completed', r.error?.message);
  const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfig;
  assert.deepEqual(saved.model, { pretrained: { path: 'st-model', pooling: 'cls', maxSeqLength: 32 } });
  // The trained model keeps the folder's choices.
  assert.equal(JSON.parse(readFileSync(join(runDir, 'model', 'sentence_bert_config.json'), 'utf8')).max_seq_length, 32);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'model', '1_Pooling', 'config.json'), 'utf8')).pooling_mode_cls_token, true);
});

test("values in the config still override the folder; one beyond the model's positions is an error naming both", async () => {
  const prepared = await prepareRun(config({ maxSeqLength: 16, pooling: 'mean' }));
  assert.equal(prepared.maxSeqLength, 16);
  assert.equal(prepared.encoder.spec.pooling, 'mean');
  prepared.encoder.dispose();
  await assert.rejects(
    prepareRun(config({ maxSeqLength: 64 })),
    /maxSeqLength 64 must be an integer in \[2, max_position_embeddings = 32\]/,
  );
});

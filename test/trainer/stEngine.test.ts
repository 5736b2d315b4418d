// engine "sentence-transformers": the train.py generator on every example config (compiled by python3,
// its loss / evaluator calls read back through Python's own parser), the validator's engine checks, the
// CLI's error paths (no interpreter, no or too old sentence-transformers: exit 2 naming the interpreter
// and the version, nothing written), the run folder it prepares, and — only where
// `python3 -c "import sentence_transformers"` works — a real training run read back by RunStore.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import { validateRunConfig } from '../../src/config/validate';
import { ENGINE_NOTE } from '../../src/config/engineChecks';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import type { RunConfig } from '../../src/protocol/runConfig';
import { readRunInfo } from '../../src/runs/runDir';
import { RunStore } from '../../src/runs/store';
import { generateScript, requiredVersion, versionAtLeast } from '../../src/engines/sentenceTransformers/script';
import { datasetColumns } from '../../src/engines/sentenceTransformers/data';
import { loadWordnet } from '../../src/data/wordnet';
import { initBackend } from '../../src/trainer/runtime/backend';
import { fakeTrainingStack } from './fakeSentenceTransformers';
import { BertEncoder } from '../../src/trainer/model/encoder';
import { loadHfModel, PRE_LN_MODEL_TYPE, saveHfModel } from '../../src/trainer/model/hfFolder';
import { embedTexts } from '../../src/trainer/eval/embed';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';

const PY = process.env.MRL_TEST_PYTHON ?? 'python3';
const hasPython = spawnSync(PY, ['--version']).status === 0;
const noPython = hasPython ? false : `${PY} not found`;
const stImport = hasPython ? spawnSync(PY, ['-c', 'import sentence_transformers'], { encoding: 'utf8' }) : undefined;
const hasST = stImport?.status === 0;
const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'mrl-st-'));
after(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'package.json'), '{}');
const HUB = 'sentence-transformers/all-MiniLM-L6-v2';

function example(name: string): Record<string, unknown> {
  return parse(readFileSync(resolve('examples', name), 'utf8')) as Record<string, unknown>;
}

/** An example config switched to this engine with a pretrained model. */
function asST(json: Record<string, unknown>, model = HUB): Record<string, unknown> {
  const { backend: _b, ...rest } = json;
  return { ...rest, engine: 'sentence-transformers', model: { pretrained: { path: model } } };
}

/** Python's own parser: every call in the script, as "func(kw1, kw2, …)" with its positional count. */
function callsOf(script: string): string[] {
  const f = join(root, `calls-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(f, script);
  const r = spawnSync(
    PY,
    [
      '-c',
      `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
out = []
for n in ast.walk(tree):
    if isinstance(n, ast.Call):
        name = ast.unparse(n.func)
        out.append(f"{name}({len(n.args)}; {', '.join(k.arg for k in n.keywords if k.arg)})")
print(json.dumps(out))
`,
      f,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

function pyCompile(script: string): { status: number | null; stderr: string } {
  const f = join(root, `train-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(f, script);
  const r = spawnSync(PY, ['-m', 'py_compile', f], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function resolved(json: unknown, file = resolve('examples', 'x.mrl.json')): ResolvedRunConfig {
  const v = validateRunConfig(json, file);
  assert.deepEqual(v.errors, []);
  return v.resolved!;
}

const EXPECTED: Record<string, { losses: string[]; evaluators: string[]; other?: RegExp[] }> = {
  'quickstart.mrl.json': {
    losses: [
      'losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)',
      'losses.CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size)',
    ],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'FunnelEvaluator(6; )',
      'PrecisionEvaluator(8; )',
      'SequentialEvaluator(1; )',
    ],
    other: [
      /^DIMS = \[64, 32, 16, 8\]/m,
      /matryoshka_dims=\[64, 32, 16, 8\]/,
      /n_dims_per_step=-1/,
      /lr_scheduler_type="linear"/,
      /max_steps=250,/,
      /per_device_train_batch_size=64,/,
      /eval_steps=100,/,
      /save_steps=100,/,
      /logging_steps=10,/,
      /BatchSamplers\.NO_DUPLICATES/,
      /FunnelEvaluator\(ev\["queries"\], ev\["corpus"\], \[set\(r\) for r in ev\["relevant"\]\], 16, 64, 50\)/,
    ],
  },
  // The quick start with lr 0.001 and batch 32 (the sweep's first run).
  'sweep.mrl.json': {
    losses: [
      'losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)',
      'losses.CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size)',
    ],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'FunnelEvaluator(6; )',
      'PrecisionEvaluator(8; )',
      'SequentialEvaluator(1; )',
    ],
    other: [/mini_batch_size=32\b/, /per_device_train_batch_size=32,/, /learning_rate=0\.001,/, /max_steps=250,/],
  },
  'cosent.mrl.json': {
    losses: ['losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)', 'losses.CoSENTLoss(1; scale)'],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'EmbeddingSimilarityEvaluator(3; name, truncate_dim, similarity_fn_names)',
      'PrecisionEvaluator(8; )',
      'SequentialEvaluator(1; )',
    ],
    other: [/BatchSamplers\.BATCH_SAMPLER/, /warmup_steps=20,/],
  },
  'angle.mrl.json': {
    losses: ['losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)', 'losses.AnglELoss(1; scale)'],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'EmbeddingSimilarityEvaluator(3; name, truncate_dim, similarity_fn_names)',
      'SequentialEvaluator(1; )',
    ],
    other: [/max_steps=-1,/, /num_train_epochs=20,/, /matryoshka_dims=\[64, 32, 16, 8\]/],
  },
  'gist.mrl.json': {
    losses: [
      'losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)',
      'losses.CachedGISTEmbedLoss(1; guide, temperature, mini_batch_size)',
    ],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'PrecisionEvaluator(8; )',
      'SequentialEvaluator(1; )',
    ],
    other: [/guide_0 = load_model\(MODEL/, /guide=guide_0, temperature=0\.05, mini_batch_size=32/],
  },
  'multi-loss.mrl.json': {
    losses: [
      'WeightedSumLoss(2; )',
      'losses.MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)',
      'losses.CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size)',
      'losses.CachedMultipleNegativesSymmetricRankingLoss(1; scale, mini_batch_size)',
      // sentence-transformers >= 5.3: the symmetric loss under its new name (the class above is deprecated there)
      'losses.CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size, directions, partition_mode)',
    ],
    evaluators: [
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'FunnelEvaluator(6; )',
      'PrecisionEvaluator(8; )',
      'SequentialEvaluator(1; )',
    ],
    other: [
      /\(1, losses\.MatryoshkaLoss\(/,
      /\(0\.5, losses\.MatryoshkaLoss\(/,
      /matryoshka_dims=\[64, 16\]/,
      /n_dims_per_step=1,/,
      /lr_scheduler_type="cosine"/,
    ],
  },
};

describe('train.py generator', { skip: noPython }, () => {
  const examples = readdirSync('examples')
    .filter((f) => f.endsWith('.mrl.json'))
    .sort();
  test('covers every example config', () => assert.deepEqual(examples, Object.keys(EXPECTED).sort()));
  // A sweep's runs are ordinary configs: the generator sees one combination (here: the first values).
  const concrete = (json: Record<string, unknown>): Record<string, unknown> => {
    const { sweep, ...rest } = json as { sweep?: { parameters: Record<string, unknown[]> } };
    if (!sweep) return json;
    const out = structuredClone(rest) as Record<string, unknown>;
    for (const [path, values] of Object.entries(sweep.parameters)) {
      const keys = path.split('.');
      let node = out;
      for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
      node[keys[keys.length - 1]] = values[0];
    }
    return out;
  };

  for (const name of examples) {
    test(`${name} on sentence-transformers: compiles, builds its losses and per-dim evaluators`, () => {
      const config = resolved(asST(concrete(example(name))));
      const script = generateScript({
        resolved: config,
        model: HUB,
        guides: {},
        scoredEval: name === 'cosent.mrl.json' || name === 'angle.mrl.json',
        configFile: `examples/${name}`,
      });
      const c = pyCompile(script);
      assert.equal(c.status, 0, c.stderr);
      const calls = callsOf(script);
      const exp = EXPECTED[name];
      const lossCalls = calls.filter((x) => /^(losses\.|WeightedSumLoss\()/.test(x));
      assert.deepEqual([...new Set(lossCalls)].sort(), [...exp.losses].sort());
      const evalCalls = calls.filter((x) => /Evaluator\(/.test(x) && !x.startsWith('super'));
      assert.deepEqual([...new Set(evalCalls)].sort(), [...exp.evaluators].sort());
      // The real sentence-transformers objects, tracked by the callback, resumable.
      for (const want of [
        'SentenceTransformerTrainingArguments(0; output_dir, max_steps, num_train_epochs, per_device_train_batch_size, learning_rate, warmup_steps, lr_scheduler_type, weight_decay, max_grad_norm, seed, logging_steps, ',
        'SentenceTransformerTrainer(0; model, args, train_dataset, loss, evaluator, callbacks)',
        'MatryoshkaLabCallback(0; run_dir, name, finish_on_train_end)',
        'trainer.train(0; resume_from_checkpoint)',
      ]) {
        assert.ok(
          calls.some((x) => x.startsWith(want)),
          `${want} in ${calls.join(' ')}`,
        );
      }
      for (const re of exp.other ?? []) assert.match(script, re);
      assert.match(script, new RegExp(`^MODEL = "${HUB}"$`, 'm'));
      assert.match(script, /^MAX_SEQ_LENGTH = None/m, "no maxSeqLength in the config: the model's own");
      assert.match(script, /name=f"dim_\{dim\}", truncate_dim=dim/);
      // evaluation.precisions (default float32, int8, binary; rescored): the quantised grid at every dim, with the library's
      // own quantiser — where a retrieval metric is asked for (angle.mrl.json measures Spearman only).
      if (!config.config.evaluation.metrics.some((m) => m !== 'spearman')) {
        assert.doesNotMatch(script, /PrecisionEvaluator|quantize_embeddings/);
        return;
      }
      assert.match(script, /^PRECISIONS = \["float32", "int8", "binary"\]/m);
      assert.match(script, /^RESCORE = True/m);
      assert.match(script, /^RESCORE_MULTIPLIER = 2\b/m, "evaluation.rescoreMultiplier: the schema's default");
      // Top-level in every release (v3.4.0 __init__.py; 5.4 moved sentence_transformers.quantization, not the export).
      assert.match(script, /^from sentence_transformers import .*\bquantize_embeddings$/m);
      assert.ok(calls.includes('quantize_embeddings(1; precision, calibration_embeddings)'), 'int8 calibrated on the corpus');
      assert.ok(calls.includes('quantize_embeddings(1; precision)'), 'ubinary');
    });
  }

  test('devices 2: half the batch per process, negatives gathered across devices, needs 5.1.0', () => {
    const json = asST(example('quickstart.mrl.json'));
    const config = resolved({ ...json, devices: 2 });
    const script = generateScript({ resolved: config, model: HUB, guides: {}, scoredEval: false });
    assert.equal(pyCompile(script).status, 0);
    assert.match(script, /per_device_train_batch_size=32,\s+# batchSize 64 over 2 devices/);
    assert.ok(callsOf(script).includes('losses.CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size, gather_across_devices)'));
    assert.deepEqual(requiredVersion(config).version, '5.1.0');
    assert.deepEqual(requiredVersion(resolved(json)).version, '3.4.0');
  });

  test('a local folder with pooling / maxSeqLength, constant schedule with warmup, GIST margins', () => {
    const json = asST(example('gist.mrl.json'));
    (json.model as { pretrained: Record<string, unknown> }).pretrained = { path: HUB, pooling: 'cls', maxSeqLength: 48 };
    (json.training as Record<string, unknown>).scheduler = 'constant';
    const loss = (json.loss as { loss: Record<string, unknown> }).loss;
    Object.assign(loss, { marginStrategy: 'relative', margin: 0.05, contrastAnchors: false });
    const config = resolved(json);
    const script = generateScript({ resolved: config, model: '/models/my model', guides: {}, scoredEval: false });
    assert.equal(pyCompile(script).status, 0);
    assert.match(script, /^MODEL = "\/models\/my model"$/m);
    assert.match(script, /^MAX_SEQ_LENGTH = 48/m);
    assert.match(script, /^POOLING = "cls"/m);
    assert.match(script, /lr_scheduler_type="constant_with_warmup"/);
    assert.ok(
      callsOf(script).includes(
        'losses.CachedGISTEmbedLoss(1; guide, temperature, margin_strategy, margin, contrast_anchors, mini_batch_size)',
      ),
    );
    assert.deepEqual(requiredVersion(config), { version: '5.1.0', why: 'CachedGISTEmbedLoss contrast_anchors / contrast_positives' });
  });
});

describe('engine checks in the validator', () => {
  const file = resolve('examples', 'x.mrl.json');
  test('sentence-transformers needs a pretrained model; a Hub id is accepted, a missing relative folder is not', () => {
    const scratch = validateRunConfig({ ...example('quickstart.mrl.json'), engine: 'sentence-transformers' }, file);
    assert.deepEqual(
      scratch.errors.map((e) => e.path),
      ['/model/scratch'],
    );
    assert.match(scratch.errors[0].message, /fine-tunes a pretrained model/);
    assert.deepEqual(validateRunConfig(asST(example('quickstart.mrl.json')), file).errors, []);
    const missing = validateRunConfig(asST(example('quickstart.mrl.json'), './no-such-model'), file);
    assert.deepEqual(
      missing.errors.map((e) => [e.path, e.keyword]),
      [['/model/pretrained/path', 'missingFile']],
    );
    // The bundled engine never takes a Hub id for a folder.
    const bundled = validateRunConfig({ ...asST(example('quickstart.mrl.json')), engine: 'bundled' }, file);
    assert.deepEqual(
      bundled.errors.map((e) => e.keyword),
      ['missingFile'],
    );
  });

  test('a pre-LN folder (layerNorm "pre", saved here) is refused for sentence-transformers, a post-LN one is not', () => {
    const pre = validateRunConfig({ ...TINY_ST, model: { pretrained: { path: 'tiny-bert-pre' } } }, join(root, 'x.mrl.json'));
    assert.deepEqual(
      pre.errors.map((e) => e.path),
      ['/model/pretrained/path'],
    );
    assert.match(pre.errors[0].message, /pre-LayerNorm encoder .* Train it with the bundled engine, or train a post-LN model/);
    assert.deepEqual(validateRunConfig(TINY_ST, join(root, 'x.mrl.json')).errors, []);
    assert.deepEqual(
      validateRunConfig({ ...TINY_ST, engine: 'bundled', model: { pretrained: { path: 'tiny-bert-pre' } } }, join(root, 'x.mrl.json'))
        .errors,
      [],
      'the bundled engine trains it',
    );
  });

  test('devices: only for sentence-transformers, and batchSize must split evenly', () => {
    const bundled = validateRunConfig({ ...example('quickstart.mrl.json'), devices: 2 }, file);
    assert.deepEqual(
      bundled.errors.map((e) => e.path),
      ['/devices'],
    );
    const odd = validateRunConfig({ ...asST(example('quickstart.mrl.json')), devices: 3 }, file);
    assert.deepEqual(
      odd.errors.map((e) => e.path),
      ['/training/batchSize'],
    );
    assert.match(odd.errors[0].message, /multiple of devices 3/);
  });

  test('where the engines differ, a warning says how (backend, seed, a weighted sum of cached losses, devices)', () => {
    const json = { ...asST(example('multi-loss.mrl.json')), backend: 'wasm', seed: 7, devices: 2 };
    const v = validateRunConfig(json, file);
    assert.deepEqual(v.errors, []);
    assert.deepEqual(v.warnings.map((w) => w.path).sort(), ['/backend', '/devices', '/loss', '/seed']);
    assert.ok(v.warnings.every((w) => w.keyword === ENGINE_NOTE));
    assert.match(v.warnings.find((w) => w.path === '/backend')!.message, /ignores backend "wasm"/);
    assert.match(v.warnings.find((w) => w.path === '/loss')!.message, /GradCache per cached term/);
    assert.match(v.warnings.find((w) => w.path === '/devices')!.message, /32 rows; in-batch negatives are gathered/);
    assert.deepEqual(validateRunConfig(example('multi-loss.mrl.json'), file).warnings, [], 'the bundled engine: no notes');
  });

  test('version comparison', () => {
    assert.ok(versionAtLeast('3.4.0', '3.4.0'));
    assert.ok(versionAtLeast('5.1.2', '3.4.0'));
    assert.ok(versionAtLeast('3.10.0.dev0', '3.4.0'));
    assert.ok(!versionAtLeast('3.3.1', '3.4.0'));
    assert.ok(!versionAtLeast('garbage', '3.4.0'));
    assert.deepEqual(datasetColumns(['anchor', 'label', 'score', 'label_text']), ['anchor', 'label_text', 'score_text', 'label_text_']);
  });
});

/** A folder of fake top-level modules (each `__version__`), put first on PYTHONPATH. */
function fakeModules(versions: Record<string, string>): string {
  const d = mkdtempSync(join(root, 'fake-'));
  for (const [m, v] of Object.entries(versions)) {
    mkdirSync(join(d, m));
    writeFileSync(join(d, m, '__init__.py'), `__version__ = ${JSON.stringify(v)}\n`);
  }
  return d;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', TSX, CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, MRL_PYTHON: '', ...env },
  });
}

function stConfig(name: string, json: Record<string, unknown>): string {
  const p = join(root, name);
  writeFileSync(p, JSON.stringify(json, null, 2));
  return p;
}

const rows = loadWordnet()
  .rows.filter((_, i) => i % 97 === 0)
  .slice(0, 300);
writeFileSync(join(root, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
const TINY_ST = {
  name: 'st tiny',
  engine: 'sentence-transformers',
  model: { pretrained: { path: 'tiny-bert' } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 4 }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 6, batchSize: 16, learningRate: 0.001, logEvery: 1, evalEvery: 3, checkpointEvery: 3 },
  evaluation: { maxQueries: 20 },
};
// A tiny post-LN BERT saved by the bundled trainer: what the engine fine-tunes in these tests.
before(async () => {
  await initBackend('cpu');
  const tokenizer = WordPieceTokenizer.train(
    rows.flatMap((r) => [String(r.anchor), String(r.positive)]),
    { vocabSize: 200, minFrequency: 1 },
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
    { seed: 1 },
  );
  saveHfModel(join(root, 'tiny-bert'), enc, tokenizer, { maxSeqLength: 24 });
  const pre = new BertEncoder({ ...enc.spec, layerNorm: 'pre' }, { seed: 2 });
  saveHfModel(join(root, 'tiny-bert-pre'), pre, tokenizer, { maxSeqLength: 24 });
  enc.dispose();
  pre.dispose();
});

describe('the CLI on engine sentence-transformers: error paths', { skip: noPython }, () => {
  test('no such interpreter: exit 2, names it, writes nothing', () => {
    const out = join(root, 'runs', 'no-python');
    const r = runCli(['--config', stConfig('a.mrl.json', TINY_ST), '--out', out, '--python', join(root, 'no', 'python3')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`the Python interpreter "${join(root, 'no', 'python3').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" was not found`),
    );
    assert.match(r.stderr, /matryoshkaLab\.pythonPath/);
    assert.equal(existsSync(out), false);
  });

  test(
    'no sentence-transformers: exit 2 naming the interpreter and its Python version, writes nothing',
    { skip: hasST ? 'sentence-transformers is installed here' : false },
    () => {
      const out = join(root, 'runs', 'no-st');
      const pyVersion = spawnSync(PY, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).stdout.trim();
      const r = runCli(['--config', stConfig('b.mrl.json', TINY_ST), '--out', out], { MRL_PYTHON: PY });
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(`error: ${PY} (Python ${pyVersion}) has no sentence-transformers (ModuleNotFoundError`), r.stderr);
      assert.match(r.stderr, /needs sentence-transformers ≥ 3\.4\.0: .* -m pip install "sentence-transformers\[train\]>=3\.4\.0"/);
      assert.equal(existsSync(out), false);
    },
  );

  test('too old a sentence-transformers: exit 2 with the version found and the version this config needs', () => {
    const fake = fakeModules({ sentence_transformers: '3.0.1' });
    const out = join(root, 'runs', 'old-st');
    const r = runCli(['--config', stConfig('c.mrl.json', TINY_ST), '--out', out, '--python', PY], { PYTHONPATH: fake });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /\(Python \d+\.\d+\.\d+\) has sentence-transformers 3\.0\.1; this config needs ≥ 3\.4\.0 \(SentenceTransformerTrainer with MatryoshkaLoss over the Cached\* losses\)/,
    );
    assert.equal(existsSync(out), false);
    // A config asking for more (devices 2: negatives gathered across devices) names the higher version.
    const fake2 = fakeModules({ sentence_transformers: '4.1.0' });
    const r2 = runCli(['--config', stConfig('c2.mrl.json', { ...TINY_ST, devices: 2 }), '--out', out, '--python', PY], {
      PYTHONPATH: fake2,
    });
    assert.equal(r2.status, 2, r2.stderr);
    assert.match(r2.stderr, /has sentence-transformers 4\.1\.0; this config needs ≥ 5\.1\.0 \(in-batch negatives gathered across devices/);
  });

  test('sentence-transformers without its training dependencies: exit 2 naming what is missing', () => {
    const fake = fakeModules({ sentence_transformers: '5.1.0', torch: '2.5.0', transformers: '4.57.0' });
    const r = runCli(['--config', stConfig('d.mrl.json', TINY_ST), '--out', join(root, 'runs', 'no-datasets'), '--python', PY], {
      PYTHONPATH: fake,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /has sentence-transformers 5\.1\.0 but not datasets \(ModuleNotFoundError[^)]*\), accelerate \(ModuleNotFoundError/,
    );
  });

  test('past the checks: the run folder (config, run.json, data, train.py, callback); a Python that dies marks it failed', () => {
    // Every import the probe makes succeeds (fake modules), so the launch goes on; train.py then fails
    // for real on `from datasets import Dataset`, and the trainer marks the run failed.
    const fake = fakeModules({
      sentence_transformers: '5.1.0',
      torch: '2.5.0',
      transformers: '4.57.0',
      datasets: '3.0.0',
      accelerate: '1.0.0',
    });
    const out = join(root, 'runs', 'dies');
    const r = runCli(['--config', stConfig('e.mrl.json', TINY_ST), '--out', out, '--python', PY], { PYTHONPATH: fake });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /ImportError: cannot import name 'Dataset' from 'datasets'/);
    const info = readRunInfo(out);
    assert.equal(info?.status, 'failed');
    assert.equal(info?.engine, 'sentence-transformers');
    assert.equal(info?.pid, null);
    assert.match(String(info?.error), /exited with code 1 before training ended/);
    assert.match(String(info?.backendReason), /sentence-transformers 5\.1\.0, torch 2\.5\.0/);
    for (const f of ['config.json', 'train.py', 'matryoshka_lab_callback.py', 'data/train.jsonl', 'data/eval.json', 'log.txt'])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(existsSync(join(out, '.lock')), false, 'the lock is released');
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as RunConfig;
    assert.equal(cfg.engine, 'sentence-transformers');
    const train = readFileSync(join(out, 'data', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const ev = JSON.parse(readFileSync(join(out, 'data', 'eval.json'), 'utf8')) as {
      queries: string[];
      corpus: string[];
      relevant: number[][];
    };
    // The bundled trainer's own split: 90 % train, eval rows never in train, every query with its positive.
    assert.ok(train.length >= 250 && train.length < 300, String(train.length));
    assert.deepEqual(Object.keys(train[0]), ['anchor', 'positive']);
    assert.ok(ev.queries.length > 0 && ev.queries.length <= 20);
    assert.equal(ev.relevant.length, ev.queries.length);
    const trainAnchors = new Set(train.map((t) => t.anchor));
    assert.ok(ev.queries.every((q) => !trainAnchors.has(q)));
    assert.match(
      readFileSync(join(out, 'train.py'), 'utf8'),
      new RegExp(`^MODEL = "${join(root, 'tiny-bert').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"$`, 'm'),
    );
    assert.equal(pyCompile(readFileSync(join(out, 'train.py'), 'utf8')).status, 0);

    // Resume: needs a transformers checkpoint; with one, train.py runs again with --resume.
    const noCkpt = runCli(['--resume', out, '--python', PY], { PYTHONPATH: fake });
    assert.equal(noCkpt.status, 2, noCkpt.stderr);
    assert.match(noCkpt.stderr, /has no checkpoint to resume from \(no checkpoints\/checkpoint-<step>\/\)/);
    assert.equal(existsSync(join(out, '.lock')), false, 'a refused resume releases the lock it took first');
    mkdirSync(join(out, 'checkpoints', 'checkpoint-3'));
    const resumed = runCli(['--resume', out, '--python', PY], { PYTHONPATH: fake });
    assert.equal(resumed.status, 1, resumed.stderr);
    assert.match(resumed.stderr, /resuming dies from checkpoint-3/);
    assert.equal(readRunInfo(out)?.status, 'failed');
    assert.equal(readRunInfo(out)?.pid, null);
  });
});

describe('the CLI on engine sentence-transformers: stop', { skip: noPython }, () => {
  test('SIGTERM to the trainer reaches train.py once: it ends the step and the run is stopped', async () => {
    const fake = fakeModules({
      sentence_transformers: '5.1.0',
      torch: '2.5.0',
      transformers: '4.57.0',
      datasets: '3.0.0',
      accelerate: '1.0.0',
    });
    const out = join(root, 'runs', 'edited');
    assert.equal(runCli(['--config', stConfig('f.mrl.json', TINY_ST), '--out', out, '--python', PY], { PYTHONPATH: fake }).status, 1);
    mkdirSync(join(out, 'checkpoints', 'checkpoint-2'));
    // Resume regenerates train.py (the folder's copy is never run); a stand-in training stack drives the
    // real callback through steps as transformers' Trainer does (./fakeSentenceTransformers.ts).
    const stack = fakeTrainingStack(root);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', TSX, CLI, '--resume', out, '--python', PY], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MRL_PYTHON: '', PYTHONPATH: stack },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), stdout.includes('training') && res()));
      child.once('exit', (c) => rej(new Error(`exited (${c}) before training: ${stderr}`)));
    });
    const running = readRunInfo(out);
    assert.equal(running?.status, 'running');
    assert.equal(running?.pid, child.pid, 'run.json names the trainer (what the host stops), not Python');
    const code = await new Promise<number | null>((res) => {
      child.on('exit', (c) => res(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /saved: True/);
    assert.equal((stderr.match(/SIGTERM: finishing this step/g) ?? []).length, 1, stderr);
    assert.doesNotMatch(stderr, /again/);
    const info = readRunInfo(out);
    assert.equal(info?.status, 'stopped');
    assert.equal(info?.pid, null);
    assert.ok((info?.step ?? 0) >= 3);
  });
});

describe(
  'the CLI on engine sentence-transformers: a real run',
  { skip: hasST ? false : `no sentence-transformers in ${PY} (${(stImport?.stderr ?? 'no python').trim().split('\n').pop()})` },
  () => {
    test(
      'trains the tiny BERT with MatryoshkaLoss(CachedMNRL), evaluates per dim, saves a model; RunStore reads it',
      { timeout: 600_000 },
      () => {
        const out = join(root, 'runs', 'real');
        const r = runCli(['--config', stConfig('real.mrl.json', TINY_ST), '--out', out, '--python', PY]);
        assert.equal(r.status, 0, r.stderr.slice(-4000));
        const store = new RunStore(join(root, 'runs'));
        store.refresh();
        const s = store.get('real')!;
        assert.equal(s.status, 'completed');
        assert.equal(s.info.engine, 'sentence-transformers');
        assert.equal(s.info.step, 6);
        const evals = s.series.events.filter((e) => e.split === 'eval');
        assert.deepEqual(
          evals.map((e) => e.step),
          [0, 3, 6],
        );
        for (const e of evals) {
          assert.deepEqual(Object.keys(e.byDim ?? {}).sort(), ['16', '8']);
          assert.ok(e.byDim!['16']['ndcg@10'] >= 0 && e.byDim!['16']['ndcg@10'] <= 1);
          // The default precisions, measured by PrecisionEvaluator with the installed quantize_embeddings.
          for (const k of ['int8:ndcg@10', 'int8+rescore:ndcg@10', 'binary:ndcg@10', 'binary+rescore:map@100'])
            assert.ok(e.byDim!['8'][k] >= 0 && e.byDim!['8'][k] <= 1, `${k} in ${JSON.stringify(e.byDim!['8'])}`);
        }
        const train = s.series.events.filter((e) => e.split === 'train');
        assert.deepEqual(
          train.map((e) => e.step),
          [1, 2, 3, 4, 5, 6],
        );
        assert.ok(train.every((e) => Number.isFinite(e.values.loss)));
        assert.ok(existsSync(join(out, 'model', 'modules.json')));
        assert.ok(readdirSync(join(out, 'checkpoints')).includes('checkpoint-6'));
      },
    );

    test('models cross over: a post-LN folder saved here embeds the same in SentenceTransformer; a pre-LN one is refused', () => {
      const texts = rows.slice(0, 12).map((r) => String(r.positive));
      const m = loadHfModel(join(root, 'tiny-bert'));
      let ours: Float32Array;
      try {
        ours = embedTexts(m.encoder, m.tokenizer, texts, { maxSeqLength: m.maxSeqLength, batchSize: 4 });
      } finally {
        m.encoder.dispose();
      }
      const code =
        'import json, sys\nfrom sentence_transformers import SentenceTransformer\nm = SentenceTransformer(sys.argv[1], device="cpu")\nprint(json.dumps(m.encode(json.loads(sys.argv[2])).tolist()))';
      const r = spawnSync(PY, ['-c', code, join(root, 'tiny-bert'), JSON.stringify(texts)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const theirs = (JSON.parse(r.stdout.trim().split('\n').pop()!) as number[][]).flat();
      assert.equal(theirs.length, ours.length);
      let maxDiff = 0;
      theirs.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ours[i]))));
      assert.ok(maxDiff < 1e-4, `max |difference| ${maxDiff}`);
      const refused = spawnSync(PY, ['-c', code, join(root, 'tiny-bert-pre'), JSON.stringify(texts)], { encoding: 'utf8' });
      assert.notEqual(refused.status, 0, 'a pre-LN folder must not load as a (post-LN) BERT');
      assert.match(refused.stderr, new RegExp(PRE_LN_MODEL_TYPE));
    });
  },
);

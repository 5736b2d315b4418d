// Conformance of the sentence-transformers engine with the library it drives: train.py for every example config
// and every loss type (bare, in MatryoshkaLoss, on two devices, with pooling) is read by Python's ast and every
// import, call, keyword and attribute is checked against the API recorded from sentence-transformers' own source
// at each release the config allows (fixtures/sentenceTransformers/signatures.json: 3.4.0, 4.1.0, 5.1.0, 5.3.0,
// 5.4.0, 6.0.0; transformers 4.57.6 and 5.17.0); the callback's hooks and the fields it reads likewise, and its
// key mapping against the metric key names each evaluator logs there. Static: no torch needed, only python3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { generateScript, MODULES_MOVED, SYMMETRIC_RENAMED, versionAtLeast } from '../../src/engines/sentenceTransformers/script';
import { asST, cases, check, example, HUB, loadFixture, PY, recordedVersions, resolved, scriptJobs } from './stApi';

const hasPython = spawnSync(PY, ['--version']).status === 0;
const skip = hasPython ? false : `${PY} not found: the conformance checks parse train.py with Python's own ast`;
const fx = loadFixture();
const versions = recordedVersions(fx);

describe('the recorded sentence-transformers API (fixture)', () => {
  test('every recorded release names its source and holds every class, function and metric key the generator uses', () => {
    assert.deepEqual(versions, ['3.4.0', '4.1.0', '5.1.0', '5.3.0', '5.4.0', '6.0.0']);
    for (const v of versions) {
      const rec = fx.sentenceTransformers[v];
      assert.match(rec.source, new RegExp(`tag v${v.replace(/\./g, '\\.')} \\(commit [0-9a-f]{40}\\)`));
      for (const [name, c] of Object.entries(rec.classes)) assert.ok(c && c.file && c.line > 0, `${v}: ${name}`);
      for (const [name, f] of Object.entries(rec.functions)) assert.ok(f, `${v}: ${name}`);
      for (const [claim, k] of Object.entries(rec.metricKeys)) assert.ok(k.key, `${v}: ${claim}: ${k.missing}`);
    }
    for (const t of Object.values(fx.transformers))
      assert.match(t.source, /wheel transformers-[\d.]+-py3-none-any\.whl \(sha256 [0-9a-f]{64}\)/);
  });

  test('what moved where, as read from the source: the facts the generator branches on', () => {
    const at = (v: string) => fx.sentenceTransformers[v];
    // 5.4 moved the modules: the old paths only redirect (util/deprecated_import.py).
    for (const v of versions) {
      const redirected = 'deprecatedRedirect' in (at(v).modules['sentence_transformers.losses'] ?? {});
      assert.equal(redirected, versionAtLeast(v, MODULES_MOVED), v);
      const pooling = at(v).classes.Pooling!.init!.params[0];
      assert.equal(pooling, versionAtLeast(v, MODULES_MOVED) ? 'embedding_dimension' : 'word_embedding_dimension', v);
      const symmetric = at(v).classes.CachedMultipleNegativesSymmetricRankingLoss!.deprecated;
      assert.equal(!!symmetric, versionAtLeast(v, SYMMETRIC_RENAMED), v);
    }
    assert.match(
      at('6.0.0').classes.CachedMultipleNegativesSymmetricRankingLoss!.deprecated!,
      /directions=\('query_to_doc', 'doc_to_query'\).*partition_mode='per_direction'/,
    );
  });
});

describe('train.py against every recorded release it allows', { skip }, () => {
  const all = cases();
  const jobs = all.flatMap((c) => scriptJobs(c, versions));
  const results = check(jobs);

  test('covers every example config and every loss type, each on every release its config allows', () => {
    const examples = all.filter((c) => c.id.endsWith('.mrl.json')).map((c) => c.id);
    assert.deepEqual(examples, [
      'angle.mrl.json',
      'cosent.mrl.json',
      'gist.mrl.json',
      'multi-loss.mrl.json',
      'quickstart.mrl.json',
      'sweep.mrl.json',
    ]);
    const lossTypes = new Set(all.flatMap((c) => c.config.loss.terms.map((t) => t.base.type)));
    assert.deepEqual([...lossTypes].sort(), [
      'AnglELoss',
      'CachedGISTEmbedLoss',
      'CachedMultipleNegativesRankingLoss',
      'CachedMultipleNegativesSymmetricRankingLoss',
      'CoSENTLoss',
      'GISTEmbedLoss',
      'MultipleNegativesRankingLoss',
      'MultipleNegativesSymmetricRankingLoss',
    ]);
    // A 3.4 config is checked on all six releases; devices 2 (gather_across_devices) on 5.1 and later only.
    assert.equal(results.filter((r) => r.id.startsWith('quickstart.mrl.json @')).length, 6);
    assert.deepEqual(
      results.filter((r) => r.id.startsWith('MultipleNegativesRankingLoss in MatryoshkaLoss, devices 2 @')).map((r) => r.st),
      ['5.1.0', '5.3.0', '5.4.0', '6.0.0'],
    );
    assert.ok(results.length >= 200, String(results.length));
  });

  test('no import, call, keyword or attribute that the release lacks, deprecates or only redirects', () => {
    const bad = results
      .filter((r) => r.problems.length)
      .map((r) => `${r.id}:\n  ${r.problems.map((p) => `line ${p.line}: ${p.message}`).join('\n  ')}`);
    assert.deepEqual(bad, []);
  });

  test('the checker saw the real objects: losses, evaluators, training arguments, trainer, Pooling, BatchSamplers', () => {
    const seen = (id: string, st: string) => results.find((r) => r.id === `${id} @ ${st}`)!.checked;
    const q = seen('quickstart.mrl.json', '6.0.0');
    for (const want of [
      'MatryoshkaLoss(2; matryoshka_dims, matryoshka_weights, n_dims_per_step)',
      'CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size)',
      'InformationRetrievalEvaluator(3; name, truncate_dim, ndcg_at_k, mrr_at_k, accuracy_at_k, precision_recall_at_k, map_at_k)',
      'SequentialEvaluator(1; )',
      'SentenceTransformerTrainer(0; model, args, train_dataset, loss, evaluator, callbacks)',
      'trainer.train(0; resume_from_checkpoint)',
      'BatchSamplers.NO_DUPLICATES',
      'Pooling.embedding_dimension',
      'Pooling(1; pooling_mode)',
      'quantize_embeddings(1; precision, calibration_embeddings)',
    ])
      assert.ok(q.includes(want), `${want} in ${q.join(' | ')}`);
    assert.ok(q.some((x) => x.startsWith('SentenceTransformerTrainingArguments(0; output_dir, max_steps')));
    assert.ok(seen('quickstart.mrl.json', '3.4.0').includes('Pooling.word_embedding_dimension'));
    // The symmetric loss: its own class before 5.3, the ranking loss in both directions from 5.3.
    const sym = 'CachedMultipleNegativesSymmetricRankingLoss in MatryoshkaLoss';
    assert.ok(seen(sym, '5.1.0').includes('CachedMultipleNegativesSymmetricRankingLoss(1; scale, mini_batch_size)'));
    assert.ok(seen(sym, '5.3.0').includes('CachedMultipleNegativesRankingLoss(1; scale, mini_batch_size, directions, partition_mode)'));
    assert.ok(!seen(sym, '6.0.0').some((x) => x.startsWith('CachedMultipleNegativesSymmetricRankingLoss(')));
  });

  test('the pooling case: model.pretrained.pooling reads the width under the attribute each release has (AttributeError on 5.4+ before)', () => {
    const script = generateScript({
      resolved: resolved(asST(example('quickstart.mrl.json'), { path: HUB, pooling: 'cls' })),
      model: HUB,
      guides: {},
      scoredEval: false,
    });
    const [old, v6] = check([
      { id: 'old', st: '5.3.0', script },
      { id: 'v6', st: '6.0.0', script },
    ]);
    assert.deepEqual([old.problems, v6.problems], [[], []]);
    assert.ok(old.checked.includes('Pooling.word_embedding_dimension') && !old.checked.includes('Pooling.embedding_dimension'));
    assert.ok(v6.checked.includes('Pooling.embedding_dimension') && !v6.checked.includes('Pooling.word_embedding_dimension'));
    // What the generator wrote before: caught on 5.4 and 6.0.
    const before = script.replace(
      /if ST_VERSION >= \(5, 4, 0\): {2}# the token[^\n]*\n\s*width = module\.embedding_dimension\n\s*else:\n\s*/,
      '',
    );
    assert.notEqual(before, script);
    const [was] = check([{ id: 'before', st: '6.0.0', script: before }]);
    assert.ok(
      was.problems.some((p) => /Pooling has no attribute word_embedding_dimension/.test(p.message)),
      JSON.stringify(was.problems),
    );
  });

  test('the checker catches what the issue found in the old script: deprecated paths and classes, a removed attribute', () => {
    const old = [
      'from sentence_transformers import SentenceTransformer, losses, models',
      'from sentence_transformers.evaluation import SequentialEvaluator',
      'from sentence_transformers.training_args import BatchSamplers',
      'def f(model):',
      '    for module in model:',
      '        if isinstance(module, models.Pooling):',
      '            return models.Pooling(module.word_embedding_dimension, pooling_mode="cls")',
      '    return losses.CachedMultipleNegativesSymmetricRankingLoss(model, scale=20, nope=1)',
      'x = BatchSamplers.NO_SUCH',
      '',
    ].join('\n');
    const [r34, r6] = check([
      { id: '3.4', st: '3.4.0', script: old },
      { id: '6.0', st: '6.0.0', script: old },
    ]);
    assert.deepEqual(
      r34.problems.map((p) => p.message.replace(/^sentence-transformers [\d.]+: /, '').split(' (')[0]),
      ['CachedMultipleNegativesSymmetricRankingLoss has no keyword nope', 'BatchSamplers has no member NO_SUCH'],
    );
    const msgs = r6.problems.map((p) => p.message).join('\n');
    for (const m of ['losses', 'models', 'evaluation', 'training_args'])
      assert.match(msgs, new RegExp(`sentence_transformers\\.${m} only redirects to .* with a DeprecationWarning`));
    assert.match(msgs, /Pooling has no attribute word_embedding_dimension/);
    assert.match(msgs, /CachedMultipleNegativesSymmetricRankingLoss is deprecated/);
  });
});

describe('the callback against every recorded release', { skip }, () => {
  const callback = resolve('python/matryoshka_lab_callback.py');

  test('its TrainerCallback hooks and the TrainerState / TrainingArguments / TrainerControl fields it reads exist', () => {
    const results = check(versions.map((st) => ({ id: st, st, file: callback, mode: 'callback' as const })));
    for (const r of results) {
      assert.deepEqual(r.problems, [], r.st);
      for (const want of [
        'hook on_train_begin',
        'hook on_evaluate',
        'hook on_log',
        'hook on_step_end',
        'state.global_step',
        'state.is_world_process_zero',
        'control.should_training_stop',
        'args.world_size',
      ])
        assert.ok(r.checked.includes(want), `${r.st}: ${want}`);
    }
    assert.deepEqual([...new Set(results.flatMap((r) => r.transformers))].sort(), ['4.57.6', '5.17.0']);
  });

  test('its key mapping files every metric the evaluators log (names as recorded per release) under the right dim', () => {
    const jobs = versions.map((v) => {
      const mk = fx.sentenceTransformers[v].metricKeys;
      const ir = mk.InformationRetrievalEvaluator;
      const keys: Record<string, number> = {};
      // evaluate(): "eval" + "_" + key; the evaluator: name + "_" + key; IR: {score_function}_{metric}@{k}; ES: spearman_{fn}
      assert.equal(mk['SentenceTransformerTrainer.evaluate'].key, '{metric_key_prefix}_{key}');
      assert.equal(mk['SentenceEvaluator.prefix_name_to_metrics'].key, '{name}_{key}');
      assert.equal(ir.key, '{name}_{score_function}_{metric}@{k}');
      for (const [metric, k] of [
        ['ndcg', 10],
        ['mrr', 10],
        ['recall', 1],
        ['recall', 10],
        ['map', 100],
        ['accuracy', 1],
        ['precision', 1],
      ] as const) {
        assert.ok(ir.metrics!.includes(metric), `${v}: ${metric} in ${ir.metrics}`);
        keys[`eval_dim_64_cosine_${metric}@${k}`] = 0.5;
      }
      assert.equal(mk.EmbeddingSimilarityEvaluator.key, '{name}_{correlation}_{similarity_fn}');
      keys.eval_dim_64_spearman_cosine = 0.25;
      keys.eval_sequential_score = 0.75;
      return { v, keys };
    });
    const code = `import json, sys\nsys.path.insert(0, sys.argv[1])\nfrom matryoshka_lab_callback import split_metrics\nprint(json.dumps([split_metrics(k, "eval_") for k in json.loads(sys.stdin.read())]))`;
    const r = spawnSync(PY, ['-c', code, resolve('python')], { input: JSON.stringify(jobs.map((j) => j.keys)), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const [values, byDim] of JSON.parse(r.stdout) as [Record<string, number>, Record<string, Record<string, number>>][]) {
      for (const m of ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100']) assert.equal(byDim['64'][m], 0.5, m);
      assert.equal(byDim['64'].spearman, 0.25);
      assert.deepEqual(values, { sequential_score: 0.75 });
    }
  });
});

describe('the README section per version range', () => {
  test('is the one generated from the fixture (npm run st-versions to refresh it)', async () => {
    const { readmeSection, renderVersionNotes, README_BEGIN, README_END } = await import('./stVersionNotes');
    const readme = readFileSync('README.md', 'utf8');
    const section = readmeSection(readme);
    assert.ok(section !== undefined, `README.md has no ${README_BEGIN} … ${README_END} section`);
    assert.equal(section, renderVersionNotes(fx));
  });
});

// Export Model (src/trainer/export/): a tiny run trained for real, exported through the CLI at Matryoshka
// dims from the last / a given / the best checkpoint at every precision; the folder re-loaded by the
// trainer gives the run's own embeddings truncated to D and normalised; quantization.json's calibration
// is int8Calibration of the re-embedded eval corpus; the card's front matter parses; bad arguments exit 2
// naming what was expected; a failed export leaves nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateRunConfig } from '../../src/config/validate';
import { runSync } from '../../src/common/cooperative';
import { prepareDataWork } from '../../src/data/dataset';
import { buildEvalSet } from '../../src/data/evalSet';
import { loadWordnet } from '../../src/data/wordnet';
import type { MetricsEvent, RunInfo } from '../../src/protocol/runFolder';
import { embedTexts } from '../../src/trainer/eval/embed';
import { truncateNormalize } from '../../src/trainer/eval/metrics';
import { int8Calibration } from '../../src/trainer/eval/quantize';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';
import { loadHfModel, type LoadedHfModel } from '../../src/trainer/model/hfFolder';
import { readSafetensors } from '../../src/trainer/model/safetensors';

const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const CLI = resolve('src/trainer/export/cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'mrl-export-'));
const TEXTS = ['a dog barks', 'the stock market fell sharply today', 'Café naïve', 'x'];

const TINY = {
  name: 'tiny export',
  seed: 7,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: {
    type: 'MatryoshkaLoss',
    loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 8 },
    matryoshkaDims: [16, 8, 4],
    nDimsPerStep: 2,
  },
  training: { maxSteps: 12, batchSize: 16, learningRate: 0.003, warmupSteps: 2, logEvery: 4, evalEvery: 4, checkpointEvery: 4 },
  evaluation: { maxQueries: 40 },
};

async function train(name: string, over: Record<string, unknown> = {}): Promise<string> {
  const r = validateRunConfig({ ...TINY, ...over }, join(dir, 'tiny.mrl.json'));
  assert.deepEqual(r.errors, []);
  const p = await prepareRun(r.resolved!);
  const runDir = join(dir, name);
  const res = await runTraining(p, { runDir, infoExtra: { baseDir: dir }, print: () => {} });
  assert.equal(res.status, 'completed');
  return runDir;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

function exportCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args, '--json'], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ...env },
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(last) as Record<string, unknown>;
  } catch {
    assert.fail(`the last stdout line is not JSON: ${JSON.stringify(last)}; stderr: ${r.stderr}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

function embed(m: LoadedHfModel, texts: string[], dim: number): Float32Array {
  const full = embedTexts(m.encoder, m.tokenizer, texts, { maxSeqLength: m.maxSeqLength, batchSize: 16 });
  return truncateNormalize(full, texts.length, m.encoder.dim, dim);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The exported folder re-loaded by the trainer against the run's completed model/ (= the last checkpoint). */
function assertSameEmbeddings(exported: string, reference: string, dim: number): void {
  const e = loadHfModel(exported);
  const r = loadHfModel(reference);
  try {
    assert.equal(e.encoder.dim, dim, 'the exported model gives D-dim embeddings by itself');
    const d = maxAbsDiff(embed(e, TEXTS, dim), embed(r, TEXTS, dim));
    assert.ok(d <= 1e-5, `max |Δ| ${d}`);
  } finally {
    e.encoder.dispose();
    r.encoder.dispose();
  }
}

function frontMatter(readme: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(readme);
  assert.ok(m, 'README.md starts with YAML front matter');
  const r = spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], {
    input: m[1],
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

describe('Export Model', { timeout: 900_000 }, () => {
  let runDir: string;
  before(async () => {
    const rows = loadWordnet()
      .rows.filter((_, i) => i % 300 === 0)
      .slice(0, 400);
    writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
    runDir = await train('run');
    // A best checkpoint as training.keepBest keeps it (the contract in src/protocol/runFolder.ts): a real
    // step checkpoint copied to checkpoints/best-8/, recorded in run.json with its eval value.
    const line = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MetricsEvent)
      .find((e) => e.split === 'eval' && e.step === 8)!;
    cpSync(join(runDir, 'checkpoints/step-8'), join(runDir, 'checkpoints/best-8'), { recursive: true });
    const info = readJson(join(runDir, 'run.json')) as unknown as RunInfo;
    info.bestCheckpoints = { '8': { metric: 'ndcg@10', step: 8, value: line.byDim!['8']['ndcg@10'] } };
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(info, null, 2));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("last checkpoint, float32, dim 8: a sentence-transformers folder with Dense + Normalize, the run's embeddings", () => {
    const out = join(dir, 'out-last-8');
    // A checkpoint being written by a running trainer (a temp folder, complete-looking): never read.
    const writing = join(runDir, 'checkpoints', 'step-16.tmp-999999');
    cpSync(join(runDir, 'checkpoints/step-12'), writing, { recursive: true });
    const r = exportCli([runDir, '--dim', '8', '--out', out]);
    rmSync(writing, { recursive: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      { ok: r.json.ok, out: r.json.out, dim: r.json.dim, precision: r.json.precision, checkpoint: r.json.checkpoint },
      { ok: true, out, dim: 8, precision: 'float32', checkpoint: { kind: 'step', step: 12 } },
    );
    assert.ok((r.json.maxAbsDiff as number) <= 1e-5);
    for (const f of [
      'modules.json',
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'vocab.txt',
      'tokenizer_config.json',
      'sentence_bert_config.json',
      'config_sentence_transformers.json',
      '1_Pooling/config.json',
      '2_Dense/config.json',
      '2_Dense/model.safetensors',
      'README.md',
    ])
      assert.ok(existsSync(join(out, f)), f);
    assert.ok(!existsSync(join(out, 'quantization.json')), 'float32 needs no recipe');
    const modules = JSON.parse(readFileSync(join(out, 'modules.json'), 'utf8')) as { path: string; type: string }[];
    assert.deepEqual(
      modules.map((m) => m.type.split('.').pop()),
      ['Transformer', 'Pooling', 'Dense', 'Normalize'],
    );
    assert.deepEqual(readJson(join(out, '2_Dense/config.json')), {
      in_features: 16,
      out_features: 8,
      bias: true,
      activation_function: 'torch.nn.modules.linear.Identity',
    });
    // The Dense is the first 8 rows of the identity (torch layout [out, in]), zero bias.
    const dense = readSafetensors(join(out, '2_Dense/model.safetensors'));
    const w = dense.get('linear.weight')!;
    assert.deepEqual(w.shape, [8, 16]);
    for (let o = 0; o < 8; o++) for (let i = 0; i < 16; i++) assert.equal(w.data[o * 16 + i], o === i ? 1 : 0);
    assert.ok(Array.from(dense.get('linear.bias')!.data).every((x) => x === 0));
    assertSameEmbeddings(out, join(runDir, 'model'), 8);

    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    const fm = frontMatter(readme);
    assert.equal(fm.library_name, 'sentence-transformers');
    assert.equal(fm.pipeline_tag, 'sentence-similarity');
    for (const t of ['sentence-transformers', 'sentence-similarity', 'feature-extraction', 'matryoshka', 'dim-8'])
      assert.ok((fm.tags as string[]).includes(t), t);
    assert.equal(fm.base_model, undefined, 'trained from scratch: no base model');
    assert.match(readme, /\*\*8-dimensional\*\*/);
    assert.match(readme, /\| \*\*8\*\* \(exported\) \|/);
    assert.match(readme, /arxiv\.org\/abs\/2205\.13147/);
    assert.match(readme, /arxiv\.org\/abs\/2101\.06983/);
    assert.match(readme, /arxiv\.org\/abs\/1705\.00652/);
    assert.doesNotMatch(readme, /2309\.12871|2402\.16829/, 'only the papers of the losses in the stack');
    assert.match(readme, /Recommended point/);
    assert.match(readme, /SentenceTransformer\("DIR"\)/);
  });

  test('a given step, int8, dim 4: quantization.json holds int8Calibration of the re-embedded eval corpus', () => {
    const out = join(dir, 'out-step8-4');
    const r = exportCli([runDir, '--dim', '4', '--precision', 'int8', '--checkpoint', '8', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.checkpoint, { kind: 'step', step: 8 });
    // The weights are step 8's, not the final model's.
    const ck = readSafetensors(join(runDir, 'checkpoints/step-8/model.safetensors')).get('embeddings.word_embeddings.weight')!;
    const ex = readSafetensors(join(out, 'model.safetensors')).get('embeddings.word_embeddings.weight')!;
    assert.deepEqual(Array.from(ex.data), Array.from(ck.data));
    const fin = readSafetensors(join(runDir, 'model/model.safetensors')).get('embeddings.word_embeddings.weight')!;
    assert.notDeepEqual(Array.from(ex.data), Array.from(fin.data));

    const q = readJson(join(out, 'quantization.json'));
    assert.equal(q.precision, 'int8');
    assert.equal(q.dim, 4);
    assert.equal(q.normalizeBeforeQuantize, true);
    // The eval set exactly as the run built it (src/data/), embedded by the exported folder.
    const resolved = validateRunConfig(readJson(join(runDir, 'config.json')), join(runDir, 'config.json'), { baseDir: dir }).resolved!;
    const data = runSync(prepareDataWork(resolved.config, dir));
    const corpus = buildEvalSet(data.eval, resolved.config.evaluation.maxQueries).corpus;
    const m = loadHfModel(out);
    const emb = embed(m, corpus, 4);
    m.encoder.dispose();
    const want = int8Calibration(emb, corpus.length, 4);
    const cal = q.calibration as { rows: number; starts: number[]; steps: number[]; ranges: number[][] };
    assert.equal(cal.rows, corpus.length);
    for (let c = 0; c < 4; c++) {
      assert.ok(Math.abs(cal.starts[c] - want.starts[c]) <= 1e-6, `starts[${c}]`);
      assert.ok(Math.abs(cal.steps[c] - want.steps[c]) <= 1e-6, `steps[${c}]`);
      // ranges reproduce the steps the way quantize_embeddings computes them on np.float32 arrays:
      // each range read as float32, then (max - min) / 255 in float32.
      const [lo, hi] = [Math.fround(cal.ranges[0][c]), Math.fround(cal.ranges[1][c])];
      assert.equal(Math.fround(Math.fround(hi - lo) / 255), Math.fround(cal.steps[c]));
    }
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.ok((frontMatter(readme).tags as string[]).includes('quantization:int8'));
    assert.match(readme, /quantize_embeddings\(emb, precision="int8", ranges=ranges\)/);
    assert.match(readme, /at step 8/);
  });

  test('best checkpoint, binary, dim 8: the kept best-8 folder and the ubinary recipe', () => {
    const out = join(dir, 'out-best-8');
    const r = exportCli([runDir, '--dim', '8', '--precision', 'binary', '--checkpoint', 'best', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.checkpoint, { kind: 'best', step: 8 });
    const q = readJson(join(out, 'quantization.json'));
    assert.equal(q.precision, 'binary');
    assert.equal(q.bitOrder, 'big');
    assert.equal(q.bytesPerVector, 1);
    assert.match(String(q.formula), /x\[c\] > 0/);
    const ck = readSafetensors(join(runDir, 'checkpoints/best-8/model.safetensors')).get('encoder.layer.0.output.dense.weight')!;
    const ex = readSafetensors(join(out, 'model.safetensors')).get('encoder.layer.0.output.dense.weight')!;
    // Checkpoints store [in, out], HF folders [out, in]: the same numbers transposed.
    const [rows, cols] = ck.shape;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) assert.equal(ex.data[j * rows + i], ck.data[i * cols + j]);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(readme, /best checkpoint for dim 8 \(step 8, ndcg@10/);
    assert.match(readme, /precision="ubinary"/);
  });

  test('full width, no projection: Transformer → Pooling → Normalize, embeddings equal', () => {
    const out = join(dir, 'out-last-16');
    const r = exportCli([runDir, '--dim', '16', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const modules = JSON.parse(readFileSync(join(out, 'modules.json'), 'utf8')) as { type: string }[];
    assert.deepEqual(
      modules.map((m) => m.type.split('.').pop()),
      ['Transformer', 'Pooling', 'Normalize'],
    );
    assertSameEmbeddings(out, join(runDir, 'model'), 16);
  });

  test('a run with a projection (width 12 < hidden 16): the Dense is its first D rows', async () => {
    const projRun = await train('run-proj', {
      loss: { ...TINY.loss, matryoshkaDims: [12, 8, 4] },
      training: { ...TINY.training, maxSteps: 4 },
    });
    const out = join(dir, 'out-proj-8');
    const r = exportCli([projRun, '--dim', '8', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readJson(join(out, '2_Dense/config.json')).out_features, 8);
    assertSameEmbeddings(out, join(projRun, 'model'), 8);
  });

  test('--force replaces a non-empty --out; without it the export is refused (exit 2)', () => {
    const out = join(dir, 'out-existing');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const refused = exportCli([runDir, '--dim', '4', '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--out .*out-existing: exists and is not empty/);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
    const forced = exportCli([runDir, '--dim', '4', '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(!existsSync(join(out, 'keep.txt')));
    assert.ok(existsSync(join(out, 'modules.json')));
  });

  test('bad arguments and inputs exit 2 with a message naming what was expected', () => {
    const out = join(dir, 'never');
    const cases: [string[], RegExp][] = [
      [[runDir, '--dim', '5', '--out', out], /--dim 5: not a dim of run .*expected one of 16, 8, 4/],
      [
        [runDir, '--dim', '8', '--checkpoint', '3', '--out', out],
        /--checkpoint 3: .*no complete step-3\/ \(complete checkpoints: step 8, 12\)/,
      ],
      [
        [runDir, '--dim', '16', '--checkpoint', 'best', '--out', out],
        /--checkpoint best: .*run\.json has no bestCheckpoints\["16"\].*kept dims 8/,
      ],
      [[runDir, '--dim', '8', '--precision', 'fp16', '--out', out], /--precision fp16: expected float32, int8, binary/],
      [[runDir, '--dim', '8'], /--out: missing/],
      [[join(dir, 'nope'), '--dim', '8', '--out', out], /<run dir> .*nope: not a folder/],
    ];
    for (const [args, re] of cases) {
      const r = exportCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      assert.equal(r.json.ok, false);
      assert.match(String(r.json.error), re);
    }
    assert.ok(!existsSync(out));

    // A run of the sentence-transformers engine: its checkpoints are transformers' own.
    const st = join(dir, 'st-run');
    mkdirSync(st);
    cpSync(join(runDir, 'config.json'), join(st, 'config.json'));
    writeFileSync(
      join(st, 'run.json'),
      JSON.stringify({ ...readJson(join(runDir, 'run.json')), id: 'st-run', engine: 'sentence-transformers' }),
    );
    const r = exportCli([st, '--dim', '8', '--out', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /run\.json: run st-run was trained by the sentence-transformers engine/);
    assert.ok(!existsSync(out));
  });

  test('a failure after the folder was written, or after it was checked, leaves nothing at --out nor beside it', () => {
    for (const stage of ['written', 'verified']) {
      const parent = join(dir, `fail-${stage}`);
      mkdirSync(parent);
      const out = join(parent, 'model');
      const r = exportCli([runDir, '--dim', '8', '--precision', 'int8', '--out', out], { MRL_EXPORT_FAIL_AT: stage });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`export failed: injected failure after the export was ${stage}`));
      assert.equal(r.json.ok, false);
      assert.deepEqual(readdirSync(parent), [], 'no folder, no temp folder');
    }
  });

  test(
    'a target whose parent cannot be written to: exit 1, nothing left',
    { skip: process.getuid?.() === 0 && 'root ignores permissions' },
    () => {
      const parent = join(dir, 'read-only');
      mkdirSync(parent, { mode: 0o555 });
      const r = exportCli([runDir, '--dim', '8', '--out', join(parent, 'model')]);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(readdirSync(parent), []);
    },
  );
});

// engine "sentence-transformers", how a run is launched and what its seed fixes:
//  - several devices meet through torchrun --standalone (a port of their own per run), recorded in run.json
//    (the launcher's argv seen by a stand-in torch.distributed.run; the callback's endpoint from torchrun's env);
//  - the seed sets the data order: train.jsonl is exported in the seed's order, and no data_seed (which
//    sentence-transformers never reads) is passed; where sentence-transformers is installed, its own
//    no-duplicates sampler is run on two seeds' exports;
//  - --emit-script writes a folder to run elsewhere (train.py, data, callback, model, run.sh) and runs nothing;
//    run there, the folder is a run folder that RunStore reads like any other.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { validateRunConfig } from '../../src/config/validate';
import { prepareData } from '../../src/data/dataset';
import { exportData } from '../../src/engines/sentenceTransformers/data';
import { launchArgs, RENDEZVOUS } from '../../src/engines/sentenceTransformers/launch';
import { runShell } from '../../src/engines/sentenceTransformers/emitScript';
import { generateScript } from '../../src/engines/sentenceTransformers/script';
import { loadWordnet } from '../../src/data/wordnet';
import { readRunInfo } from '../../src/runs/runDir';
import { RunStore } from '../../src/runs/store';
import { fakeTrainingStack } from './fakeSentenceTransformers';

const PY = process.env.MRL_TEST_PYTHON ?? 'python3';
const hasPython = spawnSync(PY, ['--version']).status === 0;
const noPython = hasPython ? false : `${PY} not found`;
const hasST = hasPython && spawnSync(PY, ['-c', 'import sentence_transformers, datasets'], { encoding: 'utf8' }).status === 0;
const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'mrl-stlaunch-'));
after(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'package.json'), '{}');

const rows = loadWordnet()
  .rows.filter((_, i) => i % 89 === 0)
  .slice(0, 240);
writeFileSync(join(root, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
writeFileSync(
  join(root, 'eval.jsonl'),
  rows
    .slice(0, 30)
    .map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive }))
    .join('\n') + '\n',
);
// A local model folder (only its presence is checked before Python runs): what --emit-script carries along.
mkdirSync(join(root, 'my-model'));
writeFileSync(join(root, 'my-model', 'config.json'), '{"model_type": "bert"}\n');
writeFileSync(join(root, 'my-model', 'modules.json'), '[]\n');

const ST = {
  name: 'st launch',
  engine: 'sentence-transformers',
  model: { pretrained: { path: 'my-model' } },
  data: { train: { source: 'pairs.jsonl' }, eval: { source: 'eval.jsonl' } },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 4 }, matryoshkaDims: [16, 8] },
  training: { maxSteps: 6, batchSize: 16, learningRate: 0.001, logEvery: 1, evalEvery: 3, checkpointEvery: 3 },
  evaluation: { maxQueries: 20 },
};

function configFile(name: string, json: unknown): string {
  const p = join(root, name);
  writeFileSync(p, JSON.stringify(json, null, 2));
  return p;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', TSX, CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, MRL_PYTHON: '', ...env },
  });
}

function resolvedOf(json: unknown) {
  const v = validateRunConfig(json, join(root, 'x.mrl.json'));
  assert.deepEqual(v.errors, []);
  return v.resolved!;
}

describe('several devices: a rendezvous of the run’s own', { skip: noPython }, () => {
  test('torchrun gets --standalone (no shared port 29500), run.sh says the same, run.json records it', () => {
    assert.deepEqual(launchArgs(2, 'train.py', true), [
      '-m',
      'torch.distributed.run',
      '--standalone',
      '--nproc_per_node',
      '2',
      'train.py',
      '--resume',
    ]);
    assert.deepEqual(launchArgs(1, 'train.py', false), ['train.py']);
    assert.match(
      runShell('x', 2, { version: '5.1.0', why: 'w' }),
      /^exec "\$\{PYTHON:-python3\}" -m torch\.distributed\.run --standalone --nproc_per_node 2 train\.py "\$@"$/m,
    );

    // A stand-in torch.distributed.run records the argv the launcher gave it, then fails the run.
    const fake = mkdtempSync(join(root, 'fake-'));
    const pkg = (name: string, version: string) => {
      mkdirSync(join(fake, name), { recursive: true });
      writeFileSync(join(fake, name, '__init__.py'), `__version__ = ${JSON.stringify(version)}\n`);
    };
    for (const [m, v] of Object.entries({
      sentence_transformers: '5.1.0',
      torch: '2.5.0',
      transformers: '4.57.0',
      datasets: '3.0.0',
      accelerate: '1.0.0',
    }))
      pkg(m, v);
    mkdirSync(join(fake, 'torch', 'distributed'));
    writeFileSync(join(fake, 'torch', 'distributed', '__init__.py'), '');
    writeFileSync(
      join(fake, 'torch', 'distributed', 'run.py'),
      'import json, os, sys\nopen(os.environ["ARGV_OUT"], "w").write(json.dumps(sys.argv[1:]))\nsys.exit(3)\n',
    );
    const out = join(root, 'runs', 'two-devices');
    const argvOut = join(root, 'argv.json');
    const r = runCli(['--config', configFile('two.mrl.json', { ...ST, devices: 2 }), '--out', out, '--python', PY], {
      PYTHONPATH: fake,
      ARGV_OUT: argvOut,
    });
    assert.equal(r.status, 1, r.stderr);
    const argv = JSON.parse(readFileSync(argvOut, 'utf8')) as string[];
    assert.deepEqual(argv.slice(0, 3), ['--standalone', '--nproc_per_node', '2']);
    assert.match(argv[3], /train\.py$/);
    const info = readRunInfo(out)!;
    assert.equal(info.rendezvous, RENDEZVOUS);
    assert.equal(info.status, 'failed');
  });

  test('the callback records the endpoint the processes used (torchrun’s MASTER_ADDR:MASTER_PORT)', () => {
    const dir = join(root, 'runs', 'endpoint');
    const code = [
      'import json, sys, types',
      'sys.path.insert(0, sys.argv[1])',
      'from matryoshka_lab_callback import MatryoshkaLabCallback',
      'cb = MatryoshkaLabCallback(run_dir=sys.argv[2], name="e")',
      'args = types.SimpleNamespace(world_size=2, device=None, output_dir="x", to_dict=lambda: {})',
      'state = types.SimpleNamespace(global_step=0, max_steps=4, epoch=0.0, is_world_process_zero=True)',
      'cb.on_train_begin(args, state, types.SimpleNamespace())',
      'cb.finish()',
    ].join('\n');
    const r = spawnSync(PY, ['-c', code, resolve('python'), dir], {
      encoding: 'utf8',
      env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: '47613' },
    });
    assert.equal(r.status, 0, r.stderr);
    const info = readRunInfo(dir)!;
    assert.equal(info.rendezvousEndpoint, '127.0.0.1:47613');
    assert.match(String(info.backendReason), /2 processes/);
  });
});

describe('the seed sets the data order on this engine too', () => {
  const exportFor = (seed: number) => {
    const config = resolvedOf({ ...ST, seed }).config;
    const dir = mkdtempSync(join(root, `export-${seed}-`));
    const data = prepareData(config, root);
    exportData(dir, data.train, data.eval, config.evaluation.maxQueries);
    return readFileSync(join(dir, 'data', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n');
  };

  test('train.jsonl: the same rows in an order that is a function of the seed; no data_seed in the arguments', () => {
    const [a, a2, b] = [exportFor(1), exportFor(1), exportFor(2)];
    assert.deepEqual(a, a2, 'same seed, same order');
    assert.deepEqual([...a].sort(), [...b].sort(), 'data.eval given: the same training rows');
    assert.notDeepEqual(a, b, 'another seed, another order');
    const script = generateScript({ resolved: resolvedOf({ ...ST, seed: 7 }), model: 'm', guides: {}, scoredEval: false });
    assert.match(script, /^ {8}seed=7,$/m);
    // sentence-transformers never reads data_seed (its samplers take the trainer's generator / seed): passing it claimed what it did not do.
    assert.doesNotMatch(script, /data_seed/);
  });

  test(
    "sentence-transformers' own no-duplicates sampler on two seeds' exports: different batches; the same seed twice: the same",
    { skip: hasST ? false : `no sentence-transformers + datasets in ${PY}` },
    () => {
      const files = [1, 1, 2].map((seed) => {
        const f = join(root, `order-${seed}-${Math.random().toString(36).slice(2)}.jsonl`);
        writeFileSync(f, exportFor(seed).join('\n') + '\n');
        return f;
      });
      // seed=0: what 5.1-5.3's trainer passes (get_batch_sampler without seed); the sampler reseeds with seed + epoch.
      const code = [
        'import json, sys, warnings',
        'warnings.simplefilter("ignore")',
        'import torch',
        'from datasets import Dataset',
        'try:',
        '    from sentence_transformers.base.sampler import NoDuplicatesBatchSampler',
        'except ImportError:',
        '    from sentence_transformers.sampler import NoDuplicatesBatchSampler',
        'out = []',
        'for f in sys.argv[1:]:',
        '    ds = Dataset.from_list([json.loads(l) for l in open(f)])',
        '    s = NoDuplicatesBatchSampler(ds, batch_size=16, drop_last=True, generator=torch.Generator(), seed=0)',
        '    out.append([[ds[i]["anchor"] for i in b] for b in s])',
        'print(json.dumps(out))',
      ].join('\n');
      const r = spawnSync(PY, ['-c', code, ...files], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [a, a2, b] = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[][][];
      assert.ok(a.length > 5);
      assert.deepEqual(a, a2);
      assert.notDeepEqual(a, b);
    },
  );
});

describe('--emit-script: a run to take elsewhere', { skip: noPython }, () => {
  test('writes train.py, data, the callback, config.json, the model and run.sh; runs nothing; refuses what it cannot write', () => {
    const dir = join(root, 'emitted', '20250101-000000-st-launch-abcd');
    const r = runCli(['--config', configFile('emit.mrl.json', ST), '--emit-script', dir, '--python', join(root, 'no-python')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /run it with: sh .*run\.sh/);
    assert.deepEqual(readdirSync(dir).sort(), ['base-model', 'config.json', 'data', 'matryoshka_lab_callback.py', 'run.sh', 'train.py']);
    assert.deepEqual(readdirSync(join(dir, 'base-model')).sort(), ['config.json', 'modules.json']);
    const script = readFileSync(join(dir, 'train.py'), 'utf8');
    assert.match(script, /^MODEL = os\.path\.join\(HERE, "base-model"\)$/m);
    assert.match(readFileSync(join(dir, 'run.sh'), 'utf8'), /^exec "\$\{PYTHON:-python3\}" train\.py "\$@"$/m);
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).engine, 'sentence-transformers');
    assert.equal(existsSync(join(dir, 'run.json')), false, 'nothing ran');
    // Not into a folder that holds something; not for the bundled engine.
    assert.equal(runCli(['--config', configFile('emit2.mrl.json', ST), '--emit-script', dir]).status, 2);
    const bundled = runCli([
      '--config',
      configFile('b.mrl.json', { ...ST, engine: 'bundled' }),
      '--emit-script',
      join(root, 'emitted', 'b'),
    ]);
    assert.equal(bundled.status, 2);
    assert.match(bundled.stderr, /--emit-script writes a sentence-transformers run/);
    assert.equal(existsSync(join(root, 'emitted', 'b')), false);
    assert.equal(
      runCli(['--config', configFile('emit3.mrl.json', ST), '--emit-script', join(root, 'e3'), '--out', join(root, 'o')]).status,
      2,
    );
  });

  test('run.sh run there makes the folder a run; copied back into .mrl/runs/, RunStore reads it like any other', async () => {
    const dir = join(root, 'emitted', '20250102-000000-elsewhere-beef');
    assert.equal(runCli(['--config', configFile('emit4.mrl.json', { ...ST, name: 'elsewhere' }), '--emit-script', dir]).status, 0);
    // The stand-in training stack drives the real callback through steps until it is stopped (SIGTERM).
    const child = spawn('sh', [join(dir, 'run.sh')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHON: PY, PYTHONPATH: fakeTrainingStack(root) },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((res, rej) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.includes('training') && res()));
      child.once('exit', (c) => rej(new Error(`exited (${c}) before training: ${stderr}`)));
    });
    const code = await new Promise<number | null>((res) => {
      child.on('exit', (c) => res(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0, stderr);
    const runs = join(root, 'workspace', '.mrl', 'runs');
    mkdirSync(runs, { recursive: true });
    cpSync(dir, join(runs, '20250102-000000-elsewhere-beef'), { recursive: true });
    const store = new RunStore(runs);
    store.refresh();
    const s = store.get('20250102-000000-elsewhere-beef');
    assert.ok(s, 'listed');
    assert.equal(s.status, 'stopped');
    assert.equal(s.info.engine, 'sentence-transformers');
    assert.equal(s.info.name, 'elsewhere');
    assert.ok((s.info.step ?? 0) >= 3);
  });
});

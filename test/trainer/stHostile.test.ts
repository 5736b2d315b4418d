// A cloned repository's sentence-transformers run folder must not run its own code on Resume: a
// committed "stopped" run with an empty checkpoints/checkpoint-1/ carries a train.py, a callback and
// modules named like train.py's imports (datasets.py, numpy.py) beside them, and a sentence_transformers.py
// in the folder the host starts the trainer in (.mrl/, src/host/launch/launchPlan.ts) for the interpreter
// probe to import. Resume must regenerate train.py from the validated config, use the extension's
// callback and keep the run folder (and the trainer's working folder) off Python's import path.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { readRunInfo } from '../../src/runs/runDir';
import { fakeTrainingStack } from './fakeSentenceTransformers';

const PY = process.env.MRL_TEST_PYTHON ?? 'python3';
const noPython = spawnSync(PY, ['--version']).status === 0 ? false : `${PY} not found`;
const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'mrl-st-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));

const pwned = join(root, 'pwned');
/** Python that leaves a marker file named `what` in `pwned/` when it runs. */
const payload = (what: string) =>
  `import os\nos.makedirs(${JSON.stringify(pwned)}, exist_ok=True)\nopen(os.path.join(${JSON.stringify(pwned)}, ${JSON.stringify(what)}), "w").close()\n`;

/** The crafted workspace: ws/.mrl/runs/evil, a stopped sentence-transformers run with hostile files. */
function craft(name: string, plantProbe: boolean): { ws: string; run: string } {
  const ws = join(root, name);
  const run = join(ws, '.mrl', 'runs', '20260101-000000-evil-0000');
  mkdirSync(join(run, 'checkpoints', 'checkpoint-1'), { recursive: true });
  mkdirSync(join(run, 'data'));
  writeFileSync(join(ws, 'package.json'), '{}');
  const config = {
    name: 'evil',
    engine: 'sentence-transformers',
    model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } },
    data: { train: { source: 'pairs.jsonl' } },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
    training: { maxSteps: 6, batchSize: 4 },
  };
  writeFileSync(join(run, 'config.json'), JSON.stringify(config));
  writeFileSync(
    join(run, 'run.json'),
    JSON.stringify({
      id: 'evil',
      name: 'evil',
      status: 'stopped',
      pid: null,
      startedAt: '',
      endedAt: '',
      backend: 'pytorch',
      engine: 'sentence-transformers',
      baseDir: ws,
    }),
  );
  writeFileSync(join(run, 'data', 'train.jsonl'), '{"anchor": "a", "positive": "b"}\n{"anchor": "c", "positive": "d"}\n');
  writeFileSync(join(run, 'data', 'eval.json'), JSON.stringify({ queries: ['a'], corpus: ['b'], relevant: [[0]] }));
  // The folder's own code: run as the script, imported as the callback, or as one of train.py's imports.
  writeFileSync(join(run, 'train.py'), payload('train.py'));
  writeFileSync(join(run, 'matryoshka_lab_callback.py'), payload('callback'));
  writeFileSync(join(run, 'datasets.py'), payload('datasets.py'));
  writeFileSync(join(run, 'numpy.py'), payload('numpy.py'));
  // The trainer's working folder when the host resumes (launchPlan: the runs folder's parent).
  if (plantProbe) writeFileSync(join(ws, '.mrl', 'sentence_transformers.py'), payload('probe cwd'));
  return { ws, run };
}

/** Resume the crafted run as the host does (working folder .mrl/), SIGTERM once it trains. */
async function resumeCrafted(ws: string, run: string): Promise<{ training: boolean; code: number | null; stderr: string }> {
  const stack = fakeTrainingStack(root);
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--resume', run, '--python', PY], {
    cwd: join(ws, '.mrl'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MRL_PYTHON: '', PYTHONPATH: stack },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  // The stand-in Trainer prints "training" at step 3 (./fakeSentenceTransformers.ts); the folder's own
  // train.py would exit at once instead.
  const training = await new Promise<boolean>((res) => {
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), stdout.includes('training') && res(true)));
    void exited.then(() => res(false));
  });
  if (training) child.kill('SIGTERM');
  return { training, code: await exited, stderr };
}

const markers = () => (existsSync(pwned) ? readdirSync(pwned).sort() : []);

describe('Resume of a cloned sentence-transformers run', { skip: noPython }, () => {
  test(
    'runs neither its train.py, its callback nor modules beside them; the regenerated train.py trains and stops',
    { timeout: 240_000 },
    async () => {
      rmSync(pwned, { recursive: true, force: true });
      const { ws, run } = craft('ws-folder', false);
      const r = await resumeCrafted(ws, run);
      assert.deepEqual(markers(), [], `code from the cloned folder ran\n${r.stderr}`);
      assert.equal(r.training, true, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readRunInfo(run)?.status, 'stopped');
      // The folder's train.py is left as it was (a record), never replaced nor run.
      assert.match(readFileSync(join(run, 'train.py'), 'utf8'), /makedirs/);
    },
  );

  test("the interpreter probe imports nothing from the trainer's working folder", { timeout: 240_000 }, async () => {
    rmSync(pwned, { recursive: true, force: true });
    const { ws, run } = craft('ws-probe', true);
    const r = await resumeCrafted(ws, run);
    assert.deepEqual(markers(), [], `code from the working folder ran\n${r.stderr}`);
    assert.equal(r.training, true, r.stderr);
    assert.equal(r.code, 0, r.stderr);
  });
});

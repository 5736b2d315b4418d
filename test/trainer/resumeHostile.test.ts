// Resuming a run folder from elsewhere (a cloned repository) writes nothing outside it, whichever engine:
// a folder holding a link or a special file where the trainer reads or writes is refused before either
// engine opens anything of it (src/runs/resumeCheck.ts), and the files the links name stay as they were.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { resumeFolderProblem } from '../../src/runs/resumeCheck';

const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'mrl-resume-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));
const posix = process.platform !== 'win32';

const BUNDLED = {
  name: 'cloned',
  model: { scratch: { vocabSize: 50, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxSeqLength: 8 } },
  data: { train: { source: 'pairs.jsonl' } },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [8, 4] },
  training: { maxSteps: 4, batchSize: 2, keepBest: { metric: 'ndcg@10', dims: [8] } },
};
const ST = {
  name: 'cloned-st',
  engine: 'sentence-transformers',
  model: { pretrained: { path: 'sentence-transformers/all-MiniLM-L6-v2' } },
  data: { train: { source: 'pairs.jsonl' } },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
};

/** A stopped run folder as a trainer leaves it: config, run.json, metrics, log, a checkpoint (and data/ for ST). */
function stoppedRun(name: string, config: object = BUNDLED): string {
  const dir = join(root, name, 'ws', '.mrl', 'runs', `20260101-000000-${name}-0000`);
  mkdirSync(join(dir, 'checkpoints', 'step-2'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: name,
      name,
      status: 'stopped',
      pid: null,
      startedAt: '',
      endedAt: '',
      backend: 'cpu',
      baseDir: join(root, name, 'ws'),
    }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), JSON.stringify({ step: 1, epoch: 0, time: 1, split: 'train', values: { loss: 1 } }) + '\n');
  writeFileSync(join(dir, 'log.txt'), 'started\n');
  writeFileSync(join(dir, 'checkpoints', 'step-2', 'state.json'), '{"step": 2}');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'train.jsonl'), '{"anchor": "a", "positive": "b"}\n');
  return dir;
}

/** A folder of the user's, outside the workspace, and a way to tell it is as it was. */
function usersFolder(name: string): { dir: string; unchanged: () => void } {
  const dir = join(root, name, 'home');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, '.bashrc'), 'export PATH=$PATH\n');
  writeFileSync(join(dir, 'sub', 'config.json'), '{"precious": true}');
  const snap = () =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .sort()
      .map((p) => {
        const st = statSync(join(dir, p));
        return `${p} ${st.mtimeMs} ${st.isFile() ? readFileSync(join(dir, p), 'utf8') : ''}`;
      });
  const before = snap();
  return { dir, unchanged: () => assert.deepEqual(snap(), before) };
}

/** `--resume` as the host runs it (from the runs folder's parent); a deadline only to fail a hang. */
async function resume(runDir: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--resume', runDir], {
    cwd: join(runDir, '..', '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MRL_PYTHON: '' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearTimeout(timer);
  return { code, stderr };
}

describe('resume refuses a folder holding links or special files', { skip: posix ? false : 'symlinks, FIFOs and /dev/zero' }, () => {
  test('a folder as the trainers write it passes, own best-<dim> links included', () => {
    const dir = stoppedRun('plain');
    mkdirSync(join(dir, 'checkpoints', '.best-8-step-2-a1b2c3'));
    writeFileSync(join(dir, 'checkpoints', '.best-8-step-2-a1b2c3', 'state.json'), '{"step": 2}');
    symlinkSync('.best-8-step-2-a1b2c3', join(dir, 'checkpoints', 'best-8'));
    // The link a trainer killed while swapping best-8 left behind (the fault-injection test found it).
    symlinkSync('.best-8-step-2-a1b2c3', join(dir, 'checkpoints', 'best-8.tmp-4242'));
    mkdirSync(join(dir, 'model'));
    assert.equal(resumeFolderProblem(dir), undefined);
  });

  test('each place a resume writes or reads, linked out or special: refused, naming the entry', () => {
    const cases: Array<[string, (dir: string, home: string) => void, RegExp]> = [
      [
        'log-link',
        (d, h) => (rmSync(join(d, 'log.txt')), symlinkSync(join(h, '.bashrc'), join(d, 'log.txt'))),
        /^log\.txt in .* is a symbolic link, not a regular file/,
      ],
      [
        'metrics-link',
        (d, h) => (rmSync(join(d, 'metrics.jsonl')), symlinkSync(join(h, '.bashrc'), join(d, 'metrics.jsonl'))),
        /^metrics\.jsonl .* symbolic link/,
      ],
      ['model-link', (d, h) => symlinkSync(join(h, 'sub'), join(d, 'model')), /^model in .* is a symbolic link, not a folder/],
      [
        'checkpoints-link',
        (d, h) => (rmSync(join(d, 'checkpoints'), { recursive: true }), symlinkSync(h, join(d, 'checkpoints'))),
        /^checkpoints .* symbolic link, not a folder/,
      ],
      [
        'best-out',
        (d, h) => symlinkSync(relative(join(d, 'checkpoints'), h), join(d, 'checkpoints', 'best-8')),
        /^checkpoints\/best-8 in .* is a symbolic link:/,
      ],
      ['best-abs', (d, h) => symlinkSync(h, join(d, 'checkpoints', 'best-8')), /^checkpoints\/best-8 .* symbolic link/],
      [
        'best-tmp-out',
        (d, h) => symlinkSync(h, join(d, 'checkpoints', 'best-8.tmp-4242')),
        /^checkpoints\/best-8\.tmp-4242 .* symbolic link/,
      ],
      [
        'deep-link',
        (d, h) => symlinkSync(join(h, '.bashrc'), join(d, 'checkpoints', 'step-2', 'model.safetensors')),
        /^checkpoints\/step-2\/model\.safetensors .* symbolic link/,
      ],
      [
        'data-link',
        (d, h) => symlinkSync(join(h, 'sub', 'config.json'), join(d, 'data', 'eval.json')),
        /^data\/eval\.json .* symbolic link/,
      ],
      ['info-zero', (d) => (rmSync(join(d, 'run.json')), symlinkSync('/dev/zero', join(d, 'run.json'))), /^run\.json .* symbolic link/],
      ['lock-fifo', (d) => assert.equal(spawnSync('mkfifo', [join(d, '.lock')]).status, 0), /^\.lock in .* is a FIFO, not a regular file/],
      [
        'config-huge',
        (d) => writeFileSync(join(d, 'config.json'), ' '.repeat(9 * 1024 * 1024)),
        /^config\.json in .* is larger than a trainer writes it/,
      ],
    ];
    for (const [name, craft, expected] of cases) {
      const dir = stoppedRun(name);
      const home = usersFolder(name);
      craft(dir, home.dir);
      assert.match(resumeFolderProblem(dir) ?? 'passed', expected, name);
    }
  });

  test('the trainer CLI refuses before reading anything (exit 2), for either engine; the linked files stay as they were', async () => {
    for (const [name, config, file] of [
      ['cli-bundled', BUNDLED, 'log.txt'],
      ['cli-st', ST, 'metrics.jsonl'],
      ['cli-zero', BUNDLED, 'run.json'],
    ] as const) {
      const dir = stoppedRun(name, config);
      const home = usersFolder(name);
      rmSync(join(dir, file));
      symlinkSync(file === 'run.json' ? '/dev/zero' : join(home.dir, '.bashrc'), join(dir, file));
      // A keepBest link to the user's folder: the old best would be deleted by the link's text.
      symlinkSync(relative(join(dir, 'checkpoints'), home.dir), join(dir, 'checkpoints', 'best-8'));
      const r = await resume(dir);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error: not resuming: ${file.replace('.', '\\.')} in .* is a symbolic link`), name);
      home.unchanged();
      assert.equal(existsSync(join(dir, '.lock')), false, `${name}: no lock taken`);
      if (file !== 'run.json')
        assert.match(readFileSync(join(dir, 'run.json'), 'utf8'), /"status":"stopped"/, `${name}: run.json untouched`);
    }
  });
});

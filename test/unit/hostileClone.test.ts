// A cloned repository cannot hurt its user: each case is a crafted `.mrl/runs/` (or config) as an
// attacker would commit it, read or acted on by the real host code (a fake `vscode` only for the UI).
// The sentence-transformers Resume case is test/trainer/stHostile.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { touchedPaths } from './fsSpy';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';
import { MetricsTail } from '../../src/runs/tail';
import { isHostToWebviewMessage } from '../../src/protocol/panelMessages';
import { RunStore } from '../../src/runs/store';
import { panelRunOf } from '../../src/host/panel/panelRun';
import { validateText } from '../../src/host/configEditor/validateAdapter';

const restoreVscode = useFakeVscode();
const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'mrl-hostile-')));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const posix = process.platform !== 'win32';
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const CHILD = resolve('test/unit/hostileReads.child.ts');
const now = () => new Date().toISOString();
const info = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, name: id, status: 'completed', pid: null, startedAt: now(), endedAt: now(), backend: 'cpu', ...extra });
const line = (step: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ step, epoch: 0, time: step, split: 'train', values: { loss: 1 / step }, ...extra }) + '\n';

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, String(r.stderr));
}

function run(runs: string, id: string, files: Record<string, string> = {}): string {
  const d = join(runs, id);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'config.json'), JSON.stringify({ name: id, training: { batchSize: 4 } }));
  writeFileSync(join(d, 'run.json'), info(id));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

/** The host's reading of `runs` at activation, in a child process: its exit code and what it saw. */
async function readInChild(runs: string): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CHILD, runs], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // A generous deadline only to fail a hang (a FIFO blocks open() for ever).
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('exit', (c, s) => res([c, s])));
  clearTimeout(timer);
  return { code, signal, out, err };
}

type Seen = { id: string; status: string; readError?: string; notesProblem?: string; config: boolean; lock: number | null; events: number };

describe('reads: regular files only, sizes capped', { skip: posix ? false : 'FIFOs and /dev/zero are POSIX' }, () => {
  test('FIFOs named run.json, config.json, notes.json, .lock, metrics.jsonl or a trainer log, and an oversized run.json: the host neither hangs nor reads them', async () => {
    const runs = join(root, 'fifo', '.mrl', 'runs');
    mkdirSync(join(runs, '.logs'), { recursive: true });
    const a = run(runs, 'fifo-info');
    rmSync(join(a, 'run.json'));
    mkfifo(join(a, 'run.json'));
    const b = run(runs, 'fifo-config', { 'metrics.jsonl': line(1) });
    rmSync(join(b, 'config.json'));
    mkfifo(join(b, 'config.json'));
    mkfifo(join(run(runs, 'fifo-notes'), 'notes.json'));
    mkfifo(join(run(runs, 'fifo-lock'), '.lock'));
    mkfifo(join(run(runs, 'fifo-metrics'), 'metrics.jsonl'));
    run(runs, 'fifo-log');
    mkfifo(join(runs, '.logs', 'fifo-log.log'));
    // 2 MiB of valid JSON: more than any run.json a trainer writes (src/runs/safeRead.ts MAX_INFO_BYTES).
    run(runs, 'huge-info', { 'run.json': info('huge-info', { pad: 'x'.repeat(2 * 1024 * 1024) }) });
    run(runs, 'plain', { 'metrics.jsonl': line(1) + line(2) });
    const r = await readInChild(runs);
    assert.equal(r.signal, null, `the host hung (killed after the deadline)\n${r.err}`);
    assert.equal(r.code, 0, r.err);
    const seen = new Map((JSON.parse(r.out) as Seen[]).map((s) => [s.id, s]));
    assert.equal(seen.get('plain')!.events, 2, 'the others are read');
    assert.equal(seen.get('plain')!.status, 'completed');
    // No run.json that can be read: a folder being set up (config.json only), shown running, later stale.
    assert.equal(seen.get('fifo-info')!.status, 'running');
    assert.equal(seen.get('huge-info')!.status, 'running', 'an oversized run.json is not read');
    assert.equal(seen.get('fifo-config')!.config, false);
    assert.match(seen.get('fifo-notes')!.notesProblem ?? '', /FIFO, not a regular file/);
    assert.equal(seen.get('fifo-lock')!.lock, null);
    assert.match(seen.get('fifo-metrics')!.readError ?? '', /FIFO, not a regular file/);
  });

  test(
    'run.json, config.json, notes.json, .lock and metrics.jsonl linked to /dev/zero: the host stays up',
    { skip: existsSync('/dev/zero') ? false : 'no /dev/zero' },
    async () => {
      const runs = join(root, 'zero', '.mrl', 'runs');
      mkdirSync(runs, { recursive: true });
      const a = run(runs, 'zero-info');
      rmSync(join(a, 'run.json'));
      symlinkSync('/dev/zero', join(a, 'run.json'));
      const b = run(runs, 'zero-config', { 'metrics.jsonl': line(1) });
      rmSync(join(b, 'config.json'));
      symlinkSync('/dev/zero', join(b, 'config.json'));
      symlinkSync('/dev/zero', join(run(runs, 'zero-notes'), 'notes.json'));
      symlinkSync('/dev/zero', join(run(runs, 'zero-lock'), '.lock'));
      symlinkSync('/dev/zero', join(run(runs, 'zero-metrics'), 'metrics.jsonl'));
      // A link to a regular file outside is not followed either (its content would be shown as the run's).
      writeFileSync(join(root, 'secret.json'), JSON.stringify({ token: 'secret' }));
      const c = run(runs, 'linked-config');
      rmSync(join(c, 'config.json'));
      symlinkSync(join(root, 'secret.json'), join(c, 'config.json'));
      const r = await readInChild(runs);
      assert.equal(r.signal, null, r.err);
      assert.equal(r.code, 0, r.err);
      const seen = new Map((JSON.parse(r.out) as Seen[]).map((s) => [s.id, s]));
      assert.equal(seen.size, 6);
      assert.equal(seen.get('zero-config')!.config, false);
      assert.equal(seen.get('linked-config')!.config, false);
      assert.match(seen.get('zero-notes')!.notesProblem ?? '', /cannot read/);
      assert.equal(seen.get('zero-lock')!.lock, null);
    },
  );
});

describe('typed fields only', () => {
  test('run.json "error": {} does not blank the panel: the run still passes the webview guard', () => {
    const runs = join(root, 'typed', 'runs');
    run(runs, 'err-obj', {
      'run.json': info('err-obj', { status: 'failed', error: {}, step: 'x', sweep: { id: 's', index: 0, params: { a: [[1]] } } }),
    });
    run(runs, 'fine');
    const store = new RunStore(runs, () => false);
    store.refresh();
    const msg = { type: 'init', runs: store.list().map((r) => panelRunOf(r)) };
    assert.equal(isHostToWebviewMessage(msg), true, JSON.stringify(msg.runs));
    assert.equal(store.get('err-obj')!.info.error, undefined);
    assert.equal(store.get('err-obj')!.info.step, undefined);
  });

  test('a metrics line with a field nested 5,000 deep: read, and serialised for the replay without throwing', () => {
    const dir = join(root, 'typed', 'deep');
    mkdirSync(dir, { recursive: true });
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    writeFileSync(join(dir, 'metrics.jsonl'), line(1).replace(/}\n$/, `,"x":${deep}}\n`) + line(2));
    const t = new MetricsTail(join(dir, 'metrics.jsonl'));
    const lines = t.read(true).lines;
    assert.equal(lines.length, 2);
    // src/host/panel/panelHost.ts replays a run as JSON text, one line at a time.
    assert.doesNotThrow(() => lines.map((l) => JSON.stringify(l)));
    assert.deepEqual(Object.keys(lines[0]), ['step', 'epoch', 'time', 'split', 'values']);
  });
});

describe('the runs folder and its runs stay inside the workspace', { skip: posix ? false : 'symlinks' }, () => {
  const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
  const { Commands } = require('../../src/host/commands/commands') as typeof import('../../src/host/commands/commands');

  test('.mrl/runs -> a folder outside: nothing listed, the user told why; the outside folder untouched', async () => {
    const base = join(root, 'escape');
    const config = join(base, 'home', '.config');
    mkdirSync(join(config, 'SomeApp'), { recursive: true });
    writeFileSync(join(config, 'SomeApp', 'config.json'), '{"precious": true}');
    const ws = join(base, 'ws');
    mkdirSync(join(ws, '.mrl'), { recursive: true });
    symlinkSync('../../home/.config', join(ws, '.mrl', 'runs'));
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = {};
    vs.state.trusted = false;
    const problems: string[] = [];
    const model = new RunsModel((p) => problems.push(p));
    try {
      assert.deepEqual(
        model.list().map((r) => r.id),
        [],
        'nothing outside the workspace is listed',
      );
      assert.equal(model.dir, undefined);
      assert.match(problems[0] ?? '', /resolves to .*home[\\/]\.config, outside the workspace/);
      const cmds = new Commands(model, {} as never, { show() {} } as never, {} as never, '/ext');
      vs.state.modalAnswers = ['Delete'];
      await cmds.deleteRun('SomeApp');
      vs.state.modalAnswers = [];
      assert.equal(readFileSync(join(config, 'SomeApp', 'config.json'), 'utf8'), '{"precious": true}');
    } finally {
      model.dispose();
    }
  });

  test('a run folder that is a link to a folder outside is not listed (no notes written there, no delete)', () => {
    const base = join(root, 'linked-run');
    mkdirSync(join(base, 'outside', 'SomeApp'), { recursive: true });
    writeFileSync(join(base, 'outside', 'SomeApp', 'config.json'), '{}');
    const ws = join(base, 'ws');
    const runs = join(ws, '.mrl', 'runs');
    run(runs, 'real');
    symlinkSync(join(base, 'outside', 'SomeApp'), join(runs, 'SomeApp'));
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = {};
    const model = new RunsModel();
    try {
      assert.deepEqual(
        model.list().map((r) => r.id),
        ['real'],
      );
    } finally {
      model.dispose();
    }
  });

  test('.mrl/runs/.logs linked out: Delete Run removes the run, not <link>/<id>.log; a launch is refused and writes nothing there', async () => {
    const base = join(root, 'logs-link');
    const outside = join(base, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'r1.log'), 'the user’s log');
    const ws = join(base, 'ws');
    const runs = join(ws, '.mrl', 'runs');
    run(runs, 'r1');
    const r2 = run(runs, 'r2', { 'run.json': info('r2', { status: 'stopped' }) });
    mkdirSync(join(r2, 'checkpoints', 'step-1'), { recursive: true });
    symlinkSync(outside, join(runs, '.logs'));
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = {};
    vs.state.trusted = true;
    vs.state.messages = [];
    const model = new RunsModel();
    const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
    const out = { appendLine() {}, show() {} } as unknown as import('vscode').OutputChannel;
    const launcher = new Launcher(
      join(base, 'ext'),
      model,
      out,
      async () => ({ ok: false, problems: [] }),
      () => {},
    );
    try {
      assert.equal(await launcher.resume(model.get('r2')!), true, 'queued');
      assert.match(vs.state.messages.at(-1)?.text ?? '', /could not resume r2: .*\.logs is a symbolic link/);
      assert.deepEqual(readdirSync(outside), ['r1.log'], 'no output file created through the link');
      const cmds = new Commands(model, launcher, { show() {} } as never, {} as never, '/ext');
      vs.state.modalAnswers = ['Delete'];
      await cmds.deleteRun('r1');
      vs.state.modalAnswers = [];
      assert.equal(existsSync(join(runs, 'r1')), false, 'the run is deleted');
      assert.equal(readFileSync(join(outside, 'r1.log'), 'utf8'), 'the user’s log');
    } finally {
      launcher.dispose();
      model.dispose();
    }
  });

  test('Delete Run confirms with the real path of the folder it removes', async () => {
    const base = join(root, 'real-path');
    const ws = join(base, 'ws');
    run(join(ws, '.mrl', 'runs'), 'r1');
    // The workspace opened through a link: the confirmation names where the files really are.
    symlinkSync(ws, join(base, 'ws-link'));
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(join(base, 'ws-link')) }];
    vs.state.settings = {};
    vs.state.messages = [];
    const model = new RunsModel();
    try {
      const cmds = new Commands(model, {} as never, { show() {} } as never, {} as never, '/ext');
      vs.state.modalAnswers = [undefined]; // dismissed
      await cmds.deleteRun('r1');
      const text = vs.state.messages.at(-1)?.text ?? '';
      assert.ok(text.includes(join(ws, '.mrl', 'runs', 'r1')), text);
      assert.ok(existsSync(join(ws, '.mrl', 'runs', 'r1')));
    } finally {
      model.dispose();
    }
  });
});

describe(
  'Stop signals only the trainer of the run',
  { skip: process.platform === 'linux' ? false : 'the binding is read from /proc' },
  () => {
    const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
    const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');

    const idle = 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1e9);';
    function start(args: string[]): ChildProcess {
      const c = spawn(process.execPath, args, { stdio: 'ignore' });
      children.push(c);
      return c;
    }
    const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    async function argvShown(c: ChildProcess, word: string): Promise<void> {
      // /proc/<pid>/cmdline shows the new argv once exec is done.
      for (
        const end = Date.now() + 60_000;
        !readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').includes(word);
        await new Promise((r) => setTimeout(r, 10))
      )
        assert.ok(Date.now() < end, `hang guard: pid ${c.pid} never showed its argv`);
    }

    test('a committed "running" sweep naming foreign pids: Stop Sweep (trusted mode) signals none of them, only the bound trainer', async () => {
      const base = join(root, 'stop');
      const ext = join(base, 'ext');
      mkdirSync(join(ext, 'dist'), { recursive: true });
      writeFileSync(join(ext, 'dist', 'trainer.js'), idle);
      const ws = join(base, 'ws');
      const runs = join(ws, '.mrl', 'runs');
      const sweep = { id: 'evil-sweep', index: 0, params: {} };
      const running = (id: string, pid: number, extra: Record<string, unknown> = {}) =>
        run(runs, id, { 'run.json': info(id, { status: 'running', pid, endedAt: null, sweep, ...extra }) });
      // Foreign processes: one whose command line mentions "trainer", one whose command line run.json
      // declares, and a real trainer of another run folder.
      const v1 = start(['-e', idle, 'my-trainer-helper']);
      const v2 = start(['-e', idle, 'declared']);
      const other = join(runs, 'other-run');
      const v3 = start([join(ext, 'dist', 'trainer.js'), '--resume', other]);
      // The trainer of this very run, found after a reload (not the host's child).
      const ownDir = join(runs, 'own');
      const ok = start([join(ext, 'dist', 'trainer.js'), '--resume', ownDir]);
      for (const [c, w] of [
        [v1, 'trainer'],
        [v2, 'declared'],
        [v3, 'other-run'],
        [ok, 'own'],
      ] as const)
        await argvShown(c, w);
      running('a-v1', v1.pid!);
      running('b-v2', v2.pid!, { cmdline: readFileSync(`/proc/${v2.pid}/cmdline`, 'utf8').replace(/\0$/, '') });
      running('c-v3', v3.pid!);
      running('own', ok.pid!);
      run(runs, 'other-run');
      vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
      vs.state.settings = { stopGraceSeconds: 1 };
      vs.state.trusted = true;
      vs.state.messages = [];
      const model = new RunsModel();
      const out = { appendLine() {}, show() {} } as unknown as import('vscode').OutputChannel;
      const launcher = new Launcher(
        ext,
        model,
        out,
        async () => ({ ok: false, problems: [] }),
        () => {},
      );
      const kill = process.kill;
      const signalled: number[] = [];
      try {
        assert.deepEqual(
          model
            .live()
            .map((r) => r.id)
            .sort(),
          ['a-v1', 'b-v2', 'c-v3', 'own'],
          'all four show as running (liveness is not what decides a signal)',
        );
        process.kill = ((pid: number, sig?: string | number) => {
          if (sig !== 0) signalled.push(pid);
          return kill.call(process, pid, sig);
        }) as typeof process.kill;
        launcher.stopSweep('evil-sweep');
        process.kill = kill;
        assert.deepEqual(signalled, [ok.pid], 'only the trainer whose argv names this run folder');
        await new Promise<void>((res) => (alive(ok) ? ok.once('exit', () => res()) : res()));
        assert.ok(alive(v1) && alive(v2) && alive(v3), 'the foreign processes live on');
        assert.equal(vs.state.messages.filter((m) => /is not the trainer of this run/.test(m.text)).length, 3);
      } finally {
        process.kill = kill;
        launcher.dispose();
        model.dispose();
      }
    });
  },
);

describe('editor validation', () => {
  test('a swept data path outside the workspace is not probed: a note on that value', () => {
    const ws = join(root, 'sweep-ws');
    const outside = join(root, 'sweep-outside');
    mkdirSync(join(ws, 'data'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(ws, 'data', 'in.jsonl'), '{"anchor": "a", "positive": "b"}\n');
    const text = JSON.stringify({
      name: 's',
      model: { scratch: { hiddenSize: 32, numLayers: 1, numHeads: 2, intermediateSize: 64 } },
      loss: { type: 'MatryoshkaLoss', matryoshkaDims: [32, 16], loss: { type: 'MultipleNegativesRankingLoss' } },
      data: { train: { source: 'data/in.jsonl' } },
      sweep: { method: 'grid', parameters: { 'data.train.source': ['data/in.jsonl', join(outside, 'secret.jsonl')] } },
    });
    let v!: ReturnType<typeof validateText>;
    const paths = touchedPaths(() => (v = validateText(text, join(ws, 'a.mrl.json'), [ws])));
    assert.deepEqual(
      paths.filter((p) => p.startsWith(outside)),
      [],
      `probed outside: ${paths.join(', ')}`,
    );
    assert.deepEqual(
      v.errors.filter((e) => e.keyword === 'outsideWorkspace').map((e) => e.path),
      ['/sweep/parameters/data.train.source/1'],
    );
  });
});

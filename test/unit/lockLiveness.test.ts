// Issue 22 §3, liveness: where a run folder holds a lock, readers judge the run by it (exact pid and
// command line, as Stop does), not by run.json's pid and a loose command-line test; and a lock written
// on another machine (a runs folder on a shared file system) is never judged dead, nor its pid
// signalled, from this one.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { removeAbandonedCreations } from '../../src/runs/runWriter';
import { RunStore } from '../../src/runs/store';
import { liveLockHolder, lockHolderAlive } from '../../src/runs/trainerProcess';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-lock-liveness-'));
const isLinux = process.platform === 'linux';
const OTHER_HOST = `not-${hostname()}.example`;
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/**
 * A live process whose command line says "trainer" (what the loose test looks for) and that is no
 * trainer; it prints "ready" once it answers SIGWINCH with "alive".
 */
async function lookalike(): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(
    process.execPath,
    ['-e', "process.on('SIGWINCH', () => console.log('alive')); console.log('ready'); setInterval(() => {}, 1e9)", 'fake-trainer'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  await new Promise<void>((r, j) => {
    child.stdout!.on('data', () => lines.includes('ready') && r());
    child.on('exit', () => j(new Error('the look-alike exited')));
  });
  return { child, lines };
}

function makeRun(runsDir: string, id: string, pid: number, lock?: Record<string, unknown>): string {
  const d = join(runsDir, id);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'config.json'), JSON.stringify({ name: id }));
  writeFileSync(
    join(d, 'run.json'),
    JSON.stringify({ id, name: id, status: 'running', pid, startedAt: '2026-01-01T00:00:00Z', endedAt: null, backend: 'cpu' }),
  );
  if (lock) writeFileSync(join(d, '.lock'), JSON.stringify(lock) + '\n');
  return d;
}

test(
  'a run whose lock names a dead trainer is failed, though run.json names a live process that looks like a trainer',
  { skip: !isLinux },
  async () => {
    const { child } = await lookalike();
    try {
      const runs = join(root, 'reused');
      makeRun(runs, 'r', child.pid!, { pid: deadPid(), cmdline: 'node\0dist/trainer.js', since: '', host: hostname() });
      const store = new RunStore(runs);
      store.refresh();
      assert.equal(store.get('r')!.status, 'failed');
      assert.equal(store.get('r')!.died, true);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

test('a run whose lock was written on another machine is running here, whatever its pid means on this one', () => {
  const runs = join(root, 'foreign');
  const pid = deadPid();
  const d = makeRun(runs, 'r', pid, { pid, cmdline: 'node\0dist/trainer.js', since: '', host: OTHER_HOST });
  const store = new RunStore(runs);
  store.refresh();
  assert.equal(store.get('r')!.status, 'running');
  const lock = JSON.parse(readFileSync(join(d, '.lock'), 'utf8')) as { pid: number; host: string };
  assert.equal(lockHolderAlive(lock), true, 'held: it cannot be judged from here');
  assert.equal(liveLockHolder(d), undefined, 'no pid of this machine to signal');
});

test(
  'Stop Run on a run whose lock was written on another machine signals nothing here, and says so',
  { skip: !isLinux, timeout: 30_000 },
  async () => {
    const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
    const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
    const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
    const { child, lines } = await lookalike();
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    const ws = join(root, 'ws');
    const ext = join(root, 'ext');
    mkdirSync(join(ext, 'dist'), { recursive: true });
    writeFileSync(join(ext, 'dist', 'trainer.js'), '');
    // The same pid and command line as a process of this machine: only the host tells them apart.
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replace(/\0$/, '');
    makeRun(join(ws, '.mrl/runs'), 'r', child.pid!, { pid: child.pid, cmdline, since: '', host: OTHER_HOST });
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = { maxConcurrentRuns: 1, defaultBackend: 'cpu', stopGraceSeconds: 30 };
    vs.state.trusted = true;
    vs.state.messages.length = 0;
    const model = new RunsModel();
    const out = { appendLine() {}, show() {} } as unknown as import('vscode').OutputChannel;
    const launcher = new Launcher(
      ext,
      model,
      out,
      async () => ({ ok: true, raw: {}, problems: [] }),
      () => {},
    );
    try {
      assert.equal(model.get('r')!.status, 'running');
      launcher.stop('r');
      // A signal sent by stop() is delivered before this one (lower number, sent first): the look-alike
      // answers only if SIGTERM never came.
      process.kill(child.pid!, 'SIGWINCH');
      let poll: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        new Promise<string>((r) => (poll = setInterval(() => lines.includes('alive') && r('alive'), 10))),
        exited.then((sig) => `exited (${sig})`),
      ]).finally(() => clearInterval(poll));
      assert.equal(answered, 'alive');
      assert.ok(
        vs.state.messages.some((m) => m.level === 'warning' && m.text.includes(OTHER_HOST)),
        JSON.stringify(vs.state.messages),
      );
    } finally {
      launcher.dispose();
      model.dispose();
      child.kill('SIGKILL');
    }
  },
);

test('a run another machine is creating in a shared runs folder is not removed as abandoned; a dead one of this machine is', () => {
  const runs = join(root, 'creating');
  const pid = deadPid();
  const theirs = join(runs, `.20260101-000000-a-0000.creating-${pid}`);
  const ours = join(runs, `.20260101-000000-b-0000.creating-${pid}`);
  for (const [d, host] of [
    [theirs, OTHER_HOST],
    [ours, hostname()],
  ]) {
    mkdirSync(join(d, 'checkpoints'), { recursive: true });
    writeFileSync(join(d, '.lock'), JSON.stringify({ pid, cmdline: 'x', since: '', host }) + '\n');
  }
  assert.deepEqual(removeAbandonedCreations(runs), [`.20260101-000000-b-0000.creating-${pid}`]);
  assert.ok(existsSync(theirs));
});

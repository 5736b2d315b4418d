// Stop Run escalation (SIGTERM → grace → SIGKILL → run.json rewritten) with real child processes, and
// the Restricted Mode guard that only signals our own trainers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  isOurTrainer,
  isPidAlive,
  isTrainerCommandLine,
  mayBeTrainerCommandLine,
  pidExists,
  readProcCmdline,
} from '../../src/runs/trainerProcess';
import { killedMessage, markKilled, stopProcess } from '../../src/runs/stop';
import { useFakeVscode } from './fakeVscode';

const root = mkdtempSync(join(tmpdir(), 'mrl-stop-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

// A trainer stand-in: writes run.json (running, its pid), then either ignores SIGTERM or honours it.
const SCRIPT = String.raw`
const fs = require('fs'), path = require('path');
const dir = process.argv[2], mode = process.argv[3];
const write = (status) => { const t = path.join(dir, 'run.json.tmp'); fs.writeFileSync(t, JSON.stringify({ id: 'r', name: 'r', status, pid: process.pid, startedAt: new Date().toISOString(), endedAt: null, backend: 'fake', step: 3 })); fs.renameSync(t, path.join(dir, 'run.json')); };
process.on('SIGTERM', () => { if (mode === 'polite') { write('stopped'); process.exit(0); } });
write('running');
console.log('ready');
setInterval(() => {}, 1000);
`;

async function startChild(mode: 'stubborn' | 'polite'): Promise<{ child: ChildProcess; dir: string }> {
  const dir = join(root, `${mode}-${children.length}`);
  mkdirSync(dir, { recursive: true });
  const script = join(root, 'fake-trainer.js');
  writeFileSync(script, SCRIPT);
  const child = spawn(process.execPath, [script, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  // Wait until its SIGTERM handler is installed.
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
    child.on('exit', () => reject(new Error('child exited early')));
  });
  return { child, dir };
}

const runJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));

describe('stop escalation', () => {
  test('a trainer that ignores SIGTERM is SIGKILLed after the grace; run.json says stopped by SIGKILL', { timeout: 20000 }, async () => {
    const { child, dir } = await startChild('stubborn');
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    // What stopProcess does, in order: the signals it sends and what it sees of the process meanwhile.
    const seen: string[] = [];
    const kill = (pid: number, sig: NodeJS.Signals) => {
      seen.push(sig);
      process.kill(pid, sig);
    };
    const alive = (pid: number) => {
      const a = pidExists(pid);
      if (seen.at(-1) !== (a ? 'alive' : 'gone')) seen.push(a ? 'alive' : 'gone');
      return a;
    };
    const endedAt = new Date('2026-02-03T04:05:06.000Z');
    const o = await stopProcess({ pid: child.pid!, runDir: dir, graceMs: 400, pollMs: 20, kill, alive, now: () => endedAt });
    assert.equal(o.signal, 'SIGKILL');
    assert.ok(o.exited);
    assert.ok(o.rewrote);
    // SIGTERM first; SIGKILL only once the grace is over with the process still there; then confirmed gone.
    assert.deepEqual(seen.slice(0, 3), ['SIGTERM', 'alive', 'SIGKILL'], seen.join(' '));
    assert.equal(seen.at(-1), 'gone', seen.join(' '));
    assert.equal(await exited, 'SIGKILL');
    assert.equal(pidExists(child.pid!), false);
    const info = runJson(dir);
    assert.equal(info.status, 'stopped');
    assert.equal(info.stopSignal, 'SIGKILL');
    assert.equal(info.error, 'did not stop within 0.4 s of SIGTERM; killed');
    assert.equal(info.pid, child.pid, 'other fields kept');
    assert.equal(info.step, 3);
    assert.equal(info.endedAt, endedAt.toISOString());
    assert.equal(killedMessage(30_000), 'did not stop within 30 s of SIGTERM; killed');
  });

  test('a trainer that honours SIGTERM is not killed and its own run.json is left alone', { timeout: 120_000 }, async () => {
    const { child, dir } = await startChild('polite');
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    // A grace far longer than the child needs: it only bounds a hang; the child exits as soon as it can.
    const o = await stopProcess({ pid: child.pid!, runDir: dir, graceMs: 60_000, pollMs: 20 });
    assert.deepEqual(o, { signal: 'SIGTERM', exited: true, rewrote: false });
    assert.equal(await exited, null);
    const info = runJson(dir);
    assert.equal(info.status, 'stopped');
    assert.equal(info.stopSignal, undefined);
  });

  test('no SIGKILL when the pid no longer is the process asked to stop (pid reuse)', { timeout: 20000 }, async () => {
    const { child, dir } = await startChild('stubborn');
    const o = await stopProcess({ pid: child.pid!, runDir: dir, graceMs: 100, pollMs: 20, stillSame: () => false });
    assert.equal(o.signal, 'SIGTERM');
    assert.equal(o.exited, false);
    assert.match(o.message!, /not killed/);
    assert.ok(pidExists(child.pid!));
    assert.equal(runJson(dir).status, 'running');
    child.kill('SIGKILL');
  });

  test('markKilled keeps a final status the trainer wrote; writes a missing run.json', () => {
    const d = join(root, 'mk');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'run.json'), JSON.stringify({ status: 'completed' }));
    assert.equal(markKilled(d, 'm', new Date()), false);
    assert.equal(runJson(d).status, 'completed');
    rmSync(join(d, 'run.json'));
    assert.equal(markKilled(d, 'm', new Date(0)), true);
    assert.deepEqual(runJson(d), { status: 'stopped', endedAt: '1970-01-01T00:00:00.000Z', stopSignal: 'SIGKILL', error: 'm' });
  });
});

describe('isOurTrainer (Restricted Mode stop guard)', () => {
  test('Linux: by command line; other platforms: cannot tell', () => {
    const cmd =
      (...a: string[]) =>
      () =>
        a.join('\0') + '\0';
    assert.equal(isOurTrainer(42, 'linux', cmd('/usr/bin/node', '/home/u/.vscode/extensions/m/dist/trainer.js', '--config', 'x')), true);
    assert.equal(isOurTrainer(42, 'linux', cmd('node', '--import', 'tsx', 'src/trainer/cli/main.ts', '--resume', 'd')), true);
    assert.equal(isOurTrainer(42, 'linux', cmd('C:\\ext\\dist\\trainer.js')), true);
    assert.equal(isOurTrainer(42, 'linux', cmd('/usr/bin/code', '--type=renderer')), false);
    assert.equal(isOurTrainer(42, 'linux', cmd('node', '/tmp/dist/trainer.js.evil')), false);
    assert.equal(isOurTrainer(42, 'linux', cmd('python', '-c', 'print("dist/trainer.js")')), false);
    assert.equal(
      isOurTrainer(42, 'linux', () => undefined),
      false,
      'no such process',
    );
    assert.equal(isOurTrainer(0, 'linux', cmd('dist/trainer.js')), false);
    assert.equal(isOurTrainer(-1, 'linux'), false);
    assert.equal(isOurTrainer(42, 'darwin', cmd('dist/trainer.js')), undefined);
    assert.equal(isOurTrainer(42, 'win32', cmd('dist/trainer.js')), undefined);
    if (process.platform === 'linux') assert.equal(isOurTrainer(process.pid), false, 'the test runner is not a trainer');
  });

  test('Launcher.stop in Restricted Mode does not signal a pid that is not our trainer', { timeout: 20000 }, async () => {
    const restoreVscode = useFakeVscode();
    const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
    const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
    const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
    // A "cloned" run folder whose run.json names an unrelated live process (its cmdline has no trainer).
    const victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(victim);
    const ws = join(root, 'ws');
    const runDir = join(ws, '.mrl/runs/cloned');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'config.json'), '{}');
    writeFileSync(
      join(runDir, 'run.json'),
      JSON.stringify({ id: 'cloned', name: 'cloned', status: 'running', pid: victim.pid, startedAt: '', endedAt: null, backend: 'cpu' }),
    );
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
    vs.state.settings = { stopGraceSeconds: 1 };
    vs.state.trusted = false;
    const model = new RunsModel();
    const lines: string[] = [];
    const out = { appendLine: (l: string) => void lines.push(l), show() {} } as unknown as import('vscode').OutputChannel;
    const launcher = new Launcher(
      join(root, 'ext'),
      model,
      out,
      async () => ({ ok: false, problems: [] }),
      () => {},
    );
    // Every signal sent while stop() decides (a stop that goes ahead sends SIGTERM before stop() returns).
    const kill = process.kill;
    const signalled: [number, string | number | undefined][] = [];
    try {
      model.refresh();
      // Our liveness check already shows it failed on Linux (not a trainer); the guard holds regardless.
      const r = model.get('cloned')!;
      (r as { status: string }).status = 'running';
      process.kill = ((pid: number, sig?: string | number) => {
        if (sig !== 0) signalled.push([pid, sig]);
        return kill.call(process, pid, sig);
      }) as typeof process.kill;
      const handled = launcher.stop('cloned');
      process.kill = kill;
      assert.equal(handled, true);
      const msg = vs.state.messages.at(-1)!;
      assert.equal(msg.level, 'warning');
      assert.match(msg.text, process.platform === 'linux' ? /is not the trainer of this run/ : /cannot tell/);
      // stop() returned through the guard: no stop was started (nothing is stopping), no signal went out.
      assert.deepEqual(
        lines.filter((l) => l.startsWith('[cloned]')).map((l) => l.replace(/:.*/, '')),
        ['[cloned] not stopped'],
      );
      assert.deepEqual(signalled, [], 'the unrelated process was not signalled');
      assert.ok(pidExists(victim.pid!));
      assert.equal(victim.signalCode, null);
    } finally {
      process.kill = kill;
      vs.state.trusted = true;
      launcher.dispose();
      model.dispose();
      restoreVscode();
    }
  });
});

describe('Stop follows the run lock (pid reuse across runs)', () => {
  test(
    "a run.json pid that the run's .lock does not name is never signalled, even in a trusted workspace",
    { timeout: 20000 },
    async () => {
      const restoreVscode = useFakeVscode();
      const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
      const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
      const { Launcher } = require('../../src/host/launch/launcher') as typeof import('../../src/host/launch/launcher');
      // Run X was killed with -9; its pid now belongs to another run's trainer (a "trainer" command line).
      const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'other-trainer'], { stdio: 'ignore' });
      children.push(other);
      const ws = join(root, 'ws-lock');
      const runDir = join(ws, '.mrl/runs/x');
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, 'config.json'), '{}');
      writeFileSync(
        join(runDir, 'run.json'),
        JSON.stringify({ id: 'x', name: 'x', status: 'running', pid: other.pid, startedAt: '', endedAt: null, backend: 'cpu' }),
      );
      // X's own lock, left by its dead trainer: it names a pid that is gone.
      writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid: 999_999_998, cmdline: 'node\0/x/dist/trainer.js', since: '' }));
      vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
      vs.state.settings = { stopGraceSeconds: 1 };
      vs.state.trusted = true;
      const model = new RunsModel();
      const lines: string[] = [];
      const out = { appendLine: (l: string) => void lines.push(l), show() {} } as unknown as import('vscode').OutputChannel;
      const launcher = new Launcher(
        join(root, 'ext'),
        model,
        out,
        async () => ({ ok: false, problems: [] }),
        () => {},
      );
      // Every signal sent while stop() decides (a stop that goes ahead sends SIGTERM before stop() returns).
      const kill = process.kill;
      const signalled: [number, string | number | undefined][] = [];
      try {
        model.refresh();
        const r = model.get('x')!;
        (r as { status: string }).status = 'running';
        process.kill = ((pid: number, sig?: string | number) => {
          if (sig !== 0) signalled.push([pid, sig]);
          return kill.call(process, pid, sig);
        }) as typeof process.kill;
        const handled = launcher.stop('x');
        process.kill = kill;
        assert.equal(handled, true);
        assert.match(vs.state.messages.at(-1)!.text, /does not hold the run's lock/);
        // stop() returned through the lock guard: no stop was started, no signal went out.
        assert.deepEqual(
          lines.filter((l) => l.startsWith('[x]')).map((l) => l.replace(/:.*/, '')),
          ['[x] not stopped'],
        );
        assert.deepEqual(signalled, [], "the other run's trainer was not signalled");
        assert.ok(pidExists(other.pid!));
        assert.equal(other.signalCode, null);
      } finally {
        process.kill = kill;
        launcher.dispose();
        model.dispose();
        restoreVscode();
      }
    },
  );

  test('markKilled leaves a run.json that names another pid (the run was resumed meanwhile)', () => {
    const dir = join(root, 'mk-other');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: 'r', status: 'running', pid: 222 }));
    assert.equal(markKilled(dir, 'killed', new Date(), 111), false);
    assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'running');
    assert.equal(markKilled(dir, 'killed', new Date(), 222), true);
    assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'stopped');
  });
});

describe('one module asks about pids (src/runs/process)', () => {
  test('the exact trainer test (signals) and the loose one (liveness) on command lines', () => {
    const c = (...a: string[]) => a.join('\0');
    assert.equal(isTrainerCommandLine(c('node', '/x/dist/trainer.js')), true);
    assert.equal(isTrainerCommandLine(c('node', '/tmp/fake-trainer.js')), false);
    assert.equal(mayBeTrainerCommandLine(c('node', '/tmp/fake-trainer.js')), true);
    assert.equal(mayBeTrainerCommandLine(c('node', '/x/dist/trainer.js')), true);
    assert.equal(mayBeTrainerCommandLine(c('/usr/bin/code', '--type=renderer')), false);
  });
  test('isPidAlive: no such pid, a live non-trainer (Linux: not alive for a run), unknown platforms trust kill(0)', () => {
    assert.equal(isPidAlive(0), false);
    assert.equal(isPidAlive(-3), false);
    assert.equal(isPidAlive(999_999_999), false);
    if (process.platform === 'linux') assert.equal(isPidAlive(process.pid, 'linux'), /trainer/i.test(readProcCmdline(process.pid) ?? ''));
    assert.equal(isPidAlive(process.pid, 'darwin'), true);
  });
});

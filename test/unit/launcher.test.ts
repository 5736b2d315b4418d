import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { backendFlag, LaunchQueue, launchPlan } from '../../src/host/launch/launchPlan';
import { isPidAlive } from '../../src/runs/trainerProcess';

const tmp = mkdtempSync(join(tmpdir(), 'mrl-launch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('launch plan', () => {
  const base = {
    execPath: '/opt/vscode/code',
    trainerJs: '/ext/dist/trainer.js',
    env: { PATH: '/bin', NODE_OPTIONS: '--inspect', ELECTRON_RUN_AS_NODE: '1' },
  };
  test('the extension host runtime as Node: ELECTRON_RUN_AS_NODE=1, no inherited NODE_OPTIONS', () => {
    const p = launchPlan({ ...base, nodePath: '', mode: { kind: 'start', configFile: '/ws/cfg/a.mrl.json', runDir: '/ws/.mrl/runs/x' } });
    assert.equal(p.command, '/opt/vscode/code');
    assert.deepEqual(p.args, ['/ext/dist/trainer.js', '--config', '/ws/cfg/a.mrl.json', '--out', '/ws/.mrl/runs/x']);
    assert.equal(p.env.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(p.env.NODE_OPTIONS, undefined);
    assert.equal(p.cwd, '/ws/cfg');
  });
  test('a configured Node; resume; backend flag', () => {
    const p = launchPlan({ ...base, nodePath: '/usr/bin/node', mode: { kind: 'resume', runDir: '/ws/.mrl/runs/x' } });
    assert.equal(p.command, '/usr/bin/node');
    assert.deepEqual(p.args, ['/ext/dist/trainer.js', '--resume', '/ws/.mrl/runs/x']);
    assert.equal(p.env.ELECTRON_RUN_AS_NODE, undefined);
    const q = launchPlan({ ...base, nodePath: '', mode: { kind: 'start', configFile: '/a.mrl.json', runDir: '/r', backend: 'wasm' } });
    assert.deepEqual(q.args.slice(-2), ['--backend', 'wasm']);
  });
  test('the workers setting becomes --workers unless it is auto', () => {
    const start = { kind: 'start' as const, configFile: '/a.mrl.json', runDir: '/r' };
    assert.deepEqual(launchPlan({ ...base, nodePath: '', mode: start, workers: '1' }).args.slice(-2), ['--workers', '1']);
    assert.deepEqual(launchPlan({ ...base, nodePath: '', mode: { kind: 'resume', runDir: '/r' }, workers: '0' }).args.slice(-2), [
      '--workers',
      '0',
    ]);
    assert.ok(!launchPlan({ ...base, nodePath: '', mode: start, workers: 'auto' }).args.includes('--workers'));
  });
  test('the pythonPath setting reaches the trainer as MRL_PYTHON (engine sentence-transformers); empty leaves the default', () => {
    const start = { kind: 'start' as const, configFile: '/a.mrl.json', runDir: '/r' };
    assert.equal(launchPlan({ ...base, nodePath: '', mode: start, pythonPath: '/venv/bin/python' }).env.MRL_PYTHON, '/venv/bin/python');
    assert.equal(launchPlan({ ...base, env: {}, nodePath: '', mode: start, pythonPath: '' }).env.MRL_PYTHON, undefined);
  });
  test('the backend setting applies only to configs that do not choose one', () => {
    assert.equal(backendFlag({ name: 'x' }, 'cpu'), 'cpu');
    assert.equal(backendFlag({ backend: 'wasm' }, 'cpu'), undefined);
    assert.equal(backendFlag({}, 'auto'), undefined);
  });
  test('queue: extra runs wait for a free slot, in order', () => {
    const q = new LaunchQueue<string>();
    q.push('a');
    q.push('b');
    q.push('c');
    assert.deepEqual(q.take(1, 1), []);
    assert.deepEqual(q.take(0, 2), ['a', 'b']);
    assert.equal(q.remove('c'), true);
    assert.equal(q.length, 0);
  });
});

describe('detached trainer', () => {
  test('outlives the process that launched it (a window reload), output goes to a file', { timeout: 120_000 }, async () => {
    // A "host" process spawns a fake trainer through spawnDetached and exits at once. The trainer finishes
    // only when the test says so (a `go` file), after it has been seen alive with its launcher gone.
    const out = join(tmp, 'trainer.log');
    const done = join(tmp, 'done');
    const go = join(tmp, 'go');
    const fake = join(tmp, 'fake-trainer.js');
    writeFileSync(
      fake,
      `const fs = require('fs'); console.log('started', process.pid);
       const t = setInterval(() => { if (!fs.existsSync(${JSON.stringify(go)})) return; clearInterval(t); fs.writeFileSync(${JSON.stringify(done)}, 'ok'); console.log('finished'); }, 20);
       setTimeout(() => process.exit(1), 300000).unref();`,
    );
    const host = join(tmp, 'host.ts');
    writeFileSync(
      host,
      `import { spawnDetached } from ${JSON.stringify(join(process.cwd(), 'src/host/launch/launchPlan.ts'))};
       const c = spawnDetached({ command: process.execPath, args: [${JSON.stringify(fake)}], env: process.env, cwd: ${JSON.stringify(tmp)} }, ${JSON.stringify(out)});
       console.log(c.pid);`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', host], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(r.stdout.trim().split('\n').pop());
    assert.ok(pid > 0);
    assert.equal(isPidAlive(pid), true, 'the trainer is still running after its launcher exited');
    writeFileSync(go, '');
    // Generous deadlines, only to fail a hang.
    const waitFor = async (what: string, cond: () => boolean) => {
      for (const end = Date.now() + 60_000; !cond(); await new Promise((res) => setTimeout(res, 20)))
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    };
    await waitFor('the trainer to finish', () => existsSync(done));
    assert.equal(readFileSync(done, 'utf8'), 'ok');
    await waitFor('its last line in the output file', () => /finished/.test(readFileSync(out, 'utf8')));
    assert.match(readFileSync(out, 'utf8'), /started \d+\nfinished/);
  });
});

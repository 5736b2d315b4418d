// The conformance CLI as users run it (node + the CLI entry, a temp fixture directory): exit codes,
// the summary line, and clear messages instead of stack traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(process.cwd(), 'src/trainer/conformance/cli.ts');
const FIXTURE = resolve(__dirname, 'fixtures/losses/cmnrl_triplets_mb2.json');

function runCli(dir: string, ...extra: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, dir, '--backend', 'cpu', ...extra], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.trim().split('\n') };
}

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-conformance-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('a fixture with perturbed expected values fails: exit non-zero, "0 passed, 1 failed"', () => {
  const fx = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  // Off by far more than the tolerance in one gradient entry only; the loss stays right.
  fx.expected.grad.positive[1][3] += 0.01;
  const dir = tempDir({ 'perturbed.json': JSON.stringify(fx) });
  try {
    const r = runCli(dir);
    assert.notEqual(r.code, 0);
    assert.equal(r.lines.at(-1), '0 passed, 1 failed');
    assert.match(r.out, /FAIL cmnrl_triplets_mb2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same fixture unperturbed passes with exit 0', () => {
  const dir = tempDir({ 'ok.json': readFileSync(FIXTURE, 'utf8') });
  try {
    const r = runCli(dir);
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.lines.at(-1), '1 passed, 0 failed');
    assert.match(r.out, /PASS cmnrl_triplets_mb2 +max\|Δloss\|=\S+ +max\|Δgrad\|=\S+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed fixtures and unknown losses: clear messages, counted as failed, no stack trace', () => {
  const fx = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  const unknown = { ...fx, loss: { type: 'TripletLoss' } };
  const badShape = { ...fx, inputs: { ...fx.inputs, positive: fx.inputs.positive.slice(1) } };
  const dir = tempDir({
    'a_unknown.json': JSON.stringify(unknown),
    'b_shape.json': JSON.stringify(badShape),
    'c_notjson.json': '{"loss": ',
  });
  try {
    const r = runCli(dir);
    assert.notEqual(r.code, 0);
    assert.equal(r.lines.at(-1), '0 passed, 3 failed');
    assert.match(
      r.out,
      /ERROR .*a_unknown\.json.*loss\.type: unknown loss type "TripletLoss"; expected one of: MultipleNegativesRankingLoss/,
    );
    assert.match(r.out, /ERROR .*b_shape\.json.*inputs\.positive: expected \d+ rows/);
    assert.match(r.out, /ERROR .*c_notjson\.json.*not valid JSON/);
    assert.doesNotMatch(r.out + r.err, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing directory is a clear error with a non-zero exit', () => {
  const r = runCli(join(tmpdir(), 'mrl-no-such-dir-4711'));
  assert.notEqual(r.code, 0);
  assert.match(r.err, /cannot read fixture directory/);
  assert.doesNotMatch(r.err, /\n\s+at /);
});

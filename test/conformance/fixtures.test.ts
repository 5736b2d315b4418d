// The runner over the sentence-transformers fixtures (test/conformance/fixtures/: computed with the real
// loss classes, see its README): every one must pass (loss and input gradients, cached ones through the
// real GradCache path), on the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { runConformance } from '../../src/trainer/conformance/conformance';
import { useCpu } from './cpuBackend';

const FIXTURES = resolve(__dirname, 'fixtures/losses');

test('all sentence-transformers loss fixtures pass', async () => {
  await useCpu();
  const lines: string[] = [];
  const summary = runConformance(FIXTURES, (l) => lines.push(l));
  const failures = summary.results.filter((r) => !r.passed).map((r) => lines.find((l) => l.includes(r.name)));
  assert.deepEqual(failures, [], 'failed fixtures');
  const expectedCount = readdirSync(FIXTURES).filter((n) => n.endsWith('.json')).length;
  assert.equal(expectedCount, 86);
  assert.equal(summary.passed, 86);
  assert.equal(lines.at(-1), '86 passed, 0 failed');
  // Every family of loss is exercised, cached and Matryoshka ones included.
  for (const prefix of ['mnrl_', 'cmnrl_', 'mnsrl_', 'cmnsrl_', 'gist_', 'cgist_', 'cosent_', 'angle_', 'matry_c', 'matry_m']) {
    assert.ok(
      summary.results.some((r) => r.name.startsWith(prefix) && r.passed),
      `no passing ${prefix}* fixture`,
    );
  }
});

// The house rule on module size (docs/architecture.md): a file that grows past it has more than one job.
// webview/ at most 400 lines a file, src/ at most 500 (the AssemblyScript kernels included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mts)$/.test(n) ? [p] : [];
  });
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').length - 1;

test('no webview file over 400 lines, no src file over 500', () => {
  const over = [...sources('webview').filter((f) => lines(f) > 400), ...sources('src').filter((f) => lines(f) > 500)].map(
    (f) => `${f}: ${lines(f)} lines`,
  );
  assert.ok(sources('webview').length > 10 && sources('src').length > 100, 'the trees were found');
  assert.deepEqual(over, []);
});

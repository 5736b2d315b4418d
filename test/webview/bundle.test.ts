// The test hook stays out of what ships: dist/webview.js (the .vsix's panel script) is built from
// webview/main.ts, which never installs window.__mrlPanel; the browser tests' bundle (test/webview/
// panelWithHook.ts → dist/test/webview-with-hook.js) does, and the .vsix does not carry it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPanelWithHook, buildShippedWebview, ROOT } from './harness';

const HOOK = '__mrlPanel';

test('the shipped webview bundle has no test hook; the tests’ bundle has it', async () => {
  const [shipped, withHook] = await Promise.all([buildShippedWebview(), buildPanelWithHook()]);
  assert.ok(!shipped.includes(HOOK), `webview/main.ts's bundle mentions ${HOOK}`);
  assert.ok(withHook.includes(HOOK), `test/webview/panelWithHook.ts's bundle lacks ${HOOK}`);
  // The same panel either way: the hook is all the test bundle adds.
  assert.ok(shipped.includes('tableFilterError') && withHook.includes('tableFilterError'));
});

test('dist/webview.js (npm run build) has no test hook', (t) => {
  const file = join(ROOT, 'dist/webview.js');
  if (!existsSync(file)) return t.skip('dist/webview.js not built (npm run build)');
  assert.ok(!readFileSync(file, 'utf8').includes(HOOK), `dist/webview.js mentions ${HOOK}: rebuild, or the hook leaked into webview/`);
});

test('the .vsix whitelist ships dist/webview.js and nothing under dist/test/', () => {
  const kept = readFileSync(join(ROOT, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1));
  assert.ok(kept.includes('dist/webview.js'));
  assert.deepEqual(
    kept.filter((p) => p.startsWith('dist/**') || p.startsWith('dist/test') || p.startsWith('**')),
    [],
  );
});

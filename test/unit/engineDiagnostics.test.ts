// The editor's view of engine notes: a sentence-transformers config whose fields mean something else
// there gets warnings (not errors: the launch goes on) on those fields' exact ranges; errors stay errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDiagnostics } from '../../src/config/diagnostics';
import { validateText } from '../../src/host/configEditor/validateAdapter';

const ws = mkdtempSync(join(tmpdir(), 'mrl-engdiag-'));
after(() => rmSync(ws, { recursive: true, force: true }));

test('engine notes are warnings on the field; a scratch model on sentence-transformers is an error', () => {
  const text = `{
  "engine": "sentence-transformers",
  "backend": "wasm",
  "model": { "pretrained": { "path": "sentence-transformers/all-MiniLM-L6-v2" } }
}`;
  const v = validateText(text, join(ws, 'a.mrl.json'), [ws]);
  const d = configDiagnostics(text, v.errors);
  assert.deepEqual(
    d.map((x) => [x.path, x.severity, x.kind]),
    [['/backend', 'warning', 'engineNote']],
  );
  assert.deepEqual(d[0].range, { start: { line: 2, character: 13 }, end: { line: 2, character: 19 } });
  assert.ok(v.config, 'warnings leave a resolved config (the launch is not blocked)');

  const scratch = '{ "engine": "sentence-transformers", "model": { "scratch": {} } }';
  const e = configDiagnostics(scratch, validateText(scratch, join(ws, 'b.mrl.json'), [ws]).errors);
  assert.deepEqual(
    e.map((x) => [x.path, x.severity]),
    [['/model/scratch', 'error']],
  );
});

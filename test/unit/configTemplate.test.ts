// New Run Config from a template, without vscode: jsonc-parser edits keep the examples' comments.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'jsonc-parser';
import {
  configName,
  configNameProblem,
  dataFileSources,
  exampleConfigs,
  freeConfigName,
  instantiateTemplate,
  withoutRelativeSchema,
  withoutRepoCommands,
} from '../../src/host/commands/configTemplate';
import { validateRunConfig } from '../../src/config/validate';

const tmp = mkdtempSync(join(tmpdir(), 'mrl-template-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TEXT = `// A comment that survives.
// It even mentions {"source": "in-a-comment.tsv", "name": "not this"}.
{
  "$schema": "../schemas/run-config.schema.json",
  "name": "angle pairs",
  /* block comment */
  "data": {
    "train": { "source": "data/pairs.tsv", "columns": ["a", "b"] },
    "eval": { "source": "builtin:wordnet" }
  }
}
`;

test('withoutRelativeSchema: drops a relative "$schema" line, keeps comments and layout; keeps http(s) ones', () => {
  const out = withoutRelativeSchema(TEXT);
  assert.equal(out, TEXT.replace('  "$schema": "../schemas/run-config.schema.json",\n', ''));
  assert.match(out, /\/\/ A comment that survives\./);
  assert.match(out, /\/\* block comment \*\//);
  assert.equal((parse(out) as Record<string, unknown>).$schema, undefined);
  const http = TEXT.replace('../schemas/run-config.schema.json', 'https://example.com/s.json');
  assert.equal(withoutRelativeSchema(http), http);
  const none = '{ "name": "x" }';
  assert.equal(withoutRelativeSchema(none), none);
});

test('withoutRelativeSchema matches the shipped examples exactly as the old line removal did', () => {
  const dir = join(__dirname, '../../examples');
  const files = exampleConfigs(dir);
  assert.ok(files.length >= 3, files.join());
  for (const f of files) {
    const t = readFileSync(join(dir, f), 'utf8');
    assert.equal(withoutRelativeSchema(t), t.replace(/^\s*"\$schema"\s*:\s*"(?!https?:)[^"]*",?\s*\n/m, ''), f);
    assert.notEqual(configName(t), '', f);
  }
});

test('configName: the top-level "name", never one in a comment', () => {
  assert.equal(configName(TEXT), 'angle pairs');
  assert.equal(configName('{ "name": 3 }'), '');
  assert.equal(configName('not json'), '');
  assert.equal(configName('[1]'), '');
});

test('dataFileSources: file sources at any depth, not builtins, not comments', () => {
  assert.deepEqual(dataFileSources(TEXT), ['data/pairs.tsv']);
  assert.deepEqual(dataFileSources('{"a":{"b":[{"source":"x.tsv"},{"source":"builtin:y"},{"source":3}]}}'), ['x.tsv']);
});

test('freeConfigName / configNameProblem', () => {
  const taken = new Set([join('/w', 'a.mrl.json'), join('/w', 'a-2.mrl.json')]);
  const exists = (p: string) => taken.has(p);
  assert.equal(freeConfigName('/w', 'a.mrl.json', exists), 'a-3.mrl.json');
  assert.equal(freeConfigName('/w', 'b.mrl.json', exists), 'b.mrl.json');
  assert.equal(configNameProblem('/w', 'a.json', exists), 'The name must end with .mrl.json');
  assert.equal(configNameProblem('/w', 'a.mrl.json', exists), 'That file exists');
  assert.equal(configNameProblem('/w', 'sub/c.mrl.json', exists), undefined);
});

test('exampleConfigs: sorted *.mrl.json, [] for a missing folder', () => {
  const d = join(tmp, 'ex-list');
  mkdirSync(d);
  for (const f of ['b.mrl.json', 'a.mrl.json', 'readme.md', 'c.json']) writeFileSync(join(d, f), '{}');
  assert.deepEqual(exampleConfigs(d), ['a.mrl.json', 'b.mrl.json']);
  assert.deepEqual(exampleConfigs(join(tmp, 'none')), []);
});

test('instantiateTemplate: writes the config without its relative $schema, copies data files beside it once', () => {
  const ex = join(tmp, 'examples');
  mkdirSync(join(ex, 'data'), { recursive: true });
  writeFileSync(join(ex, 'data', 'pairs.tsv'), 'a\tb\n');
  writeFileSync(join(tmp, 'outside.tsv'), 'secret');
  const text = TEXT.replace(
    '"eval": { "source": "builtin:wordnet" }',
    '"eval": { "source": "../outside.tsv" }, "test": { "source": "data/missing.tsv" }',
  );
  writeFileSync(join(ex, 't.mrl.json'), text);
  const ws = join(tmp, 'ws');
  const target = join(ws, 'cfg', 'mine.mrl.json');
  instantiateTemplate(ex, 't.mrl.json', target);
  const out = readFileSync(target, 'utf8');
  assert.equal(out, withoutRelativeSchema(text));
  assert.equal(readFileSync(join(ws, 'cfg', 'data', 'pairs.tsv'), 'utf8'), 'a\tb\n');
  assert.equal(existsSync(join(ws, 'outside.tsv')), false, 'nothing outside examples/ is copied');
  assert.equal(existsSync(join(ws, 'cfg', 'data', 'missing.tsv')), false);
  // An existing data file is not overwritten.
  writeFileSync(join(ws, 'cfg', 'data', 'pairs.tsv'), 'mine');
  instantiateTemplate(ex, 't.mrl.json', join(ws, 'cfg', 'other.mrl.json'));
  assert.equal(readFileSync(join(ws, 'cfg', 'data', 'pairs.tsv'), 'utf8'), 'mine');
});

test('a shipped example copied into a workspace says nothing that holds only in this repository (issue 21 §6)', () => {
  const dir = join(__dirname, '../../examples');
  for (const f of exampleConfigs(dir)) {
    const target = join(tmp, 'shipped', f);
    instantiateTemplate(dir, f, target);
    const out = readFileSync(target, 'utf8');
    // Not `npm ci && npm run build && npm run demo`, not `npm run train -- --config examples/…`: no such
    // scripts, nor an examples/ folder, in the user's workspace.
    assert.doesNotMatch(out, /\bnpm\b/, f);
    assert.doesNotMatch(out, /examples\//, f);
    // Only comments went: the same config, and a valid one where it was copied (its data files beside it).
    const want = parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    delete want.$schema;
    assert.deepEqual(parse(out), want, f);
    assert.deepEqual(validateRunConfig(parse(out), target).errors, [], f);
  }
  assert.equal(withoutRepoCommands('// keep\n//   npm run x\n{}\n// npm ci'), '// keep\n{}\n');
});

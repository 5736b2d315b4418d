// Runs every test file under test/ (*.test.ts / *.test.mjs) on Node's built-in test runner, with tsx
// for TypeScript. `npm test -- <substring>` runs only the files whose path contains it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.(ts|mjs)$/.test(name)) files.push(p);
  }
})('test');
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// A fresh clone must pass with `npm test` alone: package the .vsix that the packaging and end-to-end
// tests install (vscode:prepublish builds first), and install the browser + real VS Code they drive
// (test/vscode/setup.sh: Debian chromium, code-server on Node 24; idempotent), unless told to skip them.
const needs = (dir) => selected.some((f) => f.startsWith(join('test', dir)));
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const env = { ...process.env };
if (needs('packaging') || (needs('vscode') && !process.env.MRL_SKIP_E2E)) {
  console.log('# npm run package: the .vsix the packaging and VS Code tests install');
  run('npm', ['run', 'package']);
  env.MRL_VSIX_FRESH = '1';
}
const needE2e = needs('vscode') && !process.env.MRL_SKIP_E2E && !existsSync('test/vscode/node_modules/code-server/package.json');
const needBrowser = (needs('webview') || needE2e) && !existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
if (needE2e || needBrowser) {
  console.log('# browser / code-server missing: bash test/vscode/setup.sh (once, about 4 minutes)');
  run('bash', ['test/vscode/setup.sh']);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...selected], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);

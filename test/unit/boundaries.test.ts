// The three programs meet only through src/protocol/ and the run folder (DESIGN.md): the trainer never
// imports vscode, the webview never imports Node or vscode, the extension host never imports tfjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mts|js|mjs)$/.test(n) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

/** Every module reachable from `entry` through relative imports. */
function closure(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [...entries];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    const deps = imports(f);
    seen.set(f, deps);
    for (const d of deps) {
      if (!d.startsWith('.')) continue;
      const base = resolve(dirname(f), d);
      const hit = [base, `${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')].find((p) => existsSync(p) && statSync(p).isFile());
      if (hit) stack.push(hit);
    }
  }
  return seen;
}

function violations(files: Map<string, string[]>, banned: RegExp): string[] {
  return [...files].flatMap(([f, deps]) => deps.filter((d) => banned.test(d)).map((d) => `${f} imports ${d}`));
}

test('trainer modules never import vscode', () => {
  const files = closure(sources('src/trainer'));
  assert.ok(files.size > 5);
  assert.deepEqual(violations(files, /^vscode$/), []);
});

test('the webview never imports Node built-ins, vscode or tfjs', () => {
  const files = closure(sources('webview'));
  assert.deepEqual(violations(files, /^(node:|fs$|path$|child_process$|os$|vscode$|@tensorflow\/)/), []);
});

test('the extension host never imports tfjs or the trainer', () => {
  const entries = ['src/host/extension.ts', ...sources('src/host'), ...sources('src/runs'), ...sources('src/panel'), ...sources('src/config')].filter(existsSync);
  const files = closure(entries);
  assert.deepEqual(violations(files, /^@tensorflow\//), []);
  assert.deepEqual([...files.keys()].filter((f) => f.includes('src/trainer/')), []);
});

/**
 * New Run Config from a template (no vscode): the example configs shipped in examples/ are copied into
 * the workspace. Edits go through jsonc-parser, so the examples' comments and layout survive.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyEdits, modify, type Node, parse, parseTree } from 'jsonc-parser/lib/esm/main.js';
import { isStrictlyInside } from '../../runs/runDir';

export const CONFIG_SUFFIX = /\.mrl\.json$/;

/** The example configs (`*.mrl.json`) in `examplesDir`, sorted; [] when there are none. */
export function exampleConfigs(examplesDir: string): string[] {
  try {
    return readdirSync(examplesDir)
      .filter((f) => CONFIG_SUFFIX.test(f))
      .sort();
  } catch {
    return []; // none shipped
  }
}

/** A config text's top-level "name" (a string), or '' (unparsable, none, not a string). */
export function configName(text: string): string {
  const v: unknown = parse(text, [], { allowTrailingComma: true });
  const name = v && typeof v === 'object' && !Array.isArray(v) ? (v as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}

/**
 * Drop a top-level "$schema" that is not an http(s) URL: a relative one would point nowhere from the new
 * location (contributes.jsonValidation already maps *.mrl.json to the schema). Everything else — comments
 * included — is kept as written.
 */
export function withoutRelativeSchema(text: string): string {
  const schema: unknown = (parse(text, [], { allowTrailingComma: true }) as Record<string, unknown> | undefined)?.$schema;
  if (typeof schema !== 'string' || /^https?:/.test(schema)) return text;
  return applyEdits(text, modify(text, ['$schema'], undefined, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
}

/**
 * Drop the comment lines that are commands of the Matryoshka Lab repository (`//   npm run train --
 * --config examples/gist.mrl.json`, `//   npm ci && npm run demo`): the examples say how to run them
 * from a clone, which means nothing in the user's workspace. Each such command sits on a line of its own.
 */
export function withoutRepoCommands(text: string): string {
  return text.replace(/^[ \t]*\/\/[ \t]*npm (?:ci|run)\b.*(?:\r?\n|$)/gm, '');
}

/** Every "source" string (at any depth) naming a file rather than a builtin data set, in file order. */
export function dataFileSources(text: string): string[] {
  const out: string[] = [];
  const walk = (n: Node | undefined): void => {
    if (!n) return;
    if (n.type === 'property' && n.children?.length === 2) {
      const [k, v] = n.children;
      if (k.value === 'source' && v.type === 'string' && typeof v.value === 'string' && v.value && !v.value.startsWith('builtin:'))
        out.push(v.value);
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(parseTree(text, [], { allowTrailingComma: true }));
  return out;
}

/** The first free file name for `file` in `dir`: `x.mrl.json`, then `x-2.mrl.json`, `x-3.mrl.json`, … */
export function freeConfigName(dir: string, file: string, exists: (p: string) => boolean = existsSync): string {
  let name = file;
  for (let i = 2; exists(path.join(dir, name)); i++) name = file.replace(CONFIG_SUFFIX, `-${i}.mrl.json`);
  return name;
}

/** Why a file name (relative to `dir`) will not do for a new config, or undefined when it will. */
export function configNameProblem(dir: string, name: string, exists: (p: string) => boolean = existsSync): string | undefined {
  if (!CONFIG_SUFFIX.test(name)) return 'The name must end with .mrl.json';
  if (exists(path.join(dir, name))) return 'That file exists';
  return undefined;
}

/**
 * Write the example `file` of `examplesDir` to `target`, without a relative "$schema" nor the repository's
 * commands in its comments (withoutRepoCommands). Data files it names (relative to examples/, inside it,
 * existing) are copied beside the new config unless already there, so the config stays as written and
 * the workspace owns its data.
 */
export function instantiateTemplate(examplesDir: string, file: string, target: string): void {
  const text = withoutRepoCommands(withoutRelativeSchema(readFileSync(path.join(examplesDir, file), 'utf8')));
  for (const rel of dataFileSources(text)) {
    const src = path.resolve(examplesDir, rel);
    const dst = path.resolve(path.dirname(target), rel);
    if (!path.isAbsolute(rel) && isStrictlyInside(examplesDir, src) && existsSync(src) && !existsSync(dst)) {
      mkdirSync(path.dirname(dst), { recursive: true });
      copyFileSync(src, dst);
    }
  }
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
}

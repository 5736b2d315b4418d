// The layout's import rules (docs/architecture.md), in one place and checked on the real tree:
//   AREA_DEPS   which top-level area may import which (acyclic);
//   BANNED      packages an area never imports itself (vscode, tfjs, Node built-ins);
//   REACH       what an area never reaches even through others (the webview is bundled for the browser;
//               the extension host never loads the trainer or tfjs; the trainer never loads the host);
//   HOST_DEPS   which part of src/host may import which (acyclic; src/host/panel/ imports none of them:
//               it gets what it needs through MetricsPanelDeps, src/host/panel/panelApi.ts).
// `checkBoundaries` works on a file → import-specifier map, so the tests below also feed it maps and a tree
// with planted violations, and check that each one is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

const AREAS = ['protocol', 'common', 'insights', 'config', 'data', 'runs', 'engines', 'trainer', 'host', 'webview'] as const;
type Area = (typeof AREAS)[number];
/** `schemas/` holds the run config's JSON schema: data the config area reads, not code. */
type Target = Area | 'schemas';

/** Who may import whom, besides itself. */
const AREA_DEPS: Record<Area, readonly Target[]> = {
  protocol: [],
  common: [],
  insights: ['protocol'],
  config: ['protocol', 'common', 'schemas'],
  data: ['protocol', 'config', 'common'],
  runs: ['protocol', 'insights', 'common'],
  engines: ['protocol', 'config', 'data', 'runs', 'common'],
  // The trainer's CLI dispatches to the sentence-transformers engine.
  trainer: ['protocol', 'config', 'data', 'runs', 'insights', 'common', 'engines'],
  host: ['protocol', 'config', 'runs', 'insights', 'common'],
  // Pure modules only (config/diff): REACH keeps Node, vscode and tfjs out of the bundle.
  webview: ['protocol', 'insights', 'config'],
};

interface Banned {
  what: string;
  test(spec: string): boolean;
}
const VSCODE: Banned = { what: 'vscode', test: (s) => s === 'vscode' };
const TFJS: Banned = { what: 'tfjs', test: (s) => s.startsWith('@tensorflow/') };
const NODE: Banned = { what: 'a Node built-in', test: (s) => isBuiltin(s) };

/** Packages an area's own files never import. */
const BANNED: Record<Area, readonly Banned[]> = {
  protocol: [VSCODE, TFJS, NODE],
  insights: [VSCODE, TFJS, NODE],
  common: [VSCODE, TFJS],
  config: [VSCODE, TFJS],
  data: [VSCODE, TFJS],
  runs: [VSCODE, TFJS],
  engines: [VSCODE],
  trainer: [VSCODE],
  host: [TFJS],
  webview: [VSCODE, TFJS, NODE],
};

/** What everything an area loads (its files and all they import, transitively) stays clear of. */
const REACH: { from: Area; areas: readonly Area[]; packages: readonly Banned[] }[] = [
  { from: 'webview', areas: ['trainer', 'host', 'runs'], packages: [VSCODE, TFJS, NODE] },
  { from: 'host', areas: ['trainer'], packages: [TFJS] },
  { from: 'trainer', areas: ['host'], packages: [VSCODE] },
];

/** src/host's parts (a sub-folder, or a module at its top) and whom each may import. */
const HOST_DEPS: Record<string, readonly string[]> = {
  // activate(): the one module that wires every part.
  extension: ['commands', 'configEditor', 'launch', 'panel', 'runsView', 'runsModel', 'settings', 'ui'],
  commands: ['panel', 'launch', 'configEditor', 'runsView', 'runsModel', 'ui'],
  configEditor: ['launch'],
  launch: ['runsView', 'runsModel', 'settings', 'ui'],
  runsView: ['runsModel'],
  ui: ['runsView'],
  runsModel: ['settings'],
  settings: [],
  panel: [],
};

// ---------------------------------------------------------------- the checker

/** Repo-relative posix path of a source file → the module specifiers it imports, as written. */
type ImportMap = ReadonlyMap<string, readonly string[]>;

const IMPORT_RE =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/** Every source file under `root`/src and `root`/webview with its imports. */
function readImportMap(root: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel));
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = posix.join(rel, n);
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (/\.(ts|mts|js|mjs)$/.test(n) && !n.endsWith('.d.ts')) map.set(p, importsOf(readFileSync(join(root, p), 'utf8')));
    }
  };
  walk('src');
  walk('webview');
  return map;
}

/** The area a repo-relative path lies in (undefined: none). */
function areaOf(path: string): Target | undefined {
  const [top, second] = path.split('/');
  if (top === 'webview') return 'webview';
  if (top === 'schemas') return 'schemas';
  if (top === 'src') return (AREAS as readonly string[]).includes(second) ? (second as Area) : undefined;
  return undefined;
}

/** The part of src/host a file belongs to: its sub-folder, or its own name at the top. */
function hostPartOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'src' || parts[1] !== 'host') return undefined;
  return parts.length > 3 ? parts[2] : parts[2].replace(/\.[^.]+$/, '');
}

/** Where a relative specifier points (a path, not yet a file). */
function resolveSpec(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec));
}

/** The file of `map` a resolved path names (extension-less, `.js` for `.ts`, or a folder's index). */
function fileOf(map: ImportMap, p: string): string | undefined {
  return [p, `${p}.ts`, `${p}.mts`, `${p}.js`, `${p}/index.ts`, p.replace(/\.js$/, '.ts')].find((c) => map.has(c));
}

/** A cycle of `graph` as [a, b, …, a], or undefined. */
function findCycle(graph: ReadonlyMap<string, Iterable<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...graph.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

function graphOf(table: Readonly<Record<string, readonly string[]>>): Map<string, readonly string[]> {
  return new Map(Object.entries(table));
}

/** Every broken rule of the tables above in `map`, one line each; [] when it obeys them all. */
function checkBoundaries(map: ImportMap): string[] {
  const out: string[] = [];
  const areaEdges = new Map<string, Set<string>>();
  const hostEdges = new Map<string, Set<string>>();
  const edge = (g: Map<string, Set<string>>, a: string, b: string) => (g.get(a) ?? g.set(a, new Set()).get(a)!).add(b);
  for (const [file, specs] of map) {
    const area = areaOf(file);
    if (!area || area === 'schemas') {
      out.push(`${file}: in no area of AREA_DEPS`);
      continue;
    }
    const part = hostPartOf(file);
    if (part !== undefined && !(part in HOST_DEPS)) out.push(`${file}: src/host/${part} is not in HOST_DEPS`);
    for (const spec of specs) {
      if (!spec.startsWith('.')) {
        for (const b of BANNED[area]) if (b.test(spec)) out.push(`${file}: ${area} never imports ${b.what} (${spec})`);
        continue;
      }
      const target = resolveSpec(file, spec);
      const to = areaOf(target);
      if (!to) {
        out.push(`${file}: imports ${spec}, outside every area`);
        continue;
      }
      if (to !== area) {
        edge(areaEdges, area, to);
        if (!AREA_DEPS[area].includes(to)) out.push(`${file}: ${area} may not import ${to} (${spec})`);
      }
      const toPart = hostPartOf(target);
      if (part !== undefined && toPart !== undefined && toPart !== part && part in HOST_DEPS) {
        edge(hostEdges, part, toPart);
        if (!HOST_DEPS[part].includes(toPart)) out.push(`${file}: src/host/${part} may not import src/host/${toPart} (${spec})`);
      }
    }
  }
  const areaCycle = findCycle(areaEdges);
  if (areaCycle) out.push(`import cycle between areas: ${areaCycle.join(' → ')}`);
  const hostCycle = findCycle(hostEdges);
  if (hostCycle) out.push(`import cycle in src/host: ${hostCycle.join(' → ')}`);

  for (const rule of REACH) {
    // Breadth first from the area's files, remembering how each file was reached.
    const via = new Map<string, string | undefined>();
    const queue = [...map.keys()].filter((f) => areaOf(f) === rule.from);
    for (const f of queue) via.set(f, undefined);
    const path = (f: string): string => {
      const chain = [f];
      for (let p = via.get(f); p !== undefined; p = via.get(p)) chain.unshift(p);
      return chain.join(' → ');
    };
    for (let i = 0; i < queue.length; i++) {
      const f = queue[i];
      const area = areaOf(f) as Area;
      if (rule.areas.includes(area)) out.push(`${rule.from} reaches ${area}: ${path(f)}`);
      for (const spec of map.get(f)!) {
        if (!spec.startsWith('.')) {
          for (const b of rule.packages) if (b.test(spec)) out.push(`${rule.from} reaches ${b.what} (${spec}): ${path(f)}`);
          continue;
        }
        const next = fileOf(map, resolveSpec(f, spec));
        if (next && !via.has(next)) {
          via.set(next, f);
          queue.push(next);
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- the real tree

const real = readImportMap('.');

test('the real tree obeys the layout rules', () => {
  assert.ok(real.size > 100, `read ${real.size} files`);
  // Every area has files and the reader sees their imports (a wrong root or pattern would pass vacuously).
  for (const a of AREAS)
    assert.ok(
      [...real.keys()].some((f) => areaOf(f) === a),
      `${a} has files`,
    );
  assert.ok(real.get('src/host/extension.ts')?.includes('vscode'));
  assert.ok(real.get('src/host/extension.ts')?.includes('./panel/panelHost'));
  assert.deepEqual(checkBoundaries(real), []);
});

test('the dependency tables are acyclic, and the cycle finder finds cycles', () => {
  assert.equal(findCycle(graphOf(AREA_DEPS)), undefined);
  assert.equal(findCycle(graphOf(HOST_DEPS)), undefined);
  assert.deepEqual(findCycle(graphOf({ a: ['b'], b: ['c'], c: ['a'] })), ['a', 'b', 'c', 'a']);
  // Every dependency named is a known area / host part.
  for (const [a, deps] of Object.entries(AREA_DEPS))
    for (const d of deps) assert.ok(d === 'schemas' || (AREAS as readonly string[]).includes(d), `${a} → ${d}`);
  for (const [a, deps] of Object.entries(HOST_DEPS)) for (const d of deps) assert.ok(d in HOST_DEPS, `host ${a} → ${d}`);
});

// ---------------------------------------------------------------- planted violations

/** A real file of an area (or host part), to point a planted import at. */
function someFile(pick: (f: string) => boolean): string {
  const f = [...real.keys()].sort().find(pick);
  assert.ok(f, 'a file to import');
  return f;
}

function specTo(from: string, to: string): string {
  const rel = posix.relative(posix.dirname(from), to.replace(/\.ts$/, ''));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The real map plus one planted file importing `specs`; what the checker says about it. */
function plant(file: string, specs: string[]): string[] {
  const map = new Map(real);
  map.set(file, specs);
  return checkBoundaries(map);
}

const planted = (a: Area) => (a === 'webview' ? 'webview/__planted__.ts' : `src/${a}/__planted__.ts`);

test('every import direction AREA_DEPS leaves out is reported', () => {
  let n = 0;
  for (const a of AREAS) {
    for (const b of [...AREAS, 'schemas'] as const) {
      if (a === b || AREA_DEPS[a].includes(b)) continue;
      const from = planted(a);
      const spec = specTo(from, b === 'schemas' ? 'schemas/run-config.schema.json' : someFile((f) => areaOf(f) === b));
      const said = plant(from, [spec]);
      assert.ok(
        said.some((l) => l.startsWith(`${from}: ${a} may not import ${b}`)),
        `${a} → ${b} not reported: ${said.join('\n')}`,
      );
      n++;
    }
  }
  assert.ok(n >= 50, `${n} directions planted`);
  // A file in no known area (a new top-level folder of src/ must be placed in the table first).
  assert.ok(plant('src/elsewhere/x.ts', []).includes('src/elsewhere/x.ts: in no area of AREA_DEPS'));
});

test('an allowed import raises nothing, and a direction against the table is a reported cycle', () => {
  assert.deepEqual(plant(planted('runs'), [specTo(planted('runs'), 'src/protocol/runFolder.ts')]), []);
  const said = plant(planted('protocol'), [specTo(planted('protocol'), 'src/insights/runLabel.ts')]);
  assert.ok(
    said.some((l) => l.startsWith('import cycle between areas: ')),
    said.join('\n'),
  );
});

test('every banned package of every area is reported', () => {
  const sample: Record<string, string[]> = {
    vscode: ['vscode'],
    tfjs: ['@tensorflow/tfjs-core'],
    'a Node built-in': ['node:fs', 'path', 'child_process'],
  };
  let n = 0;
  for (const a of AREAS) {
    for (const b of BANNED[a]) {
      for (const spec of sample[b.what]) {
        const said = plant(planted(a), [spec]);
        assert.ok(said.includes(`${planted(a)}: ${a} never imports ${b.what} (${spec})`), `${a} importing ${spec}: ${said.join('\n')}`);
        n++;
      }
    }
  }
  assert.ok(n >= 25);
});

test('what an area reaches through others is reported', () => {
  // The webview may import config (config/diff), but config/loadConfig reads files: Node in the bundle.
  const w = planted('webview');
  const said = plant(w, [specTo(w, 'src/config/loadConfig.ts')]);
  assert.ok(
    said.some((l) => l.startsWith('webview reaches a Node built-in') && l.includes(`${w} → src/config/loadConfig.ts`)),
    said.join('\n'),
  );
  // A config module that imported the trainer would put it (and tfjs) in the extension host.
  const map = new Map(real);
  map.set('src/config/validate.ts', [...real.get('src/config/validate.ts')!, '../trainer/loop/train']);
  const hostSaid = checkBoundaries(map);
  assert.ok(hostSaid.includes('src/config/validate.ts: config may not import trainer (../trainer/loop/train)'));
  assert.ok(
    hostSaid.some((l) => l.startsWith('host reaches trainer: src/host/')),
    hostSaid.join('\n'),
  );
  assert.ok(
    hostSaid.some((l) => l.startsWith('host reaches tfjs (@tensorflow/')),
    hostSaid.join('\n'),
  );
  // The trainer reaching vscode through the runs layer.
  const map2 = new Map(real);
  map2.set('src/runs/trainerProcess.ts', [...real.get('src/runs/trainerProcess.ts')!, '../host/runsModel']);
  const trainerSaid = checkBoundaries(map2);
  assert.ok(
    trainerSaid.some((l) => l.startsWith('trainer reaches host: src/trainer/')),
    trainerSaid.join('\n'),
  );
  assert.ok(
    trainerSaid.some((l) => l.startsWith('trainer reaches vscode (vscode): src/trainer/')),
    trainerSaid.join('\n'),
  );
  // The webview reaching the runs layer through insights.
  const map3 = new Map(real);
  map3.set('src/insights/runLabel.ts', [...real.get('src/insights/runLabel.ts')!, '../runs/store']);
  assert.ok(checkBoundaries(map3).some((l) => l.startsWith('webview reaches runs: webview/')));
});

test('every src/host direction HOST_DEPS leaves out is reported, and a cycle among its parts', () => {
  let n = 0;
  for (const a of Object.keys(HOST_DEPS)) {
    for (const b of Object.keys(HOST_DEPS)) {
      if (a === b || HOST_DEPS[a].includes(b)) continue;
      const target = someFile((f) => hostPartOf(f) === b);
      const map = new Map(real);
      // A module at the top of src/host is a part of its own: plant the import in it; else a new file in the folder.
      const top = `src/host/${a}.ts`;
      if (real.has(top)) map.set(top, [...real.get(top)!, specTo(top, target)]);
      else map.set(`src/host/${a}/__planted__.ts`, [specTo(`src/host/${a}/__planted__.ts`, target)]);
      const said = checkBoundaries(map);
      assert.ok(
        said.some((l) => l.includes(`src/host/${a} may not import src/host/${b}`)),
        `host ${a} → ${b}: ${said.join('\n')}`,
      );
      n++;
    }
  }
  assert.ok(n >= 40, `${n} directions planted`);
  // The panel importing the commands (the cycle this layout removed): reported, with the cycle.
  const from = 'src/host/panel/__planted__.ts';
  const said = plant(from, ['../commands/commandIds']);
  assert.ok(said.includes(`${from}: src/host/panel may not import src/host/commands (../commands/commandIds)`));
  assert.ok(
    said.some((l) => l.startsWith('import cycle in src/host: ')),
    said.join('\n'),
  );
  // A new part of src/host must be placed in HOST_DEPS first.
  assert.ok(plant('src/host/newPart/x.ts', []).includes('src/host/newPart/x.ts: src/host/newPart is not in HOST_DEPS'));
});

test('a tree on disk: every import form is read and its violations reported', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrl-boundaries-'));
  try {
    const put = (p: string, text: string) => {
      mkdirSync(join(root, posix.dirname(p)), { recursive: true });
      writeFileSync(join(root, p), text);
    };
    put('src/protocol/a.ts', "import type { B } from '../runs/b';\nexport const a = 1;\n");
    put('src/runs/b.ts', "import { a } from '../protocol/a';\nimport * as vscode from 'vscode';\nexport type B = typeof a;\n");
    put('src/host/panel/p.ts', "import {\n  x,\n  y,\n} from '../commands/c';\nexport const p = () => import('../../trainer/t');\n");
    put('src/host/commands/c.ts', "export { p } from '../panel/p';\nexport const x = 1, y = 2;\n");
    put('src/trainer/t.ts', "const h = require('../host/commands/c');\nexport default h;\n");
    put('webview/w.ts', "import '../src/config/k';\n");
    put('src/config/k.ts', "import { readFileSync } from 'node:fs';\nexport const k = readFileSync;\n");
    const map = readImportMap(root);
    assert.deepEqual([...map.keys()].sort(), [
      'src/config/k.ts',
      'src/host/commands/c.ts',
      'src/host/panel/p.ts',
      'src/protocol/a.ts',
      'src/runs/b.ts',
      'src/trainer/t.ts',
      'webview/w.ts',
    ]);
    assert.deepEqual(map.get('src/host/panel/p.ts'), ['../commands/c', '../../trainer/t']);
    const said = checkBoundaries(map);
    for (const want of [
      'src/protocol/a.ts: protocol may not import runs (../runs/b)',
      'src/runs/b.ts: runs never imports vscode (vscode)',
      'src/host/panel/p.ts: host may not import trainer (../../trainer/t)',
      'src/host/panel/p.ts: src/host/panel may not import src/host/commands (../commands/c)',
      'src/trainer/t.ts: trainer may not import host (../host/commands/c)',
      'webview reaches a Node built-in (node:fs): webview/w.ts → src/config/k.ts',
      'host reaches trainer: src/host/panel/p.ts → src/trainer/t.ts',
      'trainer reaches host: src/trainer/t.ts → src/host/commands/c.ts',
    ])
      assert.ok(said.includes(want), `missing: ${want}\n${said.join('\n')}`);
    assert.ok(said.some((l) => l.startsWith('import cycle between areas: ')));
    assert.ok(said.some((l) => l.startsWith('import cycle in src/host: ')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

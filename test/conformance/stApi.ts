// Shared by the sentence-transformers conformance tests: the recorded API (fixtures/sentenceTransformers/
// signatures.json, written by extractStSignatures.py from the library's own source), the configs the generator
// is checked on (every example × every loss type), and one batched run of stScriptCheck.py over them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import { validateRunConfig } from '../../src/config/validate';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import { generateScript, requiredVersion, versionAtLeast } from '../../src/engines/sentenceTransformers/script';

export const FIXTURE = resolve('test/conformance/fixtures/sentenceTransformers/signatures.json');
export const CHECKER = resolve('test/conformance/stScriptCheck.py');
export const PY = process.env.MRL_TEST_PYTHON ?? 'python3';
export const HUB = 'sentence-transformers/all-MiniLM-L6-v2';

export interface StVersion {
  source: string;
  requires: Record<string, string | null>;
  modules: Record<string, Record<string, unknown> | null>;
  classes: Record<string, { file: string; line: number; deprecated: string | null; init?: { params: string[] } } | null>;
  functions: Record<string, { params: string[] } | null>;
  metricKeys: Record<string, { key: string | null; file?: string; line?: number; metrics?: string[]; missing?: string }>;
}
export interface Fixture {
  notes: string[];
  sentenceTransformers: Record<string, StVersion>;
  transformers: Record<string, { source: string }>;
}

export function loadFixture(): Fixture {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
}

/** The recorded releases, oldest first. */
export function recordedVersions(fx: Fixture): string[] {
  return Object.keys(fx.sentenceTransformers).sort((a, b) => (versionAtLeast(a, b) ? (a === b ? 0 : 1) : -1));
}

export function example(name: string): Record<string, unknown> {
  return parse(readFileSync(resolve('examples', name), 'utf8')) as Record<string, unknown>;
}

/** A config switched to this engine (a sweep's first combination: its runs are ordinary configs). */
export function asST(json: Record<string, unknown>, pretrained: Record<string, unknown> = { path: HUB }): Record<string, unknown> {
  const { backend: _b, sweep, ...rest } = json as { backend?: unknown; sweep?: { parameters: Record<string, unknown[]> } };
  const out = structuredClone(rest) as Record<string, unknown>;
  for (const [path, values] of Object.entries(sweep?.parameters ?? {})) {
    const keys = path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    node[keys[keys.length - 1]] = values[0];
  }
  return { ...out, engine: 'sentence-transformers', model: { pretrained } };
}

export function resolved(json: unknown): ResolvedRunConfig {
  const v = validateRunConfig(json, resolve('examples', 'x.mrl.json'));
  if (!v.resolved) throw new Error(JSON.stringify(v.errors));
  return v.resolved;
}

const PAIR_LOSSES = [
  { type: 'MultipleNegativesRankingLoss' },
  { type: 'MultipleNegativesSymmetricRankingLoss' },
  { type: 'CachedMultipleNegativesRankingLoss', miniBatchSize: 16 },
  { type: 'CachedMultipleNegativesSymmetricRankingLoss', miniBatchSize: 16 },
  { type: 'GISTEmbedLoss', guide: 'self' },
  { type: 'CachedGISTEmbedLoss', guide: 'self', miniBatchSize: 16 },
  // GIST with every option away from sentence-transformers' defaults (4.1: margins, 5.1: contrast flags).
  { type: 'CachedGISTEmbedLoss', guide: 'self', miniBatchSize: 16, marginStrategy: 'relative', margin: 0.05, contrastAnchors: false },
];
const SCORED_LOSSES = [{ type: 'CoSENTLoss' }, { type: 'AnglELoss' }];

export interface Case {
  id: string;
  config: ResolvedRunConfig;
  scoredEval: boolean;
}

/** Every example config, and every loss type bare and inside MatryoshkaLoss, on one and two devices, with and without pooling. */
export function cases(): Case[] {
  const out: Case[] = [];
  const add = (id: string, json: Record<string, unknown>, scoredEval: boolean) => out.push({ id, config: resolved(json), scoredEval });
  const examples = readdirSync('examples').filter((f) => f.endsWith('.mrl.json'));
  for (const name of examples.sort()) {
    const scored = name === 'cosent.mrl.json' || name === 'angle.mrl.json';
    add(name, asST(example(name)), scored);
    add(`${name} pooling cls, maxSeqLength 48`, asST(example(name), { path: HUB, pooling: 'cls', maxSeqLength: 48 }), scored);
  }
  const pairs = asST(example('quickstart.mrl.json'));
  const scored = asST(example('cosent.mrl.json'));
  for (const [base, losses, isScored] of [
    [pairs, PAIR_LOSSES, false],
    [scored, SCORED_LOSSES, true],
  ] as const) {
    for (const loss of losses) {
      const label = `${loss.type}${'marginStrategy' in loss ? ' (margins, contrastAnchors false)' : ''}`;
      add(`${label} bare`, { ...base, loss }, isScored);
      add(`${label} in MatryoshkaLoss`, { ...base, loss: { type: 'MatryoshkaLoss', loss, matryoshkaDims: [64, 32, 16, 8] } }, isScored);
      add(
        `${label} in MatryoshkaLoss, devices 2`,
        { ...base, devices: 2, loss: { type: 'MatryoshkaLoss', loss, matryoshkaDims: [64, 16] } },
        isScored,
      );
    }
  }
  return out;
}

export interface CheckResult {
  id: string;
  st: string;
  transformers: string[];
  problems: { line: number; message: string }[];
  checked: string[];
}

/** stScriptCheck.py over jobs of (script text | file, version, mode), in one Python process. */
export function check(jobs: { id: string; st: string; script?: string; file?: string; mode?: 'script' | 'callback' }[]): CheckResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-stapi-'));
  const req = {
    fixture: FIXTURE,
    jobs: jobs.map((j, i) => {
      let file = j.file;
      if (j.script !== undefined) {
        file = join(dir, `train-${i}.py`);
        writeFileSync(file, j.script);
      }
      return { id: j.id, st: j.st, file, mode: j.mode ?? 'script' };
    }),
  };
  const r = spawnSync(PY, [CHECKER], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`stScriptCheck.py failed (${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: CheckResult[] }).results;
}

/** train.py of a case, and the recorded versions its config allows (requiredVersion and above). */
export function scriptJobs(c: Case, versions: string[]) {
  const script = generateScript({
    resolved: c.config,
    model: HUB,
    guides: {},
    scoredEval: c.scoredEval,
    configFile: 'examples/x.mrl.json',
  });
  const need = requiredVersion(c.config).version;
  return versions.filter((v) => versionAtLeast(v, need)).map((st) => ({ id: `${c.id} @ ${st}`, st, script }));
}

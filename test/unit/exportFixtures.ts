// A run folder as the bundled trainer writes it with precisions and keepBest (src/protocol/runFolder.ts),
// and a stand-in for dist/export.js that obeys the exporter's contract (src/host/launch/exportPlan.ts):
// a real Node program, so the host's spawning, output parsing and cancelling are the real thing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The last valid eval's byDim (step 3). At 95 % of float32 at dim 16 (0.5 → 0.475) the cheapest point is
 * binary at dim 16 rescored (0.48, 2 bytes/vector); at 99 % it is int8 at dim 16 rescored (0.50, 16 bytes).
 */
export const LAST_BY_DIM = {
  '16': {
    'ndcg@10': 0.5,
    'int8:ndcg@10': 0.49,
    'int8+rescore:ndcg@10': 0.5,
    'binary:ndcg@10': 0.4,
    'binary+rescore:ndcg@10': 0.48,
    'mrr@10': 0.4,
  },
  '8': { 'ndcg@10': 0.47, 'int8:ndcg@10': 0.46, 'int8+rescore:ndcg@10': 0.47, 'binary:ndcg@10': 0.3, 'binary+rescore:ndcg@10': 0.44 },
  '4': { 'ndcg@10': 0.35, 'int8:ndcg@10': 0.34, 'binary:ndcg@10': 0.2, 'binary+rescore:ndcg@10': 0.3 },
};

/**
 * `<runs>/<id>/`: config.json (dims 16, 8, 4), run.json (`bestCheckpoints` for dim 16 at step 3),
 * metrics.jsonl whose last eval line (step 6) is dropped by a resume from step 3 — so the last eval that
 * counts is step 3's — and checkpoints/step-3, step-6, best-16.
 */
export function writeRun(runs: string, id: string, info: Record<string, unknown> = {}): string {
  const dir = join(runs, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ name: 'quant', loss: { type: 'MatryoshkaLoss', matryoshkaDims: [16, 8, 4] }, evaluation: { dims: [] } }),
  );
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id,
      name: 'quant',
      status: 'completed',
      pid: null,
      startedAt: '2026-01-01T10:00:00Z',
      endedAt: '2026-01-01T10:01:00Z',
      backend: 'cpu',
      step: 6,
      totalSteps: 6,
      bestCheckpoints: { '16': { metric: 'ndcg@10', step: 3, value: 0.5 } },
      ...info,
    }),
  );
  const junk = { '16': { 'ndcg@10': 0.9, 'binary:ndcg@10': 0.9 }, '8': { 'ndcg@10': 0.9 } };
  const lines = [
    { step: 0, epoch: 0, time: 0, split: 'eval', values: {}, byDim: junk },
    { step: 3, epoch: 0.5, time: 1, split: 'eval', values: {}, byDim: LAST_BY_DIM },
    { step: 6, epoch: 1, time: 2, split: 'eval', values: {}, byDim: junk },
    { type: 'resume', fromStep: 3 },
    { step: 4, epoch: 0.7, time: 3, split: 'train', values: { loss: 1 } },
  ];
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  for (const c of ['step-3', 'step-6', 'best-16', '.step-9.tmp']) mkdirSync(join(dir, 'checkpoints', c), { recursive: true });
  return dir;
}

/**
 * `<ext>/dist/export.js`, a stand-in for the exporter. It appends its arguments and ELECTRON_RUN_AS_NODE to
 * `$MRL_FAKE_EXPORT_LOG`, then by `--dim`: 3 → refuses (exit 2, a message on stderr, `{"ok":false}`); 5 →
 * starts its temp folder (`.<name>.export-<pid>` beside --out, as the real one), writes its pid to
 * `$MRL_FAKE_EXPORT_PID` and waits until it is killed; else → builds the folder there, renames it to --out
 * (replacing it with --force), answers `{"ok":true,…}`.
 */
export function writeStandIn(ext: string): string {
  const file = join(ext, 'dist', 'export.js');
  mkdirSync(join(ext, 'dist'), { recursive: true });
  writeFileSync(
    file,
    `const fs = require('fs');
const argv = process.argv.slice(2);
const flag = (n) => { const i = argv.indexOf(n); return i < 0 ? undefined : argv[i + 1]; };
fs.appendFileSync(process.env.MRL_FAKE_EXPORT_LOG, JSON.stringify({ argv, electronRunAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }) + '\\n');
const dim = Number(flag('--dim'));
const out = flag('--out');
const path = require('path');
const tmp = path.join(path.dirname(out), '.' + path.basename(out) + '.export-' + process.pid);
if (dim === 3) {
  console.error('export: dim 3 is not one of the run\\'s dims (16, 8, 4)');
  console.log(JSON.stringify({ ok: false, error: '--dim 3: the run evaluates dims 16, 8, 4' }));
  process.exit(2);
}
console.error('loading the checkpoint');
fs.mkdirSync(tmp, { recursive: true });
if (dim === 5) {
  // Like the real program: no SIGTERM handler, so a cancel leaves the temp folder for the host to remove.
  fs.writeFileSync(tmp + '/model.safetensors', 'half');
  fs.writeFileSync(process.env.MRL_FAKE_EXPORT_PID, String(process.pid));
  setInterval(() => {}, 1000);
} else {
  fs.writeFileSync(tmp + '/modules.json', '[]');
  fs.writeFileSync(tmp + '/README.md', '---\\nlibrary_name: sentence-transformers\\n---\\n');
  if (argv.includes('--force')) fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  console.log('checked: max abs diff 2.4e-7');
  const ck = flag('--checkpoint');
  console.log(JSON.stringify({ ok: true, out, dim, precision: flag('--precision'),
    checkpoint: ck === 'best' ? { kind: 'best', step: 3 } : { kind: 'step', step: ck === 'last' ? 6 : Number(ck) }, maxAbsDiff: 2.4e-7 }));
}
`,
  );
  return file;
}

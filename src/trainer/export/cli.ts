/**
 * The Export Model program (dist/export.js; `npm run export -- …`), also what the VS Code command
 * "Matryoshka Lab: Export Model…" runs:
 *   <run dir> --dim D [--precision float32|int8|binary] [--checkpoint best|last|<step>] --out DIR [--force] [--backend …] [--json]
 * Exit codes: 0 exported (and checked); 1 the export failed (nothing left at --out); 2 bad arguments or
 * inputs (nothing written). Errors are one line on stderr naming the file or argument and what was
 * expected. With --json the last stdout line is the result, the contract the VS Code command reads:
 *   {"ok":true,"out":"<abs dir>","dim":D,"precision":"…","checkpoint":{"kind":"best|step","step":N},"maxAbsDiff":x,"files":[…],"advice":"…"}
 *   {"ok":false,"error":"…"}
 * The engine: exportModel.ts.
 */
import { PRECISIONS, type Precision } from '../../protocol/runFolder';
import type { BackendName } from '../../protocol/runConfig';
import type { CheckpointRequest } from './runSource';
import { exportModel, ExportInputError } from './exportModel';

export const USAGE = `usage:
  npm run export -- <run dir> --dim D [--precision float32|int8|binary] [--checkpoint best|last|<step>] --out DIR [--force] [--json]

  <run dir>     a bundled-trainer run folder (.mrl/runs/<id>); a running run is exported from its last complete checkpoint
  --dim         the Matryoshka dim to ship: one of the run's evaluation dims
  --precision   float32 (default), int8 or binary: int8 / binary add quantization.json, the exact recipe and
                (int8) the calibration ranges computed on the run's eval corpus
  --checkpoint  last (default: the latest complete step-<n>), <step>, or best (the best checkpoint that
                training.keepBest kept for --dim)
  --out         the folder to create: a sentence-transformers model (SentenceTransformer(DIR) gives D-dim,
                normalised embeddings), with a model card README.md; must be new or empty
  --force       replace a non-empty --out (only once the new folder passed its check)
  --backend     auto|wasm|cpu|tensorflow (default: the run's)
  --json        print the result as one JSON line last on stdout
  --help        this text`;

class UsageError extends Error {}

interface CliArgs {
  runDir: string;
  dim: number;
  precision: Precision;
  checkpoint: CheckpointRequest;
  out: string;
  force: boolean;
  json: boolean;
  backend?: BackendName;
}

const VALUE_FLAGS = ['--dim', '--precision', '--checkpoint', '--out', '--backend'];
const BACKENDS: BackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow'];

export function parseExportArgs(argv: string[]): CliArgs | 'help' {
  const v: Record<string, string> = {};
  const positional: string[] = [];
  let force = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--force') force = true;
    else if (a === '--json') json = true;
    else if (VALUE_FLAGS.includes(a)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${a}: expected a value`);
      if (v[a] !== undefined) throw new UsageError(`${a}: given twice`);
      v[a] = value;
    } else if (a.startsWith('--'))
      throw new UsageError(`${a}: unknown option (expected ${[...VALUE_FLAGS, '--force', '--json'].join(', ')})`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(`expected one <run dir>, got ${positional.length ? positional.join(' ') : 'none'}`);
  const dimText = v['--dim'];
  if (dimText === undefined) throw new UsageError("--dim: missing (expected one of the run's Matryoshka dims, e.g. --dim 64)");
  if (!/^\d+$/.test(dimText) || Number(dimText) < 1) throw new UsageError(`--dim ${dimText}: expected a positive integer`);
  const precision = (v['--precision'] ?? 'float32') as Precision;
  if (!PRECISIONS.includes(precision)) throw new UsageError(`--precision ${precision}: expected ${PRECISIONS.join(', ')}`);
  const ck = v['--checkpoint'] ?? 'last';
  let checkpoint: CheckpointRequest;
  if (ck === 'best' || ck === 'last') checkpoint = ck;
  else if (/^\d+$/.test(ck)) checkpoint = Number(ck);
  else throw new UsageError(`--checkpoint ${ck}: expected best, last or a step number`);
  if (v['--out'] === undefined) throw new UsageError('--out: missing (expected the folder to create)');
  const backend = v['--backend'] as BackendName | undefined;
  if (backend !== undefined && !BACKENDS.includes(backend)) throw new UsageError(`--backend ${backend}: expected ${BACKENDS.join(', ')}`);
  return { runDir: positional[0], dim: Number(dimText), precision, checkpoint, out: v['--out'], force, json, backend };
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const fail = (code: number, message: string): number => {
    const oneLine = message.replace(/\s*\n\s*/g, '; ');
    process.stderr.write(`error: ${oneLine}\n`);
    if (json) process.stdout.write(JSON.stringify({ ok: false, error: oneLine }) + '\n');
    return code;
  };
  let args: CliArgs | 'help';
  try {
    args = parseExportArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return fail(2, `${e.message}\n${json ? '' : USAGE}`.trim().split('\n')[0]);
    throw e;
  }
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    const r = await exportModel({
      runDir: args.runDir,
      dim: args.dim,
      precision: args.precision,
      checkpoint: args.checkpoint,
      out: args.out,
      force: args.force,
      backend: args.backend,
      log: (s) => process.stderr.write(`${s}\n`),
    });
    const ck = r.checkpoint.kind === 'best' ? `best for dim ${r.dim} (step ${r.checkpoint.step})` : `step ${r.checkpoint.step}`;
    process.stderr.write(
      `exported ${r.precision} at dim ${r.dim} from ${ck} to ${r.out} (${r.files.length} files; max |Δ| ${r.maxAbsDiff.toExponential(2)} against the checkpoint)\n`,
    );
    if (r.advice) process.stderr.write(`frontier at that checkpoint: ${r.advice}\n`);
    if (json) process.stdout.write(JSON.stringify({ ok: true, ...r }) + '\n');
    else process.stdout.write(`${r.out}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ExportInputError) return fail(2, e.message);
    return fail(1, `export failed: ${(e as Error).message}`);
  }
}

// Run when executed (dist/export.js or `node --import tsx src/trainer/export/cli.ts`), not when imported by tests.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: export failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

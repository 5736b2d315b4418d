/**
 * `npm run conformance -- <dir> [--backend wasm|cpu]` (node dist/conformance.js): runs every `*.json`
 * loss fixture in <dir> (see conformance.ts), prints one line per fixture and `N passed, N failed`,
 * and exits 0 only when every fixture passed (1 if any failed, 2 on a usage or directory error).
 * The default backend is wasm, the trainer's embedded default, so conformance checks what training runs.
 */
import { FixtureError, runConformance } from './conformance';
import { initBackend, type BackendRequest } from '../runtime/backend';

const USAGE = 'usage: conformance <fixture-dir> [--backend wasm|cpu]';

function parseArgs(argv: string[]): { dir: string; backend: BackendRequest } {
  let dir: string | undefined;
  let backend: BackendRequest = 'wasm';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') {
      const b = argv[++i];
      if (b !== 'wasm' && b !== 'cpu') throw new FixtureError(`--backend: expected wasm or cpu, got ${b ?? 'nothing'}\n${USAGE}`);
      backend = b;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) {
      throw new FixtureError(`unknown option ${a}\n${USAGE}`);
    } else if (dir === undefined) {
      dir = a;
    } else {
      throw new FixtureError(`one fixture directory expected, got another: ${a}\n${USAGE}`);
    }
  }
  if (dir === undefined) throw new FixtureError(USAGE);
  return { dir, backend };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const choice = await initBackend(args.backend);
  console.log(`backend: ${choice.name} (${choice.reason})`);
  try {
    const { passed, failed } = runConformance(args.dir);
    if (passed + failed === 0) {
      console.error(`no *.json fixtures in ${args.dir}`);
      return 2;
    }
    return failed === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof FixtureError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Unexpected: still one clear line, no stack trace (set CONFORMANCE_DEBUG=1 for it).
    console.error(`conformance: ${(e as Error)?.message ?? String(e)}`);
    if (process.env.CONFORMANCE_DEBUG) console.error(e);
    process.exit(2);
  },
);

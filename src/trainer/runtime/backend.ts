/**
 * Backend selection for the trainer, plus guards that keep training off slow paths.
 *
 * - `tensorflow`: @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node, only if the user installed
 *   one next to the extension / trainer. They are externals in the esbuild bundle and are loaded with a
 *   plain require at run time. Their own copy of tfjs-core registers the 'tensorflow' backend in the
 *   process-global engine and kernel registry, which the bundled tfjs-core shares.
 * - `wasm`: @tensorflow/tfjs-backend-wasm with SIMD (single-threaded in Node, see docs/performance.md#threads-and-simd).
 * - `cpu`: @tensorflow/tfjs-backend-cpu (slow; tests and a last resort).
 * - `auto`: tensorflow when resolvable, else wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
// A named import, not a bare one: the package marks its node entry side-effect free, so esbuild drops
// `import '@tensorflow/tfjs-backend-cpu'` and the cpu backend would be missing from the bundle. The
// version is used in initBackend's reason so that the import cannot be tree-shaken either.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { installFastGradients } from './kernels';
import { installLeanBackward } from './leanBackward';
import { installWasmSharedIdentity } from './kernels/wasmIdentity';
import { installWasmKernels } from './kernels/wasmKernels';

export type BackendRequest = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

export interface BackendChoice {
  /** tfjs backend name now active: 'tensorflow' | 'wasm' | 'cpu'. */
  name: string;
  /** Why this backend (for run.json and the log). */
  reason: string;
}

/** The optional native backends, GPU first; require() resolves them at run time (never bundled). */
type TfNodePackage = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';
const WASM_SIMD_FILE = 'tfjs-backend-wasm-simd.wasm';

// The same version as the bundled tfjs-core: tfjs-node brings its own tfjs-core copy, and both copies
// share one process-global engine and kernel registry.
export const TENSORFLOW_INSTALL_HINT =
  `Install one next to the extension/trainer: \`npm install @tensorflow/tfjs-node-gpu@${tf.version_core}\` ` +
  `(NVIDIA GPU, CUDA) or \`npm install @tensorflow/tfjs-node@${tf.version_core}\` (CPU), or choose backend "wasm".`;

let current: { request: BackendRequest; choice: BackendChoice } | undefined;
let wasmPathsSet = false;

/**
 * The tfjs-node package that require() can resolve, if any. The literal require.resolve calls matter:
 * esbuild keeps them as run-time lookups of the externals.
 */
function resolveTfNode(): TfNodePackage | undefined {
  const tryResolve = (f: () => string): boolean => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  };
  if (tryResolve(() => require.resolve('@tensorflow/tfjs-node-gpu'))) return '@tensorflow/tfjs-node-gpu';
  if (tryResolve(() => require.resolve('@tensorflow/tfjs-node'))) return '@tensorflow/tfjs-node';
  return undefined;
}

function loadTfNode(pkg: TfNodePackage): void {
  if (pkg === '@tensorflow/tfjs-node-gpu') require('@tensorflow/tfjs-node-gpu');
  else require('@tensorflow/tfjs-node');
}

/**
 * Folder holding the .wasm binaries: beside the bundle (dist/, where esbuild.mjs copies them) or, when
 * running from sources, the package's own dist/. Both are checked because __dirname differs.
 */
export function findWasmDir(): string {
  const candidates: string[] = [__dirname];
  try {
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // Not resolvable from here (e.g. a packaged extension without node_modules): the bundle dir must do.
  }
  candidates.push(join(__dirname, '..', '..', '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  candidates.push(join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  for (const dir of candidates) if (existsSync(join(dir, WASM_SIMD_FILE))) return dir;
  throw new Error(`wasm backend: ${WASM_SIMD_FILE} not found in any of: ${candidates.join(', ')}`);
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`could not initialise the tfjs backend "${name}"`);
  await tf.ready();
}

async function activateWasm(): Promise<string> {
  const dir = findWasmDir();
  if (!wasmPathsSet) {
    // setWasmPaths throws once the backend has been initialised; only the first call may set it.
    setWasmPaths(dir.endsWith('/') ? dir : dir + '/');
    wasmPathsSet = true;
  }
  await activate('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const matmul = installWasmKernels(dir);
  return simd ? `SIMD, ${matmul}, binaries from ${dir}` : `no SIMD (slow), ${matmul}, binaries from ${dir}`;
}

/** Selects and initialises a backend and installs the fast gradients. Idempotent per request. */
export async function initBackend(requested: BackendRequest): Promise<BackendChoice> {
  if (current && current.request === requested && tf.getBackend() === current.choice.name) {
    return current.choice;
  }
  let choice: BackendChoice;
  switch (requested) {
    case 'tensorflow': {
      const pkg = resolveTfNode();
      if (!pkg) {
        throw new Error(
          `backend "tensorflow" needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither is installed. ${TENSORFLOW_INSTALL_HINT}`,
        );
      }
      loadTfNode(pkg);
      await activate('tensorflow');
      choice = { name: 'tensorflow', reason: `requested "tensorflow": using ${pkg}` };
      break;
    }
    case 'auto': {
      const pkg = resolveTfNode();
      let loadError: string | undefined;
      if (pkg) {
        try {
          loadTfNode(pkg);
          await activate('tensorflow');
        } catch (e) {
          // Installed but unusable (e.g. missing CUDA / native binary): auto still has to train.
          loadError = `${pkg} is installed but failed to load: ${(e as Error).message}`;
        }
      }
      if (pkg && !loadError) {
        choice = { name: 'tensorflow', reason: `auto: ${pkg} is installed` };
      } else if (loadError) {
        const detail = await activateWasm();
        choice = { name: 'wasm', reason: `auto: ${loadError}; using wasm (${detail})` };
      } else {
        const detail = await activateWasm();
        choice = {
          name: 'wasm',
          reason: `auto: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed, using wasm (${detail})`,
        };
      }
      break;
    }
    case 'wasm': {
      const detail = await activateWasm();
      choice = { name: 'wasm', reason: `requested "wasm" (${detail})` };
      break;
    }
    case 'cpu': {
      await activate('cpu');
      choice = { name: 'cpu', reason: `requested "cpu" (tfjs-backend-cpu ${version_cpu})` };
      break;
    }
    default:
      throw new Error(`unknown backend "${String(requested)}" (expected auto, wasm, cpu or tensorflow)`);
  }
  // The overrides only change how gradients are computed (same values); tensorflow's native kernels do
  // not suffer from the traps they avoid, so it keeps the stock gradients.
  if (choice.name === 'wasm' || choice.name === 'cpu') installFastGradients();
  // Every backend: the same gradients, with what the backward no longer needs freed as it goes.
  installLeanBackward();
  if (choice.name === 'wasm') installWasmSharedIdentity();
  current = { request: requested, choice };
  return choice;
}

/** The wasm backend's heap in bytes (0 on another backend): its high-water mark, since a wasm memory never shrinks. */
export function wasmHeapBytes(): number {
  if (tf.getBackend() !== 'wasm') return 0;
  return (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? 0;
}

/** Kernels that must never run in training: each one marks a slow fallback (docs/performance.md #5). */
export const FORBIDDEN_TRAINING_KERNELS: readonly string[] = ['UnsortedSegmentSum'];

/**
 * Throws if any of `kernelNames` is not registered for `backend` (default: the active one), or is in
 * `forbidden`. Run before training so that a missing kernel fails loudly up front instead of falling
 * back to something slow (or failing mid-run).
 */
export function checkKernels(
  kernelNames: Iterable<string>,
  backend: string = tf.getBackend(),
  forbidden: readonly string[] = FORBIDDEN_TRAINING_KERNELS,
): void {
  const names = [...new Set(kernelNames)].sort();
  const missing = names.filter((n) => tf.getKernel(n, backend) === undefined);
  const bad = names.filter((n) => forbidden.includes(n));
  const problems: string[] = [];
  if (missing.length) problems.push(`not registered for backend "${backend}": ${missing.join(', ')}`);
  if (bad.length) problems.push(`forbidden in training (slow fallback): ${bad.join(', ')}`);
  if (problems.length) throw new Error(`kernel check failed: ${problems.join('; ')}`);
}

/**
 * Names of the kernels `fn` actually runs (forward and, if it calls variableGrads/grads, backward),
 * via tf.profile. Tensors `fn` returns are disposed.
 */
export async function collectKernelNames(fn: () => tf.TensorContainer | void): Promise<string[]> {
  const info = await tf.profile(() => {
    const r = fn();
    return r === undefined ? [] : (r as tf.TensorContainer);
  });
  tf.dispose(info.result as tf.TensorContainer);
  return kernelNamesOf(info);
}

const KNOWN_BACKENDS = ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'];

/**
 * Real kernel names in a tf.profile result. tf.customGrad ops are profiled under their enclosing
 * scope's name ("unnamed scope", "forward", …): not kernels (the kernels inside them are profiled on
 * their own), and registered for no backend, which is how they are told apart. Anything that really
 * ran as a kernel is registered at least for the backend it ran on.
 */
export function kernelNamesOf(info: { kernelNames: string[] }): string[] {
  return [...new Set(info.kernelNames)].filter((n) => KNOWN_BACKENDS.some((b) => tf.getKernel(n, b) !== undefined)).sort();
}

/**
 * Preflight for the trainer: runs one representative step (e.g. a tiny forward + backward of the
 * encoder and loss) under tf.profile and checks every kernel it used with checkKernels. Returns the
 * kernel names (for the log).
 */
export async function preflightKernels(step: () => tf.TensorContainer | void, backend: string = tf.getBackend()): Promise<string[]> {
  // A plain run first: a kernel the backend lacks throws here, and tf.profile does not survive a
  // throwing function cleanly (it leaves profiling on and rejects a timing promise later).
  try {
    tf.dispose(step() ?? []);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/not registered/i.test(msg)) throw new Error(`kernel check failed on backend "${backend}": ${msg}`, { cause: e });
    throw e;
  }
  const names = await collectKernelNames(step);
  checkKernels(names, backend);
  return names;
}

/**
 * Test-only fault injection for the trainer process (`MRL_FAULT_INJECT`, read by cli/main.ts; unset, this
 * module does nothing). It wraps the `node:fs` calls that change files — every writer of the run folder
 * (runs/runWriter.ts, runs/atomicFile.ts, loop/checkpoint.ts, the model files) goes through them — so a
 * test can make the disk fail under the real trainer at a chosen call, deterministically: the trainer's
 * file operations come in the same order on every run of the same config, whatever the machine's speed.
 * test/trainer/faultInjection.test.ts and checkpointKill.test.ts use it.
 *
 * `MRL_FAULT_INJECT` is JSON (FaultSpec):
 *   under   only calls on paths under this folder count and fail (a runs folder: the run's creation included)
 *   at      the fault starts at the at-th such call (1-based), counting only calls whose path contains
 *           `match` when it is given
 *   kind    "pause":    that call writes `partial` of its bytes (0 to 1), `marker` is written, and the
 *                       process stops itself (SIGSTOP): the test sees the state mid-write and sends SIGKILL
 *                       (a SIGCONT lets the call finish its bytes and the trainer go on);
 *           "enospc":   from that call on the disk is full: a call that needs space fails with ENOSPC
 *                       (a new file, an append, a file rewritten larger than the blocks it had, a folder, a
 *                       link, a copy); renames, deletions and rewrites within the file's blocks succeed,
 *                       as on a real full disk;
 *           "readonly": from that call on every change under `under` fails with EACCES (a folder made
 *                       read-only with chmod; tests run as root here, and root ignores the mode bits);
 *           "count":    nothing fails; at exit `marker` receives the number of calls counted.
 * Every kind writes to `marker` (when given) the call the fault started at: {call, path, count}.
 */
import type * as FsModule from 'node:fs';
import { resolve, sep } from 'node:path';

// The module object itself, not an import namespace: esbuild's and tsx's namespace objects are read-only
// views, and the writers call the module's own properties (`(0, import_node_fs.writeFileSync)(…)`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof FsModule;

export interface FaultSpec {
  under: string;
  at?: number;
  match?: string;
  kind: 'pause' | 'enospc' | 'readonly' | 'count';
  partial?: number;
  marker?: string;
}

/** The fs functions this module wraps, as the rest of the trainer calls them. */
type Fs = typeof fs;
type Mutable = { -readonly [K in keyof Fs]: Fs[K] };

const BLOCK = 4096;

/** Parses and installs `MRL_FAULT_INJECT`; a malformed value is an error (a test that injects nothing would pass vacuously). */
export function installFaultInjectionFromEnv(value = process.env.MRL_FAULT_INJECT): void {
  if (!value) return;
  let spec: FaultSpec;
  try {
    spec = JSON.parse(value) as FaultSpec;
  } catch (e) {
    throw new Error(`MRL_FAULT_INJECT is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof spec?.under !== 'string' || !['pause', 'enospc', 'readonly', 'count'].includes(spec.kind))
    throw new Error('MRL_FAULT_INJECT needs {"under": "<folder>", "kind": "pause" | "enospc" | "readonly" | "count", "at": n}');
  if (spec.kind !== 'count' && !(Number.isInteger(spec.at) && spec.at! >= 1))
    throw new Error('MRL_FAULT_INJECT: "at" must be an integer ≥ 1');
  installFaultInjection(spec);
}

function errno(code: 'ENOSPC' | 'EACCES', op: string, path: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'permission denied';
  const e = new Error(`${code}: ${text}, ${op} '${path}' (injected by MRL_FAULT_INJECT)`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = code === 'ENOSPC' ? -28 : -13;
  e.syscall = op;
  e.path = path;
  return e;
}

export function installFaultInjection(spec: FaultSpec): void {
  const f = fs as unknown as Mutable;
  const real = { ...fs };
  const root = resolve(spec.under);
  const inside = (p: unknown): p is string => {
    if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return false;
    const abs = resolve(String(p instanceof URL ? p.pathname : p));
    return abs === root || abs.startsWith(root + sep);
  };
  const fds = new Map<number, string>();
  let depth = 0;
  let count = 0;
  let active = false;

  /** The marker appears whole (temp + rename): a test waiting for it never reads half of it. */
  const mark = (text: string) => {
    if (!spec.marker) return;
    real.writeFileSync(`${spec.marker}.tmp`, text);
    real.renameSync(`${spec.marker}.tmp`, spec.marker);
  };
  const writeMarker = (call: string, path: string) => mark(JSON.stringify({ call, path, count }) + '\n');
  if (spec.kind === 'count') process.on('exit', () => mark(String(count) + '\n'));

  /** Counts the call; true when the fault is on for it (it starts at this call or is on already). */
  const counts = (call: string, path: string): boolean => {
    if (spec.kind === 'count') {
      count++;
      return false;
    }
    if (active) return spec.kind !== 'pause';
    if (spec.match === undefined || path.includes(spec.match)) count++;
    if (count < spec.at!) return false;
    active = true;
    writeMarker(call, path);
    return true;
  };

  const size = (p: string): number | undefined => {
    try {
      return real.statSync(p).size;
    } catch {
      return undefined;
    }
  };
  const blocks = (n: number) => Math.ceil(n / BLOCK);
  const bytesOf = (data: unknown): Buffer =>
    typeof data === 'string'
      ? Buffer.from(data)
      : ArrayBuffer.isView(data)
        ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
        : Buffer.alloc(0);
  const flagOf = (o: unknown, dflt: string): string =>
    typeof o === 'object' && o !== null && typeof (o as { flag?: unknown }).flag === 'string' ? (o as { flag: string }).flag : dflt;

  /** Stops this process mid-call: the test decides what happens next (SIGKILL, or SIGCONT to go on). */
  const pauseHere = () => process.kill(process.pid, 'SIGSTOP');

  /** A whole-file write (writeFileSync, appendFileSync) under the fault. */
  const fileWrite = (name: 'writeFileSync' | 'appendFileSync', p: string, data: unknown, o: unknown) => {
    const flag = flagOf(o, name === 'appendFileSync' ? 'a' : 'w');
    const buf = bytesOf(data);
    if (spec.kind === 'readonly') throw errno('EACCES', 'open', p);
    if (spec.kind === 'enospc') {
      const had = size(p);
      const grows = flag.startsWith('a') ? buf.length > 0 : had === undefined || blocks(buf.length) > blocks(had);
      if (grows) throw errno('ENOSPC', 'write', p);
      return real[name](p, data as string, o as FsModule.WriteFileOptions);
    }
    // pause: a prefix of the bytes, then stop; on SIGCONT the rest.
    const cut = Math.floor(buf.length * Math.min(1, Math.max(0, spec.partial ?? 0)));
    real.writeFileSync(p, buf.subarray(0, cut), { flag });
    pauseHere();
    real.appendFileSync(p, buf.subarray(cut));
  };

  const wrap = <K extends keyof Mutable>(name: K, handle: (orig: Fs[K], args: unknown[]) => unknown) => {
    const orig = real[name];
    f[name] = function (this: unknown, ...args: unknown[]) {
      if (depth > 0) return (orig as (...a: unknown[]) => unknown).apply(this, args);
      depth++;
      try {
        return handle(orig, args);
      } finally {
        depth--;
      }
    } as Fs[K];
  };
  const call = (orig: unknown, args: unknown[]) => (orig as (...a: unknown[]) => unknown)(...args);

  for (const name of ['writeFileSync', 'appendFileSync'] as const) {
    wrap(name, (orig, args) => {
      const [p, data, o] = args;
      if (typeof p === 'number') {
        const path = fds.get(p);
        if (path && counts(name, path)) return fileWrite(name, path, data, o);
        return call(orig, args);
      }
      if (!inside(p) || !counts(name, p)) return call(orig, args);
      return fileWrite(name, p, data, o);
    });
  }
  wrap('openSync', (orig, args) => {
    const [p, flags] = args;
    const flag = typeof flags === 'string' ? flags : typeof flags === 'number' ? (flags & 3 ? 'w' : 'r') : 'r';
    if (!inside(p) || flag === 'r' || flag === 'rs') return call(orig, args);
    if (counts('openSync', p)) {
      if (spec.kind === 'readonly') throw errno('EACCES', 'open', p);
      if (spec.kind === 'enospc' && size(p) === undefined) throw errno('ENOSPC', 'open', p);
      if (spec.kind === 'pause') pauseHere();
    }
    const fd = call(orig, args) as number;
    fds.set(fd, p);
    return fd;
  });
  wrap('closeSync', (orig, args) => {
    fds.delete(args[0] as number);
    return call(orig, args);
  });
  wrap('writeSync', (orig, args) => {
    const path = fds.get(args[0] as number);
    if (path !== undefined && counts('writeSync', path)) {
      if (spec.kind === 'readonly') throw errno('EACCES', 'write', path);
      if (spec.kind === 'enospc') throw errno('ENOSPC', 'write', path);
      if (spec.kind === 'pause') pauseHere();
    }
    return call(orig, args);
  });
  // Calls that need new space on a full disk.
  for (const name of ['mkdirSync', 'linkSync', 'symlinkSync', 'copyFileSync'] as const) {
    wrap(name, (orig, args) => {
      const target = name === 'mkdirSync' ? args[0] : args[1];
      if (!inside(target)) return call(orig, args);
      // mkdir -p of a folder that exists changes nothing: not a call that can fail for lack of space.
      if (name === 'mkdirSync' && size(target) !== undefined) return call(orig, args);
      if (counts(name, target)) {
        if (spec.kind === 'readonly') throw errno('EACCES', name.replace(/Sync$/, ''), target);
        if (spec.kind === 'enospc') throw errno('ENOSPC', name.replace(/Sync$/, ''), target);
        if (spec.kind === 'pause') pauseHere();
      }
      return call(orig, args);
    });
  }
  // Calls that free or move space: refused on a read-only folder only.
  for (const name of ['renameSync', 'unlinkSync', 'rmSync', 'rmdirSync'] as const) {
    wrap(name, (orig, args) => {
      const [p] = args;
      if (!inside(p)) return call(orig, args);
      // rm -f of nothing changes nothing.
      if (name === 'rmSync' && size(p) === undefined && !isLink(p)) return call(orig, args);
      if (counts(name, p)) {
        if (spec.kind === 'readonly') throw errno('EACCES', name.replace(/Sync$/, ''), p);
        if (spec.kind === 'pause') pauseHere();
      }
      return call(orig, args);
    });
  }
  function isLink(p: string): boolean {
    try {
      return real.lstatSync(p).isSymbolicLink();
    } catch {
      return false;
    }
  }
}

// Which paths code touches on disk: the fs functions validation and the readers use, spied during a call.
import fs from 'node:fs';

/** Every path the fs functions validation uses were called with, during f(). */
export function touchedPaths(f: () => void): string[] {
  const seen: string[] = [];
  const names = ['existsSync', 'statSync', 'readFileSync', 'lstatSync', 'realpathSync', 'openSync'] as const;
  const fsAny = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = names.map((n) => fsAny[n]);
  names.forEach((n, i) => {
    fsAny[n] = function (this: unknown, ...a: unknown[]) {
      seen.push(String(a[0]));
      return orig[i].apply(this, a);
    };
  });
  try {
    f();
  } finally {
    names.forEach((n, i) => (fsAny[n] = orig[i]));
  }
  return seen;
}

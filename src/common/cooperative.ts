/**
 * Long synchronous phases (loading / parsing data, learning a vocabulary, embedding an eval set) are
 * written as generators that `yield` now and then; `runSync` runs one to the end in one go, `runAsync`
 * gives the event loop a turn every ~SLICE_MS of work so that SIGINT / SIGTERM handlers run within a
 * fraction of a second, and can abandon the work when asked.
 */
export type Work<T> = Generator<void, T, void>;

export const SLICE_MS = 100;

/** Thrown by runAsync when `abort()` says so: the work was abandoned, nothing half-done is returned. */
export class WorkAbandoned extends Error {
  constructor(what = 'work') {
    super(`${what} abandoned on request`);
    this.name = 'WorkAbandoned';
  }
}

export function runSync<T>(work: Work<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
  }
}

export const turn = () => new Promise<void>((r) => setImmediate(r));

export async function runAsync<T>(work: Work<T>, o: { abort?: () => boolean; what?: string; sliceMs?: number } = {}): Promise<T> {
  const slice = o.sliceMs ?? SLICE_MS;
  let since = performance.now();
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    if (performance.now() - since >= slice) {
      await turn();
      if (o.abort?.()) {
        work.return(undefined as never);
        throw new WorkAbandoned(o.what);
      }
      since = performance.now();
    }
  }
}

// A child of runRaces.test.ts: takes the lock of <root>/run-<r> for each round r, all takers released at
// once by the FIFO <root>/go-<r> (opening it for reading blocks until the test opens it for writing), and
// prints "<r> won|locked|error …". It stays alive (holding the locks it won) until its stdin ends.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { acquireRunLock, RunLockedError } from '../../src/runs/runWriter';

const [root, roundsArg] = process.argv.slice(2);
for (let r = 0; r < Number(roundsArg); r++) {
  process.stdout.write(`ready ${r}\n`);
  closeSync(openSync(join(root, `go-${r}`), 'r'));
  let result: string;
  try {
    acquireRunLock(join(root, `run-${r}`));
    result = 'won';
  } catch (e) {
    result = e instanceof RunLockedError ? 'locked' : `error ${(e as Error).message}`;
  }
  process.stdout.write(`${r} ${result}\n`);
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

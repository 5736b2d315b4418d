// Replacing a run-folder file (run.json) so that a reader never sees half of it: the trainer and the
// host (which marks a SIGKILLed run) both write it this way. Node only: never imported by the webview.
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `data` to `file` atomically: a temp file in the same folder, then rename over the target. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

// Run by test/unit/hostileClone.test.ts in a child process (a read that blocks or never ends must fail
// that test, not hang or kill the test runner): what the extension host does with a runs folder at
// activation — list and refresh it (RunStore), read configs and notes, ask who holds each lock, tail
// the trainer output files — then prints what it saw as JSON.
import { join } from 'node:path';
import { RunStore } from '../../src/runs/store';
import { liveLockHolder } from '../../src/runs/trainerProcess';
import { TextTail } from '../../src/runs/tail';

const runsDir = process.argv[2];
const store = new RunStore(runsDir);
store.refresh();
while (store.drain().pending.length) {
  /* read every backlog */
}
const out = store.list().map((r) => ({
  id: r.id,
  status: r.status,
  readError: r.readError,
  notesProblem: r.notesProblem,
  config: r.config() !== null,
  lock: liveLockHolder(r.dir) ?? null,
  events: r.series.total,
  // The panel's replay serialises every event (src/host/panel/panelHost.ts).
  json: r.series.events.map((e) => JSON.stringify(e).length).reduce((a, b) => a + b, 0),
  log: new TextTail(join(runsDir, '.logs', `${r.id}.log`)).read().length,
}));
process.stdout.write(JSON.stringify(out));

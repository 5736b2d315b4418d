// Helpers of test/gpu/stGpuCheck.sh (run with node --import tsx): `pairs <file>` writes WordNet glosses as
// anchor/positive JSONL; `report <runs dir>` checks every run folder the check made through RunStore and prints
// per-dim ndcg@10 of the sentence-transformers run next to the bundled trainer's.
import { writeFileSync } from 'node:fs';
import { loadWordnet } from '../../src/data/wordnet';
import { RunStore } from '../../src/runs/store';

const [cmd, arg] = process.argv.slice(2);
if (cmd === 'pairs') {
  const rows = loadWordnet()
    .rows.filter((_, i) => i % 7 === 0)
    .slice(0, 20000);
  writeFileSync(arg, rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');
} else if (cmd === 'report') {
  const store = new RunStore(arg);
  store.refresh();
  const ids = ['st-quickstart', '20250101-000000-st-emitted-0001', 'st-stop', 'by-hand', 'bundled-same'];
  for (const id of ids) {
    const s = store.get(id);
    if (!s || s.status !== 'completed') throw new Error(`${id}: ${s ? s.status : 'not listed'}, expected completed`);
  }
  if (!store.get('st-stop')!.info.resumedAt) throw new Error('st-stop: run.json has no resumedAt (the callback writes it on resume)');
  const last = (id: string) =>
    store
      .get(id)!
      .series.events.filter((e) => e.split === 'eval')
      .pop()!.byDim!;
  const st = last('st-quickstart');
  const b = last('bundled-same');
  console.log('dim | sentence-transformers ndcg@10 | bundled ndcg@10');
  for (const d of ['64', '32', '16', '8'])
    console.log(`${d.padStart(3)} | ${st[d]['ndcg@10'].toFixed(4).padStart(29)} | ${b[d]['ndcg@10'].toFixed(4).padStart(15)}`);
} else {
  throw new Error('usage: stGpuHelpers.ts pairs <file> | report <runs dir>');
}

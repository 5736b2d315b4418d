// Workspace contents for the end-to-end tests: configs and two finished runs written as the trainer would.
import fs from 'node:fs';
import path from 'node:path';

/** Steps of the longer runs (stop / resume / reload / kill): long enough to act while they run. */
export const LONG_STEPS = 250;
export const RELOAD_STEPS = 400;

export const TINY_CONFIG = {
  name: 'e2e-tiny',
  seed: 7,
  backend: 'cpu',
  model: { scratch: { vocabSize: 200, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 24 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.25 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8, 4] },
  training: { epochs: 1, maxSteps: 6, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 3, checkpointEvery: 3 },
  evaluation: { maxQueries: 16 },
};

const WORDS = ['cat', 'dog', 'tree', 'car', 'house', 'river', 'sun', 'moon', 'bird', 'fish', 'road', 'book', 'lamp', 'door', 'cup', 'hill'];
function pairs() {
  const lines = [];
  for (let i = 0; i < 64; i++) {
    const a = WORDS[i % WORDS.length];
    const b = WORDS[(i * 7 + 3) % WORDS.length];
    lines.push(JSON.stringify({ anchor: `the ${a} near the ${b} ${i}`, positive: `a ${b} by a ${a} ${i}` }));
  }
  return lines.join('\n') + '\n';
}

function fakeRun(runs, id, name, lr, batch, startedAt) {
  const dir = path.join(runs, id);
  fs.mkdirSync(dir, { recursive: true });
  const cfg = { ...TINY_CONFIG, name, training: { ...TINY_CONFIG.training, learningRate: lr, batchSize: batch } };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  let m = '';
  for (let s = 1; s <= 20; s++) {
    m += JSON.stringify({ step: s, epoch: 0, time: s * 0.5, split: 'train', values: { loss: 3 / (1 + s * lr * 100) } }) + '\n';
    if (s % 5 === 0) {
      const byDim = {};
      for (const d of [4, 8, 16])
        byDim[String(d)] = { 'ndcg@10': Math.min(0.99, (d / 16) * (0.3 + s / 40)), 'mrr@10': (d / 20) * (0.2 + s / 50) };
      m += JSON.stringify({ step: s, epoch: 0, time: s * 0.5, split: 'eval', values: {}, byDim }) + '\n';
    }
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), m);
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ id, name, status: 'completed', pid: null, startedAt, endedAt: startedAt, backend: 'cpu', step: 20, totalSteps: 20 }),
  );
}

export function setupWorkspace(ws) {
  fs.writeFileSync(path.join(ws, 'pairs.jsonl'), pairs());
  fs.writeFileSync(path.join(ws, 'tiny.mrl.json'), JSON.stringify(TINY_CONFIG, null, 2) + '\n');
  // The file the diagnostics test edits: "seed" on line 3.
  fs.writeFileSync(
    path.join(ws, 'edit.mrl.json'),
    JSON.stringify({ name: 'edit-me', seed: 1, data: { train: { source: 'pairs.jsonl' } } }, null, 2) + '\n',
  );
  // Longer runs (a few hundred tiny steps, ~20 s) for stop / resume / reload.
  for (const name of ['cli-long', 'reload-me', 'killed']) {
    // reload-me must outlast a window reload: RELOAD_STEPS.
    const maxSteps = name === 'reload-me' ? RELOAD_STEPS : LONG_STEPS;
    const c = { ...TINY_CONFIG, name, training: { ...TINY_CONFIG.training, epochs: 100, maxSteps, evalEvery: 50, checkpointEvery: 25 } };
    fs.writeFileSync(path.join(ws, `${name}.mrl.json`), JSON.stringify(c, null, 2) + '\n');
  }
  const runs = path.join(ws, '.mrl/runs');
  fakeRun(runs, '20260101-100000-alpha-0001', 'alpha', 0.001, 8, '2026-01-01T10:00:00Z');
  fakeRun(runs, '20260101-110000-beta-0002', 'beta', 0.003, 16, '2026-01-01T11:00:00Z');
  // What a cloned repository (or a trainer killed between its first two writes) can leave: config.json
  // and no run.json, written long ago. It must show as failed (stale), never hold the launch queue.
  const stale = path.join(runs, '20251231-090000-cloned-stale-0003');
  fs.mkdirSync(stale, { recursive: true });
  fs.writeFileSync(path.join(stale, 'config.json'), JSON.stringify({ ...TINY_CONFIG, name: 'cloned-stale' }, null, 2));
  const old = new Date('2025-12-31T09:00:00Z');
  fs.utimesSync(path.join(stale, 'config.json'), old, old);
  fs.utimesSync(stale, old, old);
}

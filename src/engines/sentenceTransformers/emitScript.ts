/**
 * `npm run train -- --config X --emit-script DIR`: the sentence-transformers run to take elsewhere (a GPU box
 * without this extension). DIR receives what a launched run's folder holds before Python starts — train.py,
 * data/ (the same export), the callback, config.json (the resolved config) — plus the local model folders
 * it trains from (base-model/, guide-<n>/: train.py finds them beside itself) and run.sh, the exact launch
 * command (torchrun --standalone for devices > 1). Nothing is run and no interpreter is asked.
 *
 * `sh DIR/run.sh` trains with DIR as the run folder: the callback writes run.json and metrics.jsonl there
 * (run id = the folder's name), checkpoints go to DIR/checkpoints, the model to DIR/model. Copied back into
 * .mrl/runs/, the folder shows in the runs view like any other run.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedRunConfig } from '../../config/resolve';
import { RUN_FILES } from '../../protocol/runFolder';
import { exportData } from './data';
import { CALLBACK_FILE, callbackSource, dataOrExplain, launchArgs, RENDEZVOUS, SCRIPT_FILE, scriptInput } from './launch';
import { generateScript, requiredVersion } from './script';

export const RUN_SH = 'run.sh';
/** Where a local pretrained folder is copied inside DIR. */
export const BASE_MODEL_DIR = 'base-model';

/** A value as one word of a POSIX shell command. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** run.sh: the launch command of a run of `devices` processes (the launcher's own argv, launch.ts launchArgs). */
export function runShell(name: string, devices: number, need: { version: string; why: string }): string {
  const argv = launchArgs(devices, SCRIPT_FILE, false).map(sh).join(' ');
  return [
    '#!/bin/sh',
    `# Matryoshka Lab run "${name.replace(/[\n\r]/g, ' ')}" on sentence-transformers (>= ${need.version}: ${need.why}).`,
    '# Needs a Python with sentence-transformers[train] (torch, transformers, datasets, accelerate); PYTHON chooses it.',
    '# This folder is the run folder: run.json, metrics.jsonl, checkpoints/, model/ are written here. Resume:',
    '#   sh run.sh --resume',
    ...(devices > 1 ? [`# ${devices} processes meet through ${RENDEZVOUS}: two runs on one machine never share a port.`] : []),
    'set -e',
    'cd "$(dirname "$0")"',
    `exec "\${PYTHON:-python3}" ${argv} "$@"`,
    '',
  ].join('\n');
}

const err = (s: string) => process.stderr.write(`error: ${s}\n`);

/** The CLI's --emit-script: exit 0 written, 2 bad input (nothing written). */
export function emitScriptMain(dir: string, configFile: string, resolved: ResolvedRunConfig, warnings: string[]): number {
  const out = resolve(dir);
  const { config, baseDir } = resolved;
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    err(`${out} exists and is not an empty folder; choose another --emit-script folder`);
    return 2;
  }
  const data = dataOrExplain(config, baseDir, configFile);
  if (!data) return 2;
  mkdirSync(out, { recursive: true });
  const exported = exportData(out, data.train, data.eval, config.evaluation.maxQueries);
  const input = scriptInput(resolved, exported.scored, configFile);
  // Local model folders travel with the script; Hub ids stay ids (the other machine downloads them).
  const relative: { model?: boolean; guides: string[] } = { guides: [] };
  if (resolved.pretrained?.kind === 'folder') {
    cpSync(resolved.pretrained.dir, join(out, BASE_MODEL_DIR), { recursive: true });
    input.model = BASE_MODEL_DIR;
    relative.model = true;
  }
  Object.entries(resolved.guides).forEach(([name, g], i) => {
    if (g.kind !== 'folder') return;
    const to = `guide-${i}`;
    cpSync(g.dir, join(out, to), { recursive: true });
    input.guides[name] = to;
    relative.guides.push(name);
  });
  input.relative = relative;
  const need = requiredVersion(resolved);
  writeFileSync(join(out, SCRIPT_FILE), generateScript(input));
  copyFileSync(callbackSource(), join(out, CALLBACK_FILE));
  writeFileSync(join(out, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  writeFileSync(join(out, RUN_SH), runShell(config.name, config.devices, need), { mode: 0o755 });
  process.stderr.write(
    `wrote ${out}: ${SCRIPT_FILE}, ${RUN_SH}, ${CALLBACK_FILE}, ${RUN_FILES.config}, data/ (${exported.trainRows} train rows, ${exported.queries} eval queries)` +
      (relative.model ? `, ${BASE_MODEL_DIR}/` : '') +
      `\nrun it with: sh ${join(out, RUN_SH)}   (sentence-transformers >= ${need.version}); copy the folder into .mrl/runs/ to see it in the runs view\n`,
  );
  return 0;
}

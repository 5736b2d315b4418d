/**
 * run.json `git` (GitProvenance, src/protocol/runFolder.ts): the commit, branch and dirty flag of the git
 * work tree that holds a run's config file, read with the `git` program when the run starts. Best effort:
 * no work tree, no git on the PATH, a git that hangs (a network file system, a lock) — the field is simply
 * absent; a run never waits more than a few seconds for it, never fails for it.
 */
import { execFileSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import type { DataProvenance, GitProvenance } from '../protocol/runFolder';

/** Per git call: enough for a large repository's status, short enough not to hold a run up. */
export const GIT_TIMEOUT_MS = 3000;

/** The environment without GIT_DIR & co.: a trainer started from a git hook (or an IDE's git) must read the
 *  config's own work tree, not the repository those variables point at. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  env.GIT_OPTIONAL_LOCKS = '0'; // status must not take the index lock another git may hold
  return env;
}

function git(cwd: string, args: string[], timeout: number): string | undefined {
  try {
    return execFileSync('git', args, { cwd, env: gitEnv(), encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // not a work tree, no git, no commit yet, too slow
  }
}

/** The provenance of `configFile`'s work tree, or undefined (see the module comment). */
export function gitProvenance(configFile: string, timeout = GIT_TIMEOUT_MS): GitProvenance | undefined {
  const cwd = dirname(configFile);
  const commit = git(cwd, ['rev-parse', '--verify', '-q', 'HEAD'], timeout);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const branch = git(cwd, ['symbolic-ref', '-q', '--short', 'HEAD'], timeout) || null;
  // Untracked files other than the config (the runs folder itself, scratch data) do not make a tree dirty.
  const changes = git(cwd, ['status', '--porcelain', '--untracked-files=no'], timeout);
  const tracked = git(cwd, ['ls-files', '--', basename(configFile)], timeout);
  const dirty = changes === undefined || changes !== '' || !tracked;
  return { commit, branch, dirty };
}

/** run.json's provenance fields of a new run: `git` when the config lies in a work tree, and `data`. */
export function provenance(configFile: string | undefined, data: DataProvenance[]): { git?: GitProvenance; data: DataProvenance[] } {
  const git = configFile ? gitProvenance(configFile) : undefined;
  return git ? { git, data } : { data };
}

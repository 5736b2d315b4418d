// run.json `git` (issue 21: runs that say where they came from): the commit, branch and dirty flag of
// the work tree holding the config, read with the real `git`; absent outside a work tree or without git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gitProvenance, provenance } from '../../src/runs/gitProvenance';
import { isGitProvenance } from '../../src/protocol/runFolder';

const root = mkdtempSync(join(tmpdir(), 'mrl-git-'));
after(() => rmSync(root, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined },
  }).trim();

function repo(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'configs'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'configs', 'a.mrl.json'), '{}\n');
  writeFileSync(join(dir, 'notes.txt'), `${name}\n`); // each repository its own commit
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

test('a committed config in a clean tree: its commit and branch, not dirty; untracked files elsewhere do not count', () => {
  const dir = repo('clean');
  writeFileSync(join(dir, 'scratch.jsonl'), 'x'); // untracked (the runs folder is, too)
  mkdirSync(join(dir, '.mrl', 'runs'), { recursive: true });
  const g = gitProvenance(join(dir, 'configs', 'a.mrl.json'))!;
  assert.deepEqual(g, { commit: git(dir, 'rev-parse', 'HEAD'), branch: 'main', dirty: false });
  assert.match(g.commit, /^[0-9a-f]{40}$/);
  assert.ok(isGitProvenance(g));
});

test('dirty: a tracked file changed, or the config itself not committed; a detached HEAD has no branch', () => {
  const dir = repo('dirty');
  const cfg = join(dir, 'configs', 'a.mrl.json');
  writeFileSync(join(dir, 'notes.txt'), 'two\n');
  assert.equal(gitProvenance(cfg)!.dirty, true, 'a tracked file changed');
  git(dir, 'checkout', '-q', '--', 'notes.txt');
  assert.equal(gitProvenance(cfg)!.dirty, false);
  writeFileSync(join(dir, 'configs', 'new.mrl.json'), '{}\n');
  assert.equal(gitProvenance(join(dir, 'configs', 'new.mrl.json'))!.dirty, true, 'the config is not committed');
  git(dir, 'checkout', '-q', '--detach', 'HEAD');
  assert.equal(gitProvenance(cfg)!.branch, null);
});

test('absent outside a work tree, in a repository without a commit, and without git on the PATH', () => {
  const plain = join(root, 'plain');
  mkdirSync(plain);
  assert.equal(gitProvenance(join(plain, 'a.mrl.json')), undefined);
  assert.deepEqual(provenance(join(plain, 'a.mrl.json'), []), { data: [] }, 'run.json gets data, no git key');
  const empty = join(root, 'empty');
  mkdirSync(empty);
  git(empty, 'init', '-q');
  assert.equal(gitProvenance(join(empty, 'a.mrl.json')), undefined);
  const dir = repo('nogit');
  const path = process.env.PATH;
  process.env.PATH = join(root, 'no-such-bin');
  try {
    assert.equal(gitProvenance(join(dir, 'configs', 'a.mrl.json')), undefined);
  } finally {
    process.env.PATH = path;
  }
  assert.equal(provenance(undefined, []).git, undefined, 'no config file (a run prepared in-process): no git');
});

test('GIT_DIR in the environment (a trainer started from a git hook) does not redirect it to another repository', () => {
  const a = repo('hook-a');
  const b = repo('hook-b');
  const saved = process.env.GIT_DIR;
  process.env.GIT_DIR = join(b, '.git');
  try {
    assert.notEqual(git(a, 'rev-parse', 'HEAD'), git(b, 'rev-parse', 'HEAD'));
    assert.equal(gitProvenance(join(a, 'configs', 'a.mrl.json'))!.commit, git(a, 'rev-parse', 'HEAD'));
  } finally {
    if (saved === undefined) delete process.env.GIT_DIR;
    else process.env.GIT_DIR = saved;
  }
});

// Commands take their target as an argument (README): what counts as a run id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idOf, idsOf } from '../../src/host/commands/commandArgs';

test('idOf: a string, {id}, a run node; not other nodes or junk', () => {
  assert.equal(idOf('r1'), 'r1');
  assert.equal(idOf({ id: 'r2' }), 'r2');
  assert.equal(idOf({ kind: 'run', id: 'r3' }), 'r3');
  assert.equal(idOf({ kind: 'group', id: 'g' }), undefined);
  assert.equal(idOf({ id: 3 }), undefined);
  assert.equal(idOf(undefined), undefined);
  assert.equal(idOf(null), undefined);
  assert.equal(idOf(42), undefined);
});

test('idsOf: arrays, (clicked, selection) with the selection winning when it holds the click', () => {
  assert.deepEqual(idsOf(['a', { id: 'b' }, { kind: 'x', id: 'c' }, 5], undefined), ['a', 'b']);
  assert.deepEqual(idsOf('a', undefined), ['a']);
  assert.deepEqual(idsOf({ id: 'a' }, [{ id: 'a' }, { id: 'b' }]), ['a', 'b']);
  assert.deepEqual(idsOf({ id: 'c' }, [{ id: 'a' }, { id: 'b' }]), ['c'], 'a click outside the selection is the target');
  assert.deepEqual(idsOf({ id: 'a' }, [{ id: 'a' }]), ['a']);
  assert.deepEqual(idsOf(undefined, ['a', 'b']), ['a', 'b']);
  assert.deepEqual(idsOf(undefined, ['a']), ['a']);
  assert.deepEqual(idsOf(undefined, undefined), []);
});

test('every command id the code registers or runs (src/host/commands/commandIds.ts) is declared in package.json', async () => {
  const { CMD, NOTES_CMD } = await import('../../src/host/commands/commandIds');
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: { command: string }[] } };
  const declared = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const id of [...Object.values(CMD), ...Object.values(NOTES_CMD)]) assert.ok(declared.has(id), `${id} declared`);
});

// One byte-offset tail for append-only text files: metrics.jsonl (readMetricsFrom) and a trainer's
// output file (TextTail) share readLinesFrom's offset and torn-line handling.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileSize, readFileEnd, readLinesFrom, readMetricsFrom, TextTail } from '../../src/runs/tail';

const tmp = mkdtempSync(join(tmpdir(), 'mrl-texttail-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('readLinesFrom: complete lines only; a torn last line waits; final takes it', () => {
  const f = join(tmp, 'a.txt');
  writeFileSync(f, 'one\ntwo\nthr');
  const r = readLinesFrom(f, 0);
  assert.equal(r.bytes.toString(), 'one\ntwo\n');
  assert.equal(r.offset, 8);
  assert.equal(r.more, false);
  assert.equal(readLinesFrom(f, 8).bytes.length, 0);
  assert.equal(readLinesFrom(f, 8).offset, 8);
  assert.equal(readLinesFrom(f, 8, { final: true }).bytes.toString(), 'thr');
  appendFileSync(f, 'ee\n');
  assert.equal(readLinesFrom(f, 8).bytes.toString(), 'three\n');
});

test('readLinesFrom: a multi-byte character cut by the writer is never decoded', () => {
  const f = join(tmp, 'utf8.txt');
  const euro = Buffer.from('€\n');
  writeFileSync(f, Buffer.concat([Buffer.from('a\n'), euro.subarray(0, 1)]));
  const r = readLinesFrom(f, 0);
  assert.equal(r.bytes.toString(), 'a\n');
  appendFileSync(f, euro.subarray(1));
  assert.equal(readLinesFrom(f, r.offset).bytes.toString(), '€\n');
});

test('readLinesFrom: shrink resets to 0, a missing file reads as missing, an over-long line is skipped', () => {
  const f = join(tmp, 'b.txt');
  writeFileSync(f, 'x\n');
  const r = readLinesFrom(f, 100);
  assert.equal(r.reset, true);
  assert.equal(r.bytes.toString(), 'x\n');
  const m = readLinesFrom(join(tmp, 'nope'), 5);
  assert.deepEqual({ missing: m.missing, offset: m.offset, reset: m.reset }, { missing: true, offset: 0, reset: true });
  writeFileSync(f, 'y'.repeat(100) + '\nok\n');
  const o = readLinesFrom(f, 0, { maxChunk: 50 });
  assert.equal(o.overlong, true);
  assert.equal(o.offset, 50);
  assert.equal(o.more, true);
});

test('readMetricsFrom keeps its results on the shared tail', () => {
  const f = join(tmp, 'metrics.jsonl');
  assert.deepEqual(readMetricsFrom(f, 0), { lines: [], offset: 0, reset: false, skipped: 0 });
  writeFileSync(f, '{"step":1,"time":1,"split":"train","epoch":0,"values":{"loss":1}}\nnot json\n{"step":2');
  const r = readMetricsFrom(f, 0);
  assert.equal(r.lines.length, 1);
  assert.equal(r.skipped, 1);
  assert.equal(r.more, false);
  assert.deepEqual(readMetricsFrom(f, r.offset), { lines: [], offset: r.offset, reset: false, skipped: 0, more: false });
  const end = fileSize(f)!;
  assert.deepEqual(readMetricsFrom(f, end), { lines: [], offset: end, reset: false, skipped: 0 });
});

test('TextTail: new complete lines from the offset, torn line later; atEnd skips what is there', () => {
  const f = join(tmp, 'out.log');
  assert.equal(TextTail.atEnd(f), undefined);
  writeFileSync(f, 'old output\n');
  const t = TextTail.atEnd(f)!;
  assert.deepEqual(t.read(), []);
  appendFileSync(f, 'step 1\r\nstep 2\npart');
  assert.deepEqual(t.read(), ['step 1\r', 'step 2']);
  assert.deepEqual(t.read(), []);
  appendFileSync(f, 'ial\n\n');
  assert.deepEqual(t.read(), ['partial', '']);
  const all = new TextTail(f);
  assert.deepEqual(all.read(), ['old output', 'step 1\r', 'step 2', 'partial', '']);
  rmSync(f);
  const off = t.offset;
  assert.deepEqual(t.read(), []);
  assert.equal(t.offset, off, 'a missing file keeps the offset');
});

test('readFileEnd: the last bytes of a file, empty when unreadable', () => {
  const f = join(tmp, 'end.log');
  writeFileSync(f, 'abcdefghij');
  assert.equal(readFileEnd(f, 4), 'ghij');
  assert.equal(readFileEnd(f, 100), 'abcdefghij');
  assert.equal(readFileEnd(join(tmp, 'missing'), 4), '');
});

// Builds a WordPiece vocabulary from word counts.
//
// Like HF's WordPieceTrainer, the vocabulary is learnt by BPE-style merges over words spelled as
// `w ##o ##r ##d`: the most frequent adjacent pair is merged into one symbol, repeatedly, until the
// vocabulary is full. Greedy longest-match WordPiece encoding then re-finds the frequent words and
// sub-words. Pair counts are updated incrementally (only words containing the merged pair are
// rewritten) and the best pair comes from a heap with lazy invalidation, so ~100k sentences train in
// about a second. Ties are broken by symbol ids, which are assigned deterministically, so the result
// depends on the counts only, not on Map iteration order of the input.

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const CONTINUATION = '##';

export interface VocabBuilderOptions {
  vocabSize: number;
  /** A pair is merged only if it occurs at least this often (default 2). */
  minFrequency?: number;
}

// A pair (a, b) of symbol ids (both < vocabSize) is the number a·vocabSize + b: exact below 2^53, and
// a small integer (fast Map keys in V8) for vocabularies up to ~32k.
const MAX_VOCAB = 2 ** 26;

import { runSync, type Work } from '../../common/cooperative';

/** Max-heap on (count desc, key asc) over parallel arrays; stale entries are skipped by the caller. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    const n = this.counts.length;
    if (n > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * Returns the vocabulary in id order: the special tokens (ids 0..4), then every kept character both as
 * a word start `c` and as a continuation `##c` (most frequent first), then merged pieces in merge order.
 */
export function buildWordPieceVocab(wordCounts: Map<string, number>, opts: VocabBuilderOptions): string[] {
  return runSync(buildWordPieceVocabWork(wordCounts, opts));
}

/** buildWordPieceVocab as cooperative work (../../common/cooperative.ts): yields between merges. */
export function* buildWordPieceVocabWork(wordCounts: Map<string, number>, opts: VocabBuilderOptions): Work<string[]> {
  const vocabSize = opts.vocabSize;
  const minFrequency = Math.max(1, opts.minFrequency ?? 2);
  if (!Number.isInteger(vocabSize) || vocabSize < SPECIAL_TOKENS.length) {
    throw new Error(`vocabSize must be an integer >= ${SPECIAL_TOKENS.length}, got ${vocabSize}`);
  }
  if (vocabSize > MAX_VOCAB) throw new Error(`vocabSize must be <= ${MAX_VOCAB}, got ${vocabSize}`);
  const PAIR_SHIFT = vocabSize;

  // Sorted input makes every later step independent of the caller's insertion order.
  const words = [...wordCounts.entries()].filter(([w, c]) => w.length > 0 && c > 0);
  words.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const charFreq = new Map<string, number>();
  for (const [w, c] of words) for (const ch of w) charFreq.set(ch, (charFreq.get(ch) ?? 0) + c);
  const chars = [...charFreq.entries()].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!);

  const vocab: string[] = [...SPECIAL_TOKENS];
  const index = new Map<string, number>();
  vocab.forEach((t, i) => index.set(t, i));
  const add = (tok: string): number => {
    let id = index.get(tok);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(tok);
      index.set(tok, id);
    }
    return id;
  };
  // Both forms of every character, so any text made of seen characters encodes without [UNK]. When
  // the budget is too small for the whole alphabet, the rarest characters are dropped.
  const maxChars = Math.floor((vocabSize - vocab.length) / 2);
  for (const [ch] of chars.slice(0, maxChars)) {
    add(ch);
    add(CONTINUATION + ch);
  }

  // Each word as symbol ids; words with a dropped character cannot be spelled and are left out.
  const seqs: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of words) {
    const seq: number[] = [];
    let ok = true;
    let first = true;
    for (const ch of w) {
      const id = index.get(first ? ch : CONTINUATION + ch);
      first = false;
      if (id === undefined) {
        ok = false;
        break;
      }
      seq.push(id);
    }
    if (ok && seq.length > 1) {
      seqs.push(seq);
      counts.push(c);
    }
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new PairHeap();
  // Count of each pair before the current merge touched it: rewriting a word subtracts and re-adds
  // all its pairs, and only pairs whose count really changed need a new heap entry.
  const touched = new Map<number, number>();
  const bump = (key: number, delta: number): void => {
    const before = pairCount.get(key) ?? 0;
    if (!touched.has(key)) touched.set(key, before);
    pairCount.set(key, before + delta);
  };
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const s = seqs[wi];
    const c = counts[wi] * sign;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * PAIR_SHIFT + s[i + 1];
      bump(key, c);
      if (sign > 0) {
        let list = pairWords.get(key);
        if (!list) pairWords.set(key, (list = []));
        if (list[list.length - 1] !== wi) list.push(wi);
      }
    }
  };
  const flushTouched = (): void => {
    for (const [key, before] of touched) {
      const c = pairCount.get(key)!;
      if (c <= 0) pairCount.delete(key);
      else if (c !== before && c >= minFrequency) heap.push(c, key);
    }
    touched.clear();
  };
  for (let wi = 0; wi < seqs.length; wi++) {
    if ((wi & 4095) === 4095) yield;
    addPairs(wi, 1);
  }
  flushTouched();
  yield;

  // Symbol text without its "##", used to spell merged pieces.
  const bare = (id: number): string => (vocab[id].startsWith(CONTINUATION) && id >= SPECIAL_TOKENS.length ? vocab[id].slice(2) : vocab[id]);
  const seen = new Int32Array(seqs.length).fill(-1);
  let mergeNo = 0;
  while (vocab.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale: the pair's count changed after this push
    yield;
    const a = Math.floor(key / PAIR_SHIFT);
    const b = key - a * PAIR_SHIFT;
    const merged = add(vocab[a] + bare(b));
    mergeNo++;
    for (const wi of pairWords.get(key) ?? []) {
      if (seen[wi] === mergeNo) continue;
      seen[wi] = mergeNo;
      const s = seqs[wi];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) has = true;
      if (!has) continue;
      addPairs(wi, -1);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(s[i]);
      }
      seqs[wi] = next;
      addPairs(wi, 1);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    touched.delete(key);
    flushTouched();
  }
  return vocab;
}

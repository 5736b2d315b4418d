// BERT WordPiece tokenizer, read from and written to Hugging Face `tokenizer.json` files.
//
// Pipeline (as in HF `tokenizers`): added/special tokens are cut out of the raw text first
// (addedTokens.ts), the rest is normalized, pre-tokenized into words, each word split greedily (longest
// match first) into vocabulary pieces, and the post-processor's template wraps the result ([CLS] ...
// [SEP] for BERT).

import { readFileSync, writeFileSync } from 'node:fs';
import { bertNormalizer, normalizerFromJson, type Normalizer } from './normalizer';
import { bertPreTokenize, preTokenizerFromJson, type PreTokenizer } from './preTokenizer';
import { runSync, type Work } from '../../common/cooperative';
import { bertJson, fail, isObject, parsePostProcessor } from './tokenizerJson';
import { buildWordPieceVocabWork, CONTINUATION } from './vocabBuilder';
import { buildMatcher, splitOnAdded, type AddedMatcher, type AddedToken } from './addedTokens';

interface Parts {
  vocab: Map<string, number>;
  unkToken: string;
  prefix: string;
  maxInputCharsPerWord: number;
  addedTokens: AddedToken[];
  normalize: Normalizer;
  preTokenize: PreTokenizer;
  /** Ids the post-processor puts before / after the sequence. */
  prefixIds: number[];
  suffixIds: number[];
  padId: number;
  decoderCleanup: boolean | null; // null: no decoder (tokens joined by spaces)
  decoderPrefix: string;
  json: { normalizer: unknown; pre_tokenizer: unknown; post_processor: unknown; decoder: unknown };
}

// Bounded so that a long run over an open-ended corpus cannot grow memory without limit.
const WORD_CACHE_MAX = 200_000;

export interface FromVocabOptions {
  lowercase?: boolean;
  stripAccents?: boolean | null;
  handleChineseChars?: boolean;
}

export class WordPieceTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
  /** Whether the normalizer lowercases (for configs such as tokenizer_config.json's do_lower_case). */
  readonly lowercase: boolean;

  private readonly vocab: Map<string, number>;
  private readonly tokens: (string | undefined)[];
  private readonly unkToken: string;
  private readonly prefix: string;
  private readonly maxInputCharsPerWord: number;
  private readonly maxPieceChars: number;
  private readonly addedTokens: AddedToken[];
  private readonly specialIds: Set<number>;
  private readonly rawMatcher: AddedMatcher | null;
  private readonly normMatcher: AddedMatcher | null;
  private readonly normalize: Normalizer;
  private readonly preTokenize: PreTokenizer;
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];
  private readonly decoderCleanup: boolean | null;
  private readonly decoderPrefix: string;
  private readonly json: Parts['json'];
  private readonly wordCache = new Map<string, number[]>();

  private constructor(p: Parts & { lowercase: boolean }) {
    this.vocab = p.vocab;
    this.unkToken = p.unkToken;
    this.prefix = p.prefix;
    this.maxInputCharsPerWord = p.maxInputCharsPerWord;
    this.addedTokens = p.addedTokens;
    this.normalize = p.normalize;
    this.preTokenize = p.preTokenize;
    this.prefixIds = p.prefixIds;
    this.suffixIds = p.suffixIds;
    this.decoderCleanup = p.decoderCleanup;
    this.decoderPrefix = p.decoderPrefix;
    this.json = p.json;
    this.lowercase = p.lowercase;

    let maxId = -1;
    for (const id of p.vocab.values()) maxId = Math.max(maxId, id);
    for (const t of p.addedTokens) maxId = Math.max(maxId, t.id);
    this.tokens = new Array<string | undefined>(maxId + 1);
    for (const [t, id] of p.vocab) this.tokens[id] = t;
    for (const t of p.addedTokens) this.tokens[t.id] ??= t.content;
    this.vocabSize = maxId + 1;
    // No piece is longer than the longest vocabulary entry, so the greedy search can start there. The
    // full UTF-16 length over-estimates (prefix included, astral characters count 2), which is safe:
    // a word-initial entry may itself begin with the prefix characters.
    let maxPiece = 1;
    for (const t of p.vocab.keys()) if (t.length > maxPiece) maxPiece = t.length;
    this.maxPieceChars = maxPiece;
    this.unkId = p.vocab.get(p.unkToken)!;
    this.padId = p.padId;
    this.clsId = p.prefixIds.length ? p.prefixIds[0] : (p.vocab.get('[CLS]') ?? -1);
    this.sepId = p.suffixIds.length ? p.suffixIds[p.suffixIds.length - 1] : (p.vocab.get('[SEP]') ?? -1);
    this.specialIds = new Set(p.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.rawMatcher = buildMatcher(
      p.addedTokens.filter((t) => !t.normalized),
      (t) => t.content,
    );
    this.normMatcher = buildMatcher(
      p.addedTokens.filter((t) => t.normalized),
      (t) => p.normalize(t.content),
    );
  }

  /** `file` only labels error messages. */
  static fromTokenizerJson(json: unknown, file = 'tokenizer.json'): WordPieceTokenizer {
    if (!isObject(json)) fail(file, '$', 'expected a JSON object');
    const model = json.model;
    if (!isObject(model)) fail(file, 'model', 'missing or not an object');
    // Files from early `tokenizers` versions have no type tag; WordPiece is the model with these fields.
    const untaggedWordPiece = model.type === undefined && 'continuing_subword_prefix' in model && 'max_input_chars_per_word' in model;
    if (model.type !== 'WordPiece' && !untaggedWordPiece) {
      fail(file, 'model.type', `only WordPiece tokenizers are supported, got ${JSON.stringify(model.type)}`);
    }
    if (!isObject(model.vocab)) fail(file, 'model.vocab', 'missing or not an object of token -> id');
    const vocab = new Map<string, number>();
    const owner = new Map<number, string>();
    for (const [tok, id] of Object.entries(model.vocab)) {
      if (!Number.isInteger(id) || (id as number) < 0)
        fail(file, `model.vocab[${JSON.stringify(tok)}]`, `expected a non-negative integer id, got ${JSON.stringify(id)}`);
      const prev = owner.get(id as number);
      if (prev !== undefined) fail(file, `model.vocab[${JSON.stringify(tok)}]`, `id ${id} is already used by ${JSON.stringify(prev)}`);
      owner.set(id as number, tok);
      vocab.set(tok, id as number);
    }
    if (vocab.size === 0) fail(file, 'model.vocab', 'is empty');
    const unkToken = model.unk_token ?? '[UNK]';
    if (typeof unkToken !== 'string') fail(file, 'model.unk_token', 'expected a string');
    if (!vocab.has(unkToken)) fail(file, 'model.unk_token', `${JSON.stringify(unkToken)} is not in model.vocab`);
    const prefix = model.continuing_subword_prefix ?? CONTINUATION;
    if (typeof prefix !== 'string') fail(file, 'model.continuing_subword_prefix', 'expected a string');
    const maxChars = model.max_input_chars_per_word ?? 100;
    if (!Number.isInteger(maxChars) || (maxChars as number) < 1)
      fail(file, 'model.max_input_chars_per_word', 'expected a positive integer');

    const addedTokens: AddedToken[] = [];
    if (json.added_tokens !== undefined && json.added_tokens !== null) {
      if (!Array.isArray(json.added_tokens)) fail(file, 'added_tokens', 'expected an array');
      json.added_tokens.forEach((t, i) => {
        if (!isObject(t) || !Number.isInteger(t.id) || typeof t.content !== 'string') {
          fail(file, `added_tokens[${i}]`, 'expected {id: integer, content: string, ...}');
        }
        addedTokens.push({
          id: t.id as number,
          content: t.content,
          singleWord: t.single_word === true,
          lstrip: t.lstrip === true,
          rstrip: t.rstrip === true,
          normalized: t.normalized === true,
          special: t.special === true,
        });
      });
    }

    const withPath = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
      }
    };
    const norm = withPath(() => normalizerFromJson(json.normalizer, 'normalizer'));
    const preTokenize = withPath(() => preTokenizerFromJson(json.pre_tokenizer, 'pre_tokenizer'));
    const { prefixIds, suffixIds } = parsePostProcessor(json.post_processor, file);

    const inRange = (id: number): boolean => owner.has(id) || addedTokens.some((t) => t.id === id);
    for (const id of [...prefixIds, ...suffixIds]) {
      if (!inRange(id)) fail(file, 'post_processor', `special token id ${id} is not in the vocabulary`);
    }

    let decoderCleanup: boolean | null = null;
    let decoderPrefix = prefix;
    const dec = json.decoder;
    if (dec !== null && dec !== undefined) {
      if (!isObject(dec) || dec.type !== 'WordPiece') {
        fail(file, 'decoder.type', `unsupported decoder ${JSON.stringify(isObject(dec) ? dec.type : dec)} (supported: WordPiece, null)`);
      }
      decoderCleanup = dec.cleanup !== false;
      if (typeof dec.prefix === 'string') decoderPrefix = dec.prefix;
    }

    let padId = vocab.get('[PAD]') ?? 0;
    if (isObject(json.padding) && Number.isInteger(json.padding.pad_id)) padId = json.padding.pad_id as number;

    return new WordPieceTokenizer({
      vocab,
      unkToken,
      prefix,
      maxInputCharsPerWord: maxChars as number,
      addedTokens,
      normalize: norm.normalize,
      lowercase: norm.lowercase,
      preTokenize,
      prefixIds,
      suffixIds,
      padId,
      decoderCleanup,
      decoderPrefix,
      json: {
        normalizer: json.normalizer ?? null,
        pre_tokenizer: json.pre_tokenizer ?? null,
        post_processor: json.post_processor ?? null,
        decoder: json.decoder ?? null,
      },
    });
  }

  static fromFile(path: string): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`cannot read tokenizer file ${path}: ${(e as Error).message}`, { cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
    }
    return WordPieceTokenizer.fromTokenizerJson(json, path);
  }

  /** A BERT tokenizer over a vocabulary in id order (the lines of a `vocab.txt`). */
  static fromVocab(tokens: string[], opts: FromVocabOptions = {}): WordPieceTokenizer {
    const json = bertJson(tokens, {
      lowercase: opts.lowercase ?? true,
      stripAccents: opts.stripAccents,
      handleChineseChars: opts.handleChineseChars,
    });
    return WordPieceTokenizer.fromTokenizerJson(json, 'vocab');
  }

  /**
   * Learns a vocabulary from `texts` with BERT's normalizer (lowercase by default) and pre-tokenizer.
   * Ids: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, then characters (`c`, `##c`), then merged pieces.
   */
  static train(texts: Iterable<string>, opts: { vocabSize: number; lowercase?: boolean; minFrequency?: number }): WordPieceTokenizer {
    return runSync(WordPieceTokenizer.trainWork(texts, opts));
  }

  /** train() as cooperative work (../../common/cooperative.ts): counting and merging yield to the event loop. */
  static *trainWork(
    texts: Iterable<string>,
    opts: { vocabSize: number; lowercase?: boolean; minFrequency?: number },
  ): Work<WordPieceTokenizer> {
    const lowercase = opts.lowercase ?? true;
    const normalize = bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: null, lowercase });
    const counts = new Map<string, number>();
    let n = 0;
    for (const text of texts) {
      if ((++n & 255) === 0) yield;
      for (const w of bertPreTokenize(normalize(text))) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const vocab = yield* buildWordPieceVocabWork(counts, { vocabSize: opts.vocabSize, minFrequency: opts.minFrequency });
    return WordPieceTokenizer.fromTokenizerJson(bertJson(vocab, { lowercase }), 'trained tokenizer');
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token) ?? this.addedTokens.find((t) => t.content === token)?.id;
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** WordPiece split of one pre-tokenized word (cached). */
  private wordIds(word: string): number[] {
    const hit = this.wordCache.get(word);
    if (hit) return hit;
    const ids = this.splitWord(word);
    if (this.wordCache.size >= WORD_CACHE_MAX) this.wordCache.clear();
    this.wordCache.set(word, ids);
    return ids;
  }

  private splitWord(word: string): number[] {
    // UTF-16 offsets of each code point, so that slices never cut a surrogate pair.
    const offs: number[] = [];
    for (let i = 0; i < word.length;) {
      offs.push(i);
      i += word.codePointAt(i)! > 0xffff ? 2 : 1;
    }
    const n = offs.length;
    offs.push(word.length);
    if (n > this.maxInputCharsPerWord) return [this.unkId];
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceChars);
      let found = -1;
      while (end > start) {
        const piece = word.slice(offs[start], offs[end]);
        const id = this.vocab.get(start > 0 ? this.prefix + piece : piece);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      // One unmatchable piece makes the whole word [UNK], as in BERT.
      if (found < 0) return [this.unkId];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** Token ids of `text` without the post-processor's special tokens; stops after `limit` ids. */
  private contentIds(text: string, limit = Infinity): number[] {
    const out: number[] = [];
    for (const seg of splitOnAdded(text, this.rawMatcher)) {
      if (out.length >= limit) break;
      if ('id' in seg) {
        out.push(seg.id);
        continue;
      }
      for (const sub of splitOnAdded(this.normalize(seg.text), this.normMatcher)) {
        if ('id' in sub) {
          out.push(sub.id);
          continue;
        }
        for (const w of this.preTokenize(sub.text)) {
          for (const id of this.wordIds(w)) out.push(id);
          if (out.length >= limit) break;
        }
        if (out.length >= limit) break;
      }
    }
    if (out.length > limit) out.length = limit;
    return out;
  }

  /** Tokens of `text` (no special tokens added, no truncation): for inspection and tests. */
  tokenize(text: string): string[] {
    return this.contentIds(text).map((id) => this.tokens[id] ?? this.unkToken);
  }

  /** Ids with the template's special tokens ([CLS] … [SEP]); the text is cut so the total is ≤ maxLength. */
  encode(text: string, maxLength: number): number[] {
    const nSpecial = this.prefixIds.length + this.suffixIds.length;
    if (!Number.isInteger(maxLength) || maxLength < nSpecial) {
      throw new Error(`maxLength must be an integer >= ${nSpecial} (the special tokens), got ${maxLength}`);
    }
    return [...this.prefixIds, ...this.contentIds(text, maxLength - nSpecial), ...this.suffixIds];
  }

  /** Row-major [texts.length, length] ids and attention mask, padded with padId to the longest row. */
  encodeBatch(texts: string[], maxLength: number): { ids: Int32Array; mask: Float32Array; length: number } {
    const rows = texts.map((t) => this.encode(t, maxLength));
    let length = 0;
    for (const r of rows) if (r.length > length) length = r.length;
    const ids = new Int32Array(rows.length * length).fill(this.padId);
    const mask = new Float32Array(rows.length * length);
    rows.forEach((r, i) => {
      ids.set(r, i * length);
      mask.fill(1, i * length, i * length + r.length);
    });
    return { ids, mask, length };
  }

  /**
   * Text of `ids`. Special tokens are skipped (HF's default `skip_special_tokens=True`), except [UNK]:
   * unlike HF we keep it, because a silently vanished word hides a vocabulary gap from whoever reads it.
   */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    const toks: string[] = [];
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined) throw new Error(`decode: id ${id} is not in the vocabulary (size ${this.vocabSize})`);
      if (skip && id !== this.unkId && this.specialIds.has(id)) continue;
      toks.push(t);
    }
    if (this.decoderCleanup === null) return toks.join(' ');
    let out = '';
    toks.forEach((t, i) => {
      let piece = t;
      if (i > 0) piece = t.startsWith(this.decoderPrefix) ? t.slice(this.decoderPrefix.length) : ' ' + t;
      out += this.decoderCleanup ? cleanup(piece) : piece;
    });
    return out;
  }

  toTokenizerJson(): object {
    const vocabObj: Record<string, number> = Object.fromEntries([...this.vocab.entries()].sort((a, b) => a[1] - b[1]));
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((t) => ({
        id: t.id,
        content: t.content,
        single_word: t.singleWord,
        lstrip: t.lstrip,
        rstrip: t.rstrip,
        normalized: t.normalized,
        special: t.special,
      })),
      normalizer: this.json.normalizer,
      pre_tokenizer: this.json.pre_tokenizer,
      post_processor: this.json.post_processor,
      decoder: this.json.decoder,
      model: {
        type: 'WordPiece',
        unk_token: this.unkToken,
        continuing_subword_prefix: this.prefix,
        max_input_chars_per_word: this.maxInputCharsPerWord,
        vocab: vocabObj,
      },
    };
  }

  /** The vocabulary in id order, one token a line: the `vocab.txt` of BERT checkpoints. */
  toVocabTxt(): string {
    return this.tokens.map((t, i) => t ?? `[unused_id_${i}]`).join('\n') + '\n';
  }

  save(path: string): void {
    writeFileSync(path, JSON.stringify(this.toTokenizerJson(), null, 2) + '\n');
  }
}

// HF's WordPiece decoder clean-up: re-attaches punctuation and English contractions.
const CLEANUPS: [string, string][] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [' do not', " don't"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];
function cleanup(s: string): string {
  let r = s;
  for (const [from, to] of CLEANUPS) r = r.split(from).join(to);
  return r;
}

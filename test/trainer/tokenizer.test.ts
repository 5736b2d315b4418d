import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';

// A tiny hand-made vocabulary; ids are the positions. [CLS]/[SEP] deliberately not at 2/3, so that
// the tests see the ids come from the post-processor and not from assumptions.
const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[MASK]',
  '[CLS]',
  '[SEP]',
  'the',
  'quick',
  'fox',
  '##es',
  'un',
  '##aff',
  '##able',
  'cafe',
  'cr',
  '##eme',
  'Cafe',
  ',',
  '.',
  '!',
  '?',
  '$',
  '5',
  '«',
  '»',
  '—',
  '北',
  '京',
  'a',
  '##a',
  'b',
  '##b',
  'hello',
  'world',
  'x',
  '€',
  '5€',
  "'",
  's',
  't',
];

function bertTokenizerJson(opts: { lowercase: boolean; stripAccents?: boolean | null }): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  VOCAB.forEach((t, i) => (vocab[t] = i));
  const added = ['[PAD]', '[UNK]', '[MASK]', '[CLS]', '[SEP]'].map((t) => ({
    id: VOCAB.indexOf(t),
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: opts.stripAccents ?? null,
      lowercase: opts.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [3], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [4], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

const uncased = WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson({ lowercase: true }));
const cased = WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson({ lowercase: false }));

test('ids of special tokens come from the files', () => {
  assert.equal(uncased.clsId, 3);
  assert.equal(uncased.sepId, 4);
  assert.equal(uncased.padId, 0);
  assert.equal(uncased.unkId, 1);
  assert.equal(uncased.vocabSize, VOCAB.length);
});

test('lowercase strips accents; cased keeps them unless strip_accents is true', () => {
  assert.deepEqual(uncased.tokenize('Café CRÈME'), ['cafe', 'cr', '##eme']);
  // Decomposed input (e + combining acute) normalizes the same way.
  assert.deepEqual(uncased.tokenize('Cafe\u0301'), ['cafe']);
  assert.deepEqual(cased.tokenize('Café Cafe'), ['[UNK]', 'Cafe']);
  const casedStrip = WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson({ lowercase: false, stripAccents: true }));
  assert.deepEqual(casedStrip.tokenize('Café'), ['Cafe']);
  const uncasedKeep = WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson({ lowercase: true, stripAccents: false }));
  assert.deepEqual(uncasedKeep.tokenize('CAFÉ cafe'), ['[UNK]', 'cafe']);
});

test('punctuation: ASCII symbols and Unicode P* split off, other symbols do not', () => {
  assert.deepEqual(uncased.tokenize('hello,world!'), ['hello', ',', 'world', '!']);
  assert.deepEqual(uncased.tokenize('$5'), ['$', '5']);
  assert.deepEqual(uncased.tokenize('«hello»—world'), ['«', 'hello', '»', '—', 'world']);
  // € is a currency symbol (Sc), not punctuation: it stays in the word.
  assert.deepEqual(uncased.tokenize('5€'), ['5€']);
});

test('whitespace, control and format characters', () => {
  assert.deepEqual(uncased.tokenize('hello\tworld\nthe\u00a0fox'), ['hello', 'world', 'the', 'fox']);
  // NUL, U+FFFD and the zero-width space (Cf) are removed, not turned into spaces.
  assert.deepEqual(uncased.tokenize('hel\u0000lo wor\u200bld \ufffdthe'), ['hello', 'world', 'the']);
  assert.deepEqual(uncased.tokenize('   '), []);
});

test('CJK ideographs become words of their own', () => {
  assert.deepEqual(uncased.tokenize('北京the'), ['北', '京', 'the']);
  assert.deepEqual(uncased.encode('x北京', 10), [3, 33, 25, 26, 4]);
});

test('greedy longest-match continuation pieces; an unmatchable word is one [UNK]', () => {
  assert.deepEqual(uncased.tokenize('unaffable foxes'), ['un', '##aff', '##able', 'fox', '##es']);
  assert.deepEqual(uncased.tokenize('unaffablez'), ['[UNK]']);
  assert.deepEqual(uncased.tokenize('zzz the'), ['[UNK]', 'the']);
  assert.deepEqual(uncased.tokenize('ab'), ['a', '##b']);
});

test('a word longer than max_input_chars_per_word is [UNK]', () => {
  assert.deepEqual(uncased.tokenize('a'.repeat(100)), ['a', ...Array(99).fill('##a')]);
  assert.deepEqual(uncased.tokenize('a'.repeat(101)), ['[UNK]']);
});

test('special tokens in the text are matched before normalization', () => {
  // The lowercasing normalizer would turn "[MASK]" into "[mask]"; the added token is cut out first.
  assert.deepEqual(uncased.encode('the [MASK] fox', 10), [3, 5, 2, 7, 4]);
  assert.deepEqual(uncased.tokenize('the[SEP]fox'), ['the', '[SEP]', 'fox']);
});

test('encode adds [CLS]/[SEP] and truncates to maxLength', () => {
  assert.deepEqual(uncased.encode('the quick fox', 16), [3, 5, 6, 7, 4]);
  assert.deepEqual(uncased.encode('the quick fox', 4), [3, 5, 6, 4]);
  // Truncation can cut inside a word's pieces.
  assert.deepEqual(uncased.encode('unaffable', 4), [3, 9, 10, 4]);
  assert.deepEqual(uncased.encode('the quick fox', 2), [3, 4]);
  assert.throws(() => uncased.encode('the', 1), /maxLength must be an integer >= 2/);
});

test('encodeBatch pads to the longest row, not to maxLength', () => {
  const b = uncased.encodeBatch(['the quick fox', 'fox', 'unaffable foxes the quick'], 6);
  assert.equal(b.length, 6);
  assert.deepEqual([...b.ids], [3, 5, 6, 7, 4, 0, 3, 7, 4, 0, 0, 0, 3, 9, 10, 11, 7, 4]);
  assert.deepEqual([...b.mask], [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  const short = uncased.encodeBatch(['fox', 'the'], 64);
  assert.equal(short.length, 3);
  assert.deepEqual([...short.ids], [3, 7, 4, 3, 5, 4]);
});

test('decode joins ## pieces, cleans punctuation, skips special tokens but keeps [UNK]', () => {
  assert.equal(uncased.decode(uncased.encode('Unaffable foxes, the quick!', 32)), 'unaffable foxes, the quick!');
  assert.equal(uncased.decode([3, 5, 1, 7, 4, 0]), 'the [UNK] fox');
  assert.equal(uncased.decode([3, 5, 4], { skipSpecialTokens: false }), '[CLS] the [SEP]');
  assert.throws(() => uncased.decode([999]), /id 999 is not in the vocabulary/);
});

test('BertProcessing post-processor and padding.pad_id are honoured', () => {
  const json = bertTokenizerJson({ lowercase: true });
  json.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 4], cls: ['[CLS]', 3] };
  json.padding = { pad_id: 2, pad_token: '[MASK]' };
  const t = WordPieceTokenizer.fromTokenizerJson(json);
  assert.deepEqual(t.encode('fox', 8), [3, 7, 4]);
  assert.equal(t.padId, 2);
  assert.deepEqual([...t.encodeBatch(['fox', ''], 8).ids], [3, 7, 4, 3, 4, 2]);
});

test('errors name the file and the JSON path', () => {
  const bad =
    (mutate: (j: Record<string, any>) => void): (() => WordPieceTokenizer) =>
    () => {
      const j = bertTokenizerJson({ lowercase: true }) as Record<string, any>;
      mutate(j);
      return WordPieceTokenizer.fromTokenizerJson(j, '/models/x/tokenizer.json');
    };
  assert.throws(
    bad((j) => (j.model.type = 'BPE')),
    /\/models\/x\/tokenizer\.json: model\.type: only WordPiece tokenizers are supported, got "BPE"/,
  );
  assert.throws(
    bad((j) => delete j.model.vocab),
    /tokenizer\.json: model\.vocab: missing/,
  );
  assert.throws(
    bad((j) => delete j.model),
    /tokenizer\.json: model: missing/,
  );
  assert.throws(
    bad((j) => (j.model.unk_token = '<unk>')),
    /model\.unk_token: "<unk>" is not in model\.vocab/,
  );
  assert.throws(
    bad((j) => (j.model.vocab.fox = -3)),
    /model\.vocab\["fox"\]: expected a non-negative integer id/,
  );
  assert.throws(
    bad((j) => (j.model.vocab.fox = 5)),
    /model\.vocab\["fox"\]: id 5 is already used by "the"/,
  );
  assert.throws(
    bad((j) => (j.normalizer = { type: 'Precompiled' })),
    /tokenizer\.json: normalizer\.type: unsupported normalizer "Precompiled"/,
  );
  assert.throws(
    bad((j) => (j.pre_tokenizer = { type: 'ByteLevel' })),
    /pre_tokenizer\.type: unsupported pre-tokenizer "ByteLevel"/,
  );
  assert.throws(
    bad((j) => (j.post_processor.special_tokens = {})),
    /post_processor\.special_tokens: no ids for special token "\[CLS\]"/,
  );
  assert.throws(
    bad((j) => (j.normalizer.lowercase = 'yes')),
    /normalizer\.lowercase: expected a boolean/,
  );
  assert.throws(() => WordPieceTokenizer.fromTokenizerJson([1, 2]), /tokenizer\.json: \$: expected a JSON object/);
});

test('Sequence normalizers and pre-tokenizers (as some BERT-family files use)', () => {
  const j = bertTokenizerJson({ lowercase: true });
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] };
  j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }] };
  const t = WordPieceTokenizer.fromTokenizerJson(j);
  assert.deepEqual(t.tokenize('Café, CRÈME!'), ['cafe', ',', 'cr', '##eme', '!']);
  assert.equal(t.lowercase, true);
});

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  'A quick brown dog jumps over the lazy fox!',
  'Running runners run; the runner ran.',
  'Embeddings of sentences: Matryoshka representation learning.',
  'Café crème, naïve résumé — 北京 and 東京.',
  'Playing players played the play again and again.',
];

test('train: special ids, both forms of every character, frequent words whole, vocabSize respected', () => {
  const texts = Array.from({ length: 50 }, (_, i) => CORPUS[i % CORPUS.length]);
  const t = WordPieceTokenizer.train(texts, { vocabSize: 200 });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => t.idToToken(i)),
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
  );
  assert.deepEqual([t.padId, t.unkId, t.clsId, t.sepId], [0, 1, 2, 3]);
  assert.ok(t.vocabSize <= 200);
  for (const ch of ['t', 'q', 'é'.normalize('NFD')[0], '北', '.']) {
    assert.notEqual(t.tokenToId(ch), undefined, ch);
    assert.notEqual(t.tokenToId('##' + ch), undefined, '##' + ch);
  }
  assert.deepEqual(t.tokenize('the quick brown fox'), ['the', 'quick', 'brown', 'fox']);
  assert.ok(!t.tokenize('Café crème, naïve résumé').includes('[UNK]'));
  // An unseen character is unknown.
  assert.deepEqual(t.tokenize('ж'), ['[UNK]']);
});

test('train is deterministic and independent of input order', () => {
  const a = WordPieceTokenizer.train(CORPUS.concat(CORPUS), { vocabSize: 150, minFrequency: 1 });
  const b = WordPieceTokenizer.train([...CORPUS].reverse().concat(CORPUS), { vocabSize: 150, minFrequency: 1 });
  assert.deepEqual(a.toTokenizerJson(), b.toTokenizerJson());
});

test('train with a tiny budget keeps the most frequent characters', () => {
  const t = WordPieceTokenizer.train(['aaaa bbb cc d'], { vocabSize: 9, minFrequency: 1 });
  assert.equal(t.vocabSize, 9);
  assert.deepEqual(t.tokenize('ab d'), ['a', '##b', '[UNK]']);
});

test('train → toTokenizerJson → fromTokenizerJson / save → fromFile give identical encodings', () => {
  const t = WordPieceTokenizer.train(CORPUS.concat(CORPUS), { vocabSize: 120, lowercase: false });
  const json = t.toTokenizerJson() as Record<string, any>;
  assert.equal(json.version, '1.0');
  assert.equal(json.model.type, 'WordPiece');
  assert.equal(json.normalizer.lowercase, false);
  assert.deepEqual(json.post_processor.special_tokens['[CLS]'].ids, [2]);
  const back = WordPieceTokenizer.fromTokenizerJson(JSON.parse(JSON.stringify(json)));
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  try {
    const file = join(dir, 'tokenizer.json');
    t.save(file);
    const fromFile = WordPieceTokenizer.fromFile(file);
    const probe = [...CORPUS, 'Unseen wörds, ЖЖЖ and [MASK] too', ''];
    for (const s of probe) {
      assert.deepEqual(back.encode(s, 32), t.encode(s, 32), s);
      assert.deepEqual(fromFile.encode(s, 32), t.encode(s, 32), s);
    }
    assert.deepEqual(fromFile.encodeBatch(probe, 16), t.encodeBatch(probe, 16));
    assert.deepEqual(fromFile.toTokenizerJson(), json);
    writeFileSync(file, '{"model": ');
    assert.throws(() => WordPieceTokenizer.fromFile(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid JSON`));
    assert.throws(() => WordPieceTokenizer.fromFile(join(dir, 'nope.json')), /cannot read tokenizer file .*nope\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fromVocab builds a BERT tokenizer from vocab.txt lines', () => {
  const t = WordPieceTokenizer.fromVocab(VOCAB, { lowercase: true });
  assert.deepEqual(t.encode('The quick FOXES', 10), [3, 5, 6, 7, 8, 4]);
  assert.equal(t.toVocabTxt(), VOCAB.join('\n') + '\n');
});

test('tokens named like Object.prototype members survive a round trip', () => {
  const tokens = [...VOCAB, '__proto__', 'constructor', 'toString'];
  const t = WordPieceTokenizer.fromVocab(tokens);
  const json = JSON.parse(JSON.stringify(t.toTokenizerJson()));
  assert.equal(json.model.vocab.__proto__, VOCAB.length);
  const back = WordPieceTokenizer.fromTokenizerJson(json);
  assert.equal(back.vocabSize, tokens.length);
  assert.equal(back.tokenToId('__proto__'), VOCAB.length);
  // The lowercasing normalizer turns "toString" into "tostring", which is not in the vocabulary.
  assert.deepEqual(back.tokenize('constructor toString'), ['constructor', '[UNK]']);
});

test('a model section without a type tag is read as WordPiece when it has WordPiece fields', () => {
  const j = bertTokenizerJson({ lowercase: true }) as Record<string, any>;
  delete j.model.type;
  assert.deepEqual(WordPieceTokenizer.fromTokenizerJson(j).encode('the fox', 8), [3, 5, 7, 4]);
  delete j.model.continuing_subword_prefix;
  assert.throws(() => WordPieceTokenizer.fromTokenizerJson(j), /model\.type: only WordPiece tokenizers are supported, got undefined/);
});

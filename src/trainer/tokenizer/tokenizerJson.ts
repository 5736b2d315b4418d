// The Hugging Face `tokenizer.json` pieces of a BERT WordPiece tokenizer: what we write for a vocabulary
// (normalizer, pre-tokenizer, model, [CLS] … [SEP] template) and how a file's post-processor reads back.
import { CONTINUATION, SPECIAL_TOKENS } from './vocabBuilder';

/** Throws `${file}: ${path}: ${msg}`. */
export function fail(file: string, path: string, msg: string): never {
  throw new Error(`${file}: ${path}: ${msg}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function bertJson(
  vocab: string[],
  opts: { lowercase: boolean; stripAccents?: boolean | null; handleChineseChars?: boolean },
): object {
  const idOf = (t: string): number => vocab.indexOf(t);
  const added = SPECIAL_TOKENS.filter((t) => idOf(t) >= 0).map((t) => ({
    id: idOf(t),
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  // fromEntries defines own properties, so even a token named "__proto__" is kept. A repeated line
  // keeps its last id, as transformers' vocab.txt loader does.
  const vocabObj: Record<string, number> = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const cls = idOf('[CLS]');
  const sep = idOf('[SEP]');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.handleChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase: opts.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: cls >= 0 && sep >= 0 ? templateJson(cls, sep) : null,
    decoder: { type: 'WordPiece', prefix: CONTINUATION, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: CONTINUATION,
      max_input_chars_per_word: 100,
      vocab: vocabObj,
    },
  };
}

function templateJson(cls: number, sep: number): object {
  return {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
    },
  };
}

export function parsePostProcessor(pp: unknown, file: string): { prefixIds: number[]; suffixIds: number[] } {
  const where = 'post_processor';
  if (pp === null || pp === undefined) return { prefixIds: [], suffixIds: [] };
  if (!isObject(pp)) fail(file, where, 'expected an object or null');
  if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
    const pairId = (key: 'cls' | 'sep'): number => {
      const v = pp[key];
      if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1])) {
        fail(file, `${where}.${key}`, `expected [token, id], got ${JSON.stringify(v)}`);
      }
      return v[1] as number;
    };
    return { prefixIds: [pairId('cls')], suffixIds: [pairId('sep')] };
  }
  if (pp.type === 'TemplateProcessing') {
    const single = pp.single;
    if (!Array.isArray(single)) fail(file, `${where}.single`, 'expected an array of template pieces');
    const specials = isObject(pp.special_tokens) ? pp.special_tokens : {};
    const prefixIds: number[] = [];
    const suffixIds: number[] = [];
    let seenA = false;
    single.forEach((piece, i) => {
      const path = `${where}.single[${i}]`;
      if (isObject(piece) && isObject(piece.Sequence)) {
        if (piece.Sequence.id !== 'A')
          fail(file, path, `a single-sequence template can only use sequence "A", got ${JSON.stringify(piece.Sequence.id)}`);
        if (seenA) fail(file, path, 'sequence "A" appears twice');
        seenA = true;
      } else if (isObject(piece) && isObject(piece.SpecialToken)) {
        const name = piece.SpecialToken.id;
        const spec = typeof name === 'string' ? specials[name] : undefined;
        if (!isObject(spec) || !Array.isArray(spec.ids) || !spec.ids.every((x) => Number.isInteger(x))) {
          fail(file, `${where}.special_tokens`, `no ids for special token ${JSON.stringify(name)} used in ${path}`);
        }
        (seenA ? suffixIds : prefixIds).push(...(spec.ids as number[]));
      } else {
        fail(file, path, `expected {"Sequence": …} or {"SpecialToken": …}, got ${JSON.stringify(piece)}`);
      }
    });
    if (!seenA) fail(file, `${where}.single`, 'the template has no sequence "A"');
    return { prefixIds, suffixIds };
  }
  fail(
    file,
    `${where}.type`,
    `unsupported post-processor ${JSON.stringify(pp.type)} (supported: TemplateProcessing, BertProcessing, RobertaProcessing, null)`,
  );
}

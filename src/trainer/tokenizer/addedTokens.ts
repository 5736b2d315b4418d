// Added tokens of a Hugging Face tokenizer ([CLS], [MASK], user additions): cut out of the text before
// the model's own pipeline sees it, as `tokenizers` does (longest match, single_word, lstrip / rstrip).

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export type Segment = { text: string } | { id: number; lstrip: boolean; rstrip: boolean };

export interface AddedMatcher {
  re: RegExp;
  byContent: Map<string, AddedToken>;
}

const RE_WORD_CHAR = /[\p{L}\p{N}_]/u;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function buildMatcher(tokens: AddedToken[], contentOf: (t: AddedToken) => string): AddedMatcher | null {
  const byContent = new Map<string, AddedToken>();
  for (const t of tokens) {
    const c = contentOf(t);
    if (c.length > 0 && !byContent.has(c)) byContent.set(c, t);
  }
  if (byContent.size === 0) return null;
  // Longest first: JS alternation takes the first alternative that matches, HF takes the longest.
  const alts = [...byContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return { re: new RegExp(alts.join('|'), 'gu'), byContent };
}

export function splitOnAdded(text: string, m: AddedMatcher | null): Segment[] {
  if (!m) return [{ text }];
  const segs: Segment[] = [];
  const re = m.re;
  re.lastIndex = 0;
  let last = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    const tok = m.byContent.get(match[0])!;
    const end = match.index + match[0].length;
    if (
      tok.singleWord &&
      ((match.index > 0 && RE_WORD_CHAR.test(text[match.index - 1])) || (end < text.length && RE_WORD_CHAR.test(text[end])))
    ) {
      re.lastIndex = match.index + 1;
      continue;
    }
    if (match.index > last) segs.push({ text: text.slice(last, match.index) });
    segs.push({ id: tok.id, lstrip: tok.lstrip, rstrip: tok.rstrip });
    last = end;
  }
  if (last < text.length) segs.push({ text: text.slice(last) });
  // lstrip / rstrip: the token swallows the whitespace on that side.
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if ('id' in s) {
      const prev = segs[i - 1];
      const next = segs[i + 1];
      if (s.lstrip && prev && 'text' in prev) prev.text = prev.text.replace(/\p{White_Space}+$/u, '');
      if (s.rstrip && next && 'text' in next) next.text = next.text.replace(/^\p{White_Space}+/u, '');
    }
  }
  return segs;
}

/**
 * R61: the text folding every lookup uses — case- and accent-insensitive, so that "José Müller",
 * "jose muller" and "JOSÉ MÜLLER" meet. PURE.
 *
 * foldText: NFKD, combining marks removed, lower case, and the few Latin letters that do not
 * decompose (ß, æ, œ, ø, đ, ł, þ, ı) spelled out. foldWords: the distinct words of a text (runs of
 * letters and digits, folded), in first-seen order — what autocomplete matches a prefix against.
 */

const SPELLED: Readonly<Record<string, string>> = {
  'ß': 'ss', 'ẞ': 'ss', 'æ': 'ae', 'Æ': 'ae', 'œ': 'oe', 'Œ': 'oe', 'ø': 'o', 'Ø': 'o', 'đ': 'd', 'Đ': 'd',
  'ł': 'l', 'Ł': 'l', 'þ': 'th', 'Þ': 'th', 'ð': 'd', 'Ð': 'd', 'ı': 'i', 'ħ': 'h', 'Ħ': 'h',
};
const SPELLED_RE = /[ßẞæÆœŒøØđĐłŁþÞðÐıħĦ]/g;
const MARKS_RE = /\p{M}+/gu;
const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Case- and accent-folded form of `s` (whitespace kept as is). */
export function foldText(s: string): string {
  let t = s.normalize('NFKD').replace(MARKS_RE, '');
  if (SPELLED_RE.test(t)) {
    SPELLED_RE.lastIndex = 0;
    t = t.replace(SPELLED_RE, (c) => SPELLED[c] ?? c);
  }
  return t.toLowerCase();
}

/** The distinct folded words of `texts` (nulls ignored), in first-seen order. */
export function foldWords(...texts: (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const s of texts) {
    if (s === null || s === undefined || s === '') continue;
    for (const m of foldText(s).matchAll(WORD_RE)) seen.add(m[0]);
  }
  return [...seen];
}

/** The smallest string greater than every string that starts with `prefix` (for index range scans). */
export function prefixUpperBound(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

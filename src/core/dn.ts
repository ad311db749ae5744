/**
 * DN normalization for matching member DNs to entries of the same read (D7, R30). PURE.
 * Not a full RFC 4514 canonicalizer (attribute OIDs are not mapped to names), but it removes the
 * differences servers and admins actually produce: case, spaces around separators, and the two
 * spellings of one escaped character (`\,` and `\2C`, `\c3\a9` and `é`).
 */

/** What the slower paths below would change: a ';', an escape, a quote, a space next to a separator or at an end. */
const NEEDS_WORK = /[;\\"]| [,+=]|[,+=] |^ | $/;

/** Characters that stay escaped in a value (RFC 4514 §2.4), written as `\c`. */
const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);
const HEX2 = /^[0-9a-f]{2}$/;

/**
 * Reads the escape at s[i] ('\\'): a run of `\XX` hex escapes decodes as UTF-8 (kept as hex when
 * it is not valid UTF-8); `\c` stands for c. Returns the canonical text and the index after it.
 * Canonical: specials as `\c`; a space as `\ ` at the start or end of a value and `#` as `\#` at
 * the start; every other character plain.
 */
function readEscape(s: string, i: number, valueStart: boolean): { text: string; next: number } {
  let j = i;
  const bytes: number[] = [];
  while (s[j] === '\\' && HEX2.test(s.slice(j + 1, j + 3))) {
    bytes.push(parseInt(s.slice(j + 1, j + 3), 16));
    j += 3;
  }
  let chars: string;
  if (bytes.length > 0) {
    try {
      chars = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes)).toLowerCase();
    } catch {
      return { text: s.slice(i, j), next: j }; // not UTF-8: keep the (lower-case) hex escapes
    }
  } else {
    chars = s[i + 1] ?? '';
    j = i + 2;
  }
  const valueEnd = j >= s.length || s[j] === ',' || s[j] === ';' || s[j] === '+';
  let text = '';
  [...chars].forEach((c, k) => {
    const first = valueStart && k === 0;
    const last = valueEnd && k === chars.length - 1;
    if (SPECIAL.has(c) || (c === ' ' && (first || last)) || (c === '#' && first)) text += `\\${c}`;
    else text += c;
  });
  return { text, next: j };
}

/**
 * Normalizes a DN string: lower-cased; spaces around ',', ';' (old separator, turned into ','),
 * '+' and '=' removed when outside escapes and quotes; leading/trailing spaces removed; escapes
 * in one canonical spelling (readEscape), so an escaped trailing space survives and `\2C` equals
 * `\,`. Quoted values ("a, b") are kept verbatim apart from lower-casing.
 * Idempotent: normalizeDn(normalizeDn(x)) === normalizeDn(x).
 */
export function normalizeDn(dn: string): string {
  const s = dn.toLowerCase();
  // Fastest path (most DNs a server returns): nothing to remove or rewrite. One regex test
  // instead of a replace with a callback: planRun normalizes every entry and member DN of a read.
  if (!NEEDS_WORK.test(s)) return s;
  // Fast path (almost every DN): no escapes, no quotes — spaces around separators can go by regex.
  if (!s.includes('\\') && !s.includes('"')) {
    return s.replace(/ *([,;+=]) */g, (_m, sep: string) => (sep === ';' ? ',' : sep)).replace(/^ +| +$/g, '');
  }
  let out = '';
  // Spaces seen but not yet written: written only if a non-separator follows.
  let pendingSpaces = '';
  let inQuotes = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '\\') {
      const prev = out[out.length - 1];
      const valueStart = pendingSpaces === '' && (prev === '=' || prev === undefined);
      const esc = readEscape(s, i, valueStart);
      out += pendingSpaces + esc.text;
      pendingSpaces = '';
      i = esc.next;
      continue;
    }
    if (inQuotes) {
      out += c;
      if (c === '"') inQuotes = false;
      i++;
      continue;
    }
    if (c === '"') {
      out += pendingSpaces + c;
      pendingSpaces = '';
      inQuotes = true;
      i++;
      continue;
    }
    if (c === ' ') {
      pendingSpaces += c;
      i++;
      continue;
    }
    if (c === ',' || c === ';' || c === '+' || c === '=') {
      pendingSpaces = '';
      out += c === ';' ? ',' : c;
      i++;
      // Skip the spaces after a separator.
      while (s[i] === ' ') i++;
      continue;
    }
    // Leading spaces of the whole DN are dropped (out is empty).
    out += (out === '' ? '' : pendingSpaces) + c;
    pendingSpaces = '';
    i++;
  }
  return out;
}

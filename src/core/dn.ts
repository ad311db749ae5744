/**
 * DN normalization for matching member DNs to entries of the same read (D7, R30). PURE.
 * Not a full RFC 4514 canonicalizer: it removes the differences servers and admins actually
 * produce (case, spaces around separators) and never alters an escaped character.
 */

/** What the slower paths below would change: a ';', an escape, a quote, a space next to a separator or at an end. */
const NEEDS_WORK = /[;\\"]| [,+=]|[,+=] |^ | $/;

/**
 * Normalizes a DN string: lower-cased; spaces around ',', ';' (old separator, turned into ','),
 * '+' and '=' removed when outside escapes and quotes; leading/trailing spaces removed. Escapes
 * (`\,`, `\ `, `\2C`, …) are kept as they are except for lower-casing their hex digits, so an escaped
 * trailing space survives. Quoted values ("a, b") are kept verbatim apart from lower-casing.
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
      out += pendingSpaces + c + (s[i + 1] ?? '');
      pendingSpaces = '';
      i += 2;
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

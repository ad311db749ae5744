/**
 * Escaping of values Roster puts into LDAP filters (RFC 4515) and DNs (RFC 4514) — R2, R44.
 * Every value that comes from outside (an anchor, a DN read from the directory, an admin's input)
 * goes through one of these before it becomes part of a filter or a DN string.
 */

const HEX = '0123456789abcdef';

function hexByte(b: number): string {
  return '\\' + (HEX[b >> 4] ?? '0') + (HEX[b & 15] ?? '0');
}

/**
 * RFC 4515 assertion value escaping.
 * - A string keeps its characters (UTF-8 is allowed in filter values) except `*`, `(`, `)`, `\`
 *   and NUL, which become `\2a`, `\28`, `\29`, `\5c`, `\00`.
 * - Binary (a Uint8Array such as an objectGUID) is escaped byte by byte as `\xx`, every byte,
 *   so the result is plain ASCII whatever the bytes are.
 * Invariant: the result never contains an unescaped `*`, `(`, `)`, `\` or NUL.
 */
export function escapeFilterValue(v: string | Uint8Array): string {
  if (typeof v !== 'string') {
    let out = '';
    for (const b of v) out += hexByte(b);
    return out;
  }
  let out = '';
  for (const ch of v) {
    switch (ch) {
      case '*':
        out += '\\2a';
        break;
      case '(':
        out += '\\28';
        break;
      case ')':
        out += '\\29';
        break;
      case '\\':
        out += '\\5c';
        break;
      case '\u0000':
        out += '\\00';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** Characters RFC 4514 §2.4 requires (or allows, for `=`) to be backslash-escaped anywhere in a value. */
const DN_SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

/**
 * RFC 4514 attribute value escaping for one RDN value: `, + " \ < > ; =` get a backslash; a
 * leading `#` or space and a trailing space get a backslash; NUL becomes `\00`.
 * Invariant: the result parses back to exactly `v` as one RDN value.
 */
export function escapeDnValue(v: string): string {
  let out = '';
  const chars = [...v];
  chars.forEach((ch, i) => {
    if (ch === '\u0000') out += '\\00';
    else if (DN_SPECIAL.has(ch)) out += '\\' + ch;
    else if (i === 0 && (ch === '#' || ch === ' ')) out += '\\' + ch;
    else if (i === chars.length - 1 && ch === ' ') out += '\\ ';
    else out += ch;
  });
  return out;
}

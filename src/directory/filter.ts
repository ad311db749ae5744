/**
 * R2/R44: validation of an admin's custom LDAP filter (RFC 4515) before it is saved. A small
 * recursive-descent parser of our own, so that the message names what is wrong and where, and
 * so that hostile input (deep nesting, huge strings, stray escapes) is refused cleanly.
 *
 * Positions are 0-based offsets into the string as given. Whitespace between filter components
 * is tolerated and removed from the normalized form; whitespace inside values is kept. A filter
 * given without outer parentheses (`mail=*`) is accepted and normalized to `(mail=*)`.
 */

export type FilterValidation = { ok: true; normalized: string } | { ok: false; message: string; position: number };

/** Longest filter accepted (characters). */
export const MAX_FILTER_LENGTH = 16_384;
/** Deepest nesting of (&…), (|…), (!…) accepted: bounds recursion on hostile input. */
export const MAX_FILTER_DEPTH = 64;

class FilterSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

const ATTR_DESCR = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)(?:;[A-Za-z0-9-]+)*$/;
const OID = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;

class Parser {
  private pos = 0;
  private readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  parseAll(): string {
    this.skipSpace();
    if (this.pos >= this.s.length) throw new FilterSyntaxError('empty filter', 0);
    let out: string;
    if (this.s[this.pos] === '(') {
      out = this.parseFilter(0);
    } else {
      // A bare item: everything up to the end is one item.
      out = '(' + this.parseItem(this.s.trimEnd().length) + ')';
    }
    this.skipSpace();
    if (this.pos < this.s.length) {
      const ch = this.s[this.pos];
      if (ch === ')') throw new FilterSyntaxError(`unbalanced parenthesis at ${this.pos}`, this.pos);
      throw new FilterSyntaxError(`unexpected text after the filter at ${this.pos}`, this.pos);
    }
    return out;
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos] ?? '')) this.pos++;
  }

  /** filter = "(" filtercomp ")" */
  private parseFilter(depth: number): string {
    const open = this.pos;
    if (this.s[this.pos] !== '(') throw new FilterSyntaxError(`expected "(" at ${this.pos}`, this.pos);
    if (depth > MAX_FILTER_DEPTH) throw new FilterSyntaxError(`filter nested deeper than ${MAX_FILTER_DEPTH} at ${this.pos}`, this.pos);
    this.pos++;
    this.skipSpace();
    const ch = this.s[this.pos];
    let inner: string;
    if (ch === '&' || ch === '|') {
      const opPos = this.pos;
      this.pos++;
      const parts: string[] = [];
      this.skipSpace();
      while (this.s[this.pos] === '(') {
        parts.push(this.parseFilter(depth + 1));
        this.skipSpace();
      }
      if (this.pos >= this.s.length) throw new FilterSyntaxError(`unbalanced parenthesis at ${open}`, open);
      if (this.s[this.pos] !== ')') throw new FilterSyntaxError(`expected "(" or ")" at ${this.pos}`, this.pos);
      if (parts.length === 0) throw new FilterSyntaxError(`empty ${ch === '&' ? 'AND' : 'OR'} at ${opPos}`, opPos);
      inner = ch + parts.join('');
    } else if (ch === '!') {
      const opPos = this.pos;
      this.pos++;
      this.skipSpace();
      if (this.s[this.pos] !== '(') {
        if (this.pos >= this.s.length) throw new FilterSyntaxError(`unbalanced parenthesis at ${open}`, open);
        throw new FilterSyntaxError(`NOT needs one filter at ${opPos}`, opPos);
      }
      inner = '!' + this.parseFilter(depth + 1);
      this.skipSpace();
      if (this.pos >= this.s.length) throw new FilterSyntaxError(`unbalanced parenthesis at ${open}`, open);
      if (this.s[this.pos] !== ')') throw new FilterSyntaxError(`NOT takes exactly one filter at ${this.pos}`, this.pos);
    } else if (ch === undefined) {
      throw new FilterSyntaxError(`unbalanced parenthesis at ${open}`, open);
    } else if (ch === ')') {
      throw new FilterSyntaxError(`empty filter at ${open}`, open);
    } else {
      const end = this.findItemEnd(open);
      inner = this.parseItem(end);
    }
    this.pos++; // the closing ")"
    return '(' + inner + ')';
  }

  /** The index of the ")" closing an item that starts at this.pos (items contain no raw parentheses). */
  private findItemEnd(open: number): number {
    for (let i = this.pos; i < this.s.length; i++) {
      const c = this.s[i];
      if (c === ')') return i;
      if (c === '(') throw new FilterSyntaxError(`unescaped "(" in a value at ${i}`, i);
    }
    throw new FilterSyntaxError(`unbalanced parenthesis at ${open}`, open);
  }

  /** item = simple / present / substring / extensible, from this.pos up to `end` (exclusive). */
  private parseItem(end: number): string {
    const start = this.pos;
    const text = this.s.slice(start, end);
    const eq = text.indexOf('=');
    if (eq < 0) throw new FilterSyntaxError(`missing "=" in the item at ${start}`, start);
    let lhs = text.slice(0, eq);
    let op = '=';
    const last = lhs[lhs.length - 1];
    if (last === '~' || last === '>' || last === '<') {
      op = last + '=';
      lhs = lhs.slice(0, -1);
    } else if (last === ':') {
      op = ':=';
      lhs = lhs.slice(0, -1);
    }
    const valueStart = start + eq + 1;
    const rawValue = text.slice(eq + 1);
    let left: string;
    if (op === ':=') {
      left = this.checkExtensible(lhs, start);
    } else {
      if (lhs === '') throw new FilterSyntaxError(`missing attribute name at ${start}`, start);
      if (!ATTR_DESCR.test(lhs)) throw new FilterSyntaxError(`invalid attribute name "${clip(lhs)}" at ${start}`, start);
      left = lhs;
    }
    let value: string;
    if (op === '=' && rawValue.includes('*')) {
      if (rawValue === '*') {
        value = '*'; // presence
      } else {
        // substrings: parts between stars are assertion values; consecutive stars are invalid
        const parts = rawValue.split('*');
        let offset = valueStart;
        const out: string[] = [];
        parts.forEach((p, i) => {
          if (p === '' && i > 0 && i < parts.length - 1) {
            throw new FilterSyntaxError(`empty substring between "*" at ${offset - 1}`, offset - 1);
          }
          out.push(this.checkValue(p, offset, false));
          offset += p.length + 1;
        });
        value = out.join('*');
      }
    } else {
      // Only an equality match can carry arbitrary bytes (binary attributes such as objectGUID).
      value = this.checkValue(rawValue, valueStart, op === '=');
    }
    this.pos = end;
    return left + op + value;
  }

  /** extensible = ( attr [":dn"] [":" matchingrule] ) / ( [":dn"] ":" matchingrule ), before ":=" */
  private checkExtensible(lhs: string, start: number): string {
    const parts = lhs.split(':');
    const attr = parts[0] ?? '';
    const rest = parts.slice(1);
    if (attr !== '' && !ATTR_DESCR.test(attr)) throw new FilterSyntaxError(`invalid attribute name "${clip(attr)}" at ${start}`, start);
    let dn = false;
    let rule: string | null = null;
    for (const p of rest) {
      const isDn = p.toLowerCase() === 'dn';
      if (isDn && !dn && rule === null) dn = true;
      else if (!isDn && rule === null && OID.test(p)) rule = p;
      else throw new FilterSyntaxError(`invalid extensible match "${clip(lhs)}:=" at ${start}`, start);
    }
    if (attr === '' && rule === null) throw new FilterSyntaxError(`extensible match without attribute needs a matching rule at ${start}`, start);
    return attr + (dn ? ':dn' : '') + (rule === null ? '' : ':' + rule);
  }

  /**
   * assertionvalue: no raw "(", ")", "*" (handled by the caller), NUL; escapes are \ HEX HEX.
   * Unless `binaryOk` (equality matches), the escaped bytes must form UTF-8 text: substring,
   * ordering and approximate matches are sent as strings, so a stray byte could not be sent as written.
   */
  private checkValue(v: string, offset: number, binaryOk: boolean): string {
    let out = '';
    const bytes: number[] = [];
    let firstHigh = -1;
    for (let i = 0; i < v.length; i++) {
      const c = v[i] ?? '';
      if (c === '\\') {
        const h = v.slice(i + 1, i + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw new FilterSyntaxError(`invalid escape \\${clip(h)} at ${offset + i}`, offset + i);
        out += '\\' + h.toLowerCase();
        const b = parseInt(h, 16);
        if (b >= 0x80 && firstHigh < 0) firstHigh = offset + i;
        bytes.push(b);
        i += 2;
      } else if (c === '(' || c === ')') {
        throw new FilterSyntaxError(`unbalanced parenthesis at ${offset + i}`, offset + i);
      } else if (c === '\u0000') {
        throw new FilterSyntaxError(`NUL character in a value at ${offset + i}`, offset + i);
      } else {
        out += c;
        for (const b of new TextEncoder().encode(c)) bytes.push(b);
      }
    }
    if (!binaryOk && firstHigh >= 0) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
      } catch {
        throw new FilterSyntaxError(`escaped bytes that are not UTF-8 text are allowed only in an equality match (attr=value), at ${firstHigh}`, firstHigh);
      }
    }
    return out;
  }
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/**
 * Validates an RFC 4515 filter. Never throws. On success `normalized` is the filter without
 * whitespace between components, with outer parentheses, and with hex escapes in lower case;
 * it means the same as the input. On failure `message` names the fault and its 0-based position.
 */
export function validateFilter(f: string): FilterValidation {
  if (f.length > MAX_FILTER_LENGTH) {
    return { ok: false, message: `filter longer than ${MAX_FILTER_LENGTH} characters`, position: MAX_FILTER_LENGTH };
  }
  try {
    return { ok: true, normalized: new Parser(f).parseAll() };
  } catch (e) {
    if (e instanceof FilterSyntaxError) return { ok: false, message: e.message, position: e.position };
    throw e;
  }
}

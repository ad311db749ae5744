/**
 * Compiles a filter string into ldapts Filter objects with exact bytes (R2, R44).
 *
 * Why not hand ldapts the string: its parser turns each `\xx` escape into the character U+00xx
 * and then writes the value as UTF-8, so any escaped byte ≥ 0x80 is sent as two bytes. That
 * breaks binary filters (`(objectGUID=\e0\04…)`, D8) and escaped UTF-8 in admins' filters
 * (`(sn=Lu\c4\8di\c4\87)`). Here escapes become bytes: equality values are sent as those bytes;
 * other assertion types use ldapts' filters when their value is UTF-8 text, and otherwise
 * (R2: every filter validateFilter accepts must compile; RFC 4515 allows any octets) a filter
 * that writes the same BER with the value's exact bytes.
 */
import { AndFilter, ApproximateFilter, type BerWriter, EqualityFilter, ExtensibleFilter, Filter, GreaterThanEqualsFilter,
  LessThanEqualsFilter, NotFilter, OrFilter, PresenceFilter, SearchFilter, type SearchFilterValues, SubstringFilter } from 'ldapts';
import { RosterError } from '../core/errors.ts';
import { validateFilter } from './filter.ts';

const OCTET_STRING = 0x04;

/**
 * An assertion (ordering, approximate, substrings, extensible) whose value is not UTF-8: the BER
 * ldapts' class would write (RFC 4511 §4.5.1), with the value's bytes instead of a string.
 */
class ByteAssertion extends Filter {
  type: SearchFilterValues;
  readonly #write: (w: BerWriter) => void;
  readonly #text: string;

  constructor(type: SearchFilterValues, text: string, write: (w: BerWriter) => void) {
    super();
    this.type = type;
    this.#text = text;
    this.#write = write;
  }

  protected override writeFilter(w: BerWriter): void {
    this.#write(w);
  }

  override toString(): string {
    return this.#text;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes of an assertion value: literal characters as UTF-8, `\xx` escapes as one byte each. */
export function valueBytes(v: string): Buffer {
  const parts: Buffer[] = [];
  let lit = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      if (lit) parts.push(Buffer.from(lit, 'utf8'));
      lit = '';
      parts.push(Buffer.from([Number.parseInt(v.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else {
      lit += v[i];
    }
  }
  if (lit) parts.push(Buffer.from(lit, 'utf8'));
  return Buffer.concat(parts);
}

/** The value as text, or null when its bytes are not UTF-8. */
function valueText(v: string): string | null {
  try {
    return utf8.decode(valueBytes(v));
  } catch {
    return null;
  }
}

function compileItem(item: string): Filter {
  const eq = item.indexOf('=');
  let lhs = item.slice(0, eq);
  const value = item.slice(eq + 1);
  const last = lhs.at(-1);
  if (last === ':') {
    lhs = lhs.slice(0, -1);
    const [attr = '', ...rest] = lhs.split(':');
    const dnAttributes = rest.some((p) => p.toLowerCase() === 'dn');
    const rule = rest.find((p) => p.toLowerCase() !== 'dn') ?? '';
    const text = valueText(value);
    if (text !== null) return new ExtensibleFilter({ matchType: attr, rule, dnAttributes, value: text });
    return new ByteAssertion(SearchFilter.extensibleMatch, `(${item})`, (w) => {
      if (rule) w.writeString(rule, 0x81);
      if (attr) w.writeString(attr, 0x82);
      w.writeBuffer(valueBytes(value), 0x83);
      if (dnAttributes) w.writeBoolean(dnAttributes, 0x84);
    });
  }
  if (last === '~' || last === '>' || last === '<') {
    const attribute = lhs.slice(0, -1);
    const text = valueText(value);
    const type = last === '~' ? SearchFilter.approxMatch : last === '>' ? SearchFilter.greaterOrEqual : SearchFilter.lessOrEqual;
    if (text === null) {
      return new ByteAssertion(type, `(${item})`, (w) => {
        w.writeString(attribute);
        w.writeBuffer(valueBytes(value), OCTET_STRING);
      });
    }
    const opts = { attribute, value: text };
    return last === '~' ? new ApproximateFilter(opts) : last === '>' ? new GreaterThanEqualsFilter(opts) : new LessThanEqualsFilter(opts);
  }
  if (value === '*') return new PresenceFilter({ attribute: lhs });
  if (value.includes('*')) {
    // In a normalized filter a raw `*` is always a wildcard (a literal star is escaped).
    const raw = value.split('*');
    const parts = raw.map(valueText);
    if (parts.every((p) => p !== null)) {
      return new SubstringFilter({ attribute: lhs, initial: parts[0] ?? '', final: parts.at(-1) ?? '', any: parts.slice(1, -1).filter((p) => p !== '') });
    }
    return new ByteAssertion(SearchFilter.substrings, `(${item})`, (w) => {
      w.writeString(lhs);
      w.startSequence();
      raw.forEach((p, i) => {
        if (p === '') return;
        w.writeBuffer(valueBytes(p), i === 0 ? 0x80 : i === raw.length - 1 ? 0x82 : 0x81);
      });
      w.endSequence();
    });
  }
  return new EqualityFilter({ attribute: lhs, value: valueBytes(value) });
}

/** Compiles a normalized filter; `pos` points at its "(". Returns the filter and the index after ")". */
function compileAt(s: string, pos: number): [Filter, number] {
  const op = s[pos + 1];
  if (op === '&' || op === '|' || op === '!') {
    const filters: Filter[] = [];
    let i = pos + 2;
    while (s[i] === '(') {
      const [f, next] = compileAt(s, i);
      filters.push(f);
      i = next;
    }
    const f = op === '&' ? new AndFilter({ filters }) : op === '|' ? new OrFilter({ filters }) : new NotFilter({ filter: filters[0]! });
    return [f, i + 1];
  }
  const end = s.indexOf(')', pos);
  return [compileItem(s.slice(pos + 1, end)), end + 1];
}

/** Validates and compiles an RFC 4515 filter; RosterError('bad_input') when it is invalid. */
export function compileFilter(filter: string): Filter {
  const v = validateFilter(filter);
  if (!v.ok) throw new RosterError('bad_input', `invalid filter: ${v.message}`, { details: { position: v.position } });
  return compileAt(v.normalized, 0)[0];
}

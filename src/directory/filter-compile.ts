/**
 * Compiles a filter string into ldapts Filter objects with exact bytes (R2, R44).
 *
 * Why not hand ldapts the string: its parser turns each `\xx` escape into the character U+00xx
 * and then writes the value as UTF-8, so any escaped byte ≥ 0x80 is sent as two bytes. That
 * breaks binary filters (`(objectGUID=\e0\04…)`, D8) and escaped UTF-8 in admins' filters
 * (`(sn=Lu\c4\8di\c4\87)`). Here escapes become bytes: equality values are sent as those bytes;
 * other assertion types, which ldapts writes as strings, must decode as UTF-8.
 */
import { AndFilter, ApproximateFilter, EqualityFilter, ExtensibleFilter, type Filter, GreaterThanEqualsFilter,
  LessThanEqualsFilter, NotFilter, OrFilter, PresenceFilter, SubstringFilter } from 'ldapts';
import { RosterError } from '../core/errors.ts';
import { validateFilter } from './filter.ts';

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

function valueText(v: string, filter: string): string {
  try {
    return utf8.decode(valueBytes(v));
  } catch {
    throw new RosterError('bad_input', `binary escapes are only supported in equality assertions: ${filter}`);
  }
}

function compileItem(item: string, whole: string): Filter {
  const eq = item.indexOf('=');
  let lhs = item.slice(0, eq);
  const value = item.slice(eq + 1);
  const last = lhs.at(-1);
  if (last === ':') {
    lhs = lhs.slice(0, -1);
    const [attr = '', ...rest] = lhs.split(':');
    const dnAttributes = rest.some((p) => p.toLowerCase() === 'dn');
    const rule = rest.find((p) => p.toLowerCase() !== 'dn') ?? '';
    return new ExtensibleFilter({ matchType: attr, rule, dnAttributes, value: valueText(value, whole) });
  }
  if (last === '~' || last === '>' || last === '<') {
    const attribute = lhs.slice(0, -1);
    const opts = { attribute, value: valueText(value, whole) };
    return last === '~' ? new ApproximateFilter(opts) : last === '>' ? new GreaterThanEqualsFilter(opts) : new LessThanEqualsFilter(opts);
  }
  if (value === '*') return new PresenceFilter({ attribute: lhs });
  if (value.includes('*')) {
    // In a normalized filter a raw `*` is always a wildcard (a literal star is escaped).
    const parts = value.split('*').map((p) => valueText(p, whole));
    return new SubstringFilter({ attribute: lhs, initial: parts[0] ?? '', final: parts.at(-1) ?? '', any: parts.slice(1, -1).filter((p) => p !== '') });
  }
  return new EqualityFilter({ attribute: lhs, value: valueBytes(value) });
}

/** Compiles a normalized filter; `pos` points at its "(". Returns the filter and the index after ")". */
function compileAt(s: string, pos: number, whole: string): [Filter, number] {
  const op = s[pos + 1];
  if (op === '&' || op === '|' || op === '!') {
    const filters: Filter[] = [];
    let i = pos + 2;
    while (s[i] === '(') {
      const [f, next] = compileAt(s, i, whole);
      filters.push(f);
      i = next;
    }
    const f = op === '&' ? new AndFilter({ filters }) : op === '|' ? new OrFilter({ filters }) : new NotFilter({ filter: filters[0]! });
    return [f, i + 1];
  }
  const end = s.indexOf(')', pos);
  return [compileItem(s.slice(pos + 1, end), whole), end + 1];
}

/** Validates and compiles an RFC 4515 filter; RosterError('bad_input') when it is invalid. */
export function compileFilter(filter: string): Filter {
  const v = validateFilter(filter);
  if (!v.ok) throw new RosterError('bad_input', `invalid filter: ${v.message}`, { details: { position: v.position } });
  return compileAt(v.normalized, 0, v.normalized)[0];
}

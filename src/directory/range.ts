/**
 * Range retrieval of large multi-valued attributes (AD `member;range=lo-hi`, R1/R5). AD returns at
 * most MaxValRange values per attribute and names the window it sent; the rest is fetched with
 * base-scope searches for `member;range=<hi+1>-*` (or explicit windows of `step` values) until a
 * window ends in `*`. Any failed, empty or non-contiguous step makes the read incomplete.
 */
import type { Client } from 'ldapts';
import { RosterError } from '../core/errors.ts';
import { searchOnce, type SearchContext } from './paged-search.ts';
import type { RawEntry, RawValue } from './values.ts';

export interface RangeWindow {
  /** The attribute key as returned, lower case (`member;range=0-1499`). */
  key: string;
  low: number;
  /** null when the window ends in `*` (the last one). */
  high: number | null;
  values: RawValue[];
}

/** Parses `attr;range=lo-hi` / `attr;range=lo-*` keys (other options may precede `range`). */
export function parseRangeKey(key: string, attr: string): { low: number; high: number | null } | null {
  const k = key.toLowerCase();
  const a = attr.toLowerCase();
  if (!k.startsWith(a + ';')) return null;
  const m = /(?:^|;)range=(\d+)-(\d+|\*)(?:;|$)/.exec(k.slice(a.length));
  if (!m) return null;
  const low = Number(m[1]);
  const high = m[2] === '*' ? null : Number(m[2]);
  if (!Number.isSafeInteger(low) || (high !== null && (!Number.isSafeInteger(high) || high < low))) return null;
  return { low, high };
}

/** The ranged window of `attr` in an entry, if the server answered with one. */
export function findRangeWindow(e: RawEntry, attr: string): RangeWindow | null {
  for (const [key, values] of e.attrs) {
    const r = parseRangeKey(key, attr);
    // ldapts adds an empty list under every requested name the server did not return: an empty
    // window that does not end in `*` is that placeholder, not an answer.
    if (r && (r.high === null || values.length > 0)) return { key, ...r, values };
  }
  return null;
}

/** The attribute description that asks for the window starting at `low`. */
export function rangeRequest(attr: string, low: number, step: number | undefined): string {
  return step ? `${attr};range=${low}-${low + step - 1}` : `${attr};range=${low}-*`;
}

/**
 * Completes a ranged attribute of one entry: starting after `first` (the window the entry came
 * with), fetches windows until one ends in `*`. Returns all values in order (first window included).
 * Throws RosterError('read_incomplete') on any failed or inconsistent step.
 */
export async function completeRange(client: Client, dn: string, attr: string, first: RangeWindow,
  step: number | undefined, ctx: SearchContext): Promise<RawValue[]> {
  const values = [...first.values];
  let high = first.high;
  const what = `${attr} of ${dn}`;
  while (high !== null) {
    const low = high + 1;
    const wanted = rangeRequest(attr, low, step);
    const entries = await searchOnce(client, { base: dn, scope: 'base', filter: '(objectClass=*)', attributes: [wanted], binaryAttrs: [] },
      { ...ctx, what: `the range ${low}- of ${what}` });
    const entry = entries[0];
    if (!entry) throw new RosterError('read_incomplete', `range retrieval of ${what} from ${ctx.server}: the entry vanished at value ${low}`);
    const w = findRangeWindow(entry, attr);
    if (!w) {
      throw new RosterError('read_incomplete', `range retrieval of ${what} from ${ctx.server}: no values returned for ${wanted}`);
    }
    if (w.low !== low) {
      throw new RosterError('read_incomplete', `range retrieval of ${what} from ${ctx.server}: asked for values from ${low}, got ${w.key}`);
    }
    values.push(...w.values);
    high = w.high;
  }
  return values;
}

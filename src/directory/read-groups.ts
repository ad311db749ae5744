/**
 * Group reads with complete memberships (R1, R5, D8): a paged group search, then range retrieval
 * for every group whose member attribute came back in windows, then the mapping. Also reads
 * excepted groups by anchor from the naming context root when the scoped read did not see them.
 */
import type { Client } from 'ldapts';
import type { DirGroup } from '../core/model.ts';
import { RosterError } from '../core/errors.ts';
import { mapGroup } from './map-entry.ts';
import { groupAttributes, groupObjectFilter, type ResolvedProfile } from './profiles.ts';
import { escapeFilterValue } from './escape.ts';
import { streamEntries, type SearchContext } from './paged-search.ts';
import { completeRange, findRangeWindow, rangeRequest } from './range.ts';
import { guidToBytes, type RawEntry } from './values.ts';

export interface GroupReadOptions {
  base: string;
  filter: string;
  pageSize: number;
  /** AD: request members in explicit windows of this many values from the start. */
  rangeStep?: number | undefined;
  /** DNs already held (the users'): member values equal to one share its string (mapGroup). */
  dnPool?: ReadonlyMap<string, string> | undefined;
}

function memberAttr(p: ResolvedProfile): string {
  return p.fields.members ?? 'member';
}

/** Replaces a ranged member window in `e` by the complete values under the plain attribute name. */
async function completeMembers(client: Client, e: RawEntry, p: ResolvedProfile, step: number | undefined, ctx: SearchContext): Promise<void> {
  const attr = memberAttr(p);
  const w = findRangeWindow(e, attr);
  if (!w) return;
  const all = w.high === null ? w.values : await completeRange(client, e.dn, attr, w, step, ctx);
  e.attrs.delete(w.key);
  e.attrs.set(attr.toLowerCase(), all);
}

function noAnchor(e: RawEntry, p: ResolvedProfile, ctx: SearchContext): RosterError {
  return new RosterError('read_incomplete',
    `entry ${e.dn} has no anchor (${p.fields.anchor ?? 'anchor'}) while reading ${ctx.what} from ${ctx.server}: ` +
    'is the attribute readable by the bind account?');
}

/**
 * Reads and maps every group of a search. Groups whose members arrived ranged are completed after
 * the paged search ended (no other operation runs between two pages of it).
 */
export async function readGroups(client: Client, p: ResolvedProfile, o: GroupReadOptions, ctx: SearchContext): Promise<DirGroup[]> {
  const step = p.name === 'active-directory' ? o.rangeStep : undefined;
  const attrs = groupAttributes(p, step ? [rangeRequest(memberAttr(p), 0, step)] : undefined);
  const done: DirGroup[] = [];
  const ranged: RawEntry[] = [];
  for await (const e of streamEntries(client, { base: o.base, scope: 'sub', filter: o.filter, attributes: attrs, binaryAttrs: p.binaryAttrs, pageSize: o.pageSize }, ctx)) {
    const w = findRangeWindow(e, memberAttr(p));
    if (w && w.high !== null) {
      ranged.push(e);
      continue;
    }
    if (w) {
      e.attrs.delete(w.key);
      e.attrs.set(memberAttr(p).toLowerCase(), w.values);
    }
    const g = mapGroup(e, p, o.dnPool);
    if (g === null) throw noAnchor(e, p, ctx);
    done.push(g);
  }
  for (const e of ranged) {
    await completeMembers(client, e, p, step, ctx);
    const g = mapGroup(e, p, o.dnPool);
    if (g === null) throw noAnchor(e, p, ctx);
    done.push(g);
  }
  return done;
}

/** The filter that finds one group by anchor (RFC 4515 escaped; objectGUID as binary). */
export function anchorFilter(p: ResolvedProfile, anchor: string): string | null {
  const attrs = [p.fields.anchor ?? 'entryUUID', ...(p.fallbacks.anchor ?? [])];
  const parts: string[] = [];
  for (const a of attrs) {
    if (p.anchorIsGuid && a.toLowerCase() === 'objectguid') {
      const b = guidToBytes(anchor);
      if (b) parts.push(`(${a}=${escapeFilterValue(b)})`);
    } else {
      parts.push(`(${a}=${escapeFilterValue(anchor)})`);
    }
  }
  if (parts.length === 0) return null;
  const any = parts.length === 1 ? (parts[0] ?? '') : `(|${parts.join('')})`;
  return `(&${groupObjectFilter(p)}${any})`;
}

/**
 * D8: reads excepted groups that the scoped read did not return, by anchor from the naming
 * context root, regardless of the search base and custom filter. A group that cannot be found
 * fails the read: its members must never be silently un-excepted.
 */
export async function readExceptedGroups(client: Client, p: ResolvedProfile, anchors: string[], root: string, pageSize: number,
  rangeStep: number | undefined, ctx: SearchContext): Promise<DirGroup[]> {
  const out: DirGroup[] = [];
  for (const anchor of anchors) {
    const filter = anchorFilter(p, anchor);
    const found = filter === null ? [] : await readGroups(client, p, { base: root, filter, pageSize, rangeStep }, { ...ctx, what: `excepted group ${anchor}` });
    const g = found.find((x) => x.anchor === anchor.toLowerCase());
    if (!g) throw new RosterError('read_incomplete', `excepted group ${anchor} could not be read from ${ctx.server} (not found under ${root})`);
    out.push(g);
  }
  return out;
}

/**
 * R61 group expansion: the transitive members of one directory group, from the connection's cache
 * (memberships by anchor, R60). Breadth-first by level; each level reads the memberships of at
 * most 500 groups per query joined to their users (the bulk of any large group) and resolves the
 * remaining anchors against groups and contacts in IN lists of at most 500. Cycle-safe: a group
 * seen before is never expanded again; edges on a cycle are reported. A depth limit stops the walk
 * and names the groups left unexpanded.
 */
import type { Kysely } from 'kysely';
import { RosterError } from '../core/errors.ts';
import type { UserState } from '../core/model.ts';
import type { Database } from '../store/schema.ts';
import { cycleEdges } from './cycles.ts';
import { findGroup, type GroupRef } from './find-group.ts';

export const IN_LIST = 500;

export interface GroupPathRef {
  anchor: string;
  name: string;
}

export interface ExpandedMember {
  kind: 'user' | 'public_folder' | 'group' | 'contact';
  id: string;
  anchor: string;
  name: string | null;
  address: string | null;
  /** Users and public folders only. */
  state: UserState | null;
  /** 1 = a direct member. */
  depth: number;
  /** The group it was first reached through. */
  via: GroupPathRef;
}

export interface UnresolvedMember {
  anchor: string;
  depth: number;
  via: GroupPathRef;
}

export interface GroupExpansion {
  group: GroupRef;
  maxDepth: number;
  /** Each member once, at the smallest depth, in breadth-first order (then by anchor). */
  members: ExpandedMember[];
  /** Member anchors that are no user, group or contact of the connection (not synced, excepted, or outside the read). */
  unresolved: UnresolvedMember[];
  /** Group→group membership edges on a cycle. */
  cycles: { from: GroupPathRef; to: GroupPathRef }[];
  /** True when the depth limit left groups with members unexpanded. */
  truncated: boolean;
  notExpanded: GroupPathRef[];
  counts: { users: number; publicFolders: number; groups: number; contacts: number; unresolved: number };
}

export interface ExpandInput {
  tenantId: string;
  /** Id, address, name or `<connection>:<anchor>` (see findGroup). */
  group: string;
  /** Levels to expand, 1..1000 (default 20). */
  maxDepth?: number;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function chunks<T>(items: readonly T[], size = IN_LIST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** R61: expands a group of the tenant. 'not_found' / 'bad_input' from findGroup; 'bad_input' for a bad depth. */
export async function expandGroup(db: Kysely<Database>, input: ExpandInput): Promise<GroupExpansion> {
  const maxDepth = input.maxDepth ?? 20;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 1000) {
    throw new RosterError('bad_input', `the expansion depth must be a whole number from 1 to 1000, not ${String(maxDepth)}`);
  }
  const group = await findGroup(db, input.tenantId, input.group);
  return expandFrom(db, group, maxDepth);
}

/** Expands an already found group (the walk itself). */
export async function expandFrom(db: Kysely<Database>, group: GroupRef, maxDepth: number): Promise<GroupExpansion> {
  const conn = group.connectionId;
  const groupNames = new Map<string, string>([[group.anchor, group.name]]);
  const ref = (anchor: string): GroupPathRef => ({ anchor, name: groupNames.get(anchor) ?? anchor });
  const members = new Map<string, ExpandedMember>();
  const unresolved = new Map<string, UnresolvedMember>();
  const groupEdges: [string, string][] = [];
  const expanded = new Set<string>([group.anchor]);
  let frontier = [group.anchor];
  let truncated = false;
  const notExpanded: GroupPathRef[] = [];

  for (let depth = 1; frontier.length > 0; depth++) {
    if (depth > maxDepth) {
      for (const part of chunks(frontier)) {
        const rows = await db.selectFrom('memberships').select('group_anchor').distinct()
          .where('connection_id', '=', conn).where('group_anchor', 'in', part).execute();
        const has = new Set(rows.map((r) => r.group_anchor));
        for (const g of part) if (has.has(g)) notExpanded.push(ref(g));
      }
      truncated = notExpanded.length > 0;
      break;
    }
    const next: string[] = [];
    for (const part of chunks(frontier)) {
      const rows = await db
        .selectFrom('memberships as m')
        .leftJoin('users as u', (j) => j.onRef('u.connection_id', '=', 'm.connection_id').onRef('u.anchor', '=', 'm.member_anchor'))
        .leftJoin('addresses as a', (j) => j.onRef('a.user_id', '=', 'u.id').on('a.role', '=', 'primary'))
        .select(['m.group_anchor', 'm.member_anchor', 'u.id', 'u.kind', 'u.state', 'u.display_name', 'a.address'])
        .where('m.connection_id', '=', conn)
        .where('m.group_anchor', 'in', part)
        .execute();
      // Deterministic order without an ORDER BY (sorting 100,000 rows in the database costs more than here).
      rows.sort((a, b) => cmp(a.group_anchor, b.group_anchor) || cmp(a.member_anchor, b.member_anchor));
      const pending: { anchor: string; via: string }[] = [];
      for (const r of rows) {
        if (expanded.has(r.member_anchor)) {
          groupEdges.push([r.group_anchor, r.member_anchor]);
          continue;
        }
        const seen = members.get(r.member_anchor);
        if (seen !== undefined) {
          if (seen.kind === 'group') groupEdges.push([r.group_anchor, r.member_anchor]);
          continue;
        }
        if (unresolved.has(r.member_anchor)) continue;
        if (r.id !== null) {
          members.set(r.member_anchor, {
            kind: r.kind === 'public_folder' ? 'public_folder' : 'user', id: r.id, anchor: r.member_anchor, name: r.display_name,
            address: r.address, state: r.state as UserState, depth, via: ref(r.group_anchor),
          });
        } else {
          pending.push({ anchor: r.member_anchor, via: r.group_anchor });
        }
      }
      for (const p of await resolveOthers(db, conn, pending)) {
        if (members.has(p.anchor) || unresolved.has(p.anchor)) {
          if (p.kind === 'group') groupEdges.push([p.via, p.anchor]);
          continue;
        }
        if (p.kind === null) {
          unresolved.set(p.anchor, { anchor: p.anchor, depth, via: ref(p.via) });
          continue;
        }
        members.set(p.anchor, { kind: p.kind, id: p.id, anchor: p.anchor, name: p.name, address: p.address, state: null, depth, via: ref(p.via) });
        if (p.kind === 'group') {
          groupNames.set(p.anchor, p.name);
          groupEdges.push([p.via, p.anchor]);
          expanded.add(p.anchor);
          next.push(p.anchor);
        }
      }
    }
    frontier = next;
  }

  const list = [...members.values()];
  const count = (k: ExpandedMember['kind']) => list.filter((m) => m.kind === k).length;
  return {
    group,
    maxDepth,
    members: list,
    unresolved: [...unresolved.values()],
    cycles: cycleEdges(groupEdges).map(([from, to]) => ({ from: ref(from), to: ref(to) })),
    truncated,
    notExpanded,
    counts: { users: count('user'), publicFolders: count('public_folder'), groups: count('group'), contacts: count('contact'), unresolved: unresolved.size },
  };
}

type Other =
  | { anchor: string; via: string; kind: 'group' | 'contact'; id: string; name: string; address: string | null }
  | { anchor: string; via: string; kind: null };

/** Anchors that are not users: groups, else contacts, else unresolved. Input order kept. */
async function resolveOthers(db: Kysely<Database>, conn: string, pending: { anchor: string; via: string }[]): Promise<Other[]> {
  if (pending.length === 0) return [];
  const anchors = [...new Set(pending.map((p) => p.anchor))];
  const found = new Map<string, { kind: 'group' | 'contact'; id: string; name: string; address: string | null }>();
  for (const part of chunks(anchors)) {
    const groups = await db
      .selectFrom('groups as g')
      .leftJoin('addresses as a', (j) => j.onRef('a.group_id', '=', 'g.id').on('a.role', '=', 'group'))
      .select(['g.id', 'g.anchor', 'g.name', 'a.address'])
      .where('g.connection_id', '=', conn)
      .where('g.anchor', 'in', part)
      .execute();
    for (const g of groups) found.set(g.anchor, { kind: 'group', id: g.id, name: g.name, address: g.address });
    const rest = part.filter((a) => !found.has(a));
    if (rest.length === 0) continue;
    const contacts = await db
      .selectFrom('contacts as c')
      .select((eb) => [
        'c.id', 'c.anchor', 'c.name',
        eb.selectFrom('contact_addresses as ca').select((e) => e.fn.min('ca.address').as('a')).whereRef('ca.contact_id', '=', 'c.id').as('address'),
      ])
      .where('c.connection_id', '=', conn)
      .where('c.anchor', 'in', rest)
      .execute();
    for (const c of contacts) found.set(c.anchor, { kind: 'contact', id: c.id, name: c.name, address: c.address ?? null });
  }
  return pending.map((p) => {
    const f = found.get(p.anchor);
    return f === undefined ? { anchor: p.anchor, via: p.via, kind: null } : { anchor: p.anchor, via: p.via, ...f };
  });
}

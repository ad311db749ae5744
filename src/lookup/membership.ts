/**
 * R62 evaluation: which directory objects an address stands for, and every group that contains
 * them transitively. Walking UP from the member (memberships_member_ix: connection + member anchor)
 * costs the member's nesting depth, not the size of the groups it belongs to, so a rule naming a
 * 100,000-member group is evaluated with a handful of index probes. Cycle-safe; depth-bounded.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { PREPARED, padIn } from '../store/pg-prepared.ts';

/** A directory object by connection and anchor. */
export interface AnchorRef {
  connectionId: string;
  anchor: string;
}

export interface AddressObjects {
  /** The tenant's user holding the address (primary or alias), if any. */
  userId: string | null;
  /** Directory objects the address stands for: its user's anchor, its group, contacts showing it. */
  anchors: AnchorRef[];
}

/** The tenant's objects holding or showing `address` (normalized). */
export async function objectsOfAddress(db: Kysely<Database>, tenantId: string, address: string): Promise<AddressObjects> {
  const held = await db
    .selectFrom('addresses as a')
    .leftJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('groups as g', 'g.id', 'a.group_id')
    .select(['a.user_id', 'u.connection_id as u_conn', 'u.anchor as u_anchor', 'g.connection_id as g_conn', 'g.anchor as g_anchor'])
    .where('a.address', '=', address)
    .where('a.tenant_id', '=', tenantId)
    .modifyEnd(PREPARED)
    .executeTakeFirst();
  const anchors: AnchorRef[] = [];
  if (held?.u_conn != null && held.u_anchor != null) anchors.push({ connectionId: held.u_conn, anchor: held.u_anchor });
  if (held?.g_conn != null && held.g_anchor != null) anchors.push({ connectionId: held.g_conn, anchor: held.g_anchor });
  const contacts = await db
    .selectFrom('contact_addresses as ca')
    .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
    .select(['c.connection_id', 'c.anchor'])
    .where('ca.address', '=', address)
    .where('c.tenant_id', '=', tenantId)
    .modifyEnd(PREPARED)
    .execute();
  for (const c of contacts) anchors.push({ connectionId: c.connection_id, anchor: c.anchor });
  return { userId: held?.user_id ?? null, anchors };
}

/**
 * Every group (connectionId + '\n' + anchor) that contains one of `refs` transitively, the refs
 * themselves included (an address of a group stands for that group). At most `maxDepth` levels up.
 */
export async function containingGroups(db: Kysely<Database>, refs: readonly AnchorRef[], maxDepth = 50): Promise<Set<string>> {
  const key = (c: string, a: string) => `${c}\n${a}`;
  const seen = new Set(refs.map((r) => key(r.connectionId, r.anchor)));
  const byConn = new Map<string, string[]>();
  for (const r of refs) byConn.set(r.connectionId, [...(byConn.get(r.connectionId) ?? []), r.anchor]);
  for (const [conn, start] of byConn) {
    let frontier = start;
    for (let depth = 0; frontier.length > 0 && depth < maxDepth; depth++) {
      const next: string[] = [];
      for (let i = 0; i < frontier.length; i += 256) {
        const rows = await db.selectFrom('memberships').select('group_anchor')
          .where('connection_id', '=', conn).where('member_anchor', 'in', padIn(frontier.slice(i, i + 256))).modifyEnd(PREPARED).execute();
        for (const r of rows) {
          const k = key(conn, r.group_anchor);
          if (seen.has(k)) continue;
          seen.add(k);
          next.push(r.group_anchor);
        }
      }
      frontier = next;
    }
  }
  return seen;
}

/**
 * Finds one directory group of a tenant from what an administrator typed: its id, its address,
 * `<connection>:<anchor>`, or its name (exact, else case- and accent-insensitive). Several groups
 * with that name → 'bad_input' listing each as `<connection>:<anchor>`, which names one exactly.
 */
import type { Kysely } from 'kysely';
import { normalizeAddress } from '../core/address.ts';
import { RosterError } from '../core/errors.ts';
import { foldText } from '../core/fold.ts';
import type { Database } from '../store/schema.ts';

export interface GroupRef {
  id: string;
  name: string;
  anchor: string;
  dn: string;
  connectionId: string;
  connection: string;
  address: string | null;
}

function baseQuery(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom('groups as g')
    .innerJoin('connections as c', 'c.id', 'g.connection_id')
    .leftJoin('addresses as a', (j) => j.onRef('a.group_id', '=', 'g.id').on('a.role', '=', 'group'))
    .select(['g.id', 'g.name', 'g.anchor', 'g.dn', 'g.connection_id as connectionId', 'c.name as connection', 'a.address'])
    .where('g.tenant_id', '=', tenantId);
}

/** The tenant's groups named `name` (exact first; folded when none is exact), ordered by connection and anchor. */
export async function groupsNamed(db: Kysely<Database>, tenantId: string, name: string): Promise<GroupRef[]> {
  const exact = await baseQuery(db, tenantId).where('g.name', '=', name).orderBy('c.name').orderBy('g.anchor').execute();
  if (exact.length > 0) return exact;
  // Folded comparison in memory: the database cannot fold accents the way src/core/fold.ts does.
  const want = foldText(name.trim());
  const all = await baseQuery(db, tenantId).orderBy('c.name').orderBy('g.anchor').execute();
  return all.filter((g) => foldText(g.name.trim()) === want);
}

/** Resolves `ref` to exactly one group of the tenant; 'not_found' or 'bad_input' (ambiguous) otherwise. */
export async function findGroup(db: Kysely<Database>, tenantId: string, ref: string): Promise<GroupRef> {
  const raw = ref.trim();
  if (raw === '') throw new RosterError('bad_input', 'no group named: give its name, address, id or <connection>:<anchor>');
  const byId = await baseQuery(db, tenantId).where('g.id', '=', raw).executeTakeFirst();
  if (byId !== undefined) return byId;
  const colon = raw.indexOf(':');
  if (colon > 0) {
    const byAnchor = await baseQuery(db, tenantId).where('c.name', '=', raw.slice(0, colon)).where('g.anchor', '=', raw.slice(colon + 1).toLowerCase()).executeTakeFirst()
      ?? await baseQuery(db, tenantId).where('c.name', '=', raw.slice(0, colon)).where('g.anchor', '=', raw.slice(colon + 1)).executeTakeFirst();
    if (byAnchor !== undefined) return byAnchor;
  }
  if (raw.includes('@')) {
    const address = normalizeAddress(raw);
    if (address !== null) {
      const byAddress = await baseQuery(db, tenantId).where('a.address', '=', address).executeTakeFirst();
      if (byAddress !== undefined) return byAddress;
    }
  }
  const named = await groupsNamed(db, tenantId, raw);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    const list = named.map((g) => `${g.connection}:${g.anchor}`).join(', ');
    throw new RosterError('bad_input', `${named.length} groups are named ${JSON.stringify(raw)}: name one as <connection>:<anchor> (${list})`, {
      details: { candidates: named.map((g) => ({ id: g.id, connection: g.connection, anchor: g.anchor, dn: g.dn })) },
    });
  }
  throw new RosterError('not_found', `no group ${JSON.stringify(raw)} in this tenant (tried id, <connection>:<anchor>, address and name)`);
}

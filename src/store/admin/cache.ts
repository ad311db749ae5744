/**
 * R60: the directory cache of each connection, as an operator sees it. The cache is what the last
 * APPLIED complete read left in the store (D7): the users anchored to the connection, its groups,
 * memberships, contacts and their addresses. A failed read never touches it (R5); a held read
 * (R41) leaves it as it was until approved. This module reports how old it is and why.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { TenantInfo } from './tenants.ts';

export interface CacheStatus {
  connection: string;
  connectionId: string;
  priority: number;
  enabled: boolean;
  /** When the cache was last replaced by a complete read (lifecycle clock, D5), or null (never). */
  lastCompleteReadAt: string | null;
  /** Seconds from lastCompleteReadAt to `now`, or null. */
  ageSeconds: number | null;
  /** 'fresh': the newest run replaced it; 'stale': newer runs failed; 'held': a newer read awaits approval; 'empty': never read. */
  state: 'fresh' | 'stale' | 'held' | 'empty';
  /** The newest non-preview run that did not replace the cache, when state is stale or held. */
  since: { runId: string; status: string; startedAt: string; error: string | null } | null;
  users: number;
  addresses: number;
  groups: number;
  memberships: number;
  contacts: number;
  contactAddresses: number;
}

type ConnRow = { id: string; name: string; priority: number; enabled: number; last_complete_run_at: string | null };

async function countWhere(db: Kysely<Database>, table: 'users' | 'groups' | 'memberships' | 'contacts', connectionId: string): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).where('connection_id', '=', connectionId).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function statusOf(db: Kysely<Database>, c: ConnRow, now: string): Promise<CacheStatus> {
  const last = c.last_complete_run_at;
  // The newest real run (previews never touch the cache) that started after the cache was last replaced.
  let q = db.selectFrom('runs').select(['id', 'status', 'started_at', 'error']).where('connection_id', '=', c.id).where('dry_run', '=', 0)
    .where('status', 'in', ['failed', 'held', 'rejected']);
  if (last !== null) q = q.where('started_at', '>', last);
  const newer = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const addresses = await db.selectFrom('addresses').innerJoin('users', 'users.id', 'addresses.user_id').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('users.connection_id', '=', c.id).executeTakeFirstOrThrow();
  const groupAddresses = await db.selectFrom('addresses').innerJoin('groups', 'groups.id', 'addresses.group_id').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('groups.connection_id', '=', c.id).executeTakeFirstOrThrow();
  const contactAddresses = await db.selectFrom('contact_addresses').innerJoin('contacts', 'contacts.id', 'contact_addresses.contact_id').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('contacts.connection_id', '=', c.id).executeTakeFirstOrThrow();
  const state: CacheStatus['state'] = last === null ? 'empty' : newer === undefined ? 'fresh' : newer.status === 'held' ? 'held' : 'stale';
  return {
    connection: c.name,
    connectionId: c.id,
    priority: c.priority,
    enabled: c.enabled === 1,
    lastCompleteReadAt: last,
    ageSeconds: last === null ? null : Math.max(0, Math.round((Date.parse(now) - Date.parse(last)) / 1000)),
    state,
    since: newer === undefined ? null : { runId: newer.id, status: newer.status, startedAt: newer.started_at, error: newer.error },
    users: await countWhere(db, 'users', c.id),
    addresses: Number(addresses.n) + Number(groupAddresses.n),
    groups: await countWhere(db, 'groups', c.id),
    memberships: await countWhere(db, 'memberships', c.id),
    contacts: await countWhere(db, 'contacts', c.id),
    contactAddresses: Number(contactAddresses.n),
  };
}

/** The cache of each connection of `tenant` (or of the one named), by priority then name. */
export async function cacheStatus(db: Kysely<Database>, tenant: TenantInfo, now: string, connectionId?: string): Promise<CacheStatus[]> {
  let q = db.selectFrom('connections').select(['id', 'name', 'priority', 'enabled', 'last_complete_run_at']).where('tenant_id', '=', tenant.id);
  if (connectionId !== undefined) q = q.where('id', '=', connectionId);
  const conns = await q.orderBy('priority').orderBy('name').execute();
  const out: CacheStatus[] = [];
  for (const c of conns) out.push(await statusOf(db, c, now));
  return out;
}

/** "3 h 5 min", "2 d 4 h", "45 s": an age an operator reads at a glance. */
export function humanAge(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * Minimal rows for admin tests, written directly with Kysely (providers, tenants, domains,
 * connections, directory users), so admin tests do not depend on the tenants helper's code.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.ts';

export const T0 = '2026-11-22T10:00:00.000Z';
export const CTX = { actor: 'cli:test', now: T0 };

export interface Seeded {
  tenantId: string;
  connections: Record<string, string>;
}

/** A provider (created when missing), a tenant with managed domains, and named connections. */
export async function seedTenant(
  db: Kysely<Database>,
  opts: { tenant: string; provider?: string; domains: string[]; connections?: string[] },
): Promise<Seeded> {
  const providerName = opts.provider ?? 'default';
  let provider = await db.selectFrom('providers').select('id').where('name', '=', providerName).executeTakeFirst();
  if (provider === undefined) {
    provider = { id: crypto.randomUUID() };
    await db.insertInto('providers').values({ id: provider.id, name: providerName, created_at: T0 }).execute();
  }
  const tenantId = crypto.randomUUID();
  await db
    .insertInto('tenants')
    .values({ id: tenantId, provider_id: provider.id, name: opts.tenant, sync_enabled: 1, sync_enabled_at: T0, created_at: T0 })
    .execute();
  for (const d of opts.domains) {
    await db.insertInto('domains').values({ id: crypto.randomUUID(), tenant_id: tenantId, name: d, created_at: T0 }).execute();
  }
  const connections: Record<string, string> = {};
  for (const [i, name] of (opts.connections ?? []).entries()) {
    const id = crypto.randomUUID();
    connections[name] = id;
    await db
      .insertInto('connections')
      .values({
        id,
        tenant_id: tenantId,
        name,
        priority: i,
        enabled: 1,
        profile: 'openldap',
        settings: '{}',
        scope_key: `ldap://127.0.0.1:389/${name}`,
        bind_secret: null,
        schedule: '30m',
        last_complete_run_at: null,
        created_at: T0,
        updated_at: T0,
      })
      .execute();
  }
  return { tenantId, connections };
}

export interface DirUserRow {
  address: string;
  aliases?: string[];
  source?: string;
  state?: string;
  access?: boolean;
  connectionId?: string | null;
  anchor?: string | null;
  displayName?: string | null;
  flagReason?: string | null;
  flaggedAt?: string | null;
  deleteAfter?: string | null;
}

/** Inserts a user row as a sync run would have (source ldap, anchored) unless told otherwise. */
export async function insertUserRow(db: Kysely<Database>, tenantId: string, u: DirUserRow): Promise<string> {
  const id = crypto.randomUUID();
  await db
    .insertInto('users')
    .values({
      id,
      tenant_id: tenantId,
      kind: 'user',
      source: u.source ?? 'ldap',
      state: u.state ?? 'active',
      access_enabled: (u.access ?? (u.state ?? 'active') === 'active') ? 1 : 0,
      given_name: null,
      surname: null,
      display_name: u.displayName ?? null,
      home_phone: null,
      mobile: null,
      company: null,
      department: null,
      notes: null,
      kerberos_name: null,
      ntlm_name: null,
      connection_id: u.connectionId ?? null,
      anchor: u.anchor ?? (u.connectionId ? crypto.randomUUID() : null),
      dn: u.connectionId ? `uid=${u.address.split('@')[0]},ou=people,dc=example,dc=test` : null,
      flag_reason: u.flagReason ?? null,
      flagged_at: u.flaggedAt ?? null,
      delete_after: u.deleteAfter ?? null,
      created_at: T0,
      updated_at: T0,
    })
    .execute();
  await db
    .insertInto('addresses')
    .values([
      { address: u.address, tenant_id: tenantId, role: 'primary', user_id: id, group_id: null },
      ...(u.aliases ?? []).map((a) => ({ address: a, tenant_id: tenantId, role: 'alias', user_id: id, group_id: null })),
    ])
    .execute();
  return id;
}

/** Row counts of a table (numbers on both dialects). */
export async function countRows(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Providers and tenants (BEHAVIOR §1, D1, R18, R24). Every mutation writes an audit row (R25)
 * in the same transaction as the change.
 */
import { writeAudit } from './audit.ts';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TenantTable } from '../schema.ts';
import { RosterError } from '../../core/errors.ts';

/** Who acts and when (D5: `now` is the lifecycle clock). */
export interface AdminCtx {
  actor: string;
  now: string;
}

export interface AuditInput {
  action: string;
  tenantId: string | null;
  objectKind: string | null;
  objectId: string | null;
  before?: unknown;
  after?: unknown;
}

/** Inserts audit rows (R25) in bulk (audit.ts writeAudit). Never pass secrets. */
export async function recordAudit(db: Kysely<Database>, ctx: AdminCtx, rows: AuditInput[]): Promise<void> {
  await writeAudit(db, ctx, rows.map((r) => ({ ...r, before: r.before ?? null, after: r.after ?? null })));
}

export const DEFAULT_PROVIDER = 'default';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Names of providers, tenants and connections: 1–64 of letters, digits, `.`, `_`, `-`. */
export function checkName(kind: string, name: string): string {
  if (!NAME_RE.test(name)) {
    throw new RosterError('bad_input', `invalid ${kind} name "${name}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return name;
}

export interface ProviderInfo {
  id: string;
  name: string;
  createdAt: string;
  tenants: number;
}

export async function addProvider(db: Kysely<Database>, name: string, ctx: AdminCtx): Promise<ProviderInfo> {
  checkName('provider', name);
  return db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('providers').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new RosterError('conflict', `provider "${name}" already exists`);
    const row = { id: randomUUID(), name, created_at: ctx.now };
    await tx.insertInto('providers').values(row).execute();
    await recordAudit(tx, ctx, [{ action: 'provider.add', tenantId: null, objectKind: 'provider', objectId: row.id, after: { name } }]);
    return { id: row.id, name, createdAt: ctx.now, tenants: 0 };
  });
}

export async function listProviders(db: Kysely<Database>): Promise<ProviderInfo[]> {
  const rows = await db
    .selectFrom('providers as p')
    .leftJoin('tenants as t', 't.provider_id', 'p.id')
    .select(['p.id', 'p.name', 'p.created_at'])
    .select((eb) => eb.fn.count<string | number>('t.id').as('tenants'))
    .groupBy(['p.id', 'p.name', 'p.created_at'])
    .orderBy('p.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, tenants: Number(r.tenants) }));
}

async function providerId(db: Kysely<Database>, name: string, create: AdminCtx | null): Promise<string> {
  const row = await db.selectFrom('providers').select('id').where('name', '=', name).executeTakeFirst();
  if (row) return row.id;
  if (create && name === DEFAULT_PROVIDER) {
    // D1: the `default` provider exists as soon as a tenant needs it.
    const id = randomUUID();
    await db.insertInto('providers').values({ id, name, created_at: create.now }).execute();
    await recordAudit(db, create, [{ action: 'provider.add', tenantId: null, objectKind: 'provider', objectId: id, after: { name } }]);
    return id;
  }
  throw new RosterError('not_found', `no provider named "${name}"`);
}

export interface TenantInfo {
  id: string;
  name: string;
  provider: string;
  syncEnabled: boolean;
  syncEnabledAt: string | null;
  createdAt: string;
}

type TenantRowWithProvider = TenantTable & { provider: string };

function toInfo(r: TenantRowWithProvider): TenantInfo {
  return {
    id: r.id,
    name: r.name,
    provider: r.provider,
    syncEnabled: r.sync_enabled === 1,
    syncEnabledAt: r.sync_enabled_at,
    createdAt: r.created_at,
  };
}

function tenantQuery(db: Kysely<Database>) {
  return db.selectFrom('tenants as t').innerJoin('providers as p', 'p.id', 't.provider_id').selectAll('t').select('p.name as provider');
}

/** D1: the provider defaults to `default`, created when missing. Names are unique per provider. */
export async function addTenant(db: Kysely<Database>, input: { name: string; provider?: string }, ctx: AdminCtx): Promise<TenantInfo> {
  checkName('tenant', input.name);
  const providerName = input.provider ?? DEFAULT_PROVIDER;
  return db.transaction().execute(async (tx) => {
    const pid = await providerId(tx, providerName, ctx);
    const dup = await tx.selectFrom('tenants').select('id').where('provider_id', '=', pid).where('name', '=', input.name).executeTakeFirst();
    if (dup) throw new RosterError('conflict', `tenant "${input.name}" already exists in provider "${providerName}"`);
    const row: TenantTable = { id: randomUUID(), provider_id: pid, name: input.name, sync_enabled: 0, sync_enabled_at: null, created_at: ctx.now };
    await tx.insertInto('tenants').values(row).execute();
    await recordAudit(tx, ctx, [{ action: 'tenant.add', tenantId: row.id, objectKind: 'tenant', objectId: row.id, after: { name: row.name, provider: providerName } }]);
    return toInfo({ ...row, provider: providerName });
  });
}

export async function listTenants(db: Kysely<Database>, filter: { provider?: string } = {}): Promise<TenantInfo[]> {
  let q = tenantQuery(db);
  if (filter.provider !== undefined) q = q.where('p.name', '=', filter.provider);
  const rows = await q.orderBy('p.name').orderBy('t.name').execute();
  return rows.map(toInfo);
}

/**
 * Finds a tenant by name. A name used under several providers needs `provider` (bad_input
 * listing them); an unknown name is 'not_found'.
 */
export async function getTenant(db: Kysely<Database>, name: string, provider?: string): Promise<TenantInfo> {
  let q = tenantQuery(db).where('t.name', '=', name);
  if (provider !== undefined) q = q.where('p.name', '=', provider);
  const rows = await q.execute();
  if (rows.length === 0) throw new RosterError('not_found', `no tenant named "${name}"${provider === undefined ? '' : ` in provider "${provider}"`}`);
  if (rows.length > 1) {
    throw new RosterError('bad_input', `tenant name "${name}" exists in providers ${rows.map((r) => r.provider).join(', ')}: give --provider`);
  }
  return toInfo(rows[0]!);
}

export interface TenantDetail extends TenantInfo {
  domains: string[];
  connections: { name: string; enabled: boolean; lastCompleteRunAt: string | null }[];
  users: { total: number; active: number; pendingDeletion: number; deactivated: number };
}

export async function showTenant(db: Kysely<Database>, name: string, provider?: string): Promise<TenantDetail> {
  const t = await getTenant(db, name, provider);
  const domains = await db.selectFrom('domains').select('name').where('tenant_id', '=', t.id).orderBy('name').execute();
  const conns = await db.selectFrom('connections').select(['name', 'enabled', 'last_complete_run_at']).where('tenant_id', '=', t.id).orderBy('name').execute();
  const states = await db
    .selectFrom('users')
    .select('state')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('tenant_id', '=', t.id)
    .groupBy('state')
    .execute();
  const count = (s: string) => Number(states.find((r) => r.state === s)?.n ?? 0);
  return {
    ...t,
    domains: domains.map((d) => d.name),
    connections: conns.map((c) => ({ name: c.name, enabled: c.enabled === 1, lastCompleteRunAt: c.last_complete_run_at })),
    users: {
      total: states.reduce((a, r) => a + Number(r.n), 0),
      active: count('active'),
      pendingDeletion: count('pending_deletion'),
      deactivated: count('deactivated'),
    },
  };
}

/**
 * R24/R18: enabling sets sync_enabled_at = now (only when it was off, so R18's "since sync was
 * enabled" is stable); disabling keeps users and flags as they are.
 */
export async function setTenantSync(db: Kysely<Database>, tenant: TenantInfo, enabled: boolean, ctx: AdminCtx): Promise<TenantInfo> {
  return db.transaction().execute(async (tx) => {
    const cur = await tx.selectFrom('tenants').select(['sync_enabled', 'sync_enabled_at']).where('id', '=', tenant.id).executeTakeFirstOrThrow();
    if ((cur.sync_enabled === 1) === enabled) return { ...tenant, syncEnabled: enabled, syncEnabledAt: cur.sync_enabled_at };
    const at = enabled ? ctx.now : cur.sync_enabled_at;
    await tx.updateTable('tenants').set({ sync_enabled: enabled ? 1 : 0, sync_enabled_at: at }).where('id', '=', tenant.id).execute();
    await recordAudit(tx, ctx, [
      {
        action: enabled ? 'tenant.enable_sync' : 'tenant.disable_sync',
        tenantId: tenant.id,
        objectKind: 'tenant',
        objectId: tenant.id,
        before: { syncEnabled: cur.sync_enabled === 1, syncEnabledAt: cur.sync_enabled_at },
        after: { syncEnabled: enabled, syncEnabledAt: at },
      },
    ]);
    return { ...tenant, syncEnabled: enabled, syncEnabledAt: at };
  });
}

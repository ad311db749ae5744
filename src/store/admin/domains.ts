/**
 * Managed domains (BEHAVIOR §1, R17). A domain is stored in ASCII (punycode) lower-case and is
 * managed by at most one tenant in the whole system.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { RosterError } from '../../core/errors.ts';
import { normalizeDomain, domainToDisplay } from '../../core/address.ts';
import { recordAudit, type AdminCtx, type TenantInfo } from './tenants.ts';

export interface DomainInfo {
  /** ASCII (punycode) form (D11). */
  name: string;
  /** Unicode form for people. */
  display: string;
  createdAt: string;
}

function parseDomain(raw: string): string {
  const d = normalizeDomain(raw);
  if (d === null) throw new RosterError('bad_input', `invalid domain name "${raw}"`);
  return d;
}

/** Adds a managed domain; 'conflict' naming the owning tenant when any tenant already has it. */
export async function addDomain(db: Kysely<Database>, tenant: TenantInfo, raw: string, ctx: AdminCtx): Promise<DomainInfo> {
  const name = parseDomain(raw);
  return db.transaction().execute(async (tx) => {
    const owner = await tx
      .selectFrom('domains as d')
      .innerJoin('tenants as t', 't.id', 'd.tenant_id')
      .select(['t.name as tenant', 't.id as tenantId'])
      .where('d.name', '=', name)
      .executeTakeFirst();
    if (owner) {
      const whose = owner.tenantId === tenant.id ? 'this tenant' : `tenant "${owner.tenant}"`;
      throw new RosterError('conflict', `domain ${name} is already managed by ${whose}`, { details: { domain: name, tenant: owner.tenant } });
    }
    const id = randomUUID();
    await tx.insertInto('domains').values({ id, tenant_id: tenant.id, name, created_at: ctx.now }).execute();
    await recordAudit(tx, ctx, [{ action: 'domain.add', tenantId: tenant.id, objectKind: 'domain', objectId: id, after: { name } }]);
    return { name, display: domainToDisplay(name), createdAt: ctx.now };
  });
}

export async function listDomains(db: Kysely<Database>, tenant: TenantInfo): Promise<DomainInfo[]> {
  const rows = await db.selectFrom('domains').select(['name', 'created_at']).where('tenant_id', '=', tenant.id).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, display: domainToDisplay(r.name), createdAt: r.created_at }));
}

/** What removing a domain does (R17), counted before anything changes. */
export interface DomainRemoval {
  domain: string;
  /** Users whose primary address is in the domain: removed at once with their rules. */
  users: number;
  /** Alias addresses in the domain held by users that stay: removed. */
  aliases: number;
  /** Rules deleted with those users. */
  rules: number;
  /** Archives of those users: kept, unlinked. */
  archivesUnlinked: number;
  /** Additions (R31) in the domain: removed from their lists. */
  additions: number;
}

interface Affected {
  id: string;
  userIds: string[];
  /** userId → primary address, for the audit rows. */
  primaries: Map<string, string>;
  aliasAddresses: string[];
}

/** Addresses are normalized lower-case, so a suffix test is exact; LIKE only narrows the scan. */
async function affected(db: Kysely<Database>, tenant: TenantInfo, name: string): Promise<Affected> {
  const domainRow = await db.selectFrom('domains').select('id').where('tenant_id', '=', tenant.id).where('name', '=', name).executeTakeFirst();
  if (!domainRow) throw new RosterError('not_found', `tenant "${tenant.name}" does not manage domain ${name}`);
  const suffix = `@${name}`;
  const rows = await db
    .selectFrom('addresses')
    .select(['address', 'role', 'user_id'])
    .where('tenant_id', '=', tenant.id)
    .where('role', 'in', ['primary', 'alias'])
    .where('address', 'like', `%${suffix}`)
    .execute();
  const inDomain = rows.filter((r) => r.address.endsWith(suffix) && r.user_id !== null);
  const primaries = inDomain.filter((r) => r.role === 'primary');
  const removed = new Set(primaries.map((r) => r.user_id!));
  return {
    id: domainRow.id,
    userIds: [...removed].sort(),
    primaries: new Map(primaries.map((r) => [r.user_id!, r.address])),
    aliasAddresses: inDomain.filter((r) => r.role === 'alias' && !removed.has(r.user_id!)).map((r) => r.address).sort(),
  };
}

const CHUNK = 500;
function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

async function countIn(db: Kysely<Database>, table: 'rules' | 'archives', ids: string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(ids)) {
    const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).where('user_id', 'in', part).executeTakeFirstOrThrow();
    n += Number(r.n);
  }
  return n;
}

async function additionsIn(db: Kysely<Database>, tenant: TenantInfo, name: string): Promise<string[]> {
  const rows = await db.selectFrom('additions').select(['id', 'address']).where('tenant_id', '=', tenant.id).where('address', 'like', `%@${name}`).execute();
  return rows.filter((r) => r.address.toLowerCase().endsWith(`@${name}`)).map((r) => r.id);
}

/** R17: the counts shown before an admin confirms a domain removal. Changes nothing. */
export async function previewDomainRemoval(db: Kysely<Database>, tenant: TenantInfo, raw: string): Promise<DomainRemoval> {
  const name = parseDomain(raw);
  const a = await affected(db, tenant, name);
  return {
    domain: name,
    users: a.userIds.length,
    aliases: a.aliasAddresses.length,
    rules: await countIn(db, 'rules', a.userIds),
    archivesUnlinked: await countIn(db, 'archives', a.userIds),
    additions: (await additionsIn(db, tenant, name)).length,
  };
}

/**
 * R17: stops managing a domain, in one transaction: users whose primary is in it are deleted
 * with their rules (not flagged, no conflicts, no R41 hold); their archives stay, unlinked;
 * aliases in it are removed from the remaining users; additions in it leave their lists.
 * Audited: one row for the domain and one per removed user and alias.
 */
export async function removeDomain(db: Kysely<Database>, tenant: TenantInfo, raw: string, ctx: AdminCtx): Promise<DomainRemoval> {
  const name = parseDomain(raw);
  return db.transaction().execute(async (tx) => {
    const a = await affected(tx, tenant, name);
    const result: DomainRemoval = {
      domain: name,
      users: a.userIds.length,
      aliases: a.aliasAddresses.length,
      rules: await countIn(tx, 'rules', a.userIds),
      archivesUnlinked: await countIn(tx, 'archives', a.userIds),
      additions: 0,
    };
    const additionIds = await additionsIn(tx, tenant, name);
    result.additions = additionIds.length;
    for (const part of chunks(additionIds)) await tx.deleteFrom('additions').where('id', 'in', part).execute();
    for (const part of chunks(a.aliasAddresses)) {
      await tx.deleteFrom('addresses').where('tenant_id', '=', tenant.id).where('role', '=', 'alias').where('address', 'in', part).execute();
    }
    // Explicit rather than relying on FK actions: archives outlive users (R21), rules do not.
    for (const part of chunks(a.userIds)) {
      await tx.updateTable('archives').set({ user_id: null }).where('user_id', 'in', part).execute();
      await tx.deleteFrom('rules').where('user_id', 'in', part).execute();
      await tx.deleteFrom('addresses').where('user_id', 'in', part).execute();
      await tx.deleteFrom('users').where('id', 'in', part).execute();
    }
    await tx.deleteFrom('domains').where('id', '=', a.id).execute();
    await recordAudit(tx, ctx, [
      { action: 'domain.remove', tenantId: tenant.id, objectKind: 'domain', objectId: a.id, before: { name }, after: result },
      ...a.userIds.map((id) => ({
        action: 'user.remove_with_domain',
        tenantId: tenant.id,
        objectKind: 'user',
        objectId: id,
        before: { primary: a.primaries.get(id) ?? null },
      })),
      ...a.aliasAddresses.map((address) => ({ action: 'alias.remove_with_domain', tenantId: tenant.id, objectKind: 'address', objectId: address, before: { address } })),
    ]);
    return result;
  });
}

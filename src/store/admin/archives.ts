/**
 * D2: archives are plain records `(tenant, address, linked user or none)`. An archive is linked
 * to the user whose PRIMARY address it names when created; it outlives the user (R21: unlinked,
 * kept) and is relinked by primary address when the user comes back (R10, done by the run).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, tenantName, writeAudit } from './audit.ts';
import { inTransaction, parseAddress } from './users.ts';

export interface ArchiveView {
  id: string;
  address: string;
  /** Primary address of the linked user, or null when unlinked. */
  user: string | null;
  createdAt: string;
}

/**
 * Creates an archive for `address` in the tenant, linked to the user whose primary address it
 * is (an alias does not link: archives follow primaries). Its domain must be managed by the
 * tenant; one archive per address and tenant ('conflict').
 */
export async function addArchive(
  db: Kysely<Database>,
  tenantId: string,
  rawAddress: string,
  ctx: AdminContext,
): Promise<ArchiveView> {
  const address = parseAddress(rawAddress);
  return inTransaction(db, async (trx) => {
    const domain = address.slice(address.indexOf('@') + 1);
    const managed = await trx
      .selectFrom('domains')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', domain)
      .executeTakeFirst();
    if (managed === undefined) {
      throw new RosterError('bad_input', `domain ${domain} is not managed by tenant ${await tenantName(trx, tenantId)}`);
    }
    const dup = await trx
      .selectFrom('archives')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('address', '=', address)
      .executeTakeFirst();
    if (dup !== undefined) throw new RosterError('conflict', `an archive for ${address} already exists`);
    const owner = await trx
      .selectFrom('addresses')
      .select('user_id')
      .where('address', '=', address)
      .where('tenant_id', '=', tenantId)
      .where('role', '=', 'primary')
      .executeTakeFirst();
    const archive: ArchiveView = {
      id: crypto.randomUUID(),
      address,
      user: owner?.user_id != null ? address : null,
      createdAt: ctx.now,
    };
    await trx
      .insertInto('archives')
      .values({ id: archive.id, tenant_id: tenantId, address, user_id: owner?.user_id ?? null, created_at: ctx.now })
      .execute();
    await writeAudit(trx, ctx, [
      { action: 'archive.add', tenantId, objectKind: 'archive', objectId: archive.id, before: null, after: archive },
    ]);
    return archive;
  });
}

/** The tenant's archives ordered by address; `linked` filters on having a user. */
export async function listArchives(
  db: Executor,
  tenantId: string,
  filter: { linked?: boolean; limit?: number; offset?: number } = {},
): Promise<ArchiveView[]> {
  let q = db
    .selectFrom('archives')
    .leftJoin('addresses', (j) => j.onRef('addresses.user_id', '=', 'archives.user_id').on('addresses.role', '=', 'primary'))
    .select(['archives.id', 'archives.address', 'archives.created_at', 'addresses.address as user'])
    .where('archives.tenant_id', '=', tenantId);
  if (filter.linked === true) q = q.where('archives.user_id', 'is not', null);
  if (filter.linked === false) q = q.where('archives.user_id', 'is', null);
  const rows = await q
    .orderBy('archives.address')
    .limit(Math.min(Math.max(filter.limit ?? 1000, 1), 100_000))
    .offset(Math.max(filter.offset ?? 0, 0))
    .execute();
  return rows.map((r) => ({ id: r.id, address: r.address, user: r.user ?? null, createdAt: r.created_at }));
}

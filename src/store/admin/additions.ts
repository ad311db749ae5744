/**
 * R31/D4: a connection's additions list. Adding an address creates the user at once (source
 * 'addition', active, access on, anchored to the connection but to no entry yet); the run links
 * it to a directory entry when one has the address. Removing it makes the user an ordinary
 * directory user (source 'ldap') at once; the next run flags it if the directory lacks it.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, assertTenantConnection, writeAudit } from './audit.ts';
import { inTransaction, insertUser, parseAddress } from './users.ts';

export interface AdditionView {
  id: string;
  address: string;
  connectionId: string;
  createdAt: string;
  /** The user the addition created (null if it has been deleted since). */
  user: { id: string; source: string; state: string } | null;
}

/**
 * Adds `address` to the connection's additions and creates its user. The address must be in a
 * managed domain of the tenant ('bad_input') and held by no object ('conflict' naming it).
 */
export async function addAddition(
  db: Kysely<Database>,
  tenantId: string,
  connectionId: string,
  rawAddress: string,
  ctx: AdminContext,
): Promise<AdditionView> {
  const address = parseAddress(rawAddress);
  return inTransaction(db, async (trx) => {
    await assertTenantConnection(trx, tenantId, connectionId);
    // insertUser checks the managed domain, the address space and the additions lists.
    const user = await insertUser(trx, tenantId, { address }, { source: 'addition', connectionId }, ctx);
    const id = crypto.randomUUID();
    await trx
      .insertInto('additions')
      .values({ id, connection_id: connectionId, tenant_id: tenantId, address, created_at: ctx.now })
      .execute();
    const view: AdditionView = {
      id,
      address,
      connectionId,
      createdAt: ctx.now,
      user: { id: user.id, source: user.source, state: user.state },
    };
    await writeAudit(trx, ctx, [{ action: 'addition.add', tenantId, objectKind: 'addition', objectId: id, before: null, after: view }]);
    return view;
  });
}

/** The connection's additions by address, each with the state of its user. */
export async function listAdditions(db: Executor, tenantId: string, connectionId: string): Promise<AdditionView[]> {
  await assertTenantConnection(db, tenantId, connectionId);
  const rows = await db
    .selectFrom('additions')
    .leftJoin('addresses', (j) => j.onRef('addresses.address', '=', 'additions.address').on('addresses.role', '=', 'primary'))
    .leftJoin('users', 'users.id', 'addresses.user_id')
    .select([
      'additions.id as id',
      'additions.address as address',
      'additions.connection_id as connection_id',
      'additions.created_at as created_at',
      'users.id as user_id',
      'users.source as source',
      'users.state as state',
    ])
    .where('additions.connection_id', '=', connectionId)
    .orderBy('additions.address')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    address: r.address,
    connectionId: r.connection_id,
    createdAt: r.created_at,
    user: r.user_id === null ? null : { id: r.user_id, source: r.source ?? '', state: r.state ?? '' },
  }));
}

/**
 * Removes `address` from the connection's additions; its user, if still of source 'addition',
 * becomes 'ldap' at once (D4). Returns the removed addition with the user's new source.
 */
export async function removeAddition(
  db: Kysely<Database>,
  tenantId: string,
  connectionId: string,
  rawAddress: string,
  ctx: AdminContext,
): Promise<AdditionView> {
  const address = parseAddress(rawAddress);
  return inTransaction(db, async (trx) => {
    await assertTenantConnection(trx, tenantId, connectionId);
    const row = await trx
      .selectFrom('additions')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where('address', '=', address)
      .executeTakeFirst();
    if (row === undefined) throw new RosterError('not_found', `${address} is not on this connection's additions list`);
    await trx.deleteFrom('additions').where('id', '=', row.id).execute();
    const owner = await trx
      .selectFrom('addresses')
      .innerJoin('users', 'users.id', 'addresses.user_id')
      .select(['users.id as id', 'users.source as source', 'users.state as state'])
      .where('addresses.address', '=', address)
      .where('addresses.role', '=', 'primary')
      .where('users.tenant_id', '=', tenantId)
      .executeTakeFirst();
    let user: AdditionView['user'] = owner === undefined ? null : { ...owner };
    if (owner !== undefined && owner.source === 'addition') {
      await trx.updateTable('users').set({ source: 'ldap', updated_at: ctx.now }).where('id', '=', owner.id).execute();
      await writeAudit(trx, ctx, [
        { action: 'user.source', tenantId, objectKind: 'user', objectId: owner.id, before: { source: 'addition' }, after: { source: 'ldap' } },
      ]);
      user = { ...owner, source: 'ldap' };
    }
    const view: AdditionView = { id: row.id, address, connectionId, createdAt: row.created_at, user };
    await writeAudit(trx, ctx, [{ action: 'addition.remove', tenantId, objectKind: 'addition', objectId: row.id, before: view, after: null }]);
    return view;
  });
}

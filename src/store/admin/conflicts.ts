/**
 * Conflicts (R15, R22): users in state pending_deletion, with the flag reason, when they were
 * flagged and when they will be purged. The admin can delete one now, ignore it (it becomes
 * manual and is never flagged again), deactivate it, or export the list as CSV. Each action is
 * audited (R25) in the transaction that makes it.
 */
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, writeAudit } from './audit.ts';
import { deleteUsersById, loadUserViews, type UserView } from './user-views.ts';
import { inTransaction, requireUser } from './users.ts';

export interface ConflictView {
  id: string;
  address: string;
  displayName: string | null;
  source: string;
  reason: string | null;
  flaggedAt: string | null;
  deleteAfter: string | null;
  /** Name of the connection that flagged it (the user's anchoring connection). */
  connection: string | null;
}

export interface ConflictFilter {
  connectionId?: string;
  limit?: number;
  offset?: number;
}

/**
 * Conflicts of the tenant, driven by the address index: addresses CROSS JOIN users makes SQLite
 * walk lower(address) in order (a page costs its own rows, not a sort of every conflict);
 * PostgreSQL plans the join itself.
 */
function baseQuery(db: Executor, tenantId: string, connectionId: string | undefined) {
  let q = db
    .selectFrom('addresses as p')
    .crossJoin('users')
    .leftJoin('connections as c', 'c.id', 'users.connection_id')
    .whereRef('p.user_id', '=', 'users.id')
    .where('p.role', '=', 'primary')
    .where('users.tenant_id', '=', tenantId)
    .where('users.state', '=', 'pending_deletion');
  if (connectionId !== undefined) q = q.where('users.connection_id', '=', connectionId);
  return q;
}

/** The order of the address index (stored addresses are lower case already). */
const BY_ADDRESS = sql`lower(p.address)`;

type Row = { id: string; address: string; display_name: string | null; source: string; flag_reason: string | null; flagged_at: string | null; delete_after: string | null; connection: string | null };

function selectRow<QB extends SelectQueryBuilder<any, any, any>>(q: QB) {
  return q.select([
    'users.id as id',
    'p.address as address',
    'users.display_name as display_name',
    'users.source as source',
    'users.flag_reason as flag_reason',
    'users.flagged_at as flagged_at',
    'users.delete_after as delete_after',
    'c.name as connection',
  ]);
}

function toView(r: Row): ConflictView {
  return {
    id: r.id,
    address: r.address,
    displayName: r.display_name,
    source: r.source,
    reason: r.flag_reason,
    flaggedAt: r.flagged_at,
    deleteAfter: r.delete_after,
    connection: r.connection,
  };
}

/** The tenant's conflicts ordered by primary address, optionally of one connection. */
export async function listConflicts(
  db: Executor,
  tenantId: string,
  filter: ConflictFilter = {},
): Promise<{ total: number; conflicts: ConflictView[] }> {
  const q = baseQuery(db, tenantId, filter.connectionId);
  const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = (await selectRow(q)
    .orderBy(BY_ADDRESS)
    .limit(Math.min(Math.max(filter.limit ?? 1000, 1), 100_000))
    .offset(Math.max(filter.offset ?? 0, 0))
    .execute()) as Row[];
  return { total: Number(total?.n ?? 0), conflicts: rows.map(toView) };
}

async function requireConflict(trx: Executor, tenantId: string, address: string): Promise<UserView> {
  const user = await requireUser(trx, tenantId, address);
  if (user.state !== 'pending_deletion') {
    throw new RosterError('conflict', `user ${user.address} is not a conflict (state ${user.state})`);
  }
  return user;
}

/** R22 Delete: purges the flagged user now (rules deleted, archives kept unlinked). */
export async function deleteConflict(db: Kysely<Database>, tenantId: string, address: string, ctx: AdminContext): Promise<UserView> {
  return inTransaction(db, async (trx) => {
    const before = await requireConflict(trx, tenantId, address);
    await deleteUsersById(trx, [before.id]);
    await writeAudit(trx, ctx, [{ action: 'conflict.delete', tenantId, objectKind: 'user', objectId: before.id, before, after: null }]);
    return before;
  });
}

async function resolveConflict(
  db: Kysely<Database>,
  tenantId: string,
  address: string,
  ctx: AdminContext,
  action: 'conflict.ignore' | 'conflict.deactivate',
): Promise<UserView> {
  return inTransaction(db, async (trx) => {
    const before = await requireConflict(trx, tenantId, address);
    // Source 'manual' keeps the directory from flagging it again (R14), in both actions.
    const set =
      action === 'conflict.ignore'
        ? { source: 'manual', state: 'active', access_enabled: 1 }
        : { source: 'manual', state: 'deactivated', access_enabled: 0 };
    await trx
      .updateTable('users')
      .set({ ...set, flag_reason: null, flagged_at: null, delete_after: null, updated_at: ctx.now })
      .where('id', '=', before.id)
      .execute();
    const [after] = await loadUserViews(trx, [before.id]);
    await writeAudit(trx, ctx, [{ action, tenantId, objectKind: 'user', objectId: before.id, before, after: after ?? null }]);
    if (after === undefined) throw new RosterError('internal', 'user vanished while being updated');
    return after;
  });
}

/** R22 Ignore: keeps the user as 'manual', active, access on, never flagged again by the directory. */
export function ignoreConflict(db: Kysely<Database>, tenantId: string, address: string, ctx: AdminContext): Promise<UserView> {
  return resolveConflict(db, tenantId, address, ctx, 'conflict.ignore');
}

/** R22 Deactivate: keeps the user as 'manual', state 'deactivated', access off, no deletion date. */
export function deactivateConflict(db: Kysely<Database>, tenantId: string, address: string, ctx: AdminContext): Promise<UserView> {
  return resolveConflict(db, tenantId, address, ctx, 'conflict.deactivate');
}

export const CSV_HEADER = ['address', 'display name', 'reason', 'flagged at', 'delete after', 'connection'] as const;

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string | null): string {
  const v = value ?? '';
  return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
}

export function csvLine(fields: readonly (string | null)[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

/**
 * R22 Export: the conflicts list as RFC 4180 CSV (CRLF line ends, header first), streamed in
 * pages by primary address (keyset paging) so memory does not grow with the list.
 */
export async function* exportConflictsCsv(
  db: Executor,
  tenantId: string,
  filter: { connectionId?: string } = {},
  pageSize = 1000,
): AsyncGenerator<string> {
  yield csvLine(CSV_HEADER);
  let after: string | null = null;
  for (;;) {
    let q = baseQuery(db, tenantId, filter.connectionId);
    if (after !== null) q = q.where(sql<boolean>`lower(p.address) > ${after}`);
    const rows = (await selectRow(q).orderBy(BY_ADDRESS).limit(pageSize).execute()) as Row[];
    for (const r of rows) {
      yield csvLine([r.address, r.display_name, r.flag_reason, r.flagged_at, r.delete_after, r.connection]);
    }
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < pageSize) return;
    after = last.address;
  }
}

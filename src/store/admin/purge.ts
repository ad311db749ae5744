/**
 * The store side of the purge (R21, R24): finding users whose deletion delay has passed and
 * deleting them in bulk with their rules, archives kept and unlinked, one audit row per user
 * (R25) in the same transaction. Sync being enabled or not plays no part (R24).
 */
import type { Kysely } from 'kysely';
import type { UserState } from '../../core/model.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, writeAudit } from './audit.ts';
import { deleteUsersById, loadUserViews } from './user-views.ts';

export interface PurgeCandidate {
  id: string;
  tenantId: string;
  state: UserState;
  deleteAfter: string | null;
}

/**
 * Up to `limit` users in state pending_deletion whose delete_after is at or before `now`
 * (ISO strings in UTC compare in time order), optionally of one tenant; ordered by id so that
 * successive batches make progress.
 */
export async function loadPurgeCandidates(
  ex: Executor,
  now: string,
  opts: { tenantId?: string; limit?: number; afterId?: string } = {},
): Promise<PurgeCandidate[]> {
  let q = ex
    .selectFrom('users')
    .select(['id', 'tenant_id', 'state', 'delete_after'])
    .where('state', '=', 'pending_deletion')
    .where('delete_after', 'is not', null)
    .where('delete_after', '<=', now);
  if (opts.tenantId !== undefined) q = q.where('tenant_id', '=', opts.tenantId);
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
  const rows = await q.orderBy('id').limit(opts.limit ?? 1000).execute();
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, state: r.state as UserState, deleteAfter: r.delete_after }));
}

/**
 * Deletes the given users in one transaction, re-checking inside it that each is still pending
 * deletion and expired (a run may have restored one meanwhile, R16). Returns the primary
 * addresses of the users actually deleted, sorted.
 */
export async function purgeUsers(
  db: Kysely<Database>,
  ids: readonly string[],
  ctx: AdminContext,
): Promise<string[]> {
  if (ids.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const t = Date.parse(ctx.now);
    const views = (await loadUserViews(trx, ids)).filter(
      (u) => u.state === 'pending_deletion' && u.deleteAfter !== null && Date.parse(u.deleteAfter) <= t,
    );
    if (views.length === 0) return [];
    const tenants = await trx
      .selectFrom('users')
      .select(['id', 'tenant_id'])
      .where('id', 'in', views.map((v) => v.id))
      .execute();
    const tenantOf = new Map(tenants.map((t) => [t.id, t.tenant_id]));
    await deleteUsersById(trx, views.map((v) => v.id));
    await writeAudit(
      trx,
      ctx,
      views.map((v) => ({
        action: 'user.purge',
        tenantId: tenantOf.get(v.id) ?? null,
        objectKind: 'user',
        objectId: v.id,
        before: v,
        after: null,
      })),
    );
    return views.map((v) => v.address).sort();
  });
}

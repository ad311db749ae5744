/**
 * Audit trail (R25): every admin action and every applied run leaves rows saying who, when, which
 * object, before and after. Admin actions write their audit rows with the SAME executor (the
 * transaction) as the change, so a change without its audit row cannot be committed.
 *
 * Also home of the small plumbing the admin modules share: the action context, the executor
 * type and the recognition of UNIQUE violations on both dialects.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import { RosterError } from '../../core/errors.ts';

/** Who acts and when (D1: `cli:<os user>`; D5: `now` is the lifecycle clock, an ISO string). */
export interface AdminContext {
  actor: string;
  now: string;
}

/** A database handle or an open transaction: admin helpers run inside either. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface AuditEntry {
  action: string;
  tenantId: string | null;
  objectKind: string | null;
  objectId: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  tenantId: string | null;
  objectKind: string | null;
  objectId: string | null;
  before: unknown;
  after: unknown;
}

/** Rows per INSERT: 8 columns each, far below both dialects' bind limits. */
const AUDIT_BATCH = 500;

/**
 * Writes audit rows in bulk (multi-row INSERTs). Call it with the transaction that makes the
 * change. `before`/`after` are stored as JSON (null stays SQL NULL); never put secrets in them.
 */
export async function writeAudit(ex: Executor, ctx: AdminContext, entries: readonly AuditEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += AUDIT_BATCH) {
    const rows = entries.slice(i, i + AUDIT_BATCH).map((e) => ({
      at: ctx.now,
      actor: ctx.actor,
      action: e.action,
      tenant_id: e.tenantId,
      object_kind: e.objectKind,
      object_id: e.objectId,
      before: e.before === null || e.before === undefined ? null : JSON.stringify(e.before),
      after: e.after === null || e.after === undefined ? null : JSON.stringify(e.after),
    }));
    await ex.insertInto('audit').values(rows).execute();
  }
}

/** Audit rows, newest first (by id: insertion order, which the clock override cannot reorder). */
export async function listAudit(
  db: Executor,
  filter: { tenantId?: string; objectId?: string; action?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  let q = db.selectFrom('audit').selectAll();
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  if (filter.objectId !== undefined) q = q.where('object_id', '=', filter.objectId);
  if (filter.action !== undefined) q = q.where('action', '=', filter.action);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit ?? 100).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    tenantId: r.tenant_id,
    objectKind: r.object_kind,
    objectId: r.object_id,
    before: r.before === null ? null : (JSON.parse(r.before) as unknown),
    after: r.after === null ? null : (JSON.parse(r.after) as unknown),
  }));
}

/** The tenant's name for messages; the id itself when the tenant is gone. */
export async function tenantName(db: Executor, tenantId: string): Promise<string> {
  const row = await db.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirst();
  return row?.name ?? tenantId;
}

/** True when the error is a UNIQUE violation on either dialect (a race lost after our own check). */
export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; errcode?: unknown; message?: unknown };
  if (err.code === '23505') return true; // PostgreSQL unique_violation
  const msg = typeof err.message === 'string' ? err.message : '';
  return /UNIQUE constraint failed/i.test(msg);
}

/** Checks that the connection is the tenant's: a connection id from elsewhere never leaks (R44). */
export async function assertTenantConnection(ex: Executor, tenantId: string, connectionId: string): Promise<void> {
  const c = await ex
    .selectFrom('connections')
    .select('id')
    .where('id', '=', connectionId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (c === undefined) throw new RosterError('not_found', 'no such connection in this tenant');
}

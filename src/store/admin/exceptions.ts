/**
 * R30/D8: per-connection exceptions. A user or group is excepted by its immutable anchor (with
 * its last DN, for display only); an alias by its address. The run reads them into
 * RunSettings.exceptions; here they are only stored, listed and removed, each change audited.
 */
import type { Kysely } from 'kysely';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, assertTenantConnection, writeAudit } from './audit.ts';
import { inTransaction, parseAddress } from './users.ts';

export type ExceptionKind = 'user' | 'group' | 'alias';

export type NewException =
  | { kind: 'user' | 'group'; anchor: string; dn?: string | null }
  | { kind: 'alias'; address: string };

export interface ExceptionView {
  id: string;
  connectionId: string;
  kind: ExceptionKind;
  /** Lower case (D11). */
  anchor: string | null;
  dn: string | null;
  address: string | null;
  createdAt: string;
}

/** Anchors are GUID/UUID-like ids; anything long or with control characters is refused (R44). */
function parseAnchor(raw: string): string {
  const a = raw.trim().toLowerCase();
  if (a === '' || a.length > 256 || /[\u0000-\u001f\u007f\s]/.test(a)) {
    throw new RosterError('bad_input', `not a valid anchor: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  return a;
}

function toView(r: Database['exceptions']): ExceptionView {
  return {
    id: r.id,
    connectionId: r.connection_id,
    kind: r.kind as ExceptionKind,
    anchor: r.anchor,
    dn: r.dn,
    address: r.address,
    createdAt: r.created_at,
  };
}

/** Adds an exception; the same anchor (or alias address) twice on one connection is a 'conflict'. */
export async function addException(
  db: Kysely<Database>,
  tenantId: string,
  connectionId: string,
  input: NewException,
  ctx: AdminContext,
): Promise<ExceptionView> {
  const kind = input.kind as string;
  if (kind !== 'user' && kind !== 'group' && kind !== 'alias') {
    throw new RosterError('bad_input', `an exception is a user, a group or an alias, not ${JSON.stringify(kind)}`);
  }
  const anchor = input.kind === 'alias' ? null : parseAnchor(input.anchor);
  const address = input.kind === 'alias' ? parseAddress(input.address) : null;
  const dn = input.kind === 'alias' ? null : (input.dn ?? null)?.trim() || null;
  if (dn !== null && dn.length > 4096) throw new RosterError('bad_input', 'the DN is too long');
  return inTransaction(db, async (trx) => {
    await assertTenantConnection(trx, tenantId, connectionId);
    let dup = trx.selectFrom('exceptions').select('id').where('connection_id', '=', connectionId);
    dup = anchor !== null ? dup.where('anchor', '=', anchor).where('kind', '=', input.kind) : dup.where('address', '=', address);
    if ((await dup.executeTakeFirst()) !== undefined) {
      throw new RosterError('conflict', `this connection already excepts ${input.kind} ${anchor ?? address}`);
    }
    const row: Database['exceptions'] = {
      id: crypto.randomUUID(),
      connection_id: connectionId,
      kind: input.kind,
      anchor,
      dn,
      address,
      created_at: ctx.now,
    };
    await trx.insertInto('exceptions').values(row).execute();
    const view = toView(row);
    await writeAudit(trx, ctx, [
      { action: 'exception.add', tenantId, objectKind: 'exception', objectId: row.id, before: null, after: view },
    ]);
    return view;
  });
}

/** The connection's exceptions: users, then groups, then aliases; by anchor or address. */
export async function listExceptions(db: Executor, tenantId: string, connectionId: string): Promise<ExceptionView[]> {
  await assertTenantConnection(db, tenantId, connectionId);
  const rows = await db
    .selectFrom('exceptions')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .orderBy('kind')
    .orderBy('anchor')
    .orderBy('address')
    .execute();
  const order: Record<string, number> = { user: 0, group: 1, alias: 2 };
  return rows.map(toView).sort((a, b) => (order[a.kind] ?? 3) - (order[b.kind] ?? 3));
}

/**
 * Removes one exception named by its id, its anchor or its alias address; 'not_found' otherwise.
 * The next run syncs the object again (or attaches the alias again).
 */
export async function removeException(
  db: Kysely<Database>,
  tenantId: string,
  connectionId: string,
  key: string,
  ctx: AdminContext,
): Promise<ExceptionView> {
  const k = key.trim().toLowerCase();
  return inTransaction(db, async (trx) => {
    await assertTenantConnection(trx, tenantId, connectionId);
    const row = await trx
      .selectFrom('exceptions')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where((eb) => eb.or([eb('id', '=', key.trim()), eb('anchor', '=', k), eb('address', '=', k)]))
      .executeTakeFirst();
    if (row === undefined) throw new RosterError('not_found', `no exception ${key} on this connection`);
    await trx.deleteFrom('exceptions').where('id', '=', row.id).execute();
    const view = toView(row);
    await writeAudit(trx, ctx, [
      { action: 'exception.remove', tenantId, objectKind: 'exception', objectId: row.id, before: view, after: null },
    ]);
    return view;
  });
}

/**
 * applyPlan's user writers: alias removals and additions, updates (with primary changes,
 * R13a), flags (R15), restores (R16) and adds (R10 with archive relink). Every one writes
 * multi-row statements per batch and queues per-object audit rows (R25).
 */
import type { PlanOp, UserFields } from '../core/model.ts';
import type { ApplyRun } from './apply-run.ts';
import { bulkInsert, chunk, chunkRows, TUPLE_ROWS, updateFromValues, type BulkColumns } from './batch.ts';
import { newId } from './ids.ts';
import { replaceSearchTerms } from './search-terms.ts';

const T = 'text' as const;
const USER_COLUMNS: BulkColumns = [
  ['id', T], ['tenant_id', T], ['kind', T], ['source', T], ['state', T], ['access_enabled', 'integer'], ['given_name', T], ['surname', T],
  ['display_name', T], ['home_phone', T], ['mobile', T], ['company', T], ['department', T], ['notes', T], ['kerberos_name', T],
  ['ntlm_name', T], ['connection_id', T], ['anchor', T], ['dn', T], ['created_at', T], ['updated_at', T],
];
const ADDRESS_COLUMNS: BulkColumns = [['address', T], ['tenant_id', T], ['role', T], ['user_id', T], ['group_id', T]];

type Op<K extends PlanOp['op']> = Extract<PlanOp, { op: K }>;

/** remove_alias: deletes exactly the (address, user) alias rows named. */
export async function applyAliasRemovals(run: ApplyRun, ops: Op<'remove_alias'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    for (const part of chunkRows(batch, TUPLE_ROWS)) {
      await run.trx
        .deleteFrom('addresses')
        .where('role', '=', 'alias')
        .where(({ eb, refTuple, tuple }) => eb(refTuple('address', 'user_id'), 'in', part.map((o) => tuple(o.address, o.userId))))
        .execute();
    }
    for (const o of batch) run.audit('user.alias_remove', 'user', o.userId, { alias: o.address }, null);
  });
}

/** add_alias: inserts alias rows; the addresses key refuses a taken address (R13). */
export async function applyAliasAdds(run: ApplyRun, ops: Op<'add_alias'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    await bulkInsert(run.trx, 'addresses', ADDRESS_COLUMNS, batch.map((o) => addressRow(run, o.address, 'alias', o.userId)));
    for (const o of batch) run.audit('user.alias_add', 'user', o.userId, null, { alias: o.address });
  });
}

function addressRow(run: ApplyRun, address: string, role: 'primary' | 'alias', userId: string): (string | null)[] {
  return [address, run.ctx.tenantId, role, userId, null];
}

/** The user columns a `set` (Partial<UserFields>) writes, in a fixed order; `primary` is not a column. */
function userColumns(set: Partial<UserFields>): [string, string | null][] {
  const cols: [string, string | null][] = [];
  if (set.kind !== undefined) cols.push(['kind', set.kind]);
  if (set.details !== undefined) {
    const d = set.details;
    cols.push(['given_name', d.givenName], ['surname', d.surname], ['display_name', d.displayName], ['home_phone', d.homePhone],
      ['mobile', d.mobile], ['company', d.company], ['department', d.department], ['notes', d.notes]);
  }
  if (set.kerberosName !== undefined) cols.push(['kerberos_name', set.kerberosName]);
  if (set.ntlmName !== undefined) cols.push(['ntlm_name', set.ntlmName]);
  if (set.connectionId !== undefined) cols.push(['connection_id', set.connectionId]);
  if (set.anchor !== undefined) cols.push(['anchor', set.anchor]);
  if (set.dn !== undefined) cols.push(['dn', set.dn]);
  return cols;
}

/**
 * update_user: changed columns, grouped by the set of columns so each group is one
 * UPDATE … FROM (VALUES …) per chunk; updated_at = now. Primary changes (R13a) delete every
 * old primary row first and insert the new ones after, so two users may swap primaries; an
 * alias row of the same user equal to its new primary is promoted (deleted, then inserted
 * as primary). Rules and archives stay attached: they reference the user, not the address.
 */
export async function applyUserUpdates(run: ApplyRun, ops: Op<'update_user'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    const groups = new Map<string, { columns: string[]; rows: (string | null)[][] }>();
    for (const o of batch) {
      const cols = userColumns(o.set);
      const key = cols.map((c) => c[0]).join(',');
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { columns: cols.map((c) => c[0]), rows: [] }));
      g.rows.push([o.userId, ...cols.map((c) => c[1])]);
    }
    for (const g of groups.values()) {
      await updateFromValues(run.trx, 'users', 'id', g.columns, g.rows, { updated_at: run.ctx.now });
    }
    // R61: a user's search terms follow its names (only when one of them changed).
    const renamed = batch.flatMap((o) => {
      const d = o.set.details;
      return d !== undefined && o.changes.some((c) => NAME_FIELDS.has(c.field)) ? [{ id: o.userId, names: [d.displayName, d.givenName, d.surname] }] : [];
    });
    await replaceSearchTerms(run.trx, run.ctx.tenantId, 'user', renamed);
    for (const o of batch) {
      const before = Object.fromEntries(o.changes.map((c) => [c.field, c.before]));
      const after = Object.fromEntries(o.changes.map((c) => [c.field, c.after]));
      run.audit('user.update', 'user', o.userId, before, after);
    }
  });
  const moves = ops.flatMap((o) => (o.set.primary === undefined ? [] : [{ userId: o.userId, primary: o.set.primary }]));
  for (const part of chunk(moves, 1)) {
    await run.trx.deleteFrom('addresses').where('role', '=', 'primary').where('user_id', 'in', part.map((m) => m.userId)).execute();
  }
  for (const part of chunkRows(moves, TUPLE_ROWS)) {
    await run.trx
      .deleteFrom('addresses')
      .where('role', '=', 'alias')
      .where(({ eb, refTuple, tuple }) => eb(refTuple('address', 'user_id'), 'in', part.map((m) => tuple(m.primary, m.userId))))
      .execute();
  }
  await bulkInsert(run.trx, 'addresses', ADDRESS_COLUMNS, moves.map((m) => addressRow(run, m.primary, 'primary', m.userId)));
}

/** The detail fields whose words autocomplete matches (R61). */
const NAME_FIELDS: ReadonlySet<string> = new Set(['displayName', 'givenName', 'surname']);

const FLAG_COLUMNS = ['id', 'state', 'access_enabled', 'flag_reason', 'flagged_at', 'delete_after'] as const;

async function lifecycleBefore(run: ApplyRun, ids: string[]) {
  const rows = [];
  for (const part of chunk(ids, 1)) rows.push(...(await run.trx.selectFrom('users').select(FLAG_COLUMNS).where('id', 'in', part).execute()));
  return new Map(rows.map((r) => [r.id, {
    state: r.state, accessEnabled: r.access_enabled === 1, flagReason: r.flag_reason, flaggedAt: r.flagged_at, deleteAfter: r.delete_after,
  }]));
}

/** flag_user (R15): pending_deletion, access disabled at once, reason, flagged_at, delete_after. */
export async function applyFlags(run: ApplyRun, ops: Op<'flag_user'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    const before = await lifecycleBefore(run, batch.map((o) => o.userId));
    const groups = new Map<string, Op<'flag_user'>[]>();
    for (const o of batch) {
      const key = JSON.stringify([o.reason, o.flaggedAt, o.deleteAfter]);
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    for (const g of groups.values()) {
      const first = g[0]!;
      for (const part of chunk(g, 1)) {
        await run.trx
          .updateTable('users')
          .set({ state: 'pending_deletion', access_enabled: 0, flag_reason: first.reason, flagged_at: first.flaggedAt, delete_after: first.deleteAfter, updated_at: run.ctx.now })
          .where('id', 'in', part.map((o) => o.userId))
          .execute();
      }
    }
    for (const o of batch) {
      const after = { state: 'pending_deletion', accessEnabled: false, flagReason: o.reason, flaggedAt: o.flaggedAt, deleteAfter: o.deleteAfter };
      run.audit('user.flag', 'user', o.userId, before.get(o.userId) ?? null, after);
    }
  });
}

/** restore_user (R16): active, access enabled, flag fields cleared. */
export async function applyRestores(run: ApplyRun, ops: Op<'restore_user'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    const ids = batch.map((o) => o.userId);
    const before = await lifecycleBefore(run, ids);
    for (const part of chunk(ids, 1)) {
      await run.trx
        .updateTable('users')
        .set({ state: 'active', access_enabled: 1, flag_reason: null, flagged_at: null, delete_after: null, updated_at: run.ctx.now })
        .where('id', 'in', part)
        .execute();
    }
    const after = { state: 'active', accessEnabled: true, flagReason: null, flaggedAt: null, deleteAfter: null };
    for (const id of ids) run.audit('user.restore', 'user', id, before.get(id) ?? null, after);
  });
}

/** add_user (R10): source ldap, active, access enabled; primary and alias rows; archive relinked. */
export async function applyAdds(run: ApplyRun, ops: Op<'add_user'>[]): Promise<void> {
  const { now, tenantId } = run.ctx;
  await run.inBatches(ops, async (batch) => {
    const ids = batch.map(() => newId());
    // Flag columns are left out: they default to NULL for a new user.
    const users = batch.map((o, i) => {
      const f = o.fields;
      const d = f.details;
      return [ids[i]!, tenantId, f.kind, 'ldap', 'active', 1, d.givenName, d.surname, d.displayName, d.homePhone, d.mobile,
        d.company, d.department, d.notes, f.kerberosName, f.ntlmName, f.connectionId, f.anchor ?? o.anchor, f.dn, now, now];
    });
    await bulkInsert(run.trx, 'users', USER_COLUMNS, users);
    const named = batch.map((o, i) => ({ id: ids[i]!, names: [o.fields.details.displayName, o.fields.details.givenName, o.fields.details.surname] }));
    await replaceSearchTerms(run.trx, tenantId, 'user', named, { fresh: true });
    const addresses = batch.flatMap((o, i) => [
      addressRow(run, o.fields.primary, 'primary', ids[i]!),
      ...o.aliases.map((a) => addressRow(run, a, 'alias', ids[i]!)),
    ]);
    await bulkInsert(run.trx, 'addresses', ADDRESS_COLUMNS, addresses);
    const relinks = batch.flatMap((o, i) => (o.archiveId === null ? [] : [[o.archiveId, ids[i]!]]));
    if (relinks.length > 0) await updateFromValues(run.trx, 'archives', 'id', ['user_id'], relinks);
    batch.forEach((o, i) => {
      run.audit('user.add', 'user', ids[i]!, null, {
        anchor: o.anchor, dn: o.fields.dn, kind: o.fields.kind, primary: o.fields.primary, aliases: o.aliases, archiveId: o.archiveId,
      });
    });
  });
}

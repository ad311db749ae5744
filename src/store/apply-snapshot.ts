/**
 * applyPlan's writers for the per-connection directory snapshot (D7, R60): groups with their
 * own address, memberships by anchor, contacts with their addresses. They are a cache of the
 * directory, so they get no per-object audit rows; the run.apply row counts them.
 */
import type { PlanOp } from '../core/model.ts';
import type { ApplyRun } from './apply-run.ts';
import { bulkInsert, chunk, chunkRows, TUPLE_ROWS, updateFromValues, type BulkColumns } from './batch.ts';
import { newId } from './ids.ts';
import { replaceSearchTerms } from './search-terms.ts';

const T = 'text' as const;
const OBJECT_COLUMNS: BulkColumns = [
  ['id', T], ['tenant_id', T], ['connection_id', T], ['anchor', T], ['dn', T], ['name', T], ['created_at', T], ['updated_at', T],
];
const ADDRESS_COLUMNS: BulkColumns = [['address', T], ['tenant_id', T], ['role', T], ['user_id', T], ['group_id', T]];
const MEMBER_COLUMNS: BulkColumns = [['connection_id', T], ['group_anchor', T], ['member_anchor', T]];
const CONTACT_ADDRESS_COLUMNS: BulkColumns = [['contact_id', T], ['address', T]];

type Op<K extends PlanOp['op']> = Extract<PlanOp, { op: K }>;

/** remove_group: the group row (its address row cascades) and the memberships it lists. */
export async function applyGroupRemovals(run: ApplyRun, ops: Op<'remove_group'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    for (const part of chunk(batch, 1)) {
      await run.trx.deleteFrom('groups').where('id', 'in', part.map((o) => o.groupId)).execute();
      await run.trx
        .deleteFrom('memberships')
        .where('connection_id', '=', run.plan.connectionId)
        .where('group_anchor', 'in', part.map((o) => o.anchor))
        .execute();
    }
  });
}

/** remove_contact: the contact row (its addresses cascade). */
export async function applyContactRemovals(run: ApplyRun, ops: Op<'remove_contact'>[]): Promise<void> {
  await run.inBatches(ops, async (batch) => {
    for (const part of chunk(batch, 1)) await run.trx.deleteFrom('contacts').where('id', 'in', part.map((o) => o.contactId)).execute();
  });
}

/**
 * upsert_group: inserts new groups (groupId null), updates dn/name of known ones, and replaces
 * their address row. Old address rows of every upserted group are deleted before any insert,
 * so two groups may exchange addresses within one plan.
 */
export async function applyGroups(run: ApplyRun, ops: Op<'upsert_group'>[]): Promise<void> {
  const { now, tenantId } = run.ctx;
  const known = ops.flatMap((o) => (o.groupId === null ? [] : [o.groupId]));
  for (const part of chunk(known, 1)) {
    await run.trx.deleteFrom('addresses').where('role', '=', 'group').where('group_id', 'in', part).execute();
  }
  await run.inBatches(ops, async (batch) => {
    const ids = batch.map((o) => o.groupId ?? newId());
    const fresh: string[][] = [];
    const changed: string[][] = [];
    batch.forEach((o, i) => {
      if (o.groupId === null) {
        fresh.push([ids[i]!, tenantId, run.plan.connectionId, o.anchor, o.dn, o.name, now, now]);
      } else {
        changed.push([o.groupId, o.dn, o.name]);
      }
    });
    await bulkInsert(run.trx, 'groups', OBJECT_COLUMNS, fresh);
    if (changed.length > 0) await updateFromValues(run.trx, 'groups', 'id', ['dn', 'name'], changed, { updated_at: now });
    await replaceSearchTerms(run.trx, tenantId, 'group', fresh.map((r) => ({ id: r[0]!, names: [r[5]] })), { fresh: true });
    await replaceSearchTerms(run.trx, tenantId, 'group', changed.map((r) => ({ id: r[0]!, names: [r[2]] })));
    const addresses = batch.flatMap((o, i) =>
      o.address === null ? [] : [[o.address, tenantId, 'group', null, ids[i]!]],
    );
    await bulkInsert(run.trx, 'addresses', ADDRESS_COLUMNS, addresses);
  });
}

/** set_members: removes, then adds (idempotent: an existing membership is kept as is). */
export async function applyMembers(run: ApplyRun, ops: Op<'set_members'>[]): Promise<void> {
  const connectionId = run.plan.connectionId;
  await run.inBatches(ops, async (batch) => {
    const removed = batch.flatMap((o) => o.remove.map((m) => [o.groupAnchor, m] as const));
    for (const part of chunkRows(removed, TUPLE_ROWS)) {
      await run.trx
        .deleteFrom('memberships')
        .where('connection_id', '=', connectionId)
        .where(({ eb, refTuple, tuple }) => eb(refTuple('group_anchor', 'member_anchor'), 'in', part.map(([g, m]) => tuple(g, m))))
        .execute();
    }
    // A plan lists each group once and each member once per group; a read with one group anchor
    // twice (no directory allows it) would repeat rows, so that case alone is deduplicated.
    const anchors = new Set(batch.map((o) => o.groupAnchor));
    let added = batch.flatMap((o) => o.add.map((m) => [connectionId, o.groupAnchor, m]));
    if (anchors.size !== batch.length) added = [...new Map(added.map((r) => [`${r[1]}\n${r[2]}`, r])).values()];
    await bulkInsert(run.trx, 'memberships', MEMBER_COLUMNS, added, { skipExistingOn: ['connection_id', 'group_anchor', 'member_anchor'] });
  });
}

/** upsert_contact: inserts or updates the contact and replaces its address list (R60). */
export async function applyContacts(run: ApplyRun, ops: Op<'upsert_contact'>[]): Promise<void> {
  const { now, tenantId } = run.ctx;
  await run.inBatches(ops, async (batch) => {
    const ids = batch.map((o) => o.contactId ?? newId());
    const fresh: string[][] = [];
    const changed: string[][] = [];
    batch.forEach((o, i) => {
      if (o.contactId === null) {
        fresh.push([ids[i]!, tenantId, run.plan.connectionId, o.anchor, o.dn, o.name, now, now]);
      } else {
        changed.push([o.contactId, o.dn, o.name]);
      }
    });
    await bulkInsert(run.trx, 'contacts', OBJECT_COLUMNS, fresh);
    await replaceSearchTerms(run.trx, tenantId, 'contact', fresh.map((r) => ({ id: r[0]!, names: [r[5]] })), { fresh: true });
    await replaceSearchTerms(run.trx, tenantId, 'contact', changed.map((r) => ({ id: r[0]!, names: [r[2]] })));
    if (changed.length > 0) {
      await updateFromValues(run.trx, 'contacts', 'id', ['dn', 'name'], changed, { updated_at: now });
      for (const part of chunk(changed, 1)) {
        await run.trx.deleteFrom('contact_addresses').where('contact_id', 'in', part.map((c) => c[0]!)).execute();
      }
    }
    const addresses = batch.flatMap((o, i) => [...new Set(o.addresses)].map((address) => [ids[i]!, address]));
    await bulkInsert(run.trx, 'contact_addresses', CONTACT_ADDRESS_COLUMNS, addresses);
  });
}

/**
 * Writes a plan to the store: ONE transaction for the whole plan (all or nothing), bulk
 * multi-row statements per op kind (never one statement per user), audit rows (R25).
 * Order: removals → update_user → flag_user → restore_user → add_user → add_alias →
 * upsert_group → set_members → upsert_contact, whatever the order of `plan.ops`, so an
 * address freed by one object can be taken by another in the same plan (R13).
 */
import type { Kysely } from 'kysely';
import { RosterError } from '../core/errors.ts';
import type { Plan, PlanOp, PlanOpKind } from '../core/model.ts';
import { ApplyRun, type ApplyContext } from './apply-run.ts';
import { applyContacts, applyGroupRemovals, applyGroups, applyMembers, applyContactRemovals } from './apply-snapshot.ts';
import { applyAdds, applyAliasAdds, applyAliasRemovals, applyFlags, applyRestores, applyUserUpdates } from './apply-users.ts';
import { deferIndexes, plannedInserts } from './bulk-load.ts';
import type { Database } from './schema.ts';

export type { ApplyContext } from './apply-run.ts';

export interface ApplyResult {
  /** Ops applied, per kind (every kind present, 0 when absent). */
  byKind: Record<PlanOpKind, number>;
  /** Audit rows written, the run.apply row included. */
  auditRows: number;
}

const ORDER: readonly PlanOpKind[] = [
  'remove_alias', 'remove_group', 'remove_contact', 'update_user', 'flag_user', 'restore_user',
  'add_user', 'add_alias', 'upsert_group', 'set_members', 'upsert_contact',
];

type OpsByKind = { [K in PlanOpKind]: Extract<PlanOp, { op: K }>[] };

function splitByKind(ops: readonly PlanOp[]): OpsByKind {
  const by = Object.fromEntries(ORDER.map((k) => [k, []])) as unknown as OpsByKind;
  for (const op of ops) (by[op.op] as PlanOp[]).push(op);
  return by;
}

/**
 * Applies `plan` atomically; `ctx.onBatch` is awaited between batches inside the transaction.
 * A plan with no ops changes no user, address, group, membership or contact row (R12); it
 * still writes the run.apply audit row, since every applied run is audited (R25).
 * Throws RosterError('bad_input') for a plan of another tenant; any database error rolls the
 * whole plan back and is rethrown.
 */
export async function applyPlan(db: Kysely<Database>, plan: Plan, ctx: ApplyContext): Promise<ApplyResult> {
  if (plan.tenantId !== ctx.tenantId) {
    throw new RosterError('bad_input', 'the plan belongs to another tenant', {
      details: { planTenant: plan.tenantId, tenant: ctx.tenantId },
    });
  }
  const by = splitByKind(plan.ops);
  const byKind = Object.fromEntries(ORDER.map((k) => [k, by[k].length])) as Record<PlanOpKind, number>;
  const auditRows = await db.transaction().execute(async (trx) => {
    const run = new ApplyRun(trx, plan, ctx);
    // SQLite, a table at least doubled (a first sync): its lookup indexes are built once at the end.
    const rebuildIndexes = await deferIndexes(trx, plannedInserts(plan));
    await applyAliasRemovals(run, by.remove_alias);
    await applyGroupRemovals(run, by.remove_group);
    await applyContactRemovals(run, by.remove_contact);
    await applyUserUpdates(run, by.update_user);
    await applyFlags(run, by.flag_user);
    await applyRestores(run, by.restore_user);
    await applyAdds(run, by.add_user);
    await applyAliasAdds(run, by.add_alias);
    await applyGroups(run, by.upsert_group);
    await applyMembers(run, by.set_members);
    await applyContacts(run, by.upsert_contact);
    run.audit('run.apply', 'run', ctx.runId, null, { connectionId: plan.connectionId, ops: byKind, counts: plan.counts });
    await run.flushAudit();
    await rebuildIndexes();
    await ctx.finalize?.(trx);
    return run.auditRows;
  });
  return { byKind, auditRows };
}

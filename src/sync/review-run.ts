/**
 * R41: an admin approves a held run (its stored plan is applied exactly, once) or rejects it.
 *
 * Approval refuses a plan that may be stale: once another run of the connection has been applied
 * (or approved) after the held run started, the store the plan was computed against is gone, so
 * the admin must sync again. "Once" is enforced inside the apply transaction: the run moves from
 * 'held' to 'approved' with a compare-and-set, and a second approval finds no held run and rolls back.
 * An approval also supersedes (rejects, saying why) the connection's other held runs: their plans were
 * made against the store the approval changed. Run ids order runs by start, not by approval, so the
 * later-run check alone cannot catch an older plan approved after a newer one, or the reverse.
 */
import type { Kysely } from 'kysely';
import type { Plan } from '../core/model.ts';
import { RosterError } from '../core/errors.ts';
import { applyPlan } from '../store/apply-plan.ts';
import type { Database } from '../store/schema.ts';
import { readRunRecord, type RunRecord } from './run-record.ts';
import { loadRunSettings } from './load-run-settings.ts';
import { loadStoreState } from '../store/load-state.ts';
import { fingerprintPlanInputs } from './plan-inputs.ts';
import type { ConnectionSettings } from '../core/connection.ts';
import { refreshDuplicates } from '../store/duplicates.ts';

export interface ReviewInput {
  tenantId: string;
  runId: string;
  actor: string;
  /** Lifecycle clock (D5). */
  now: string;
}

async function heldRun(db: Kysely<Database>, tenantId: string, runId: string) {
  const run = await db.selectFrom('runs').selectAll().where('id', '=', runId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!run) throw new RosterError('not_found', `no run ${runId} in this tenant`);
  if (run.status !== 'held') {
    const why = run.error !== null && run.status === 'rejected' ? ` (${run.error})` : '';
    throw new RosterError('conflict', `run ${runId} is ${run.status}${why}: only a held run can be approved or rejected`);
  }
  return run;
}

async function auditReview(trx: Kysely<Database>, i: ReviewInput, action: string, after: unknown): Promise<void> {
  await trx.insertInto('audit').values({
    at: i.now, actor: i.actor, action, tenant_id: i.tenantId, object_kind: 'run', object_id: i.runId,
    before: JSON.stringify({ status: 'held' }), after: JSON.stringify(after),
  }).execute();
}

/** Moves the run from held to `to` inside `trx`; throws (rolling back) when it is no longer held. */
async function leaveHeld(trx: Kysely<Database>, i: ReviewInput, to: 'approved' | 'rejected'): Promise<void> {
  const r = await trx.updateTable('runs').set({ status: to, error: null, error_code: null })
    .where('id', '=', i.runId).where('status', '=', 'held').executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new RosterError('conflict', `run ${i.runId} is no longer held: it was approved or rejected meanwhile`);
}

/**
 * Refuses a held plan whose inputs changed since it was made: the store state the planner saw or
 * the run settings (plan-inputs.ts). Checked before the apply transaction: the compare-and-set on
 * the run's status inside it still guarantees "once".
 */
async function checkInputsUnchanged(db: Kysely<Database>, connectionId: string, i: ReviewInput, stored: string | undefined): Promise<void> {
  if (stored === undefined) return; // held before fingerprints existed: the stale-run checks above still apply
  const conn = await db.selectFrom('connections').select(['id', 'name', 'priority', 'settings']).where('id', '=', connectionId).executeTakeFirstOrThrow();
  const settings = await loadRunSettings(db, { id: conn.id, tenantId: i.tenantId, name: conn.name, priority: conn.priority, settings: JSON.parse(conn.settings) as ConnectionSettings });
  const state = await loadStoreState(db, i.tenantId, connectionId);
  if (fingerprintPlanInputs(state, settings, conn.settings) !== stored) {
    throw new RosterError('conflict', `run ${i.runId}: users, domains, exceptions, additions or the connection's settings changed since this plan was made, so it may be stale: sync again (and reject this run)`);
  }
}

export async function approveHeldRun(db: Kysely<Database>, i: ReviewInput): Promise<RunRecord> {
  const run = await heldRun(db, i.tenantId, i.runId);
  // R24: while sync is disabled no run applies; approving would be one.
  const tenant = await db.selectFrom('tenants').select(['name', 'sync_enabled']).where('id', '=', i.tenantId).executeTakeFirstOrThrow();
  if (tenant.sync_enabled !== 1) {
    throw new RosterError('conflict', `sync is disabled for tenant "${tenant.name}" (R24): enable it to approve run ${run.id}, or reject the run`);
  }
  const later = await db.selectFrom('runs').select(['id', 'status'])
    .where('connection_id', '=', run.connection_id)
    .where('id', '!=', run.id)
    .where((eb) => eb.or([
      eb('status', '=', 'running'),
      // Run ids are UUIDv7: a greater id is a later run in real time, even under a frozen clock (D5).
      eb.and([eb('status', 'in', ['succeeded', 'approved']), eb('id', '>', run.id)]),
    ]))
    .executeTakeFirst();
  if (later) {
    throw new RosterError('conflict', later.status === 'running'
      ? `run ${later.id} of this connection is running: approve when it has finished`
      : `run ${later.id} was applied after this plan was made, so the plan may be stale: run sync again`);
  }
  if (run.plan === null) throw new RosterError('internal', `held run ${run.id} has no stored plan`);
  const plan = JSON.parse(run.plan) as Plan & { inputsFingerprint?: string };
  await checkInputsUnchanged(db, run.connection_id, i, plan.inputsFingerprint);
  await applyPlan(db, plan, {
    runId: run.id, actor: i.actor, now: i.now, tenantId: i.tenantId,
    finalize: async (trx) => {
      await leaveHeld(trx, i, 'approved');
      // Every other held plan of the connection was computed against the store this approval just
      // changed: approving one of them later would apply a stale plan (flags re-stamped, adds twice).
      const others = await trx.selectFrom('runs').select('id').where('connection_id', '=', run.connection_id)
        .where('status', '=', 'held').where('id', '!=', run.id).execute();
      if (others.length > 0) {
        await trx.updateTable('runs')
          .set({ status: 'rejected', error: `superseded: run ${run.id} was approved after this plan was made; sync again`, error_code: 'conflict' })
          .where('id', 'in', others.map((o) => o.id)).where('status', '=', 'held').execute();
      }
      await trx.updateTable('connections').set({ last_complete_run_at: i.now }).where('id', '=', run.connection_id).execute();
      // R63: an approved plan is an applied complete read: the connection's findings follow it.
      await refreshDuplicates(trx, { tenantId: i.tenantId, connectionId: run.connection_id, runId: run.id, now: i.now, plan });
      await auditReview(trx, i, 'run.approve', { status: 'approved', flagged: plan.flagCount, superseded: others.map((o) => o.id) });
    },
  });
  return readRunRecord(db, run.id);
}

export async function rejectHeldRun(db: Kysely<Database>, i: ReviewInput): Promise<RunRecord> {
  await heldRun(db, i.tenantId, i.runId);
  await db.transaction().execute(async (trx) => {
    await leaveHeld(trx, i, 'rejected');
    await auditReview(trx, i, 'run.reject', { status: 'rejected' });
  });
  return readRunRecord(db, i.runId);
}

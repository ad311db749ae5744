/**
 * The part of a sync run after the directory read (DESIGN: the imperative shell around planRun):
 * load state → plan → guard (R41) → apply with the run record in the same transaction, or
 * store the run record alone (held runs, dry runs R19). Split from run-sync.ts so that the
 * pipeline can be measured and tested without a directory server (bench/pipeline-only.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { DirectorySnapshot, Plan, RunCounts, RunIssue, RunSettings, SkippedEntry, StoreState } from '../core/model.ts';
import { loadStoreState } from '../store/load-state.ts';
import { fingerprintPlanInputs } from './plan-inputs.ts';
import { applyPlan } from '../store/apply-plan.ts';
import { planRun } from '../core/plan.ts';
import { guardPlan, type HoldThreshold } from '../core/guards.ts';
import { bulkInsert, type BulkColumns } from '../store/batch.ts';
import { refreshDuplicates } from '../store/duplicates.ts';
import { LARGE_APPLY_OPS, refreshPlannerStatistics } from '../store/statistics.ts';

export type SyncPhase = 'claim' | 'read' | 'load' | 'plan' | 'apply' | 'done';
export interface SyncProgress {
  phase: SyncPhase;
  /** Directory entries read so far (phase 'read'). */
  entries?: number;
  /** Apply progress (phase 'apply'). */
  done?: number;
  total?: number;
}

export interface ReconcileInput {
  runId: string;
  tenantId: string;
  connectionId: string;
  dryRun: boolean;
  actor: string;
  /** Lifecycle clock (D5). */
  now: string;
  /** performance.now() when the run started (the run's real duration). */
  started: number;
  serverUsed: string | null;
  /** The complete read, handed over: reconcile sets `current` to null once planned, so it can be freed. */
  snapshot: { current: DirectorySnapshot | null };
  settings: RunSettings;
  /**
   * The store as the planner sees it, when the caller started loading it already (runSync loads it
   * while the directory read waits on the server); absent: loaded here.
   */
  state?: Promise<StoreState>;
  /** R41: the connection's hold threshold; absent = the defaults (DEFAULT_HOLD_THRESHOLD). */
  holdThreshold?: HoldThreshold;
  onProgress?: (p: SyncProgress) => void;
}

const T = 'text' as const;
const ITEM_COLUMNS: BulkColumns = [['run_id', T], ['kind', T], ['code', T], ['anchor', T], ['dn', T], ['value', T], ['detail', T]];

/**
 * R6/D9: skipped entries and issues become run_items rows (one row each, every run), written with
 * the store's bulk path: multi-row VALUES on SQLite, one unnest() per 5,000 rows on PostgreSQL.
 * Rows go in plan order (skipped, then issues), so `runs show` lists them as before (by id).
 */
async function saveItems(db: Kysely<Database>, runId: string, skipped: SkippedEntry[], issues: RunIssue[]): Promise<void> {
  const rows: (string | null)[][] = [];
  for (const s of skipped) rows.push([runId, 'skipped', s.reason, s.anchor, s.dn, s.value, null]);
  for (const i of issues) rows.push([runId, 'issue', i.code, i.anchor, i.dn, i.value, i.detail ?? null]);
  await bulkInsert(db, 'run_items', ITEM_COLUMNS, rows);
}

/** Succeeded runs keep a summary (op counts); held and previewed runs keep the whole plan (R19, R41). */
function planSummary(plan: Plan): unknown {
  const ops: Record<string, number> = {};
  for (const o of plan.ops) ops[o.op] = (ops[o.op] ?? 0) + 1;
  return { summary: true, now: plan.now, ops, flagCount: plan.flagCount, syncedUserCount: plan.syncedUserCount };
}

export interface FinishSet {
  status: string;
  server_used: string | null;
  counts?: string;
  plan?: string;
  error: string | null;
  error_code: string | null;
}

/** Closes the run record: status, duration (real clock) and finished_at (lifecycle clock, D5). */
export async function finishRun(db: Kysely<Database>, runId: string, started: number, set: FinishSet): Promise<void> {
  const runRow = await db.selectFrom('runs').select('started_at').where('id', '=', runId).executeTakeFirstOrThrow();
  const duration = Math.round(performance.now() - started);
  // D5: lifecycle times follow the (possibly overridden) clock; the duration is real.
  const finishedAt = new Date(Date.parse(runRow.started_at) + duration).toISOString();
  await db
    .updateTable('runs')
    .set({ ...set, finished_at: finishedAt, duration_ms: duration })
    .where('id', '=', runId)
    .execute();
}

/**
 * Plans a complete read against the store and applies it (status 'succeeded'), or records it
 * without applying ('previewed' for a dry run, 'held' when guardPlan holds it, R41). The run
 * record, its run_items and the connection's cursor are written in the plan's transaction, so
 * a crash never leaves a plan applied with its run still 'running'. Returns the final status.
 */
async function connectionSettingsJson(db: Kysely<Database>, connectionId: string): Promise<string> {
  return (await db.selectFrom('connections').select('settings').where('id', '=', connectionId).executeTakeFirstOrThrow()).settings;
}

export async function reconcile(db: Kysely<Database>, i: ReconcileInput): Promise<string> {
  i.onProgress?.({ phase: 'load' });
  let state: StoreState | null = await (i.state ?? loadStoreState(db, i.tenantId, i.connectionId));
  i.onProgress?.({ phase: 'plan' });
  let snapshot = i.snapshot.current;
  if (snapshot === null) throw new Error('reconcile: the snapshot was already used');
  i.snapshot.current = null;
  const plan = planRun(snapshot, state, i.settings, i.now);
  snapshot = null;
  const guard = guardPlan(plan, i.holdThreshold ?? {});
  const status = i.dryRun ? 'previewed' : guard.hold ? 'held' : 'succeeded';
  // Only a held plan needs its inputs again (their fingerprint); then the store state can go before the
  // write, which matters for peak memory at 100k users.
  const fingerprint = status === 'held' ? fingerprintPlanInputs(state, i.settings, await connectionSettingsJson(db, i.connectionId)) : null;
  state = null;
  // The run's own rows: written with the plan's transaction when it is applied, alone otherwise.
  const record = async (ex: Kysely<Database>): Promise<void> => {
    await saveItems(ex, i.runId, plan.skipped, plan.issues);
    await finishRun(ex, i.runId, i.started, {
      status,
      server_used: i.serverUsed,
      counts: JSON.stringify(plan.counts satisfies RunCounts),
      // A held plan keeps the fingerprint of its inputs: approval refuses it once they changed (R41).
      plan: JSON.stringify(status === 'succeeded' ? planSummary(plan)
        : status === 'held' ? { ...plan, inputsFingerprint: fingerprint } : plan),
      // R19/R41: a preview says when the real run would be held, so the admin learns it before syncing.
      error: status === 'held' ? `held for approval: ${guard.reason ?? 'mass-deletion threshold (R41)'}`
        : status === 'previewed' && guard.hold ? `a real run would be held for approval: ${guard.reason ?? 'mass-deletion threshold (R41)'}` : null,
      error_code: status === 'held' ? 'held' : null,
    });
  };
  if (status === 'succeeded') {
    i.onProgress?.({ phase: 'apply', done: 0, total: plan.ops.length });
    await applyPlan(db, plan, {
      runId: i.runId,
      actor: i.actor,
      now: i.now,
      tenantId: i.tenantId,
      onBatch: (done: number, total: number) => i.onProgress?.({ phase: 'apply', done, total }),
      finalize: async (trx) => {
        await trx.updateTable('connections').set({ last_complete_run_at: i.now }).where('id', '=', i.connectionId).execute();
        // R63: the connection's duplicate findings, against the store this apply just made.
        await refreshDuplicates(trx, { tenantId: i.tenantId, connectionId: i.connectionId, runId: i.runId, now: i.now, plan });
        await record(trx);
      },
    });
    // A large apply leaves the planner without statistics for what it wrote (lookups would plan blind).
    if (plan.ops.length >= LARGE_APPLY_OPS) await refreshPlannerStatistics(db).catch(() => {});
  } else {
    await db.transaction().execute(record);
  }
  i.onProgress?.({ phase: 'done' });
  return status;
}

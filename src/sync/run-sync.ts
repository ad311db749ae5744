/**
 * One sync run of one connection (DESIGN: the imperative shell around planRun):
 * claim → decrypt → read → load state → settings → plan → guard → store / apply.
 * Dry runs (R19) take the same path and stop before applying. Any failure marks the run
 * 'failed' with its code and changes nothing else (R5): applyPlan is one transaction.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import type { Plan, RunCounts, RunIssue, SkippedEntry } from '../core/model.ts';
import type { ConnectionSettings } from '../core/connection.ts';
import { RosterError, isRosterError, type ErrorCode } from '../core/errors.ts';
import { readDirectory } from '../directory/read-directory.ts';
import { loadStoreState } from '../store/load-state.ts';
import { applyPlan } from '../store/apply-plan.ts';
import { planRun } from '../core/plan.ts';
import { guardPlan } from '../core/guards.ts';
import { decryptSecret } from './secrets.ts';
import { claimRun } from './run-claim.ts';
import { loadRunSettings } from './load-run-settings.ts';
import { readRunRecord, type RunRecord } from './run-record.ts';

export type SyncPhase = 'claim' | 'read' | 'load' | 'plan' | 'apply' | 'done';
export interface SyncProgress {
  phase: SyncPhase;
  /** Directory entries read so far (phase 'read'). */
  entries?: number;
  /** Apply progress (phase 'apply'). */
  done?: number;
  total?: number;
}

export interface RunSyncOptions {
  tenantId: string;
  connectionId: string;
  dryRun: boolean;
  trigger: 'cli' | 'schedule' | 'api';
  actor: string;
  /** Lifecycle clock (D5). */
  now: string;
  /** The override in force, recorded on the run (D5), or null. */
  clockOverride: string | null;
  /** The key that decrypts the bind password (R42). */
  secretKey: Buffer;
  onProgress?: (p: SyncProgress) => void;
}

const CHUNK = 500;

/** R6/D9: skipped entries and issues become run_items rows, in multi-row batches. */
async function saveItems(db: Kysely<Database>, runId: string, skipped: SkippedEntry[], issues: RunIssue[]): Promise<void> {
  const rows = [
    ...skipped.map((s) => ({ run_id: runId, kind: 'skipped', code: s.reason, anchor: s.anchor, dn: s.dn, value: s.value, detail: null })),
    ...issues.map((i) => ({ run_id: runId, kind: 'issue', code: i.code, anchor: i.anchor, dn: i.dn, value: i.value, detail: i.detail ?? null })),
  ];
  for (let i = 0; i < rows.length; i += CHUNK) await db.insertInto('run_items').values(rows.slice(i, i + CHUNK)).execute();
}

/** Succeeded runs keep a summary (op counts); held and previewed runs keep the whole plan (R19, R41). */
function planSummary(plan: Plan): unknown {
  const ops: Record<string, number> = {};
  for (const o of plan.ops) ops[o.op] = (ops[o.op] ?? 0) + 1;
  return { summary: true, now: plan.now, ops, flagCount: plan.flagCount, syncedUserCount: plan.syncedUserCount };
}

/** Pulls an entry count out of the reader's progress events, whatever their exact shape. */
function entriesOf(p: unknown): number | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const o = p as Record<string, unknown>;
  for (const k of ['entries', 'read', 'count', 'total']) if (typeof o[k] === 'number') return o[k];
  return undefined;
}

/**
 * Runs one sync and returns its record. Refuses ('conflict') while another run of the
 * connection is running, and a real run while the tenant's sync is disabled (R24).
 * Failures are recorded on the run AND rethrown as RosterError (the CLI maps the code).
 */
export async function runSync(store: Store, o: RunSyncOptions): Promise<RunRecord> {
  const db = store.db;
  const conn = await db.selectFrom('connections').selectAll().where('id', '=', o.connectionId).where('tenant_id', '=', o.tenantId).executeTakeFirst();
  if (!conn) throw new RosterError('not_found', 'no such connection for this tenant');
  const tenant = await db.selectFrom('tenants').select(['name', 'sync_enabled']).where('id', '=', o.tenantId).executeTakeFirstOrThrow();
  if (!o.dryRun && tenant.sync_enabled !== 1) {
    throw new RosterError('conflict', `sync is disabled for tenant "${tenant.name}": enable it with \`roster tenants enable-sync ${tenant.name}\`, or use --dry-run`);
  }
  if (!o.dryRun && conn.enabled !== 1) throw new RosterError('conflict', `connection "${conn.name}" is disabled`);
  const settings = JSON.parse(conn.settings) as ConnectionSettings;
  const started = performance.now();
  o.onProgress?.({ phase: 'claim' });
  const run = await claimRun(db, { ...o, connectionName: conn.name });
  let serverUsed: string | null = null;
  try {
    const password = conn.bind_secret === null ? null : decryptSecret(conn.bind_secret, o.secretKey);
    const runSettings = await loadRunSettings(db, { id: conn.id, tenantId: o.tenantId, name: conn.name, priority: conn.priority, settings });
    o.onProgress?.({ phase: 'read', entries: 0 });
    const read = await readDirectory(settings, password, {
      exceptedGroupAnchors: runSettings.exceptions.groupAnchors,
      onProgress: (p: unknown) => o.onProgress?.({ phase: 'read', entries: entriesOf(p) ?? 0 }),
    });
    serverUsed = read.serverUsed;
    o.onProgress?.({ phase: 'load' });
    const state = await loadStoreState(db, o.tenantId, o.connectionId);
    o.onProgress?.({ phase: 'plan' });
    const plan = planRun(read.snapshot, state, runSettings, o.now);
    const guard = guardPlan(plan);
    const status = o.dryRun ? 'previewed' : guard.hold ? 'held' : 'succeeded';
    // The run's own rows: written with the plan's transaction when it is applied, alone otherwise.
    const record = async (ex: Kysely<Database>): Promise<void> => {
      await saveItems(ex, run.id, plan.skipped, plan.issues);
      await finish(ex, run.id, started, {
        status,
        server_used: serverUsed,
        counts: JSON.stringify(plan.counts satisfies RunCounts),
        plan: JSON.stringify(status === 'succeeded' ? planSummary(plan) : plan),
        error: status === 'held' ? `held for approval: ${guard.reason ?? 'mass-deletion threshold (R41)'}` : null,
        error_code: status === 'held' ? 'held' : null,
      });
    };
    if (status === 'succeeded') {
      o.onProgress?.({ phase: 'apply', done: 0, total: plan.ops.length });
      await applyPlan(db, plan, {
        runId: run.id,
        actor: o.actor,
        now: o.now,
        tenantId: o.tenantId,
        onBatch: (done: number, total: number) => o.onProgress?.({ phase: 'apply', done, total }),
        finalize: async (trx) => {
          await trx.updateTable('connections').set({ last_complete_run_at: o.now }).where('id', '=', conn.id).execute();
          await record(trx);
        },
      });
    } else {
      await db.transaction().execute(record);
    }
    o.onProgress?.({ phase: 'done' });
    return readRunRecord(db, run.id);
  } catch (e) {
    const code: ErrorCode = isRosterError(e) ? e.code : 'internal';
    const message = e instanceof Error ? e.message : String(e);
    await finish(db, run.id, started, { status: 'failed', server_used: serverUsed, error: message, error_code: code });
    if (isRosterError(e)) throw new RosterError(e.code, e.message, { cause: e, details: { ...e.details, runId: run.id } });
    throw new RosterError('internal', `run failed: ${message}`, { cause: e, details: { runId: run.id } });
  }
}

async function finish(
  db: Kysely<Database>,
  runId: string,
  started: number,
  set: { status: string; server_used: string | null; counts?: string; plan?: string; error: string | null; error_code: string | null },
): Promise<void> {
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

/**
 * R50: at most one run per connection at a time, across processes and nodes. The claim is a
 * transaction that first writes the connection's row (a row lock on PostgreSQL, the write lock
 * on SQLite), so two claimers are serialized and the second sees the first's 'running' run.
 */
import { newId } from '../store/ids.ts';
import type { Kysely } from 'kysely';
import type { Database, RunTable } from '../store/schema.ts';
import { RosterError } from '../core/errors.ts';

/** A run still 'running' this long after its start (lifecycle clock) is taken as abandoned. */
export const STALE_RUN_MS = 2 * 60 * 60 * 1000;

export interface ClaimInput {
  tenantId: string;
  connectionId: string;
  connectionName: string;
  trigger: string;
  actor: string;
  dryRun: boolean;
  now: string;
  clockOverride: string | null;
}

/**
 * Creates the run record in status 'running', or throws 'conflict' when another run of this
 * connection is running. A run left 'running' by a dead process for longer than STALE_RUN_MS
 * is marked failed ('abandoned') so that it does not block the connection forever.
 */
export async function claimRun(db: Kysely<Database>, c: ClaimInput): Promise<RunTable> {
  return db.transaction().execute(async (tx) => {
    await tx.updateTable('connections').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', c.connectionId).execute();
    const running = await tx.selectFrom('runs').select(['id', 'started_at']).where('connection_id', '=', c.connectionId).where('status', '=', 'running').execute();
    for (const r of running) {
      if (Date.parse(c.now) - Date.parse(r.started_at) > STALE_RUN_MS) {
        await tx
          .updateTable('runs')
          .set({ status: 'failed', error: 'abandoned: the process running it stopped', error_code: 'internal', finished_at: c.now })
          .where('id', '=', r.id)
          .execute();
      } else {
        throw new RosterError('conflict', `connection "${c.connectionName}" already has a run in progress (run ${r.id}, started ${r.started_at})`, {
          details: { runId: r.id },
        });
      }
    }
    const run: RunTable = {
      id: newId(), // UUIDv7: runs sort in the order they were made, whatever the lifecycle clock says
      tenant_id: c.tenantId,
      connection_id: c.connectionId,
      trigger: c.trigger,
      actor: c.actor,
      dry_run: c.dryRun ? 1 : 0,
      status: 'running',
      started_at: c.now,
      finished_at: null,
      duration_ms: null,
      clock_override: c.clockOverride,
      server_used: null,
      counts: null,
      plan: null,
      error: null,
      error_code: null,
    };
    await tx.insertInto('runs').values(run).execute();
    return run;
  });
}

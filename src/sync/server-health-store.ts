/**
 * Reads and writes per-server health (R55) in `server_health` (migration 0002), and the server
 * attempts of a run in `runs.server_attempts`. Real-clock times; see src/directory/server-health.ts.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { UNHEALTHY_FOR_MS, type ServerAttempt, type ServerHealth } from '../directory/server-health.ts';

/** Every health row of a connection, by server key. */
export async function loadServerHealth(db: Kysely<Database>, connectionId: string): Promise<ServerHealth[]> {
  const rows = await db.selectFrom('server_health').selectAll().where('connection_id', '=', connectionId).orderBy('server').execute();
  return rows.map((r) => ({
    server: r.server,
    unhealthyUntil: r.unhealthy_until,
    lastError: r.last_error,
    lastFailureAt: r.last_failure_at,
    lastSuccessAt: r.last_success_at,
  }));
}

const blank = (connectionId: string, server: string) => ({
  connection_id: connectionId, server, unhealthy_until: null as string | null, last_error: null as string | null,
  last_failure_at: null as string | null, last_success_at: null as string | null,
});

/**
 * Applies a run's attempts to the health rows: a failure marks the server unhealthy until
 * nowMs + periodMs (keeping its last success); a success clears the mark (keeping the last
 * error, for display). Then stores the attempts on the run. One statement per server attempted
 * (a handful per run, never per user).
 */
export async function saveServerAttempts(db: Kysely<Database>, o: { runId: string | null; connectionId: string; attempts: readonly ServerAttempt[]; nowMs: number; periodMs?: number }): Promise<void> {
  const now = new Date(o.nowMs).toISOString();
  const until = new Date(o.nowMs + (o.periodMs ?? UNHEALTHY_FOR_MS)).toISOString();
  const last = new Map<string, ServerAttempt>();
  for (const a of o.attempts) last.set(a.server, a);
  await db.transaction().execute(async (tx) => {
    for (const a of last.values()) {
      const set = a.ok
        ? { unhealthy_until: null, last_success_at: now }
        : { unhealthy_until: until, last_error: a.error ?? 'failed', last_failure_at: now };
      await tx
        .insertInto('server_health')
        .values({ ...blank(o.connectionId, a.server), ...set })
        .onConflict((oc) => oc.columns(['connection_id', 'server']).doUpdateSet(set))
        .execute();
    }
    if (o.runId !== null) {
      await tx.updateTable('runs').set({ server_attempts: JSON.stringify(o.attempts) }).where('id', '=', o.runId).execute();
    }
  });
}

/** The attempts stored on a run, or [] (runs before migration 0002, runs that never connected). */
export function parseServerAttempts(json: string | null | undefined): ServerAttempt[] {
  if (json === null || json === undefined || json === '') return [];
  return JSON.parse(json) as ServerAttempt[];
}

/** The run record as the CLI and API show it (R52): `roster sync --json` prints exactly this. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { RunCounts } from '../core/model.ts';
import { RosterError } from '../core/errors.ts';
import type { ServerAttempt } from '../directory/server-health.ts';
import { parseServerAttempts } from './server-health-store.ts';

export interface RunRecord {
  id: string;
  tenantId: string;
  connectionId: string;
  trigger: string;
  actor: string;
  dryRun: boolean;
  /** 'running' | 'succeeded' | 'failed' | 'held' | 'previewed' | 'approved' | 'rejected' */
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  clockOverride: string | null;
  serverUsed: string | null;
  /** R55: every server tried, in order, with its outcome and time. */
  serverAttempts: ServerAttempt[];
  counts: RunCounts | null;
  error: string | null;
  errorCode: string | null;
  /** Rows in run_items by kind (R6 skipped, D9 issues). */
  items: { skipped: number; issues: number };
}

export async function readRunRecord(db: Kysely<Database>, runId: string): Promise<RunRecord> {
  const r = await db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!r) throw new RosterError('not_found', `no run ${runId}`);
  const items = await db
    .selectFrom('run_items')
    .select('kind')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('run_id', '=', runId)
    .groupBy('kind')
    .execute();
  const n = (k: string) => Number(items.find((i) => i.kind === k)?.n ?? 0);
  return {
    id: r.id,
    tenantId: r.tenant_id,
    connectionId: r.connection_id,
    trigger: r.trigger,
    actor: r.actor,
    dryRun: r.dry_run === 1,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    clockOverride: r.clock_override,
    serverUsed: r.server_used,
    serverAttempts: parseServerAttempts(r.server_attempts),
    counts: r.counts === null ? null : (JSON.parse(r.counts) as RunCounts),
    error: r.error,
    errorCode: r.error_code,
    items: { skipped: n('skipped'), issues: n('issue') },
  };
}

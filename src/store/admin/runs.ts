/**
 * R52: sync runs are browsable per connection (newest first) and one at a time in detail:
 * counts, the server used, the clock override (D5), the error, skipped entries by reason (R6),
 * per-entry items with paging (D9), and the plan's summary or, on request, the whole plan.
 * Read-only: nothing here is audited.
 */
import { RosterError } from '../../core/errors.ts';
import type { RunCounts } from '../../core/model.ts';
import type { Database } from '../schema.ts';
import type { Executor } from './audit.ts';
import type { ServerAttempt } from '../../directory/server-health.ts';
import { parseServerAttempts } from '../../sync/server-health-store.ts';

export interface RunSummary {
  id: string;
  connectionId: string;
  status: string;
  trigger: string;
  actor: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  counts: Partial<RunCounts> | null;
  error: string | null;
  errorCode: string | null;
}

export interface RunItemView {
  kind: string;
  code: string;
  anchor: string | null;
  dn: string | null;
  value: string | null;
  detail: string | null;
}

export interface PlanSummary {
  /** Number of operations per kind. */
  ops: Record<string, number>;
  flagCount: number | null;
  syncedUserCount: number | null;
}

export interface RunDetail extends RunSummary {
  serverUsed: string | null;
  /** R55: every server tried, in order (the last ok one is serverUsed). */
  serverAttempts: ServerAttempt[];
  clockOverride: string | null;
  skippedByReason: Record<string, number>;
  issuesByCode: Record<string, number>;
  items: { kind: string | null; total: number; limit: number; offset: number; items: RunItemView[] };
  planSummary: PlanSummary | null;
  /** The stored plan, only when asked for (it can be large). */
  plan?: unknown;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function toSummary(r: Database['runs']): RunSummary {
  return {
    id: r.id,
    connectionId: r.connection_id,
    status: r.status,
    trigger: r.trigger,
    actor: r.actor,
    dryRun: Number(r.dry_run) === 1,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    counts: parseJson(r.counts) as Partial<RunCounts> | null,
    error: r.error,
    errorCode: r.error_code,
  };
}

/**
 * A whole stored plan (held and dry runs) is summarized by op kind; the summary a succeeded run
 * stores (`{ summary: true, ops: { kind: n }, flagCount, syncedUserCount }`) is passed through.
 */
export function summarizePlan(stored: unknown): PlanSummary | null {
  if (stored === null || typeof stored !== 'object') return null;
  const p = stored as { ops?: unknown; flagCount?: unknown; syncedUserCount?: unknown };
  const ops: Record<string, number> = {};
  if (Array.isArray(p.ops)) {
    for (const op of p.ops as { op?: unknown }[]) {
      const k = typeof op?.op === 'string' ? op.op : 'unknown';
      ops[k] = (ops[k] ?? 0) + 1;
    }
  } else if (typeof p.ops === 'object' && p.ops !== null) {
    for (const [k, v] of Object.entries(p.ops)) if (typeof v === 'number') ops[k] = v;
  }
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  return { ops, flagCount: num(p.flagCount), syncedUserCount: num(p.syncedUserCount) };
}

/** Runs of one connection, newest first. */
export async function listRuns(
  db: Executor,
  tenantId: string,
  connectionId: string,
  page: { limit?: number; offset?: number } = {},
): Promise<RunSummary[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('connection_id', '=', connectionId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(page.limit ?? 50, 1), 10_000))
    .offset(Math.max(page.offset ?? 0, 0))
    .execute();
  return rows.map(toSummary);
}

/**
 * One run of the tenant in detail. `items` pages through its per-entry items (all, or only
 * 'skipped' or 'issue'); `withPlan` adds the stored plan as is.
 */
export async function showRun(
  db: Executor,
  tenantId: string,
  runId: string,
  opts: { itemKind?: 'skipped' | 'issue'; limit?: number; offset?: number; withPlan?: boolean } = {},
): Promise<RunDetail> {
  const r = await db.selectFrom('runs').selectAll().where('id', '=', runId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (r === undefined) throw new RosterError('not_found', `no run ${runId} in this tenant`);
  const groups = await db
    .selectFrom('run_items')
    .select((eb) => ['kind', 'code', eb.fn.countAll().as('n')])
    .where('run_id', '=', runId)
    .groupBy(['kind', 'code'])
    .execute();
  const skippedByReason: Record<string, number> = {};
  const issuesByCode: Record<string, number> = {};
  for (const g of groups) (g.kind === 'skipped' ? skippedByReason : issuesByCode)[g.code] = Number(g.n);
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000);
  const offset = Math.max(opts.offset ?? 0, 0);
  let q = db.selectFrom('run_items').where('run_id', '=', runId);
  if (opts.itemKind !== undefined) q = q.where('kind', '=', opts.itemKind);
  const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const items = await q
    .select(['kind', 'code', 'anchor', 'dn', 'value', 'detail'])
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
  const stored = parseJson(r.plan);
  const detail: RunDetail = {
    ...toSummary(r),
    serverUsed: r.server_used,
    serverAttempts: parseServerAttempts(r.server_attempts),
    clockOverride: r.clock_override,
    skippedByReason,
    issuesByCode,
    items: { kind: opts.itemKind ?? null, total: Number(total?.n ?? 0), limit, offset, items },
    planSummary: summarizePlan(stored),
  };
  if (opts.withPlan === true) detail.plan = stored;
  return detail;
}

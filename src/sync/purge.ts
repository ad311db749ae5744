/**
 * R21/R24: the purge job. Runs at least hourly, whether or not sync is enabled: deletes every
 * user in state pending_deletion whose delete_after has passed, with its rules; its archives
 * stay, unlinked, so a user who comes back (R10) gets them again. Each deleted user leaves an
 * audit row (R25). `now` is the lifecycle clock (D5): tests move it instead of waiting.
 */
import type { Kysely } from 'kysely';
import { selectPurgeable } from '../core/lifecycle.ts';
import { RosterError } from '../core/errors.ts';
import type { Database } from '../store/schema.ts';
import { loadPurgeCandidates, purgeUsers } from '../store/admin/purge.ts';

export interface PurgeOptions {
  now: string;
  /** Who purges, for the audit rows: 'purge' for the job, `cli:<user>` from the CLI. */
  actor: string;
  /** Only this tenant's users. */
  tenantId?: string;
  /** Users per transaction (bounded memory and lock time; fewer commits are faster on SQLite's WAL). */
  batchSize?: number;
}

export interface PurgeResult {
  count: number;
  /** Primary addresses of the deleted users, sorted. */
  addresses: string[];
}

/**
 * Deletes the expired users in batches, each batch one transaction. The SQL pre-selects
 * candidates; the pure rule (selectPurgeable) decides, so the job and the planner agree on what
 * "expired" means.
 */
export async function purgeExpired(db: Kysely<Database>, opts: PurgeOptions): Promise<PurgeResult> {
  if (Number.isNaN(Date.parse(opts.now))) throw new RosterError('bad_input', `invalid time: ${opts.now}`);
  const now = new Date(opts.now).toISOString();
  const batchSize = opts.batchSize ?? 5000;
  const addresses: string[] = [];
  let afterId: string | undefined;
  for (;;) {
    const candidates = await loadPurgeCandidates(db, now, {
      limit: batchSize,
      ...(opts.tenantId !== undefined ? { tenantId: opts.tenantId } : {}),
      ...(afterId !== undefined ? { afterId } : {}),
    });
    const last = candidates[candidates.length - 1];
    if (last === undefined) break;
    const chosen = selectPurgeable(candidates, now);
    addresses.push(...(await purgeUsers(db, chosen.map((c) => c.id), { actor: opts.actor, now })));
    if (candidates.length < batchSize) break;
    afterId = last.id;
  }
  addresses.sort();
  return { count: addresses.length, addresses };
}

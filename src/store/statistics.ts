/**
 * Query-planner statistics after a large write. A store filled by one big apply (a first sync of
 * 100,000 users) has no statistics yet: SQLite then plans autocomplete's range scans blind (measured
 * at 100k users: 51 ms median before, 7.7 ms after), and PostgreSQL waits for autovacuum (up to a
 * minute of ~7 ms range queries). Callers run this after the apply has committed; it changes no data.
 */
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './batch.ts';
import type { Database } from './schema.ts';

/** Tables a sync writes in bulk and lookups read by range or join. */
const TABLES = ['users', 'addresses', 'search_terms', 'groups', 'memberships', 'contacts', 'contact_addresses'] as const;

/** Plans with at least this many operations refresh statistics. */
export const LARGE_APPLY_OPS = 1000;

export async function refreshPlannerStatistics(db: Kysely<Database>): Promise<void> {
  if (isPostgres(db)) {
    await sql.raw(`ANALYZE ${TABLES.join(', ')}`).execute(db);
    return;
  }
  // A sampled ANALYZE (about 1,000 rows per index): tens of milliseconds at 100,000 users.
  await sql`PRAGMA analysis_limit = 1000`.execute(db);
  for (const t of TABLES) await sql.raw(`ANALYZE ${t}`).execute(db);
}

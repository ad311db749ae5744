/**
 * Bulk loading on SQLite: when one apply inserts at least as many rows into a table as the table
 * already holds (a tenant's first sync, typically), the table's random-order secondary indexes
 * are dropped at the start of the inserts and built again with CREATE INDEX at the end, inside
 * the SAME transaction. Building an index from its rows sorts them once; keeping it during the
 * inserts costs a random B-tree descent and page split per row (100,000 users: the address index
 * alone cost 0.7 s of inserts and builds in 0.23 s; the whole first apply went from 5.4–6.1 s to
 * 4.0–4.3 s).
 *
 * Nothing else sees the difference: SQLite's DDL is transactional, so a failure or a crash rolls
 * the drop back with the rows (applyPlan stays all or nothing), and readers in WAL mode keep
 * reading the last committed schema and rows until the commit. Only indexes that no statement of
 * the apply reads through are deferred (the lookups, loadStoreState, audit and duplicate queries
 * use them, after the rebuild). A unique one is built again as unique: a duplicate fails the
 * rebuild and rolls the whole apply back, exactly as the duplicate row itself would have (no
 * statement of the apply relies on it for ON CONFLICT). PostgreSQL is never touched: a
 * DROP INDEX there takes an exclusive lock that would block the lookups of every tenant for the
 * length of the apply.
 */
import { sql, type Kysely } from 'kysely';
import type { Plan } from '../core/model.ts';
import { isPostgres } from './batch.ts';
import type { Database } from './schema.ts';

type TableName = 'users' | 'addresses' | 'search_terms' | 'memberships' | 'audit';

/** The indexes a bulk load may defer, per table: random-order keys the apply itself never reads through. */
export const DEFERRABLE_INDEXES: Readonly<Record<TableName, readonly string[]>> = {
  addresses: ['addresses_tenant_address_ix'],
  search_terms: ['search_terms_tenant_term_ix'],
  memberships: ['memberships_member_ix'],
  audit: ['audit_tenant_at_ix', 'audit_object_ix'],
  users: ['users_tenant_ix', 'users_connection_anchor_uq'],
};

/** Below this many rows into a table, indexes are kept whatever the table's size (the rebuild's fixed cost). */
export const BULK_MIN_ROWS = 20_000;

/** Search-term rows per user, for the estimate (display name, given name, surname: words, deduplicated). */
const TERMS_PER_USER = 3;

/** Rows each table will receive from `plan`, estimated from its ops (exact for all but search_terms). */
export function plannedInserts(plan: Pick<Plan, 'ops'>): Record<TableName, number> {
  const n: Record<TableName, number> = { users: 0, addresses: 0, search_terms: 0, memberships: 0, audit: 0 };
  for (const o of plan.ops) {
    switch (o.op) {
      case 'add_user':
        n.users++;
        n.addresses += 1 + o.aliases.length;
        n.search_terms += TERMS_PER_USER;
        n.audit++;
        break;
      case 'add_alias':
        n.addresses++;
        n.audit++;
        break;
      case 'upsert_group':
        if (o.address !== null) n.addresses++;
        n.search_terms++;
        break;
      case 'set_members':
        n.memberships += o.add.length;
        break;
      case 'upsert_contact':
        n.search_terms++;
        break;
      default:
        n.audit++;
    }
  }
  return n;
}

/** Is `table` holding fewer than `rows` rows? Counts at most `rows` of them (bounded cost on a big table). */
async function holdsFewerThan(db: Kysely<Database>, table: string, rows: number): Promise<boolean> {
  const r = await sql<{ n: number }>`select count(*) as n from (select 1 from ${sql.table(table)} limit ${rows})`.execute(db);
  return Number(r.rows[0]?.n ?? 0) < rows;
}

/**
 * Drops the deferrable indexes of every table that `inserts` will at least double, and returns
 * the function that builds them again (from their own CREATE statements, read from
 * sqlite_master, so the migrations stay their one definition). Call both inside one transaction;
 * the returned function must run before anything reads through those indexes. Returns a no-op
 * on PostgreSQL and when no table qualifies.
 */
export async function deferIndexes(
  trx: Kysely<Database>,
  inserts: Readonly<Record<string, number>>,
  opts: { minRows?: number } = {},
): Promise<() => Promise<void>> {
  if (isPostgres(trx)) return async () => {};
  const minRows = opts.minRows ?? BULK_MIN_ROWS;
  const names: string[] = [];
  for (const [table, indexes] of Object.entries(DEFERRABLE_INDEXES)) {
    const rows = inserts[table] ?? 0;
    if (rows >= minRows && (await holdsFewerThan(trx, table, rows))) names.push(...indexes);
  }
  if (names.length === 0) return async () => {};
  const found = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'index' and name in (${sql.join(names)})`.execute(trx);
  const creates = found.rows.map((r) => r.sql);
  for (const r of found.rows) await sql`drop index ${sql.id(r.name)}`.execute(trx);
  return async () => {
    for (const create of creates) await sql.raw(create).execute(trx);
  };
}

/**
 * Bulk-statement helpers shared by the store's writers: chunking under the bind-parameter
 * limits of both dialects, and multi-row UPDATE … FROM (VALUES …) that runs unchanged on
 * SQLite (≥ 3.33) and PostgreSQL.
 */
import { CompiledQuery, PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** Below SQLite's default 32766 and PostgreSQL's 65535 bind parameters per statement. */
export const MAX_PARAMS = 30_000;
/** Rows per statement cap: larger statements stop paying off and hold locks longer. */
export const MAX_ROWS = 2_000;

/**
 * Rows per `(a, b) IN ((…), (…))` statement. PostgreSQL turns a row-value IN list into ORs and
 * checks every candidate row against all of them, so the cost grows with the square of the
 * list: small lists keep it linear overall (SQLite would take larger ones).
 */
export const TUPLE_ROWS = 250;

/** Splits items into chunks of at most `size`. */
export function chunkRows<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Splits items so that each chunk binds at most MAX_PARAMS parameters and MAX_ROWS rows. */
export function chunk<T>(items: readonly T[], paramsPerItem: number): T[][] {
  const size = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, paramsPerItem))));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `UPDATE table SET col = v.columnN, … FROM (VALUES (key, …), …) AS v WHERE table.key = v.column1`,
 * chunked. Every value must be TEXT or NULL (PostgreSQL types untyped VALUES as text), which
 * holds for every column this is used on. `fixed` columns get the same value on every row.
 * Returns the number of rows updated.
 */
export async function updateFromValues(
  db: Kysely<Database>,
  table: keyof Database,
  key: string,
  columns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
  fixed: Record<string, string | number | null> = {},
): Promise<number> {
  let updated = 0;
  const fixedEntries = Object.entries(fixed);
  for (const part of chunk(rows, columns.length + 1)) {
    const sets: RawBuilder<unknown>[] = columns.map((c, i) => sql`${sql.ref(c)} = v.${sql.raw(`column${i + 2}`)}`);
    for (const [c, v] of fixedEntries) sets.push(sql`${sql.ref(c)} = ${v}`);
    const values = part.map((r) => sql`(${sql.join(r.map((v) => sql`${v}`))})`);
    const r = await sql`update ${sql.table(table)} set ${sql.join(sets)} from (values ${sql.join(values)}) as v where ${sql.ref(`${table}.${key}`)} = v.column1`.execute(db);
    updated += Number(r.numAffectedRows ?? 0);
  }
  return updated;
}

export type ColumnType = 'text' | 'integer';
/** A table's columns for bulkInsert, in the order of the row arrays. */
export type BulkColumns = readonly (readonly [name: string, type: ColumnType])[];

/** Rows per statement on PostgreSQL, where unnest() binds one array per column. */
const PG_ROWS = 5_000;

/** True when the store is PostgreSQL (the few statements that differ by dialect ask this). */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

const q = (name: string): string => `"${name}"`;

const NEEDS_ESCAPE = /["\\]/;

/**
 * Column `c` of rows[start..end) as a PostgreSQL array literal (`{"a","b",NULL}`), sent as one
 * text parameter and cast by the statement (`$1::text[]`). Cheaper than handing pg a JS array,
 * whose generic encoder runs a regular-expression replace on every element (100,000-user first
 * sync: ~0.5 s of the client's CPU). Every text element is quoted, so commas, braces, spaces and
 * the word NULL stay data; `"` and `\` are backslash-escaped (PostgreSQL's array input rules).
 */
export function pgArrayLiteral(rows: readonly (readonly unknown[])[], start: number, end: number, c: number, type: ColumnType): string {
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) {
    const v = rows[i]![c];
    if (v === null || v === undefined) parts[i - start] = 'NULL';
    else if (type === 'integer') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`bulkInsert: column ${c} is integer, got ${typeof v === 'number' ? v : typeof v}`);
      parts[i - start] = String(v);
    } else {
      const t = String(v);
      parts[i - start] = NEEDS_ESCAPE.test(t) ? `"${t.replace(/["\\]/g, '\\$&')}"` : `"${t}"`;
    }
  }
  return `{${parts.join(',')}}`;
}

/**
 * Inserts rows (arrays in `columns` order) with as few statements as the limits allow,
 * bypassing Kysely's builder, whose per-value parsing costs more than SQLite's insert itself at
 * 100,000 rows. SQLite: multi-row VALUES (≤ MAX_PARAMS parameters). PostgreSQL: one array per
 * column through unnest(), the fastest bulk path short of COPY. `skipExistingOn` (a unique key's
 * columns) skips rows already in the table: ON CONFLICT DO NOTHING on SQLite, an anti-join on
 * PostgreSQL (rows must then be unique within one call).
 */
export async function bulkInsert(
  db: Kysely<Database>,
  table: keyof Database,
  columns: BulkColumns,
  rows: readonly (readonly unknown[])[],
  opts: { onConflictDoNothing?: boolean; skipExistingOn?: readonly string[] } = {},
): Promise<void> {
  if (rows.length === 0) return;
  const head = `insert into ${q(table)} (${columns.map(([c]) => q(c)).join(', ')})`;
  const tail = opts.onConflictDoNothing || opts.skipExistingOn !== undefined ? ' on conflict do nothing' : '';
  if (isPostgres(db)) {
    const unnest = columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
    let text = `${head} select * from unnest(${unnest})${opts.onConflictDoNothing ? tail : ''}`;
    if (opts.skipExistingOn !== undefined) {
      // An anti-join instead of ON CONFLICT: PostgreSQL's speculative insertion cost a third more
      // per row (memberships at 120,000 rows: 3.1 s → 2.0 s). Rows repeated inside one call are
      // the caller's to avoid; rows written by an earlier call are visible and skipped.
      const names = columns.map(([c]) => q(c)).join(', ');
      const match = opts.skipExistingOn.map((k) => `e.${q(k)} = v.${q(k)}`).join(' and ');
      text = `${head} select * from unnest(${unnest}) as v(${names}) where not exists (select 1 from ${q(table)} e where ${match})`;
    }
    for (let i = 0; i < rows.length; i += PG_ROWS) {
      const end = Math.min(rows.length, i + PG_ROWS);
      const arrays = columns.map(([, type], c) => pgArrayLiteral(rows, i, end, c, type));
      await db.executeQuery(CompiledQuery.raw(text, arrays));
    }
    return;
  }
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (const part of chunk(rows, columns.length)) {
    const text = `${head} values ${new Array<string>(part.length).fill(tuple).join(', ')}${tail}`;
    await db.executeQuery(CompiledQuery.raw(text, part.flat()));
  }
}

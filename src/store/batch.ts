/**
 * Bulk-statement helpers shared by the store's writers: chunking under the bind-parameter
 * limits of both dialects, and multi-row UPDATE … FROM (VALUES …) that runs unchanged on
 * SQLite (≥ 3.33) and PostgreSQL.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** Below SQLite's default 32766 and PostgreSQL's 65535 bind parameters per statement. */
export const MAX_PARAMS = 30_000;
/** Rows per statement cap: larger statements stop paying off and hold locks longer. */
export const MAX_ROWS = 2_000;

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

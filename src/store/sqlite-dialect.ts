/**
 * A Kysely dialect over Node's built-in `node:sqlite` (no native build). Kysely's SqliteDialect
 * expects better-sqlite3's statement API (`reader`, `all(params[])`, …); this adapts
 * `DatabaseSync`/`StatementSync` to it.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

/** Prepared statements kept per SQL text: bulk batches repeat the same large statement. */
const CACHE_LIMIT = 64;

/**
 * Wraps an open DatabaseSync as a Kysely dialect. The dialect owns the handle: destroying the
 * Kysely instance closes it. Kysely serializes queries on its single connection, so a cached
 * statement is never used by two queries at once.
 */
export function createSqliteDialect(db: DatabaseSync): SqliteDialect {
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    const hit = cache.get(sql);
    if (hit !== undefined) return hit;
    const st = db.prepare(sql);
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(sql, st);
    return st;
  };
  const adapter: SqliteDatabase = {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const st = prepare(sql);
      const args = (p: ReadonlyArray<unknown>) => p as SQLInputValue[];
      return {
        // A statement returns rows iff it has result columns (SELECT, … RETURNING).
        reader: st.columns().length > 0,
        // node:sqlite rows have a null prototype; plain objects behave like pg's rows (deepEqual, toString).
        all: (p) => st.all(...args(p)).map((r) => ({ ...r })),
        run: (p) => {
          const r = st.run(...args(p));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: function* (p) {
          for (const r of st.iterate(...args(p))) yield { ...(r as object) };
        },
      };
    },
  };
  return new SqliteDialect({ database: adapter });
}

/**
 * A Kysely dialect over Node's built-in `node:sqlite` (no native build). Kysely's SqliteDialect
 * expects better-sqlite3's statement API (`reader`, `all(params[])`, …); this adapts
 * `DatabaseSync`/`StatementSync` to it.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
  type TransactionSettings,
} from 'kysely';

/**
 * Write transactions start with BEGIN IMMEDIATE: they take the write lock at once (waiting up
 * to busy_timeout) instead of upgrading a read snapshot later, which SQLite refuses with
 * SQLITE_BUSY — busy_timeout cannot help — when another process wrote in between (a CLI
 * command beside a scheduled run). Read-only transactions (`setAccessMode('read only')`)
 * keep a plain deferred BEGIN: a WAL snapshot that blocks no writer.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    const mode = settings?.accessMode === 'read only' ? 'begin' : 'begin immediate';
    await connection.executeQuery(CompiledQuery.raw(mode));
  }
}

class NodeSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Prepared statements kept per SQL text: bulk batches repeat the same large statement. */
const CACHE_LIMIT = 64;

type RowMaker = (values: unknown[]) => Record<string, unknown>;

/**
 * A function that turns one row array into a plain object with the statement's column names.
 * node:sqlite's own row objects have a null prototype and cost 5× more to build: at 100,000
 * users (loadStoreState) arrays + one compiled literal per row take ~0.35 s instead of ~1.8 s.
 * Column names come from SQLite's metadata, embedded with JSON.stringify (never data).
 */
function rowMaker(names: readonly string[]): RowMaker {
  const body = names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${body} };`) as RowMaker;
}

interface Prepared {
  st: StatementSync;
  /** Set for statements that return rows. */
  make: RowMaker | null;
}

/**
 * Wraps an open DatabaseSync as a Kysely dialect. The dialect owns the handle: destroying the
 * Kysely instance closes it. Kysely serializes queries on its single connection, so a cached
 * statement is never used by two queries at once.
 */
export function createSqliteDialect(db: DatabaseSync): SqliteDialect {
  const cache = new Map<string, Prepared>();
  const prepare = (sql: string): Prepared => {
    const hit = cache.get(sql);
    if (hit !== undefined) return hit;
    const st = db.prepare(sql);
    const columns = st.columns();
    if (columns.length > 0) st.setReturnArrays(true);
    const prepared: Prepared = { st, make: columns.length > 0 ? rowMaker(columns.map((c) => c.name)) : null };
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(sql, prepared);
    return prepared;
  };
  const adapter: SqliteDatabase = {
    close: () => {
      cache.clear();
      // SQLite's advice for long-lived connections: refresh planner statistics where needed.
      try {
        db.exec('PRAGMA optimize');
      } catch {
        // A read-only or busy database: statistics stay as they were.
      }
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const { st, make } = prepare(sql);
      const args = (p: ReadonlyArray<unknown>) => p as SQLInputValue[];
      const toObject = make ?? ((v: unknown[]) => ({ ...v }));
      return {
        // A statement returns rows iff it has result columns (SELECT, … RETURNING).
        reader: make !== null,
        // Row by row: each row array dies young instead of 100,000 of them surviving beside their objects.
        all: (p) => {
          const out: unknown[] = [];
          for (const r of st.iterate(...args(p))) out.push(toObject(r as unknown as unknown[]));
          return out;
        },
        run: (p) => {
          const r = st.run(...args(p));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: function* (p) {
          for (const r of st.iterate(...args(p))) yield toObject(r as unknown as unknown[]);
        },
      };
    },
  };
  return new NodeSqliteDialect({ database: adapter });
}

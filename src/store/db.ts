/**
 * Opens the store: SQLite (embedded, `node:sqlite`) or PostgreSQL (`pg`), both through Kysely
 * with the same schema and the same queries, and migrates it to the latest schema.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { RosterError } from '../core/errors.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';
import { createSqliteDialect } from './sqlite-dialect.ts';
import { PreparingClient } from './pg-prepared.ts';

export type Dialect = 'sqlite' | 'postgres';

/** An open, migrated store. Close it (or `await using`) to release the file or the pool. */
export interface Store extends AsyncDisposable {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Which dialect a store URL names, or a RosterError('config') for anything else. */
export function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  throw new RosterError('config', 'store URL must start with sqlite:, postgres:// or postgresql://', {
    details: { scheme: url.split(':')[0] ?? '' },
  });
}

/**
 * Opens a SQLite file. Durability choice: WAL with synchronous=NORMAL survives a process crash
 * (a SIGKILL mid-transaction loses nothing committed, and nothing uncommitted leaks), but the
 * last commits may be lost on power loss or an OS crash; the directory re-sync repairs that.
 */
function openSqlite(url: string): Kysely<Database> {
  const rest = url.slice('sqlite:'.length);
  const path = rest === ':memory:' ? ':memory:' : rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '') throw new RosterError('config', 'sqlite: URL needs a file path or :memory:');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const file = new DatabaseSync(path);
  try {
    // 16 KiB pages for a NEW file (an existing file keeps its size: changing it needs a VACUUM,
    // and WAL mode forbids it): a 100,000-user first sync writes ~150 MB of rows and index
    // entries, and spent about 20 % less CPU in SQLite with 16 KiB than with the default 4 KiB
    // (bench/pipeline-only.ts). Must come before journal_mode = WAL.
    file.exec('PRAGMA page_size = 16384');
    file.exec('PRAGMA busy_timeout = 5000');
    file.exec('PRAGMA journal_mode = WAL');
    file.exec('PRAGMA synchronous = NORMAL');
    file.exec('PRAGMA foreign_keys = ON');
    // 8 MB page cache: at 100k users a 64 MB cache cost ~70 MB of peak RSS for no measurable speed (bench/sync-variants.ts).
    file.exec('PRAGMA cache_size = -8192');
  } catch (e) {
    file.close();
    throw e;
  }
  return new Kysely<Database>({ dialect: createSqliteDialect(file) });
}

const INT8_OID = 20;

/** Connecting to PostgreSQL gives up after this long (a server that accepts and never answers, a black-holed route). */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

/** libpq's `connect_timeout` (seconds) from the URL's query, else the default; pg itself reads it from no URL. */
export function pgConnectTimeoutMs(url: string): number {
  let raw: string | null = null;
  try {
    raw = new URL(url).searchParams.get('connect_timeout');
  } catch {
    return PG_CONNECT_TIMEOUT_MS;
  }
  if (raw === null) return PG_CONNECT_TIMEOUT_MS;
  const s = Number(raw);
  if (!Number.isInteger(s) || s < 1) throw new RosterError('config', `connect_timeout in the PostgreSQL URL must be a whole number of seconds ≥ 1, got "${raw}"`);
  return s * 1000;
}

function openPostgres(url: string): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: pgConnectTimeoutMs(url),
    // Statements marked PREPARED_MARK (the lookups' hot reads) run as named statements: see pg-prepared.ts.
    Client: PreparingClient,
    // BIGINT and COUNT(*) come back as numbers, as on SQLite (values stay far below 2^53).
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // Nor a checked-out one: pg emits 'error' on a client whose connection ends mid-query, and
  // pg-pool listens only while the client is idle. The query itself is rejected with the error.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Opens and migrates the store named by `url`: `sqlite:/abs/path/roster.db`, `sqlite::memory:`,
 * `postgres://…` or `postgresql://…`. Creates a missing SQLite data directory.
 * Errors: RosterError 'config' (bad URL, SQLite file cannot be opened), 'connect_failed'
 * (PostgreSQL unreachable or refusing us), 'internal' (a migration failed).
 * Never logs the URL (it may hold a password).
 */
export async function openStore(target: { url: string }): Promise<Store> {
  const dialect = dialectOf(target.url);
  let db: Kysely<Database>;
  try {
    db = dialect === 'sqlite' ? openSqlite(target.url) : openPostgres(target.url);
  } catch (e) {
    if (e instanceof RosterError) throw e;
    throw new RosterError('config', 'cannot open the SQLite store file', { cause: e });
  }
  if (dialect === 'postgres') {
    try {
      await sql`select 1`.execute(db);
    } catch (e) {
      await db.destroy().catch(() => {});
      const code = (e as { code?: string }).code;
      throw new RosterError('connect_failed', 'cannot connect to the PostgreSQL store', {
        cause: e,
        details: code === undefined ? {} : { code },
      });
    }
  }
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (e) {
    await db.destroy().catch(() => {});
    if (e instanceof RosterError) throw e;
    throw new RosterError('internal', `cannot open the ${dialect} store`, { cause: e });
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= db.destroy());
  return { db, dialect, close, [Symbol.asyncDispose]: close };
}

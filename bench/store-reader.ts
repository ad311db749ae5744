/**
 * Read-only SQL access to a Roster store for the bench's assertions, the same `?`-placeholder
 * SQL on both dialects (the schema keeps column types identical, src/store/schema.ts).
 */
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

export type Row = Record<string, unknown>;

export interface StoreReader {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** Opens the store behind a `sqlite:/path` or `postgres://…` URL. */
export async function openStoreReader(url: string): Promise<StoreReader> {
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(url.slice('sqlite:'.length), { readOnly: true });
    return {
      all: async (sql, params = []) => db.prepare(sql).all(...(params as Array<string | number | null>)) as Row[],
      close: async () => db.close(),
    };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return {
    all: async (sql, params = []) => {
      let i = 0;
      return (await c.query(sql.replace(/\?/g, () => `$${++i}`), [...params])).rows as Row[];
    },
    close: () => c.end(),
  };
}

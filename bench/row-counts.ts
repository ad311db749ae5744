/**
 * Rows written, counted by the DATABASE, not by Roster's own run counters.
 *
 * SQLite: the bench installs a counter table and AFTER INSERT/UPDATE/DELETE row triggers on every
 * application table (after the first sync, before the second); a no-op `UPDATE … SET x = x`
 * fires them too, so "zero" really means no row was touched.
 * PostgreSQL: pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del, read before and after;
 * the statistics are flushed by backends asynchronously (at the latest when they exit — the CLI
 * process has exited by then), so a reading is taken only when two consecutive ones agree.
 */
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** Tables holding the directory's users, aliases, groups and what hangs off them. */
export const DIRECTORY_TABLES = ['users', 'addresses', 'groups', 'memberships', 'contacts', 'contact_addresses'] as const;

export type RowCounts = Record<string, number>;

const COUNTER = 'bench_row_writes';

function appTables(db: DatabaseSync): string[] {
  const rows = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`).all(COUNTER) as Array<{ name: string }>;
  return rows.map((r) => r.name).sort();
}

const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;

/** Installs (idempotently) the counter table and row triggers on every application table. */
export function installSqliteCounters(file: string): string[] {
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS ${COUNTER} (tbl TEXT NOT NULL, op TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tbl, op))`);
    const tables = appTables(db);
    db.exec('BEGIN');
    for (const t of tables) {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
        const trig = q(`bench_${t}_${op.toLowerCase()}`);
        db.prepare(`INSERT OR IGNORE INTO ${COUNTER} (tbl, op, n) VALUES (?, ?, 0)`).run(t, op);
        db.exec(`CREATE TRIGGER IF NOT EXISTS ${trig} AFTER ${op} ON ${q(t)} FOR EACH ROW BEGIN ` +
          `UPDATE ${COUNTER} SET n = n + 1 WHERE tbl = '${t.replace(/'/g, "''")}' AND op = '${op}'; END`);
      }
    }
    db.exec('COMMIT');
    return tables;
  } finally {
    db.close();
  }
}

/** Current counter values per table (insert + update + delete). */
export function readSqliteCounters(file: string): RowCounts {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const out: RowCounts = {};
    for (const r of db.prepare(`SELECT tbl, SUM(n) AS n FROM ${COUNTER} GROUP BY tbl`).all() as Array<{ tbl: string; n: number | bigint }>) {
      out[r.tbl] = Number(r.n);
    }
    return out;
  } finally {
    db.close();
  }
}

async function pgOnce(c: pg.Client): Promise<RowCounts> {
  await c.query('SELECT pg_stat_clear_snapshot()');
  const r = await c.query<{ relname: string; n: string }>(
    'SELECT relname, (n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_user_tables ORDER BY relname');
  const out: RowCounts = {};
  for (const row of r.rows) out[row.relname] = Number(row.n);
  return out;
}

const same = (a: RowCounts, b: RowCounts): boolean => JSON.stringify(a) === JSON.stringify(b);

/** pg_stat_user_tables write counters per table, once two readings 300 ms apart agree (≤ 15 s). */
export async function readPgCounters(url: string): Promise<RowCounts> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    let prev = await pgOnce(c);
    for (let i = 0; i < 50; i++) {
      await sleep(300);
      const cur = await pgOnce(c);
      if (same(prev, cur)) return cur;
      prev = cur;
    }
    return prev;
  } finally {
    await c.end();
  }
}

/** after − before per table (tables absent before count from zero). */
export function diffCounts(before: RowCounts, after: RowCounts): RowCounts {
  const out: RowCounts = {};
  for (const [t, n] of Object.entries(after)) out[t] = n - (before[t] ?? 0);
  return out;
}

/** Splits a delta into directory rows (users, aliases, groups…) and the rest (runs, items, audit). */
export function splitCounts(delta: RowCounts): { directory: number; rest: number; detail: string } {
  let directory = 0;
  let rest = 0;
  const parts: string[] = [];
  for (const [t, n] of Object.entries(delta).sort()) {
    if ((DIRECTORY_TABLES as readonly string[]).includes(t)) directory += n;
    else rest += n;
    if (n !== 0) parts.push(`${t} ${n}`);
  }
  return { directory, rest, detail: parts.join(', ') || 'none' };
}

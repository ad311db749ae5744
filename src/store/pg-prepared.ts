/**
 * Opt-in prepared statements on PostgreSQL for hot read paths (lookups, R61). On PostgreSQL,
 * planning a small lookup statement costs more than running it (0.3–1 ms against ~0.05 ms on the
 * bench machine); a named statement is parsed and planned once per pooled connection and then only
 * executed. A statement opts in by ending with PREPARED_MARK (a comment: SQLite ignores it, and its
 * own dialect already caches prepared statements by text), so the SQL stays the same on both
 * dialects. Everything else (sync, admin writes, migrations) runs exactly as before.
 *
 * Callers keep the number of distinct texts small: IN lists are padded to a power-of-two length
 * (padIn), so a connection holds a few dozen plans at most.
 *
 * A named statement is only planned once if PostgreSQL settles on its generic plan: after five
 * custom plans it keeps the generic one unless that looks dearer than the custom ones did. A big
 * statement whose estimates depend on the values (range bounds seen through the histogram) can lose
 * that comparison and be re-planned on every call (pg_prepared_statements.custom_plans keeps
 * growing): autocomplete hides such values from both plans as `(select cast($n as text))`
 * (src/lookup/autocomplete-reads.ts).
 */
import pg from 'pg';
import { sql } from 'kysely';

export const PREPARED_MARK = '/*roster:prepared*/';
/** Append to a Kysely query with `.modifyEnd(PREPARED)`. */
export const PREPARED = sql.raw(PREPARED_MARK);

/** One name per distinct text for the whole process, so every pooled connection agrees (no hash collisions). */
const names = new Map<string, string>();
const MAX_NAMES = 2_000;

function statementName(text: string): string | null {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMES) return null; // a runaway variety of texts: run unprepared rather than grow
    name = `roster_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/** pg.Client that runs marked text queries as named (prepared) statements. Pass it as the Pool's `Client`. */
export class PreparingClient extends pg.Client {}

const plainQuery = pg.Client.prototype.query;
(PreparingClient.prototype as { query: unknown }).query = function query(this: pg.Client, config: unknown, values?: unknown, callback?: unknown): unknown {
  if (typeof config === 'string' && config.endsWith(PREPARED_MARK) && (values === undefined || Array.isArray(values)) && callback === undefined) {
    const name = statementName(config);
    if (name !== null) return (plainQuery as (c: unknown) => unknown).call(this, { name, text: config, values });
  }
  return (plainQuery as (c: unknown, v?: unknown, cb?: unknown) => unknown).call(this, config, values, callback);
};

/** `xs` padded to the next power-of-two length by repeating its last element (same IN semantics, few distinct texts). */
export function padIn<T>(xs: readonly T[]): T[] {
  if (xs.length <= 1) return [...xs];
  let n = 1;
  while (n < xs.length) n *= 2;
  const out = [...xs];
  while (out.length < n) out.push(xs[xs.length - 1]!);
  return out;
}

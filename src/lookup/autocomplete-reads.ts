/**
 * The read behind R61 autocomplete (src/lookup/autocomplete.ts): ONE statement per query, prepared
 * on PostgreSQL (src/store/pg-prepared.ts), returning every match and the details ranking needs.
 *
 * On PostgreSQL a lookup statement costs more to ship and start than to run (a round trip on a busy
 * two-core machine is ~0.3–0.5 ms; the index range scans ~0.05 ms), so the query is one statement
 * of common table expressions, each arm a bounded index range scan:
 *
 * - `c0`…, `rc` (two to GATED_MAX words): the index entries of each word counted up to RARITY_CAP
 *   (each after the first only up to the previous count); the word with the fewest (ties: the
 *   longest, then the first) drives the scan, its range bounds read from `rc`;
 * - `n`: name matches. One word: the first rows of its range in byte order. Several: the driving
 *   word's rows, each probed for the other words (EXISTS on the owner's rows) until enough match;
 * - `a`: the users' and groups' addresses, and the contacts' addresses, starting with the query;
 * - then every name match and the address matches that can still enter the result (exact ones, and
 *   the others only while the name matches do not fill the limit: they rank below), each row with
 *   the details of its object (detailColumns), ordered as autocomplete.ts offers them.
 *
 * More than GATED_MAX words (rare: a whole address with many dots) would make the gated arms grow
 * with the square of the words: the driving word is counted by a statement of its own first.
 * LIMITs are literals (few distinct texts: they depend on `limit` only), so PostgreSQL's generic
 * plan knows how few rows each arm yields; range bounds are `(select cast($n as text))`, hidden from
 * the custom plans too, so PostgreSQL settles on the generic plan (pg-prepared.ts). The statement is
 * built and compiled once per shape (compiled()).
 */
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import { foldWords, prefixUpperBound } from '../core/fold.ts';
import type { UserState } from '../core/model.ts';
import type { Database } from '../store/schema.ts';
import { PREPARED } from '../store/pg-prepared.ts';
import type { LookupKind } from './autocomplete.ts';

/** Name-word rows read for a one-word query: enough to rank `limit` results, bounded so a short prefix stays cheap. */
function namePool(limit: number): number {
  return Math.min(300, Math.max(30, limit * 3));
}
/** Objects a multi-word query collects, and the rows of its driving word it probes at most. */
function multiPool(limit: number): { hits: number; scan: number } {
  return { hits: limit, scan: Math.min(3000, Math.max(300, limit * 30)) };
}
/** Address rows read per source. */
function addressPool(limit: number): number {
  return Math.min(100, Math.max(30, limit * 3));
}
/**
 * Index entries counted at most per word to find the rarest word of a multi-word query. Counting is
 * the dearest part of such a query (~0.25 ms of PostgreSQL CPU per 5,000 entries), but a lower cap
 * is worse: names are correlated with insertion order, so a common word driving the scan can spend
 * its multiPool().scan rows on one given name and find nothing ("Em Ros" on the 100k bench store:
 * 9 results with 5,000, none with 1,000).
 */
const RARITY_CAP = 5000;
/** Words up to which the driving word is chosen inside the statement (a count per word, a probe per word). */
export const GATED_MAX = 4;

export type Owners = { user_id: string | null; group_id: string | null; contact_id: string | null; matched: string };
/** A match: `src` 'name' (a name word) or 'address'. */
export type MatchRow = Owners & { src: 'name' | 'address' };

export interface Details {
  kind: LookupKind;
  name: string | null;
  address: string | null;
  state: UserState | null;
  connection: string | null;
  /** Folded whole names an exact match compares with. */
  wholeNames: string[];
  firstWord: string | null;
}

export interface AutocompleteRows {
  /** In statement order: name matches (each arm in byte order), then address matches. */
  found: MatchRow[];
  /** By `kind:id` (kind 'user' for users and public folders): every name match, exact addresses, other addresses while names do not fill the limit. */
  details: Map<string, Details>;
}

export interface AutocompleteRead {
  tenantId: string;
  /** Folded, distinct words (may be empty). */
  tokens: string[];
  /** The query as an address prefix, or null. */
  prefix: string | null;
  kinds: Set<LookupKind>;
  limit: number;
}

const lit = (n: number) => sql.lit(n);
const NULL_TEXT = sql`cast(null as text)`;

/** `col >= t and col < t + U+10FFFF`: the words (or addresses) starting with `t`, as an index range. */
const startsWith = (col: string, t: string) => sql`${sql.raw(col)} >= (select cast(${t} as text)) and ${sql.raw(col)} < (select cast(${prefixUpperBound(t)} as text))`;

function kindFilter(kinds: Set<LookupKind>): RawBuilder<unknown> {
  const users = kinds.has('user') || kinds.has('public_folder');
  if (users && kinds.has('group') && kinds.has('contact')) return sql``;
  const ors: RawBuilder<unknown>[] = [];
  if (users) ors.push(sql`st.user_id is not null`);
  if (kinds.has('group')) ors.push(sql`st.group_id is not null`);
  if (kinds.has('contact')) ors.push(sql`st.contact_id is not null`);
  return sql` and (${sql.join(ors, sql` or `)})`;
}

/** The rows of a name word's range (`from`: `col >= … and col < …`), in byte order, at most `limit`. */
function termRange(tenantId: string, range: RawBuilder<unknown>, kinds: Set<LookupKind>, limit: number) {
  return sql`select st.user_id, st.group_id, st.contact_id, st.term as matched from search_terms as st
    where st.tenant_id = ${tenantId} and ${range}${kindFilter(kinds)} order by st.term limit ${lit(limit)}`;
}

/** The word `t` prefixes some word of the row's owner. */
function probe(t: string): RawBuilder<unknown> {
  return sql.join((['user_id', 'group_id', 'contact_id'] as const).map((col) =>
    sql`(st.${sql.raw(col)} is null or exists (select 1 from search_terms as x where x.${sql.raw(col)} = st.${sql.raw(col)} and ${startsWith('x.term', t)}))`), sql` and `);
}

/**
 * `n`'s arm over `words` (tieOrder for a gated query; the driving word first when it is known): one
 * word; several with the driver known; or several, the driver being `rc`'s word (its range bounds
 * read from `rc`, its own probe skipped): one arm, whatever the number of words, so the statement
 * stays small to plan.
 */
function nameArm(r: StatementShape, tenantId: string, words: string[]): RawBuilder<unknown> {
  const { kinds, limit } = r;
  if (words.length === 1) return sql`select * from (${termRange(tenantId, startsWith('st.term', words[0]!), kinds, namePool(limit))}) as n0`;
  const { hits, scan } = multiPool(limit);
  const gated = r.mode === 'gated';
  const range = gated ? sql`st.term >= (select t from rc) and st.term < (select u from rc)` : startsWith('st.term', words[0]!);
  const probes = gated
    ? words.map((t, i) => sql`((select k from rc) = ${lit(i)} or (${probe(t)}))`)
    : words.slice(1).map((t) => probe(t));
  return sql`select * from (select st.user_id, st.group_id, st.contact_id, st.matched from (${termRange(tenantId, range, kinds, scan)}) as st
    where ${sql.join(probes, sql` and `)} order by st.matched limit ${lit(hits)}) as n0`;
}

/** The words in the order that breaks a tie of counts: longest first, then as typed. */
function tieOrder(tokens: string[]): string[] {
  return tokens.map((t, i) => ({ t, i })).sort((a, b) => b.t.length - a.t.length || a.i - b.i).map((x) => x.t);
}

/**
 * The CTEs that find the rarest word: `c<i>` counts the index entries of the i-th word in tieOrder,
 * up to RARITY_CAP for the first and up to the previous count for the others (a word is chosen only
 * when it has fewer, so counting further is waste: same choice, fewer entries read); `rc` is the
 * position of the word with the fewest (ties: the earlier in tieOrder).
 */
function rarityCtes(tenantId: string, order: string[]): RawBuilder<unknown>[] {
  const ctes = order.map((t, i) => {
    const cap = i === 0 ? lit(RARITY_CAP) : sql`(select n from ${sql.raw(`c${i - 1}`)})`;
    return sql`${sql.raw(`c${i}`)} as materialized (select ${lit(i)} as k, cast(${t} as text) as t, cast(${prefixUpperBound(t)} as text) as u, count(*) as n from
      (select 1 as one from search_terms where tenant_id = ${tenantId} and ${startsWith('term', t)} limit ${cap}) as r)`;
  });
  const all = sql.join(order.map((_, i) => sql`select k, t, u, n from ${sql.raw(`c${i}`)}`), sql` union all `);
  ctes.push(sql`rc as materialized (select k, t, u from (${all}) as c order by n, k limit 1)`);
  return ctes;
}

/**
 * The driving word of a query of more than GATED_MAX words, by a statement of its own: the one with
 * the fewest index entries (counted up to RARITY_CAP; ties to the longest, then the first).
 */
async function drivingToken(db: Kysely<Database>, tenantId: string, tokens: string[]): Promise<string> {
  const order = tieOrder(tokens);
  const row = (await sql<{ k: number | string }>`with ${sql.join(rarityCtes(tenantId, order))} select k from rc ${PREPARED}`.execute(db)).rows[0];
  return order[Number(row?.k ?? 0)]!;
}

/** `a`'s arms: users' and groups' addresses, contacts' addresses, each the first rows of its range. */
function addressArms(r: StatementShape, tenantId: string, prefix: string): RawBuilder<unknown>[] {
  const { kinds } = r;
  const pool = lit(addressPool(r.limit));
  const arms: RawBuilder<unknown>[] = [];
  const users = kinds.has('user') || kinds.has('public_folder');
  if (users || kinds.has('group')) {
    const only = !users ? sql` and group_id is not null` : !kinds.has('group') ? sql` and user_id is not null` : sql``;
    arms.push(sql`select * from (select user_id, group_id, ${NULL_TEXT} as contact_id, address as matched from addresses
      where tenant_id = ${tenantId} and ${startsWith('address', prefix)}${only} order by address limit ${pool}) as h`);
  }
  if (kinds.has('contact')) {
    arms.push(sql`select * from (select ${NULL_TEXT} as user_id, ${NULL_TEXT} as group_id, ca.contact_id, ca.address as matched
      from contact_addresses as ca inner join contacts as c on c.id = ca.contact_id
      where c.tenant_id = ${tenantId} and ${startsWith('ca.address', prefix)} order by ca.address limit ${pool}) as s`);
  }
  return arms;
}

/**
 * The details each match row carries, of the object it names: a user's through a left join (the
 * common case: an index probe per row); a group's or a contact's through scalar subqueries that only
 * their rows evaluate (a join would let the planner hash a seq scan of every group). A null name
 * (user_id null for a user) means the object is gone meanwhile.
 */
function detailColumns(tenantId: string): { columns: RawBuilder<unknown>; joins: RawBuilder<unknown> } {
  const columns = sql`u.id as user_found, u.display_name, u.given_name, u.surname, u.state, u.kind,
    case when m.group_id is not null then (select g.name from groups as g where g.id = m.group_id and g.tenant_id = ${tenantId}) end as group_name,
    case when m.contact_id is not null then (select ct.name from contacts as ct where ct.id = m.contact_id and ct.tenant_id = ${tenantId}) end as contact_name,
    case when u.id is not null then (select c.name from connections as c where c.id = u.connection_id)
      when m.group_id is not null then (select c.name from groups as g inner join connections as c on c.id = g.connection_id where g.id = m.group_id)
      when m.contact_id is not null then (select c.name from contacts as ct inner join connections as c on c.id = ct.connection_id where ct.id = m.contact_id) end as connection,
    case when u.id is not null then (select x.address from addresses as x where x.user_id = u.id and x.role = 'primary')
      when m.group_id is not null then (select x.address from addresses as x where x.group_id = m.group_id and x.role = 'group')
      when m.contact_id is not null then (select min(x.address) from contact_addresses as x where x.contact_id = m.contact_id) end as address`;
  const joins = sql`left join users as u on u.id = m.user_id and u.tenant_id = ${tenantId}`;
  return { columns, joins };
}

interface Row {
  src: 'name' | 'address';
  user_found: string | null;
  group_name: string | null;
  contact_name: string | null;
  user_id: string | null;
  group_id: string | null;
  contact_id: string | null;
  matched: string;
  display_name: string | null;
  given_name: string | null;
  surname: string | null;
  state: string | null;
  kind: string | null;
  connection: string | null;
  address: string | null;
}

/** What the statement's text depends on (its values aside). */
interface StatementShape {
  /** 'one' word, 'gated' (2..GATED_MAX words, the rarest chosen inside), 'drive' (more: the driver known). */
  mode: 'none' | 'one' | 'gated' | 'drive';
  words: number;
  prefix: boolean;
  kinds: Set<LookupKind>;
  limit: number;
}

/**
 * Placeholders the statement is built with once per shape, replaced by the values at each call: the
 * text and the parameters' order depend on the shape only, and building and compiling the statement
 * cost as much Node CPU as running it (0.06-0.2 ms).
 */
const TENANT = '\u0000tenant';
const PREFIX = '\u0000prefix';
const wordSlot = (i: number) => `\u0000word${i}`;
const UPPER = prefixUpperBound('');

interface Compiled {
  sql: string;
  /** Per parameter: the placeholder it stands for. */
  slots: readonly string[];
}
const compiledByDb = new WeakMap<object, Map<string, Compiled>>();
const MAX_SHAPES = 500;

function buildStatement(shape: StatementShape): RawBuilder<Row> {
  const words = Array.from({ length: shape.words }, (_, i) => wordSlot(i));
  const names = shape.mode === 'none' ? [] : [nameArm(shape, TENANT, words)];
  const addresses = shape.prefix ? addressArms(shape, TENANT, PREFIX) : [];
  const ctes: RawBuilder<unknown>[] = [];
  if (shape.mode === 'gated') ctes.push(...rarityCtes(TENANT, words));
  if (names.length > 0) ctes.push(sql`n as materialized (${sql.join(names, sql` union all `)})`);
  if (addresses.length > 0) ctes.push(sql`a as materialized (${sql.join(addresses, sql` union all `)})`);
  const matchRows: RawBuilder<unknown>[] = [];
  if (names.length > 0) matchRows.push(sql`select 0 as o, 'name' as src, user_id, group_id, contact_id, matched from n`);
  if (addresses.length > 0) {
    // Address-only matches rank below every name match: when the names fill the limit, only exact
    // addresses can still enter the result (autocomplete.ts ranks), so the others are not returned.
    const room = names.length === 0 ? sql`` : sql` or (select count(*) from (select distinct user_id, group_id, contact_id from n) as d) < ${lit(shape.limit)}`;
    matchRows.push(sql`select 1 as o, 'address' as src, user_id, group_id, contact_id, matched from a where matched = ${PREFIX}${room}`);
  }
  const { columns, joins } = detailColumns(TENANT);
  // Ordered as autocomplete.ts offers them (names, then addresses; a candidate's first row, in byte
  // order, is its `matched` among equal matches).
  return sql<Row>`with ${sql.join(ctes)} select m.src, m.user_id, m.group_id, m.contact_id, m.matched, ${columns}
    from (${sql.join(matchRows, sql` union all `)}) as m ${joins} order by m.o, m.matched ${PREPARED}`;
}

function compiled(db: Kysely<Database>, shape: StatementShape): Compiled {
  let byShape = compiledByDb.get(db);
  if (byShape === undefined) compiledByDb.set(db, (byShape = new Map()));
  const key = `${shape.mode}:${shape.words}:${shape.prefix}:${[...shape.kinds].sort().join(',')}:${shape.limit}`;
  let c = byShape.get(key);
  if (c === undefined) {
    const q = buildStatement(shape).compile(db);
    c = { sql: q.sql, slots: q.parameters.map((p) => String(p)) };
    if (byShape.size < MAX_SHAPES) byShape.set(key, c); // a runaway variety of shapes compiles each time rather than grow
  }
  return c;
}

/** R61: every match of the query and the details of the objects ranking needs, in one statement. */
export async function readAutocomplete(db: Kysely<Database>, r: AutocompleteRead): Promise<AutocompleteRows> {
  const n = r.tokens.length;
  const mode = n === 0 ? 'none' : n === 1 ? 'one' : n <= GATED_MAX ? 'gated' : 'drive';
  if (mode === 'none' && r.prefix === null) return { found: [], details: new Map() };
  let words = r.tokens;
  if (mode === 'gated') words = tieOrder(r.tokens);
  if (mode === 'drive') {
    const drive = await drivingToken(db, r.tenantId, r.tokens);
    words = [drive, ...r.tokens.filter((t) => t !== drive)];
  }
  const c = compiled(db, { mode, words: n, prefix: r.prefix !== null, kinds: r.kinds, limit: r.limit });
  const value = (slot: string): string => {
    if (slot === TENANT) return r.tenantId;
    if (slot === PREFIX) return r.prefix!;
    if (slot.endsWith(UPPER)) return prefixUpperBound(value(slot.slice(0, -UPPER.length)));
    return words[Number(slot.slice(wordSlot(0).length - 1))]!;
  };
  const rows = (await db.executeQuery(CompiledQuery.raw(c.sql, c.slots.map(value)))).rows as Row[];

  const found: MatchRow[] = [];
  const details = new Map<string, Details>();
  for (const row of rows) {
    found.push({ src: row.src, user_id: row.user_id, group_id: row.group_id, contact_id: row.contact_id, matched: row.matched });
    if (row.user_found !== null) {
      const key = `user:${row.user_id!}`;
      if (details.has(key)) continue;
      const given = [row.given_name, row.surname].filter((x) => x !== null && x !== '').join(' ');
      const name = row.display_name ?? (given === '' ? null : given);
      const words = foldWords(name);
      const wholeNames = [words.join(' ')];
      if (row.display_name !== null && given !== '') wholeNames.push(foldWords(given).join(' '));
      details.set(key, {
        kind: row.kind === 'public_folder' ? 'public_folder' : 'user', name, address: row.address, state: row.state as UserState, connection: row.connection,
        wholeNames, firstWord: words[0] ?? null,
      });
    } else if (row.group_name !== null || row.contact_name !== null) {
      const kind = row.group_name !== null ? 'group' : 'contact';
      const key = `${kind}:${kind === 'group' ? row.group_id! : row.contact_id!}`;
      if (details.has(key)) continue;
      const name = (row.group_name ?? row.contact_name)!;
      const words = foldWords(name);
      details.set(key, { kind, name, address: row.address, state: null, connection: row.connection, wholeNames: [words.join(' ')], firstWord: words[0] ?? null });
    }
  }
  return { found, details };
}

/**
 * The reads behind R61 autocomplete (src/lookup/autocomplete.ts): two statements per query, both
 * prepared on PostgreSQL (src/store/pg-prepared.ts), plus one counting the words of a multi-word
 * query. On PostgreSQL each statement costs more to plan and ship than to run, so every match is
 * one UNION ALL of bounded index range scans, and every detail one UNION ALL whose address and
 * connection name are scalar subqueries (cheap to plan, unlike a many-table join).
 */
import { sql, type Kysely, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import { foldWords, prefixUpperBound } from '../core/fold.ts';
import type { UserState } from '../core/model.ts';
import type { Database } from '../store/schema.ts';
import { PREPARED, padIn } from '../store/pg-prepared.ts';
import type { LookupKind } from './autocomplete.ts';

/** Name-word rows read for a one-word query: enough to rank `limit` results, bounded so a short prefix stays cheap. */
function namePool(limit: number): number {
  return Math.min(300, Math.max(30, limit * 3));
}
/** Objects a multi-word query collects, and the rows of its driving word it probes at most. */
function multiPool(limit: number): { hits: number; scan: number } {
  return { hits: limit, scan: Math.min(3000, Math.max(300, limit * 30)) };
}
/** Address rows read per source (two sources: with the name pool, every IN list stays ≤ 500 ids). */
function addressPool(limit: number): number {
  return Math.min(100, Math.max(30, limit * 3));
}
/** Index entries counted at most per word to find the rarest word of a multi-word query. */
const RARITY_CAP = 5000;

type TermEb = ExpressionBuilder<Database & { st: Database['search_terms'] }, 'st'>;
export type Owners = { user_id: string | null; group_id: string | null; contact_id: string | null; matched: string };

/**
 * The word that drives the scan: for one word, itself; for several, the one with the fewest index
 * entries (counted up to RARITY_CAP, in one statement; ties to the longest), so the other words'
 * probes hit as often as can be.
 */
export async function drivingToken(db: Kysely<Database>, tenantId: string, tokens: string[]): Promise<string> {
  if (tokens.length === 1) return tokens[0]!;
  const counts = tokens.map((t, i) =>
    sql<number>`(select count(*) from (select 1 as one from search_terms where tenant_id = ${tenantId} and term >= ${t} and term < ${prefixUpperBound(t)} limit ${RARITY_CAP}) as ${sql.ref(`r${i}`)})`.as(`n${i}`));
  const row = (await sql<Record<string, number | string>>`select ${sql.join(counts)} ${PREPARED}`.execute(db)).rows[0] ?? {};
  let best = 0;
  const n = (i: number) => Number(row[`n${i}`] ?? 0);
  for (let i = 1; i < tokens.length; i++) {
    if (n(i) < n(best) || (n(i) === n(best) && tokens[i]!.length > tokens[best]!.length)) best = i;
  }
  return tokens[best]!;
}

function kindFilter(eb: TermEb, kinds: Set<LookupKind>) {
  const ors = [];
  if (kinds.has('user') || kinds.has('public_folder')) ors.push(eb('st.user_id', 'is not', null));
  if (kinds.has('group')) ors.push(eb('st.group_id', 'is not', null));
  if (kinds.has('contact')) ors.push(eb('st.contact_id', 'is not', null));
  return eb.or(ors);
}

/**
 * Name matches as owners (user_id | group_id | contact_id, matched term). One word: the first rows
 * of its range in byte order. Several: the rarest word's range, at most `scan` rows of it, each
 * probed for every other word, until `hits` rows matched.
 */
function nameOwners(db: Kysely<Database>, tenantId: string, drive: string, others: string[], kinds: Set<LookupKind>, limit: number) {
  const allKinds = (kinds.has('user') || kinds.has('public_folder')) && kinds.has('group') && kinds.has('contact');
  const range = db
    .selectFrom('search_terms as st')
    .select(['st.user_id', 'st.group_id', 'st.contact_id', 'st.term as matched'])
    .where('st.tenant_id', '=', tenantId)
    .where('st.term', '>=', drive)
    .where('st.term', '<', prefixUpperBound(drive))
    .$if(!allKinds, (qb) => qb.where((eb: TermEb) => kindFilter(eb, kinds)))
    .orderBy('st.term');
  if (others.length === 0) return range.limit(namePool(limit));
  const { hits, scan } = multiPool(limit);
  return db
    .selectFrom(range.limit(scan).as('st'))
    .select(['st.user_id', 'st.group_id', 'st.contact_id', 'st.matched'])
    .where((eb) =>
      eb.and(
        others.flatMap((t) =>
          (['user_id', 'group_id', 'contact_id'] as const).map((col) =>
            eb.or([
              eb(`st.${col}`, 'is', null),
              eb.exists(
                eb.selectFrom('search_terms as x').select('x.term').whereRef(`x.${col}`, '=', `st.${col}`)
                  .where('x.term', '>=', t).where('x.term', '<', prefixUpperBound(t)),
              ),
            ]),
          ),
        ),
      ),
    )
    .orderBy('st.matched')
    .limit(hits);
}

const NULL_TEXT = sql<string | null>`cast(null as text)`;

/**
 * Every match in ONE statement (round trips and statements dominate on PostgreSQL): the name
 * words' owners, and the users' and groups' and contacts' addresses starting with the prefix,
 * each arm an index range scan with its own ORDER BY / LIMIT (inside a derived table: SQLite
 * allows neither on a compound's arm).
 */
type MatchRow = Owners & { src: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Arm<R> = SelectQueryBuilder<any, any, R>;

export async function matches(db: Kysely<Database>, tenantId: string, names: { drive: string; others: string[] } | null, prefix: string | null, kinds: Set<LookupKind>, limit: number): Promise<MatchRow[]> {
  const arms: Arm<MatchRow>[] = [];
  if (names !== null) {
    arms.push(db.selectFrom(nameOwners(db, tenantId, names.drive, names.others, kinds, limit).as('n'))
      .select(['n.user_id', 'n.group_id', 'n.contact_id', 'n.matched', sql<string>`'name'`.as('src')]) as Arm<MatchRow>);
  }
  if (prefix !== null) {
    const pool = addressPool(limit);
    const wantUsers = kinds.has('user') || kinds.has('public_folder');
    if (wantUsers || kinds.has('group')) {
      const held = db
        .selectFrom('addresses')
        .select(['user_id', 'group_id', 'address'])
        .where('tenant_id', '=', tenantId)
        .where('address', '>=', prefix)
        .where('address', '<', prefixUpperBound(prefix))
        .$if(!wantUsers, (qb) => qb.where('group_id', 'is not', null))
        .$if(!kinds.has('group'), (qb) => qb.where('user_id', 'is not', null))
        .orderBy('address')
        .limit(pool);
      arms.push(db.selectFrom(held.as('h')).select(['h.user_id', 'h.group_id', NULL_TEXT.as('contact_id'), 'h.address as matched', sql<string>`'address'`.as('src')]) as Arm<MatchRow>);
    }
    if (kinds.has('contact')) {
      const shown = db
        .selectFrom('contact_addresses as ca')
        .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
        .select(['ca.contact_id', 'ca.address'])
        .where('c.tenant_id', '=', tenantId)
        .where('ca.address', '>=', prefix)
        .where('ca.address', '<', prefixUpperBound(prefix))
        .orderBy('ca.address')
        .limit(pool);
      arms.push(db.selectFrom(shown.as('s')).select([NULL_TEXT.as('user_id'), NULL_TEXT.as('group_id'), 's.contact_id', 's.address as matched', sql<string>`'address'`.as('src')]) as Arm<MatchRow>);
    }
  }
  if (arms.length === 0) return [];
  let q = arms[0]!;
  for (const arm of arms.slice(1)) q = q.unionAll(arm);
  return q.modifyEnd(PREPARED).execute();
}

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

/**
 * The details ranking needs, by `kind:id`, in ONE statement: an arm per kind (users, groups,
 * contacts) with the same columns; address and connection name as scalar subqueries (cheap to
 * plan, unlike a many-table join). IN lists padded to a power of two (few distinct texts).
 */
interface DetailRow {
  tag: string;
  id: string;
  display_name: string | null;
  given_name: string | null;
  surname: string | null;
  state: string | null;
  kind: string | null;
  connection: string | null;
  address: string | null;
}

export async function loadDetails(db: Kysely<Database>, tenantId: string, userIds: string[], groupIds: string[], contactIds: string[]): Promise<Map<string, Details>> {
  const arms: Arm<DetailRow>[] = [];
  if (userIds.length > 0) {
    arms.push(db.selectFrom('users as u').select((eb) => [
      sql<string>`'user'`.as('tag'), 'u.id', 'u.display_name', 'u.given_name', 'u.surname', 'u.state', 'u.kind',
      eb.selectFrom('connections as c').select('c.name').whereRef('c.id', '=', 'u.connection_id').as('connection'),
      eb.selectFrom('addresses as a').select('a.address').whereRef('a.user_id', '=', 'u.id').where('a.role', '=', 'primary').as('address'),
    ]).where('u.tenant_id', '=', tenantId).where('u.id', 'in', padIn(userIds)) as Arm<DetailRow>);
  }
  if (groupIds.length > 0) {
    arms.push(db.selectFrom('groups as g').select((eb) => [
      sql<string>`'group'`.as('tag'), 'g.id', 'g.name as display_name', NULL_TEXT.as('given_name'), NULL_TEXT.as('surname'), NULL_TEXT.as('state'), NULL_TEXT.as('kind'),
      eb.selectFrom('connections as c').select('c.name').whereRef('c.id', '=', 'g.connection_id').as('connection'),
      eb.selectFrom('addresses as a').select('a.address').whereRef('a.group_id', '=', 'g.id').where('a.role', '=', 'group').as('address'),
    ]).where('g.tenant_id', '=', tenantId).where('g.id', 'in', padIn(groupIds)) as Arm<DetailRow>);
  }
  if (contactIds.length > 0) {
    arms.push(db.selectFrom('contacts as ct').select((eb) => [
      sql<string>`'contact'`.as('tag'), 'ct.id', 'ct.name as display_name', NULL_TEXT.as('given_name'), NULL_TEXT.as('surname'), NULL_TEXT.as('state'), NULL_TEXT.as('kind'),
      eb.selectFrom('connections as c').select('c.name').whereRef('c.id', '=', 'ct.connection_id').as('connection'),
      eb.selectFrom('contact_addresses as ca').select((e) => e.fn.min('ca.address').as('m')).whereRef('ca.contact_id', '=', 'ct.id').as('address'),
    ]).where('ct.tenant_id', '=', tenantId).where('ct.id', 'in', padIn(contactIds)) as unknown as Arm<DetailRow>);
  }
  const out = new Map<string, Details>();
  if (arms.length === 0) return out;
  let q = arms[0]!;
  for (const arm of arms.slice(1)) q = q.unionAll(arm);
  for (const r of await q.modifyEnd(PREPARED).execute()) {
    const address = r.address ?? null;
    if (r.tag === 'user') {
      const given = [r.given_name, r.surname].filter((x) => x !== null && x !== '').join(' ');
      const name = r.display_name ?? (given === '' ? null : given);
      const words = foldWords(name);
      const wholeNames = [words.join(' ')];
      if (r.display_name !== null && given !== '') wholeNames.push(foldWords(given).join(' '));
      out.set(`user:${r.id}`, {
        kind: r.kind === 'public_folder' ? 'public_folder' : 'user', name, address, state: r.state as UserState, connection: r.connection ?? null,
        wholeNames, firstWord: words[0] ?? null,
      });
    } else {
      const words = foldWords(r.display_name);
      out.set(`${r.tag}:${r.id}`, {
        kind: r.tag === 'group' ? 'group' : 'contact', name: r.display_name, address, state: null, connection: r.connection ?? null,
        wholeNames: [words.join(' ')], firstWord: words[0] ?? null,
      });
    }
  }
  return out;
}


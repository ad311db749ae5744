/**
 * R61 autocomplete over one tenant's users (and public folders), groups and contacts, for rule
 * editors: a prefix of any name word (search_terms) or of an address, case- and accent-insensitive.
 *
 * Cost is bounded whatever the prefix: each source (name words; addresses of users and groups;
 * contacts' addresses) is an index range scan in byte order stopped after a small pool of rows, so
 * a one-letter prefix over 100,000 users reads a few dozen index entries, not every match. Ranking
 * is exact within the pool; a prefix matching more objects than the pool holds ranks the closest
 * words (shortest first, in byte order) — type one more letter to narrow it.
 *
 * Multi-word queries: the rarest token (index entries counted up to a cap) drives the scan; every
 * other token must prefix some word of the same object (an EXISTS probe on the owner's rows); or
 * the whole query prefixes an address. Every query names the tenant: no other tenant's object can
 * appear.
 *
 * Round trips are few (they dominate on PostgreSQL): one statement for the name matches and one
 * for the address matches, each joined to the details ranking needs, run concurrently; a
 * multi-word query adds one statement counting its words.
 */
import { sql, type Kysely, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import { foldText, foldWords, prefixUpperBound } from '../core/fold.ts';
import { normalizeDomain } from '../core/address.ts';
import { RosterError } from '../core/errors.ts';
import type { UserState } from '../core/model.ts';
import type { Database } from '../store/schema.ts';

export type LookupKind = 'user' | 'public_folder' | 'group' | 'contact';
export const LOOKUP_KINDS: readonly LookupKind[] = ['user', 'public_folder', 'group', 'contact'];

/** How a result matched, best first. */
export type MatchKind = 'exact_name' | 'exact_address' | 'name_first_word' | 'name_word' | 'address';

export interface AutocompleteHit {
  kind: LookupKind;
  id: string;
  /** Display name (users: display name, else given name + surname), group or contact name. */
  name: string | null;
  /** Users: primary address; groups: their address; contacts: their first address (byte order). */
  address: string | null;
  /** Users and public folders only. */
  state: UserState | null;
  /** The directory connection that owns the object (null for manual users). */
  connection: string | null;
  match: MatchKind;
  /** The folded word or the address that matched. */
  matched: string;
}

export interface AutocompleteInput {
  tenantId: string;
  query: string;
  /** 1..100, default 10. */
  limit?: number;
  /** Default: every kind. */
  kinds?: readonly LookupKind[];
}

export interface AutocompleteResult {
  query: string;
  /** The folded words of the query. */
  tokens: string[];
  results: AutocompleteHit[];
}

export const MAX_QUERY = 256;
export const MAX_LIMIT = 100;
const WORD_RE = /[\p{L}\p{N}]+/gu;

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
  return Math.min(300, Math.max(30, limit * 3));
}
/** Index entries counted at most per word to find the rarest word of a multi-word query. */
const RARITY_CAP = 5000;

const MATCH_RANK: Record<MatchKind, number> = { exact_name: 0, exact_address: 0, name_first_word: 1, name_word: 2, address: 3 };
const KIND_RANK: Record<LookupKind, number> = { user: 0, public_folder: 1, group: 2, contact: 3 };

/** Validates and parses the input (bad_input with a message an administrator can act on). */
export function parseQuery(input: AutocompleteInput): { tokens: string[]; addressPrefix: string | null; limit: number; kinds: Set<LookupKind> } {
  const q = input.query.trim();
  if (q === '') throw new RosterError('bad_input', 'the autocomplete query is empty: type at least one letter or digit of a name or address');
  if (q.length > MAX_QUERY) throw new RosterError('bad_input', `the autocomplete query is ${q.length} characters long; at most ${MAX_QUERY} are allowed`);
  const limit = input.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RosterError('bad_input', `the autocomplete limit must be a whole number from 1 to ${MAX_LIMIT}, not ${String(limit)}`);
  }
  const kinds = new Set<LookupKind>(input.kinds ?? LOOKUP_KINDS);
  for (const k of kinds) {
    if (!LOOKUP_KINDS.includes(k)) throw new RosterError('bad_input', `unknown kind ${JSON.stringify(k)}: use ${LOOKUP_KINDS.join(', ')}`);
  }
  if (kinds.size === 0) throw new RosterError('bad_input', `no kind selected: use ${LOOKUP_KINDS.join(', ')}`);
  const tokens = [...new Set([...foldText(q).matchAll(WORD_RE)].map((m) => m[0]))];
  return { tokens, addressPrefix: addressPrefixOf(q), limit, kinds };
}

/**
 * The query as an address prefix (addresses are stored lower-case, domains in punycode), or null
 * when it cannot prefix one (whitespace inside). A complete Unicode domain is converted.
 */
function addressPrefixOf(q: string): string | null {
  if (/\s/.test(q)) return null;
  const lower = q.toLowerCase();
  const at = lower.indexOf('@');
  if (at < 0) return lower;
  const domain = lower.slice(at + 1);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(domain)) {
    const ascii = normalizeDomain(domain);
    if (ascii !== null) return lower.slice(0, at + 1) + ascii;
  }
  return lower;
}

type TermEb = ExpressionBuilder<Database & { st: Database['search_terms'] }, 'st'>;
type Owners = { user_id: string | null; group_id: string | null; contact_id: string | null; matched: string };

/**
 * The word that drives the scan: for one word, itself; for several, the one with the fewest index
 * entries (counted up to RARITY_CAP, in one statement; ties to the longest), so the other words'
 * probes hit as often as can be.
 */
async function drivingToken(db: Kysely<Database>, tenantId: string, tokens: string[]): Promise<string> {
  if (tokens.length === 1) return tokens[0]!;
  const counts = tokens.map((t, i) =>
    sql<number>`(select count(*) from (select 1 as one from search_terms where tenant_id = ${tenantId} and term >= ${t} and term < ${prefixUpperBound(t)} limit ${RARITY_CAP}) as ${sql.ref(`r${i}`)})`.as(`n${i}`));
  const row = (await sql<Record<string, number | string>>`select ${sql.join(counts)}`.execute(db)).rows[0] ?? {};
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

const NO_ID = sql<string | null>`cast(null as text)`;

/** Address matches as owners: users' and groups' addresses, and contacts' addresses, of the tenant. */
function addressOwners(db: Kysely<Database>, tenantId: string, prefix: string, kinds: Set<LookupKind>, limit: number) {
  const pool = addressPool(limit);
  const wantUsers = kinds.has('user') || kinds.has('public_folder');
  const held = db
    .selectFrom('addresses')
    .select(['user_id', 'group_id', NO_ID.as('contact_id'), 'address as matched'])
    .where('tenant_id', '=', tenantId)
    .where('address', '>=', prefix)
    .where('address', '<', prefixUpperBound(prefix))
    .$if(!wantUsers, (qb) => qb.where('group_id', 'is not', null))
    .$if(!kinds.has('group'), (qb) => qb.where('user_id', 'is not', null))
    .orderBy('address')
    .limit(pool);
  const shown = db
    .selectFrom('contact_addresses as ca')
    .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
    .select([NO_ID.as('user_id'), NO_ID.as('group_id'), 'ca.contact_id', 'ca.address as matched'])
    .where('c.tenant_id', '=', tenantId)
    .where('ca.address', '>=', prefix)
    .where('ca.address', '<', prefixUpperBound(prefix))
    .orderBy('ca.address')
    .limit(pool);
  const wantHeld = wantUsers || kinds.has('group');
  if (wantHeld && kinds.has('contact')) {
    // Each branch keeps its own ORDER BY / LIMIT inside a derived table (SQLite allows neither on a compound's arm).
    return db.selectFrom(held.as('h')).selectAll().unionAll(db.selectFrom(shown.as('s')).selectAll());
  }
  return wantHeld ? held : kinds.has('contact') ? shown : null;
}

/** What ranking and the result need, joined to the owners in the same statement. */
function withDetails(db: Kysely<Database>, owners: SelectQueryBuilder<Database, never, Owners>) {
  return db
    .selectFrom(owners.as('o'))
    .leftJoin('users as u', 'u.id', 'o.user_id')
    .leftJoin('addresses as ua', (j) => j.onRef('ua.user_id', '=', 'u.id').on('ua.role', '=', 'primary'))
    .leftJoin('connections as uc', 'uc.id', 'u.connection_id')
    .leftJoin('groups as g', 'g.id', 'o.group_id')
    .leftJoin('addresses as ga', (j) => j.onRef('ga.group_id', '=', 'g.id').on('ga.role', '=', 'group'))
    .leftJoin('connections as gc', 'gc.id', 'g.connection_id')
    .leftJoin('contacts as ct', 'ct.id', 'o.contact_id')
    .leftJoin('connections as cc', 'cc.id', 'ct.connection_id')
    .select((eb) => [
      'o.user_id', 'o.group_id', 'o.contact_id', 'o.matched',
      'u.kind', 'u.state', 'u.display_name', 'u.given_name', 'u.surname', 'ua.address as u_address', 'uc.name as u_conn',
      'g.name as g_name', 'ga.address as g_address', 'gc.name as g_conn',
      'ct.name as c_name', 'cc.name as c_conn',
      eb.selectFrom('contact_addresses as ca').select((e) => e.fn.min('ca.address').as('a')).whereRef('ca.contact_id', '=', 'ct.id').as('c_address'),
    ])
    .execute();
}

type DetailRow = Awaited<ReturnType<typeof withDetails>>[number];

interface Ranked extends AutocompleteHit {
  /** Folded name (or address) for the last tie-break. */
  key: string;
}

/** A result from a joined row, with its match refined: exact whole name, first word, or another word. */
function toHit(r: DetailRow, base: MatchKind, tokens: string[]): Ranked | null {
  let kind: LookupKind;
  let id: string;
  let name: string | null;
  let address: string | null;
  let connection: string | null;
  let wholeNames: string[];
  let firstWord: string | null;
  if (r.user_id !== null && r.kind !== null) {
    kind = r.kind === 'public_folder' ? 'public_folder' : 'user';
    id = r.user_id;
    const given = [r.given_name, r.surname].filter((x) => x !== null && x !== '').join(' ');
    name = r.display_name ?? (given === '' ? null : given);
    const words = foldWords(name);
    wholeNames = [words.join(' ')];
    if (r.display_name !== null && given !== '') wholeNames.push(foldWords(given).join(' '));
    firstWord = words[0] ?? null;
    address = r.u_address;
    connection = r.u_conn;
  } else if (r.group_id !== null && r.g_name !== null) {
    kind = 'group';
    id = r.group_id;
    name = r.g_name;
    const words = foldWords(name);
    wholeNames = [words.join(' ')];
    firstWord = words[0] ?? null;
    address = r.g_address;
    connection = r.g_conn;
  } else if (r.contact_id !== null && r.c_name !== null) {
    kind = 'contact';
    id = r.contact_id;
    name = r.c_name;
    const words = foldWords(name);
    wholeNames = [words.join(' ')];
    firstWord = words[0] ?? null;
    address = r.c_address ?? null;
    connection = r.c_conn;
  } else {
    return null; // the object went away between the scan and the join (a concurrent sync)
  }
  let match = base;
  if (match === 'name_word') {
    if (wholeNames.includes(tokens.join(' '))) match = 'exact_name';
    else if (firstWord !== null && tokens.some((t) => firstWord.startsWith(t))) match = 'name_first_word';
  }
  return { kind, id, name, address, state: kind === 'user' || kind === 'public_folder' ? (r.state as UserState) : null, connection, match, matched: r.matched, key: foldText(name ?? address ?? '') };
}

/** Ranks: match (exact, first word, other word, address), active users first, kind, name, id. */
function compareHits(a: Ranked, b: Ranked): number {
  const inactive = (h: Ranked) => (h.state !== null && h.state !== 'active' ? 1 : 0);
  return (
    MATCH_RANK[a.match] - MATCH_RANK[b.match] ||
    inactive(a) - inactive(b) ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    cmpText(a.key, b.key) ||
    cmpText(a.id, b.id)
  );
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * R61: up to `limit` objects of the tenant matching `query`, best first. Throws 'bad_input' for an
 * empty or whitespace-only query, one over 256 characters, a limit outside 1..100 or an unknown kind.
 */
export async function autocomplete(db: Kysely<Database>, input: AutocompleteInput): Promise<AutocompleteResult> {
  const { tokens, addressPrefix, limit, kinds } = parseQuery(input);
  const names = async (): Promise<DetailRow[]> => {
    if (tokens.length === 0) return [];
    const drive = await drivingToken(db, input.tenantId, tokens);
    return withDetails(db, nameOwners(db, input.tenantId, drive, tokens.filter((t) => t !== drive), kinds, limit) as SelectQueryBuilder<Database, never, Owners>);
  };
  const addresses = async (): Promise<DetailRow[]> => {
    const q = addressPrefix === null ? null : addressOwners(db, input.tenantId, addressPrefix, kinds, limit);
    return q === null ? [] : withDetails(db, q as SelectQueryBuilder<Database, never, Owners>);
  };
  // Independent reads: concurrent on PostgreSQL (a pooled connection each), in turn on SQLite.
  const [named, addressed] = await Promise.all([names(), addresses()]);
  const best = new Map<string, Ranked>();
  const offer = (h: Ranked | null) => {
    if (h === null || !kinds.has(h.kind)) return;
    const key = `${h.kind}:${h.id}`;
    const seen = best.get(key);
    if (seen === undefined || MATCH_RANK[h.match] < MATCH_RANK[seen.match]) best.set(key, h);
  };
  for (const r of named) offer(toHit(r, 'name_word', tokens));
  for (const r of addressed) offer(toHit(r, r.matched === addressPrefix ? 'exact_address' : 'address', tokens));
  const hits = [...best.values()].sort(compareHits);
  return { query: input.query, tokens, results: hits.slice(0, limit).map(({ key: _key, ...h }) => h) };
}

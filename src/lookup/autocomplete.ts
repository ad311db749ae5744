/**
 * R61 autocomplete over one tenant's users (and public folders), groups and contacts, for rule
 * editors: a prefix of any name word (search_terms) or of an address, case- and accent-insensitive.
 *
 * Cost is bounded whatever the prefix: each source (name words, addresses, contact addresses) is
 * an index range scan in byte order stopped after POOL rows, so a one-letter prefix over 100,000
 * users reads a few hundred index entries, not every match. Ranking is exact within that pool; a
 * prefix matching more objects than the pool holds ranks the closest words (shortest first, in
 * byte order) — type one more letter to narrow it.
 *
 * Multi-word queries: the longest token drives the scan (the rarest, as a rule), every other token
 * must prefix some word of the same object (an EXISTS probe on the owner's rows); or the whole
 * query prefixes an address. Every query names the tenant: no other tenant's object can appear.
 */
import { type Kysely, type SqlBool, type ExpressionBuilder } from 'kysely';
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
/** Rows counted at most to find the rarest word of a multi-word query. */
const RARITY_CAP = 5000;

const MATCH_RANK: Record<MatchKind, number> = { exact_name: 0, exact_address: 0, name_first_word: 1, name_word: 2, address: 3 };
const KIND_RANK: Record<LookupKind, number> = { user: 0, public_folder: 1, group: 2, contact: 3 };

interface Candidate {
  kind: 'user' | 'group' | 'contact';
  id: string;
  /** Best (lowest) match so far. */
  match: MatchKind;
  matched: string;
}

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

/** Rows of the term index in `token`'s range, counted up to RARITY_CAP. */
async function termCount(db: Kysely<Database>, tenantId: string, token: string): Promise<number> {
  const r = await db
    .selectFrom((eb) =>
      eb.selectFrom('search_terms').select('term').where('tenant_id', '=', tenantId)
        .where('term', '>=', token).where('term', '<', prefixUpperBound(token)).limit(RARITY_CAP).as('r'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The word that drives the scan: for one word, itself; for several, the one with the fewest rows
 * (counted up to RARITY_CAP; ties to the longest), so the other words' probes hit as often as can be.
 */
async function drivingToken(db: Kysely<Database>, tenantId: string, tokens: string[]): Promise<string> {
  if (tokens.length === 1) return tokens[0]!;
  const counts = await Promise.all(tokens.map((t) => termCount(db, tenantId, t)));
  let best = 0;
  for (let i = 1; i < tokens.length; i++) {
    if (counts[i]! < counts[best]! || (counts[i] === counts[best] && tokens[i]!.length > tokens[best]!.length)) best = i;
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
 * Owners whose words match every token. One word: the first rows of its range in byte order.
 * Several: the rarest word's range, at most `scan` rows of it, each probed (EXISTS on the owner's
 * rows) for every other word, until `hits` owners matched.
 */
async function nameCandidates(db: Kysely<Database>, tenantId: string, tokens: string[], kinds: Set<LookupKind>, limit: number) {
  const drive = await drivingToken(db, tenantId, tokens);
  const others = tokens.filter((t) => t !== drive);
  const allKinds = (kinds.has('user') || kinds.has('public_folder')) && kinds.has('group') && kinds.has('contact');
  const range = db
    .selectFrom('search_terms as st')
    .select(['st.user_id', 'st.group_id', 'st.contact_id', 'st.term'])
    .where('st.tenant_id', '=', tenantId)
    .where('st.term', '>=', drive)
    .where('st.term', '<', prefixUpperBound(drive))
    .$if(!allKinds, (qb) => qb.where((eb: TermEb) => kindFilter(eb, kinds)))
    .orderBy('st.term');
  if (others.length === 0) return range.limit(namePool(limit)).execute();
  const { hits, scan } = multiPool(limit);
  return db
    .selectFrom(range.limit(scan).as('st'))
    .select(['st.user_id', 'st.group_id', 'st.contact_id', 'st.term'])
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
    .orderBy('st.term')
    .limit(hits)
    .execute();
}

/** Address holders (users, groups) and contacts whose address starts with `prefix`. */
async function addressCandidates(db: Kysely<Database>, tenantId: string, prefix: string, kinds: Set<LookupKind>, limit: number) {
  const pool = addressPool(limit);
  const wantUsers = kinds.has('user') || kinds.has('public_folder');
  const held = wantUsers || kinds.has('group')
    ? await db
        .selectFrom('addresses')
        .select(['address', 'user_id', 'group_id'])
        .where('tenant_id', '=', tenantId)
        .where('address', '>=', prefix)
        .where('address', '<', prefixUpperBound(prefix))
        .$if(!wantUsers, (qb) => qb.where('group_id', 'is not', null))
        .$if(!kinds.has('group'), (qb) => qb.where('user_id', 'is not', null))
        .orderBy('address')
        .limit(pool)
        .execute()
    : [];
  const shown = kinds.has('contact')
    ? await db
        .selectFrom('contact_addresses as ca')
        .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
        .select(['ca.address', 'ca.contact_id'])
        .where('c.tenant_id', '=', tenantId)
        .where('ca.address', '>=', prefix)
        .where('ca.address', '<', prefixUpperBound(prefix))
        .orderBy('ca.address')
        .limit(pool)
        .execute()
    : [];
  return { held, shown };
}

interface Details {
  kind: LookupKind;
  name: string | null;
  address: string | null;
  state: UserState | null;
  connection: string | null;
  /** Folded word lists of the whole names an exact match compares with. */
  wholeNames: string[];
  firstWord: string | null;
}

async function loadDetails(db: Kysely<Database>, tenantId: string, cands: Candidate[]): Promise<Map<string, Details>> {
  const out = new Map<string, Details>();
  const ids = (k: Candidate['kind']) => cands.filter((c) => c.kind === k).map((c) => c.id);
  const userIds = ids('user');
  if (userIds.length > 0) {
    const rows = await db
      .selectFrom('users as u')
      .leftJoin('addresses as a', (j) => j.onRef('a.user_id', '=', 'u.id').on('a.role', '=', 'primary'))
      .leftJoin('connections as c', 'c.id', 'u.connection_id')
      .select(['u.id', 'u.kind', 'u.state', 'u.display_name', 'u.given_name', 'u.surname', 'a.address', 'c.name as connection'])
      .where('u.tenant_id', '=', tenantId)
      .where('u.id', 'in', userIds)
      .execute();
    for (const r of rows) {
      const given = [r.given_name, r.surname].filter((x) => x !== null && x !== '').join(' ');
      const name = r.display_name ?? (given === '' ? null : given);
      const words = foldWords(name);
      const wholeNames = [words.join(' ')];
      if (r.display_name !== null && given !== '') wholeNames.push(foldWords(given).join(' '));
      out.set(`user:${r.id}`, {
        kind: r.kind === 'public_folder' ? 'public_folder' : 'user', name, address: r.address, state: r.state as UserState,
        connection: r.connection, wholeNames, firstWord: words[0] ?? null,
      });
    }
  }
  const groupIds = ids('group');
  if (groupIds.length > 0) {
    const rows = await db
      .selectFrom('groups as g')
      .leftJoin('addresses as a', (j) => j.onRef('a.group_id', '=', 'g.id').on('a.role', '=', 'group'))
      .innerJoin('connections as c', 'c.id', 'g.connection_id')
      .select(['g.id', 'g.name', 'a.address', 'c.name as connection'])
      .where('g.tenant_id', '=', tenantId)
      .where('g.id', 'in', groupIds)
      .execute();
    for (const r of rows) {
      const words = foldWords(r.name);
      out.set(`group:${r.id}`, { kind: 'group', name: r.name, address: r.address, state: null, connection: r.connection, wholeNames: [words.join(' ')], firstWord: words[0] ?? null });
    }
  }
  const contactIds = ids('contact');
  if (contactIds.length > 0) {
    const rows = await db
      .selectFrom('contacts as ct')
      .innerJoin('connections as c', 'c.id', 'ct.connection_id')
      .select((eb) => [
        'ct.id', 'ct.name', 'c.name as connection',
        eb.selectFrom('contact_addresses as ca').select((e) => e.fn.min('ca.address').as('a')).whereRef('ca.contact_id', '=', 'ct.id').as('address'),
      ])
      .where('ct.tenant_id', '=', tenantId)
      .where('ct.id', 'in', contactIds)
      .execute();
    for (const r of rows) {
      const words = foldWords(r.name);
      out.set(`contact:${r.id}`, { kind: 'contact', name: r.name, address: r.address ?? null, state: null, connection: r.connection, wholeNames: [words.join(' ')], firstWord: words[0] ?? null });
    }
  }
  return out;
}

interface Ranked extends AutocompleteHit {
  /** Folded name (or address) for the last tie-break. */
  key: string;
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
  const cands = new Map<string, Candidate>();
  const offer = (kind: Candidate['kind'], id: string | null, match: MatchKind, matched: string) => {
    if (id === null) return;
    const key = `${kind}:${id}`;
    const c = cands.get(key);
    if (c === undefined || MATCH_RANK[match] < MATCH_RANK[c.match]) cands.set(key, { kind, id, match, matched });
  };
  // Independent reads: concurrent on PostgreSQL (a pooled connection each), in turn on SQLite.
  const [named, addressed] = await Promise.all([
    tokens.length > 0 ? nameCandidates(db, input.tenantId, tokens, kinds, limit) : Promise.resolve([]),
    addressPrefix !== null ? addressCandidates(db, input.tenantId, addressPrefix, kinds, limit) : Promise.resolve({ held: [], shown: [] }),
  ]);
  for (const r of named) {
    offer('user', r.user_id, 'name_word', r.term);
    offer('group', r.group_id, 'name_word', r.term);
    offer('contact', r.contact_id, 'name_word', r.term);
  }
  const nameHits = cands.size;
  for (const r of addressed.held) {
    const match = r.address === addressPrefix ? 'exact_address' : 'address';
    offer('user', r.user_id, match, r.address);
    offer('group', r.group_id, match, r.address);
  }
  for (const r of addressed.shown) offer('contact', r.contact_id, r.address === addressPrefix ? 'exact_address' : 'address', r.address);
  // Address-only matches rank below every name match: when the names fill the limit, only exact
  // addresses can still enter the result, so the others are not even loaded.
  const wanted = [...cands.values()].filter((c) => nameHits < limit || c.match !== 'address');
  const details = await loadDetails(db, input.tenantId, wanted);
  const whole = tokens.join(' ');
  const hits: Ranked[] = [];
  for (const c of wanted) {
    const d = details.get(`${c.kind}:${c.id}`);
    if (d === undefined || !kinds.has(d.kind)) continue;
    let match = c.match;
    if (match === 'name_word') {
      if (d.wholeNames.includes(whole)) match = 'exact_name';
      else if (d.firstWord !== null && tokens.some((t) => d.firstWord!.startsWith(t))) match = 'name_first_word';
    }
    hits.push({ kind: d.kind, id: c.id, name: d.name, address: d.address, state: d.state, connection: d.connection, match, matched: c.matched, key: foldText(d.name ?? d.address ?? '') });
  }
  hits.sort(compareHits);
  return { query: input.query, tokens, results: hits.slice(0, limit).map(({ key: _key, ...h }) => h) };
}

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
 * One statement per query (src/lookup/autocomplete-reads.ts): every match and the details ranking
 * needs (a second one first only for a query of more than four words, to find the rarest).
 */
import type { Kysely } from 'kysely';
import { foldText } from '../core/fold.ts';
import { normalizeDomain } from '../core/address.ts';
import { RosterError } from '../core/errors.ts';
import type { UserState } from '../core/model.ts';
import type { Database } from '../store/schema.ts';
import { readAutocomplete } from './autocomplete-reads.ts';

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

interface Candidate {
  kind: 'user' | 'group' | 'contact';
  id: string;
  /** Best (lowest) match so far. */
  match: MatchKind;
  matched: string;
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
  const { found, details } = await readAutocomplete(db, { tenantId: input.tenantId, tokens, prefix: addressPrefix, kinds, limit });
  const named = found.filter((r) => r.src === 'name');
  const addressed = found.filter((r) => r.src !== 'name');
  const cands = new Map<string, Candidate>();
  const offer = (kind: Candidate['kind'], id: string | null, match: MatchKind, matched: string) => {
    if (id === null) return;
    const key = `${kind}:${id}`;
    const c = cands.get(key);
    if (c === undefined || MATCH_RANK[match] < MATCH_RANK[c.match]) cands.set(key, { kind, id, match, matched });
  };
  for (const r of named) {
    offer('user', r.user_id, 'name_word', r.matched);
    offer('group', r.group_id, 'name_word', r.matched);
    offer('contact', r.contact_id, 'name_word', r.matched);
  }
  const nameHits = cands.size;
  for (const r of addressed) {
    const match = r.matched === addressPrefix ? 'exact_address' : 'address';
    offer('user', r.user_id, match, r.matched);
    offer('group', r.group_id, match, r.matched);
    offer('contact', r.contact_id, match, r.matched);
  }
  // Address-only matches rank below every name match: when the names fill the limit, only exact
  // addresses can still enter the result (the read loads no details for the others either).
  const wanted = [...cands.values()].filter((c) => nameHits < limit || c.match !== 'address');
  const whole = tokens.join(' ');
  const hits: Ranked[] = [];
  for (const c of wanted) {
    const d = details.get(`${c.kind}:${c.id}`);
    if (d === undefined || !kinds.has(d.kind)) continue; // gone meanwhile (a concurrent sync), or a kind not asked for
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

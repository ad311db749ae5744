/**
 * R11/D6 matching of eligible entries to store users, and each candidate's address claims (R13, R14).
 */
import type { Address, DirUser, RunSettings, StoreUser } from './model.ts';
import { type Candidate, type EntryMode, type IssueList, type ManagedCheck, cmp } from './plan-context.ts';
import { unchangedDirectoryUser } from './plan-users.ts';

/**
 * Indexes of the tenant's users, built once per run. The maps hold positions in `users`; what a
 * run notes per user (matched, candidate, replaced) lives in typed arrays indexed by id slot,
 * not in Sets of ids: at 100,000 users each such Set cost ~50 ms and its garbage.
 */
export interface UserIndex {
  /** The tenant's users, sorted by id. */
  users: readonly StoreUser[];
  /**
   * Position → id slot: the position of the first user with the same id. Ids are unique in a
   * store, so a slot is normally the position itself; equal ids share one slot, as they shared one
   * entry of a Set of ids.
   */
  slot: Int32Array;
  /** This connection's users by anchor. */
  byAnchor: Map<string, number>;
  byPrimary: Map<Address, number>;
  byAlias: Map<Address, number>;
  /**
   * True when no address is held twice (as a primary or an alias, by one user or two): then every
   * address of a user is owned by that user (ownerOf), and is the only alias entry of it. A store
   * keeps addresses unique, so this is the usual case, and it spares a lookup per address.
   */
  uniqueAddresses: boolean;
}

/** Indexes `users`, which must be sorted by id (equal ids adjacent). */
export function indexUsers(users: readonly StoreUser[], connectionId: string): UserIndex {
  const slot = new Int32Array(users.length);
  const byAnchor = new Map<string, number>();
  const byPrimary = new Map<Address, number>();
  const byAlias = new Map<Address, number>();
  let aliases = 0;
  for (let i = 0; i < users.length; i++) {
    const u = users[i] as StoreUser;
    slot[i] = i > 0 && (users[i - 1] as StoreUser).id === u.id ? (slot[i - 1] as number) : i;
    if (u.connectionId === connectionId && u.anchor !== null) byAnchor.set(u.anchor, i);
    byPrimary.set(u.primary, i);
    for (const a of u.aliases) byAlias.set(a, i);
    aliases += u.aliases.length;
  }
  // Sizes tell whether an address repeats among primaries, or among aliases; then one look per alias among primaries.
  let uniqueAddresses = byPrimary.size === users.length && byAlias.size === aliases;
  if (uniqueAddresses) {
    for (const a of byAlias.keys()) {
      if (byPrimary.has(a)) {
        uniqueAddresses = false;
        break;
      }
    }
  }
  return { users, slot, byAnchor, byPrimary, byAlias, uniqueAddresses };
}

/**
 * R51: whether a user anchored to `otherConnectionId` yields to this run — its connection has a
 * strictly higher priority number (lower priority) than this one. Equal or unknown: it does not.
 */
export function yieldsToThisRun(otherConnectionId: string, settings: Pick<RunSettings, 'connectionPriority' | 'connectionPriorities'>): boolean {
  const other = settings.connectionPriorities?.[otherConnectionId];
  return other !== undefined && other > settings.connectionPriority;
}

/**
 * D6: an address match may pick only a user with no anchor, or one anchored to this connection
 * whose anchor is absent from this read. A user anchored to ANOTHER connection is matched only
 * when that connection yields by priority (R51: this entry takes the user over, keeping its rules
 * and archive), or when that user is pending deletion there (its directory no longer wants it; the
 * entry here restores it); otherwise its address is simply taken. Entra users belong to another
 * directory service (R80) and are never matched.
 */
function addressMatchable(u: StoreUser, settings: MatchSettings, readAnchors: () => ReadonlySet<string>): boolean {
  if (u.source === 'entra') return false;
  if (u.connectionId !== null && u.connectionId !== settings.connectionId) {
    return u.state === 'pending_deletion' || yieldsToThisRun(u.connectionId, settings);
  }
  return u.anchor === null || (u.connectionId === settings.connectionId && !readAnchors().has(u.anchor));
}

export type MatchSettings = Pick<RunSettings, 'connectionId' | 'connectionPriority' | 'connectionPriorities'>;

/** How an entry matched its user (buildCandidate, AddressMatches.by). */
export const BY_NONE = 0;
export const BY_ANCHOR = 1;
export const BY_PRIMARY = 2;
export const BY_ALIAS = 3;
const BY_NAME = [null, 'anchor', 'primary', 'alias'] as const;

/** Address matches (R11, D6) of the entries that no user matched by anchor, by entry position. */
export interface AddressMatches {
  /** The matched user's position in UserIndex.users, or -1. */
  pos: Int32Array;
  /** BY_PRIMARY, BY_ALIAS, or BY_NONE. */
  by: Uint8Array;
}

/**
 * R11, after the anchor matches (planRun: the first eligible entry with a user's anchor takes that
 * user): the entries at positions `rest` (not matched by anchor) — in order of (primary, anchor) —
 * by primary, then by alias. Each store user is matched at most once; a user matched by anchor is
 * never address-matchable (its anchor is in the read), so only address matches need remembering.
 * `readAnchors` (every entry's anchor, built by the caller on the first call) is asked only here.
 */
export function matchByAddress(
  entries: readonly DirUser[],
  rest: readonly number[],
  idx: UserIndex,
  settings: MatchSettings,
  readAnchors: () => ReadonlySet<string>,
): AddressMatches {
  const pos = new Int32Array(entries.length).fill(-1);
  const by = new Uint8Array(entries.length);
  // Nothing to match by address (a first run: the store has no user): skip sorting the rest.
  if (rest.length === 0 || (idx.byPrimary.size === 0 && idx.byAlias.size === 0)) return { pos, by };
  const order = rest.slice().sort((i, j) => {
    const a = entries[i] as DirUser;
    const b = entries[j] as DirUser;
    return cmp(a.primary ?? '', b.primary ?? '') || cmp(a.anchor, b.anchor);
  });
  const taken = new Uint8Array(idx.users.length); // by id slot
  for (const kind of [BY_PRIMARY, BY_ALIAS]) {
    const map = kind === BY_PRIMARY ? idx.byPrimary : idx.byAlias;
    for (const i of order) {
      const e = entries[i] as DirUser;
      if (e.primary === null || pos[i] !== -1) continue;
      const p = map.get(e.primary);
      if (p === undefined) continue;
      const s = idx.slot[p] as number;
      if (taken[s] !== 0 || !addressMatchable(idx.users[p] as StoreUser, settings, readAnchors)) continue;
      pos[i] = p;
      by[i] = kind;
      taken[s] = 1;
    }
  }
  return { pos, by };
}

/** Id slot of the user holding `a` as its primary, else as an alias; -1 when none. */
export function ownerOf(idx: UserIndex, a: Address): number {
  if (idx.users.length === 0) return -1; // a first run: nobody holds anything
  let p = idx.byPrimary.get(a);
  if (p === undefined) p = idx.byAlias.get(a);
  return p === undefined ? -1 : (idx.slot[p] as number);
}

/** True when `sub` (sorted) ⊆ `sup` (sorted). */
function sortedSubset(sub: readonly Address[], sup: readonly Address[]): boolean {
  let j = 0;
  for (const a of sub) {
    while (j < sup.length && (sup[j] as Address) < a) j++;
    if (j >= sup.length || sup[j] !== a) return false;
    j++;
  }
  return true;
}

/**
 * Whether a matched, non-frozen candidate is stable (plan-claims.ts): its primary claim is its
 * user's primary and every alias it claims is one of its user's aliases, all owned (ownerOf) by
 * that user. With unique addresses (UserIndex.uniqueAddresses) a user owns what it holds: no lookup.
 */
function stableClaims(c: Candidate, u: StoreUser, idx: UserIndex): boolean {
  if (c.primaryClaim !== u.primary || !sortedSubset(c.aliasClaims, u.aliases)) return false;
  if (idx.uniqueAddresses) return true;
  if (ownerOf(idx, u.primary) !== c.slot) return false;
  for (const a of c.aliasClaims) if (ownerOf(idx, a) !== c.slot) return false;
  return true;
}

/** True when `aliases` is strictly sorted (so unique), lacks `primary`, and every domain is managed. */
function allQualify(aliases: readonly Address[], primary: Address, isManaged: ManagedCheck): boolean {
  for (let i = 0; i < aliases.length; i++) {
    const a = aliases[i] as Address;
    if (a === primary || (i > 0 && !((aliases[i - 1] as Address) < a)) || !isManaged(a)) return false;
  }
  return true;
}

/** The claims of a candidate that has none yet (frozen ones keep it): never mutated, never in a plan. */
const NO_ADDRESSES: Address[] = Object.freeze([]) as unknown as Address[];

function modeOf(user: StoreUser | null): EntryMode {
  if (user === null) return 'directory';
  if (user.state === 'deactivated') return 'frozen';
  return user.source === 'manual' || user.source === 'smtp' ? 'supplemental' : 'directory';
}

/**
 * Builds a candidate with its claims. Qualifying (R13): alias domain managed AND the user's primary
 * domain managed; excepted aliases (R30) never claimed ('alias_excepted'); non-qualifying ones
 * reported ('alias_unmanaged_domain'). Supplemental users (R14) also claim the entry's primary when
 * it is not theirs (D6: an alias match never changes their primary) and keep all current aliases.
 */
export function buildCandidate(entry: DirUser, pos: number, by: number, ctx: BuildContext): Candidate {
  const { idx, isManaged, exceptedAliases, issues } = ctx;
  const user = pos < 0 ? null : (idx.users[pos] as StoreUser);
  const mode = modeOf(user);
  const entryPrimary = entry.primary as Address; // eligible entries have one
  const c: Candidate = {
    entry,
    user,
    slot: pos < 0 ? -1 : (idx.slot[pos] as number),
    matchedBy: BY_NAME[by] ?? null,
    mode,
    primaryClaim: mode === 'directory' ? entryPrimary : (user as StoreUser).primary,
    aliasClaims: NO_ADDRESSES,
    aliases: NO_ADDRESSES,
    stable: false,
    unchanged: false,
  };
  if (mode === 'frozen') return c;
  const primaryManaged = isManaged(c.primaryClaim);
  if (mode === 'directory' && primaryManaged && exceptedAliases.size === 0 && allQualify(entry.aliases, c.primaryClaim, isManaged)) {
    // The common case: the entry's aliases all qualify and are already the claim list. Shared with
    // the entry, not copied: a plan op never holds it (planCandidate copies it into add_user).
    c.aliasClaims = entry.aliases;
    return settleIfStable(c, ctx);
  }
  const wanted = mode === 'supplemental' ? [entryPrimary, ...entry.aliases] : entry.aliases;
  const claims = new Set<Address>(mode === 'supplemental' ? (user as StoreUser).aliases : []);
  for (const a of wanted) {
    if (a === c.primaryClaim || claims.has(a)) continue;
    if (!primaryManaged || !isManaged(a)) {
      issues.add(entry.anchor, entry.dn, {
        code: 'alias_unmanaged_domain',
        value: a,
        ...(primaryManaged ? {} : { detail: 'primary domain not managed' }),
      });
    } else if (exceptedAliases.has(a)) {
      issues.add(entry.anchor, entry.dn, { code: 'alias_excepted', value: a });
    } else {
      claims.add(a);
    }
  }
  c.aliasClaims = [...claims].sort(cmp);
  return settleIfStable(c, ctx);
}

/**
 * Marks a stable candidate as such (its aliases are its claims), and whether its user already is
 * what the entry wants — here, while entry and user are fresh in the cache: a no-change run of
 * 100,000 users otherwise walked them again in two later passes.
 */
function settleIfStable(c: Candidate, ctx: BuildContext): Candidate {
  const u = c.user;
  if (u === null || !stableClaims(c, u, ctx.idx)) return c;
  c.stable = true;
  c.aliases = c.aliasClaims;
  c.unchanged = c.mode === 'directory' && unchangedDirectoryUser(c, u, ctx.connectionId);
  return c;
}

/** What buildCandidate needs besides the entry and its match, the same for every entry of a run. */
export interface BuildContext {
  idx: UserIndex;
  isManaged: ManagedCheck;
  exceptedAliases: ReadonlySet<string>;
  issues: IssueList;
  connectionId: string;
}

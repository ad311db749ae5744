/**
 * R11/D6 matching of eligible entries to store users, and each candidate's address claims (R13, R14).
 */
import { domainOf } from './address.ts';
import type { Address, DirUser, RunSettings, StoreUser } from './model.ts';
import { type Candidate, type EntryMode, type IssueList, cmp } from './plan-context.ts';

/** Indexes of the tenant's users, built once per run. */
export interface UserIndex {
  /** This connection's users by anchor. */
  byAnchor: Map<string, StoreUser>;
  byPrimary: Map<Address, StoreUser>;
  byAlias: Map<Address, StoreUser>;
}

export function indexUsers(users: readonly StoreUser[], connectionId: string): UserIndex {
  const idx: UserIndex = { byAnchor: new Map(), byPrimary: new Map(), byAlias: new Map() };
  for (const u of users) {
    if (u.connectionId === connectionId && u.anchor !== null) idx.byAnchor.set(u.anchor, u);
    idx.byPrimary.set(u.primary, u);
    for (const a of u.aliases) idx.byAlias.set(a, u);
  }
  return idx;
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
function addressMatchable(u: StoreUser, settings: MatchSettings, readAnchors: ReadonlySet<string>): boolean {
  if (u.source === 'entra') return false;
  if (u.connectionId !== null && u.connectionId !== settings.connectionId) {
    return u.state === 'pending_deletion' || yieldsToThisRun(u.connectionId, settings);
  }
  return u.anchor === null || (u.connectionId === settings.connectionId && !readAnchors.has(u.anchor));
}

export type MatchSettings = Pick<RunSettings, 'connectionId' | 'connectionPriority' | 'connectionPriorities'>;

/**
 * R11: matches entries by anchor first, then — in entry order by (primary, anchor) — by primary,
 * then by alias. Each store user is matched at most once: of entries sharing an anchor (only
 * tracked when `uniqueAnchors` is false) the first one takes its user; a user matched by anchor
 * is never address-matchable (its anchor is in the read), so only address matches need
 * remembering.
 */
export function matchEntries(
  entries: readonly DirUser[],
  idx: UserIndex,
  settings: MatchSettings,
  readAnchors: ReadonlySet<string>,
  uniqueAnchors: boolean,
): Map<DirUser, { user: StoreUser; by: 'anchor' | 'primary' | 'alias' }> {
  const result = new Map<DirUser, { user: StoreUser; by: 'anchor' | 'primary' | 'alias' }>();
  const taken = new Set<string>();
  const rest: DirUser[] = [];
  const matchedAnchors = uniqueAnchors ? null : new Set<string>();
  for (const e of entries) {
    const u = idx.byAnchor.get(e.anchor);
    if (u !== undefined && matchedAnchors?.has(e.anchor) !== true) {
      result.set(e, { user: u, by: 'anchor' });
      matchedAnchors?.add(e.anchor);
    } else rest.push(e);
  }
  // Nothing to match by address (a first run: the store has no user): skip sorting the rest.
  if (rest.length === 0 || (idx.byPrimary.size === 0 && idx.byAlias.size === 0)) return result;
  rest.sort((a, b) => cmp(a.primary ?? '', b.primary ?? '') || cmp(a.anchor, b.anchor));
  for (const by of ['primary', 'alias'] as const) {
    const map = by === 'primary' ? idx.byPrimary : idx.byAlias;
    for (const e of rest) {
      if (e.primary === null || result.has(e)) continue;
      const u = map.get(e.primary);
      if (u === undefined || taken.has(u.id) || !addressMatchable(u, settings, readAnchors)) continue;
      result.set(e, { user: u, by });
      taken.add(u.id);
    }
  }
  return result;
}

/** True when `aliases` is strictly sorted (so unique), lacks `primary`, and every domain is managed. */
function allQualify(aliases: readonly Address[], primary: Address, managed: ReadonlySet<string>): boolean {
  for (let i = 0; i < aliases.length; i++) {
    const a = aliases[i] as Address;
    if (a === primary || (i > 0 && !((aliases[i - 1] as Address) < a)) || !managed.has(domainOf(a))) return false;
  }
  return true;
}

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
export function buildCandidate(
  entry: DirUser,
  match: { user: StoreUser; by: 'anchor' | 'primary' | 'alias' } | undefined,
  managed: ReadonlySet<string>,
  exceptedAliases: ReadonlySet<string>,
  issues: IssueList,
): Candidate {
  const user = match?.user ?? null;
  const mode = modeOf(user);
  const entryPrimary = entry.primary as Address; // eligible entries have one
  const c: Candidate = {
    entry,
    user,
    matchedBy: match?.by ?? null,
    mode,
    primaryClaim: mode === 'directory' ? entryPrimary : (user as StoreUser).primary,
    aliasClaims: [],
    aliases: [],
  };
  if (mode === 'frozen') return c;
  const primaryManaged = managed.has(domainOf(c.primaryClaim));
  if (mode === 'directory' && primaryManaged && exceptedAliases.size === 0 && allQualify(entry.aliases, c.primaryClaim, managed)) {
    // The common case: the entry's aliases all qualify and are already the claim list.
    c.aliasClaims = entry.aliases.slice();
    return c;
  }
  const wanted = mode === 'supplemental' ? [entryPrimary, ...entry.aliases] : entry.aliases;
  const claims = new Set<Address>(mode === 'supplemental' ? (user as StoreUser).aliases : []);
  for (const a of wanted) {
    if (a === c.primaryClaim || claims.has(a)) continue;
    if (!primaryManaged || !managed.has(domainOf(a))) {
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
  return c;
}

/**
 * planRun: the heart of a sync run (R10–R19, R30–R31, D4–D10). PURE and deterministic: the same
 * inputs (in any order) give a deep-equal plan. Passes:
 *  1. members and exceptions (R30); one pass over the entries: per-entry checks (R3, R4, R6),
 *     anchor matches (R11) and candidates with their address claims (R13, R14);
 *  2. address matches of the rest (R11, D6) and their candidates;
 *  3. claim settlement over the whole read (R13, plan-claims.ts);
 *  4. user ops (R10, R12, R13a, R14, R16), flags (R15, R18, R31/D4);
 *  5. the group/contact snapshot (D7), counts (R52).
 * Lookups go through Maps keyed by DN, anchor or address, built once per run; what a run notes per
 * store user lives in typed arrays by id slot (UserIndex), not in Sets of ids: O(n log n) for n
 * entries. At 100,000 users each string-keyed Map of them costs ~50 ms: count them before adding one.
 */
import type { Address, DirectorySnapshot, DirUser, Plan, PlanOp, RunCounts, RunSettings, SkipReason, SkippedEntry, StoreState, StoreUser } from './model.ts';
import { type Candidate, IssueList, type SkipMap, cmp, managedCheck } from './plan-context.ts';
import { computeExcepted, precheckEntry, resolveMembers } from './plan-eligibility.ts';
import { BY_ANCHOR, type BuildContext, type UserIndex, buildCandidate, indexUsers, matchByAddress, ownerOf, yieldsToThisRun } from './plan-match.ts';
import { settleClaims } from './plan-claims.ts';
import { planCandidate, planFlags } from './plan-users.ts';
import { keptGroups, planSnapshot } from './plan-snapshot.ts';
import { sortIssues, sortOps, sortSkipped } from './plan-order.ts';

/**
 * Computes the plan of one run of one connection. `now` (ISO-8601 UTC) stamps flags (D5).
 * Nothing here reads a clock, a file or the network.
 */
export function planRun(snapshot: DirectorySnapshot, store: StoreState, settings: RunSettings, now: string): Plan {
  const issues = new IssueList();
  const managed = managedCheck(new Set(settings.managedDomains.map((d) => d.toLowerCase())));
  const exceptedAliases = new Set<string>(settings.exceptions.aliases);
  // Entries keep the read's order: every output list is sorted at the end, and matching does not
  // depend on it (sorting 100,000 entries cost a quarter of a second per run).
  const entries = snapshot.users;
  const users = sortedById(store.users);
  // Every entry's anchor: asked only by address matching and by memberships of non-user members.
  let readAnchorSet: Set<string> | undefined;
  const readAnchors = (): ReadonlySet<string> => {
    if (readAnchorSet === undefined) {
      readAnchorSet = new Set<string>();
      for (const e of entries) readAnchorSet.add(e.anchor);
    }
    return readAnchorSet;
  };

  // 1. Exceptions, per-entry checks and anchor matches (R11), then candidates: one pass over the
  // entries while each is at hand (a no-change run of 100,000 walked them three times).
  const members = resolveMembers(snapshot, settings.options.readContacts);
  const excepted = computeExcepted(members, settings);
  const idx = indexUsers(users, settings.connectionId);
  const build: BuildContext = { idx, isManaged: managed, exceptedAliases, issues, connectionId: settings.connectionId };
  const skips: SkipMap = new Map();
  const eligible: DirUser[] = [];
  const candidates: (Candidate | null)[] = [];
  const unmatched: number[] = []; // positions in eligible (and candidates) not matched by anchor
  const anchorTaken = new Uint8Array(users.length); // of entries sharing an anchor, the first eligible one takes its user
  for (const e of entries) {
    for (const i of e.issues) issues.add(e.anchor, e.dn, i);
    const pre = precheckEntry(e, settings, excepted, managed);
    if (pre !== null) {
      skips.set(e.anchor, { entry: e, reason: pre.reason, value: pre.value });
      continue;
    }
    // (An empty index is not asked: a first run does not hash 100,000 anchors for nothing.)
    const p = idx.byAnchor.size === 0 ? undefined : idx.byAnchor.get(e.anchor);
    if (p !== undefined && anchorTaken[p] === 0) {
      anchorTaken[p] = 1;
      candidates.push(buildCandidate(e, p, BY_ANCHOR, build));
    } else {
      unmatched.push(eligible.length);
      candidates.push(null);
    }
    eligible.push(e);
  }

  // 2. Address matches of the others (R11, D6), and claims.
  const byAddress = matchByAddress(eligible, unmatched, idx, settings, readAnchors);
  for (const i of unmatched) candidates[i] = buildCandidate(eligible[i] as DirUser, byAddress.pos[i] as number, byAddress.by[i] as number, build);
  const isCandidate = new Uint8Array(users.length);
  for (const c of candidates as Candidate[]) {
    if (c.user === null) continue;
    isCandidate[c.slot] = 1;
    // R51/D6: a user of another connection matched by address is taken over (re-anchored here).
    if (c.user.connectionId !== null && c.user.connectionId !== settings.connectionId) {
      issues.add(c.entry.anchor, c.entry.dn, {
        code: 'user_taken_over',
        value: c.user.primary,
        detail: c.user.state === 'pending_deletion' ? `pending deletion in connection ${c.user.connectionId}` : `from lower-priority connection ${c.user.connectionId}`,
      });
    }
  }
  // R51: an alias held by a user of a lower-priority connection (not a candidate here) yields.
  const yieldingHolder = (a: Address): StoreUser | undefined => {
    const p = idx.byAlias.get(a);
    if (p === undefined) return undefined;
    const u = users[p] as StoreUser;
    if (u.primary === a || u.connectionId === null || u.connectionId === settings.connectionId) return undefined;
    if (u.state === 'deactivated' || isCandidate[idx.slot[p] as number] !== 0 || !yieldsToThisRun(u.connectionId, settings)) return undefined;
    return u;
  };

  // 3. Settle addresses. A stored group of this connection that the read keeps still holds its
  // address while users are planned: apply writes users before groups, so a user cannot take it
  // in the same run (it can once the group is gone or has changed its address).
  const kept = new Set(keptGroups(snapshot, excepted).map((g) => g.anchor));
  const blocked = new Set<Address>(store.foreignAddresses.map((f) => f.address));
  for (const g of store.groups) if (g.address !== null && kept.has(g.anchor)) blocked.add(g.address);
  const { settled, stableCount, lost, holderAfter } = settleClaims(
    candidates as Candidate[],
    { ownerOf: (a) => ownerOf(idx, a), blocked, yields: (a) => yieldingHolder(a) !== undefined },
    issues,
  );
  for (const c of lost) skips.set(c.entry.anchor, { entry: c.entry, reason: 'address_taken', value: c.primaryClaim });

  // 4. User ops.
  const archiveIdOf = new Map<Address, string>();
  for (const a of store.archives) if (a.userId === null) archiveIdOf.set(a.address, a.id);
  const ops: PlanOp[] = [];
  const matched = new Uint8Array(users.length);
  let updated = 0;
  let unchanged = 0;
  for (const c of candidates as Candidate[]) {
    // R22: a deactivated user is never touched; its entry counts as unchanged.
    if (c.mode === 'frozen' && c.user !== null) {
      matched[c.slot] = 1;
      unchanged++;
    }
  }
  // R51: an address a settled candidate claims anew may be taken from a lower-priority user.
  const takeFromYielding = (c: Candidate, a: Address): void => {
    const from = yieldingHolder(a);
    if (from === undefined) return;
    ops.push({ op: 'remove_alias', userId: from.id, address: a });
    issues.add(c.entry.anchor, c.entry.dn, { code: 'address_won_by_priority', value: a, detail: `from ${from.primary} of lower-priority connection ${from.connectionId}` });
  };
  // A stable candidate claims only its own user's addresses; with unique addresses no other user
  // holds them as an alias, so nothing yields to it (its user, a candidate, never yields).
  const firstToCheck = idx.uniqueAddresses ? stableCount : 0;
  const anyAlias = idx.byAlias.size > 0;
  for (let i = 0; i < settled.length; i++) {
    const c = settled[i] as Candidate;
    if (anyAlias && i >= firstToCheck) {
      if (c.primaryClaim !== c.user?.primary) takeFromYielding(c, c.primaryClaim);
      for (const a of c.aliases) takeFromYielding(c, a);
    }
    const own = planCandidate(c, settings, archiveIdOf);
    if (c.user !== null) {
      matched[c.slot] = 1;
      if (own.length > 0) updated++;
      else unchanged++;
    }
    for (const op of own) ops.push(op);
  }
  const presentSkips = { get: (anchor: string): SkipReason | undefined => skips.get(anchor)?.reason };
  for (const op of planFlags(idx, matched, presentSkips, settings, now)) ops.push(op);

  // 5. Snapshot of groups and contacts; groups take only addresses users do not hold after the run.
  const snap = planSnapshot(
    {
      snapshot,
      store,
      members,
      excepted,
      readContacts: settings.options.readContacts,
      readUsers: readAnchors,
      taken: takenAfterRun(idx, settled, holderAfter, store),
    },
    issues,
  );
  for (const op of snap.ops) ops.push(op);
  for (const ref of snapshot.references) issues.add(null, null, { code: 'continuation_reference', value: ref });

  sortOps(ops);
  const counts = countPlan(ops, entries.length, skips, updated, unchanged, snap);
  const skipped: SkippedEntry[] = [];
  for (const s of skips.values()) skipped.push({ anchor: s.entry.anchor, dn: s.entry.dn, reason: s.reason, value: s.value });
  let syncedUserCount = 0;
  for (const u of users) if (u.connectionId === settings.connectionId && u.state !== 'pending_deletion') syncedUserCount++;
  return {
    tenantId: settings.tenantId,
    connectionId: settings.connectionId,
    now,
    ops,
    skipped: sortSkipped(skipped),
    issues: sortIssues(issues.items),
    counts,
    flagCount: counts.flagged,
    syncedUserCount,
  };
}

/**
 * Whether an address is held after the run by a user (a settled candidate's new set, or the
 * current set of any other user) or is foreign: what a group may not take. A predicate over the
 * indexes planRun already has, instead of a Set of every address of the tenant; only group
 * addresses are ever asked.
 */
function takenAfterRun(
  idx: UserIndex,
  settled: readonly Candidate[],
  holderAfter: (address: Address) => Candidate | null,
  store: StoreState,
): { has(address: Address): boolean } {
  const foreign = new Set<Address>(store.foreignAddresses.map((f) => f.address));
  let replaced: Uint8Array | undefined; // by id slot; built on the first question: most reads have no group address
  const heldByOther = (p: number | undefined): boolean => {
    if (p === undefined) return false;
    if (replaced === undefined) {
      replaced = new Uint8Array(idx.users.length);
      for (const c of settled) if (c.user !== null) replaced[c.slot] = 1;
    }
    return replaced[idx.slot[p] as number] === 0;
  };
  return {
    has: (a) => foreign.has(a) || holderAfter(a) !== null || heldByOther(idx.byPrimary.get(a)) || heldByOther(idx.byAlias.get(a)),
  };
}

/** The users sorted by id (code units): the input itself when already sorted (a loaded store is), else a sorted copy. */
function sortedById(users: readonly StoreUser[]): StoreUser[] {
  for (let i = 1; i < users.length; i++) {
    if ((users[i - 1] as StoreUser).id > (users[i] as StoreUser).id) return [...users].sort((a, b) => cmp(a.id, b.id));
  }
  return users as StoreUser[];
}

function countPlan(
  ops: readonly PlanOp[],
  read: number,
  skips: SkipMap,
  updated: number,
  unchanged: number,
  snap: { groups: number; contacts: number },
): RunCounts {
  const skippedByReason: Partial<Record<SkipReason, number>> = {};
  for (const s of skips.values()) skippedByReason[s.reason] = (skippedByReason[s.reason] ?? 0) + 1;
  const counts: RunCounts = {
    read,
    eligible: read - skips.size,
    added: 0,
    updated,
    unchanged,
    aliasesAdded: 0,
    aliasesRemoved: 0,
    flagged: 0,
    restored: 0,
    removed: 0, // a run never removes users: purge (R21) and domain removal (R17) do
    skipped: skips.size,
    skippedByReason,
    groups: snap.groups,
    contacts: snap.contacts,
  };
  for (const op of ops) {
    if (op.op === 'add_user') {
      counts.added++;
      counts.aliasesAdded += op.aliases.length; // aliases written, whether with a new user or not
    }
    else if (op.op === 'add_alias') counts.aliasesAdded++;
    else if (op.op === 'remove_alias') counts.aliasesRemoved++;
    else if (op.op === 'flag_user') counts.flagged++;
    else if (op.op === 'restore_user') counts.restored++;
  }
  return counts;
}

/**
 * planRun: the heart of a sync run (R10–R19, R30–R31, D4–D10). PURE and deterministic: the same
 * inputs (in any order) give a deep-equal plan. Passes:
 *  1. members and exceptions (R30), per-entry checks (R3, R4, R6);
 *  2. matching (R11, D6) and each candidate's address claims (R13, R14);
 *  3. claim settlement over the whole read (R13, plan-claims.ts);
 *  4. user ops (R10, R12, R13a, R14, R16), flags (R15, R18, R31/D4);
 *  5. the group/contact snapshot (D7), counts (R52).
 * Every pass uses Maps/Sets keyed by anchor, id or address: O(n log n) for n entries.
 */
import type { Address, DirectorySnapshot, Plan, PlanOp, RunCounts, RunSettings, SkipReason, StoreState, StoreUser } from './model.ts';
import { type Candidate, IssueList, type SkipMap, cmp } from './plan-context.ts';
import { computeExcepted, precheckEntry, resolveMembers } from './plan-eligibility.ts';
import { type UserIndex, buildCandidate, indexUsers, matchEntries, yieldsToThisRun } from './plan-match.ts';
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
  const managed = new Set(settings.managedDomains.map((d) => d.toLowerCase()));
  const exceptedAliases = new Set<string>(settings.exceptions.aliases);
  // Entries keep the read's order: every output list is sorted at the end, and matching does not
  // depend on it (sorting 100,000 entries cost a quarter of a second per run).
  const entries = snapshot.users;
  const users = sortedBy(store.users, (u) => u.id);

  // 1. Exceptions and per-entry checks.
  const members = resolveMembers(snapshot, settings.options.readContacts);
  const excepted = computeExcepted(members, settings);
  const skips: SkipMap = new Map();
  const eligible = [];
  for (const e of entries) {
    for (const i of e.issues) issues.add(e.anchor, e.dn, i);
    const pre = precheckEntry(e, settings, excepted, managed);
    if (pre === null) eligible.push(e);
    else skips.set(e.anchor, { entry: e, ...pre });
  }

  // 2. Matching and claims.
  const idx = indexUsers(users, settings.connectionId);
  const readAnchors = new Set<string>();
  for (const e of entries) readAnchors.add(e.anchor);
  const matches = matchEntries(eligible, idx, settings, readAnchors, readAnchors.size === entries.length);
  const candidates = eligible.map((e) => buildCandidate(e, matches.get(e), managed, exceptedAliases, issues));
  const candidateUsers = new Set<string>();
  for (const c of candidates) {
    if (c.user === null) continue;
    candidateUsers.add(c.user.id);
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
    const u = idx.byAlias.get(a);
    if (u === undefined || u.primary === a || u.connectionId === null || u.connectionId === settings.connectionId) return undefined;
    if (u.state === 'deactivated' || candidateUsers.has(u.id) || !yieldsToThisRun(u.connectionId, settings)) return undefined;
    return u;
  };

  // 3. Settle addresses. A stored group of this connection that the read keeps still holds its
  // address while users are planned: apply writes users before groups, so a user cannot take it
  // in the same run (it can once the group is gone or has changed its address).
  const kept = new Set(keptGroups(snapshot, excepted).map((g) => g.anchor));
  const blocked = new Set<Address>(store.foreignAddresses.map((f) => f.address));
  for (const g of store.groups) if (g.address !== null && kept.has(g.anchor)) blocked.add(g.address);
  const { settled, lost, holderAfter } = settleClaims(
    candidates,
    { ownerOf: (a) => (idx.byPrimary.get(a) ?? idx.byAlias.get(a))?.id, blocked, yields: (a) => yieldingHolder(a) !== undefined },
    issues,
  );
  for (const c of lost) skips.set(c.entry.anchor, { entry: c.entry, reason: 'address_taken', value: c.primaryClaim });

  // 4. User ops.
  const archiveIdOf = new Map<Address, string>();
  for (const a of store.archives) if (a.userId === null) archiveIdOf.set(a.address, a.id);
  const ops: PlanOp[] = [];
  const matchedIds = new Set<string>();
  let updated = 0;
  let unchanged = 0;
  for (const c of candidates) {
    // R22: a deactivated user is never touched; its entry counts as unchanged.
    if (c.mode === 'frozen' && c.user !== null) {
      matchedIds.add(c.user.id);
      unchanged++;
    }
  }
  for (const c of settled) {
    for (const a of c.primaryClaim === c.user?.primary ? c.aliases : [c.primaryClaim, ...c.aliases]) {
      const from = yieldingHolder(a);
      if (from === undefined) continue;
      ops.push({ op: 'remove_alias', userId: from.id, address: a });
      issues.add(c.entry.anchor, c.entry.dn, { code: 'address_won_by_priority', value: a, detail: `from ${from.primary} of lower-priority connection ${from.connectionId}` });
    }
    const own = planCandidate(c, settings, archiveIdOf);
    if (c.user !== null) {
      matchedIds.add(c.user.id);
      if (own.length > 0) updated++;
      else unchanged++;
    }
    for (const op of own) ops.push(op);
  }
  const presentSkips = new Map<string, SkipReason>();
  for (const [anchor, s] of skips) presentSkips.set(anchor, s.reason);
  for (const op of planFlags(users, matchedIds, presentSkips, settings, now)) ops.push(op);

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
  return {
    tenantId: settings.tenantId,
    connectionId: settings.connectionId,
    now,
    ops,
    skipped: sortSkipped([...skips.values()].map((s) => ({ anchor: s.entry.anchor, dn: s.entry.dn, reason: s.reason, value: s.value }))),
    issues: sortIssues(issues.items),
    counts,
    flagCount: counts.flagged,
    syncedUserCount: users.filter((u) => u.connectionId === settings.connectionId && u.state !== 'pending_deletion').length,
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
  let replaced: Set<string> | undefined; // built on the first question: most reads have no group address
  const heldByOther = (u: StoreUser | undefined): boolean => {
    if (u === undefined) return false;
    if (replaced === undefined) {
      replaced = new Set<string>();
      for (const c of settled) if (c.user !== null) replaced.add(c.user.id);
    }
    return !replaced.has(u.id);
  };
  return {
    has: (a) => foreign.has(a) || holderAfter(a) !== null || heldByOther(idx.byPrimary.get(a)) || heldByOther(idx.byAlias.get(a)),
  };
}

/** `items` in `key` order (code units): the input itself when already sorted (a loaded store is), else a sorted copy. */
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  for (let i = 1; i < items.length; i++) {
    if (key(items[i - 1] as T) > key(items[i] as T)) return [...items].sort((a, b) => cmp(key(a), key(b)));
  }
  return items as T[];
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

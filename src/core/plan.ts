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
import { buildCandidate, indexUsers, matchEntries } from './plan-match.ts';
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
  const entries = [...snapshot.users].sort((a, b) => cmp(a.anchor, b.anchor));
  const users = [...store.users].sort((a, b) => cmp(a.id, b.id));

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
  const readAnchors = new Set(entries.map((e) => e.anchor));
  const matches = matchEntries(eligible, idx, settings.connectionId, readAnchors);
  const candidates = eligible.map((e) => buildCandidate(e, matches.get(e), managed, exceptedAliases, issues));

  // 3. Settle addresses. A stored group of this connection that the read keeps still holds its
  // address while users are planned: apply writes users before groups, so a user cannot take it
  // in the same run (it can once the group is gone or has changed its address).
  const kept = new Set(keptGroups(snapshot, excepted).map((g) => g.anchor));
  const blocked = new Set<Address>(store.foreignAddresses.map((f) => f.address));
  for (const g of store.groups) if (g.address !== null && kept.has(g.anchor)) blocked.add(g.address);
  const { settled, lost } = settleClaims(candidates, { ownerOf: (a) => (idx.byPrimary.get(a) ?? idx.byAlias.get(a))?.id, blocked }, issues);
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
    const own = planCandidate(c, settings, archiveIdOf);
    if (c.user !== null) {
      matchedIds.add(c.user.id);
      if (own.length > 0) updated++;
      else unchanged++;
    }
    ops.push(...own);
  }
  const presentSkips = new Map<string, SkipReason>();
  for (const [anchor, s] of skips) presentSkips.set(anchor, s.reason);
  ops.push(...planFlags(users, matchedIds, presentSkips, settings, now));

  // 5. Snapshot of groups and contacts; groups take only addresses users do not hold after the run.
  const snap = planSnapshot(
    {
      snapshot,
      store,
      members,
      excepted,
      readContacts: settings.options.readContacts,
      taken: addressesAfterRun(users, settled, store),
    },
    issues,
  );
  ops.push(...snap.ops);
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

/** Addresses held by users after the run (settled candidates' new sets, everyone else's current), plus foreign. */
function addressesAfterRun(
  users: readonly StoreUser[],
  settled: readonly Candidate[],
  store: StoreState,
): Set<Address> {
  const taken = new Set<Address>(store.foreignAddresses.map((f) => f.address));
  const replaced = new Set<string>();
  for (const c of settled) {
    if (c.user !== null) replaced.add(c.user.id);
    taken.add(c.primaryClaim);
    for (const a of c.aliases) taken.add(a);
  }
  for (const u of users) {
    if (replaced.has(u.id)) continue;
    taken.add(u.primary);
    for (const a of u.aliases) taken.add(a);
  }
  return taken;
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

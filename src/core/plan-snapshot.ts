/**
 * D7: the per-connection snapshot of groups, memberships and contacts (R60), diffed against the
 * store by anchor. Group addresses share the users' address space (R13): groups are settled after
 * users and take only addresses left free.
 */
import type { Address, DirectorySnapshot, PlanOp, StoreState } from './model.ts';
import { type IssueList, cmp } from './plan-context.ts';
import type { ResolvedMembers } from './plan-eligibility.ts';

export interface SnapshotInput {
  snapshot: DirectorySnapshot;
  store: StoreState;
  members: ResolvedMembers;
  excepted: ReadonlySet<string>;
  readContacts: boolean;
  /** Anchors of this read's user entries (built by the caller on the first call). */
  readUsers: () => ReadonlySet<string>;
  /** Addresses users hold after this run, and foreign ones: a group cannot take them. */
  taken: { has(address: Address): boolean };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `sorted` without repeated values (adjacent once sorted), in place. */
function uniqueSorted(sorted: string[]): string[] {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i] as string;
  sorted.length = n;
  return sorted;
}

/** The members of a group that a membership may name: those resolved from user entries, and the others that are `known`. */
function knownMembers(members: ResolvedMembers, groupAnchor: string, known: (anchor: string) => boolean): string[] {
  const all = members.anchors.get(groupAnchor);
  if (all === undefined) return [];
  const fromUsers = members.userCount.get(groupAnchor) ?? 0;
  const want = all.slice(0, fromUsers);
  for (let i = fromUsers; i < all.length; i++) if (known(all[i] as string)) want.push(all[i] as string);
  return want;
}

/**
 * Groups in scope that are not excepted (R30 excludes the group and its nested groups), sorted by
 * anchor. Used by planRun to know which stored group addresses stay held (see plan-claims.ts).
 */
export function keptGroups(snapshot: DirectorySnapshot, excepted: ReadonlySet<string>): DirectorySnapshot['groups'] {
  return snapshot.groups.filter((g) => !excepted.has(g.anchor)).sort((a, b) => cmp(a.anchor, b.anchor));
}

/** Ops and issues for groups, memberships and contacts. Emits nothing for what did not change. */
export function planSnapshot(input: SnapshotInput, issues: IssueList): { ops: PlanOp[]; groups: number; contacts: number } {
  const { snapshot, store, members, excepted } = input;
  const ops: PlanOp[] = [];
  const groups = keptGroups(snapshot, excepted);
  const storedGroups = new Map(store.groups.map((g) => [g.anchor, g]));
  const contacts = input.readContacts ? snapshot.contacts.filter((c) => !excepted.has(c.anchor)) : [];
  // Anchors a membership may name: this read's users, kept groups and contacts.
  const knownOther = new Set<string>();
  for (const g of groups) knownOther.add(g.anchor);
  for (const c of contacts) knownOther.add(c.anchor);
  // Members resolved from user entries are known without asking (members.userCount).
  const known = (a: string): boolean => knownOther.has(a) || input.readUsers().has(a);

  // Group addresses: the group already holding one keeps it, else the first anchor (R13 analogue).
  const claimants = new Map<Address, string[]>();
  // Groups may exchange addresses within one run: apply deletes the old address rows of every
  // upserted group before inserting new ones (and a group that changes its address is upserted).
  for (const g of groups) {
    if (g.address === null) continue;
    if (input.taken.has(g.address)) {
      issues.add(g.anchor, g.dn, { code: 'address_taken', value: g.address });
      continue;
    }
    const list = claimants.get(g.address);
    if (list === undefined) claimants.set(g.address, [g.anchor]);
    else list.push(g.anchor);
  }
  const addressOf = new Map<string, Address>();
  const dnOf = new Map(groups.map((g) => [g.anchor, g.dn]));
  for (const [address, anchors] of claimants) {
    const holder = anchors.find((a) => storedGroups.get(a)?.address === address);
    const winner = holder ?? (anchors[0] as string); // groups are sorted by anchor
    addressOf.set(winner, address);
    for (const a of anchors) {
      if (a === winner) continue;
      issues.add(a, dnOf.get(a) ?? null, { code: 'address_claimed_by_other_entry', value: address });
    }
  }

  const readGroups = new Set<string>();
  for (const g of groups) {
    readGroups.add(g.anchor);
    for (const i of g.issues) issues.add(g.anchor, g.dn, i);
    for (const dn of members.unresolved.get(g.anchor) ?? []) {
      issues.add(g.anchor, g.dn, { code: 'unresolved_member', value: dn });
    }
    const address = addressOf.get(g.anchor) ?? null;
    const stored = storedGroups.get(g.anchor);
    if (stored === undefined || stored.dn !== g.dn || stored.name !== g.name || stored.address !== address) {
      ops.push({ op: 'upsert_group', anchor: g.anchor, dn: g.dn, name: g.name, address, groupId: stored?.id ?? null });
    }
    // Excepted members are dropped silently: they are not part of the run (R30).
    // The default sort orders strings by code units, as cmp does, without a comparator call per step.
    const want = uniqueSorted(knownMembers(members, g.anchor, known).sort());
    const have = stored?.memberAnchors ?? [];
    if (have.length === 0) {
      // A new group, or one that had no members (every group of a first run): all are added.
      if (want.length > 0) ops.push({ op: 'set_members', groupAnchor: g.anchor, add: want, remove: [] });
    } else if (!sameList(want, have)) {
      const haveSet = new Set(have);
      const wantSet = new Set(want);
      const add = want.filter((a) => !haveSet.has(a));
      const remove = have.filter((a) => !wantSet.has(a)).sort(cmp);
      if (add.length > 0 || remove.length > 0) ops.push({ op: 'set_members', groupAnchor: g.anchor, add, remove });
    }
  }
  for (const g of store.groups) {
    if (!readGroups.has(g.anchor)) ops.push({ op: 'remove_group', groupId: g.id, anchor: g.anchor });
  }

  const storedContacts = new Map(store.contacts.map((c) => [c.anchor, c]));
  const readContacts = new Set<string>();
  for (const c of [...contacts].sort((a, b) => cmp(a.anchor, b.anchor))) {
    if (readContacts.has(c.anchor)) continue;
    readContacts.add(c.anchor);
    for (const i of c.issues) issues.add(c.anchor, c.dn, i);
    const addresses = [...new Set(c.addresses)].sort(cmp);
    const stored = storedContacts.get(c.anchor);
    if (stored === undefined || stored.dn !== c.dn || stored.name !== c.name || !sameList(stored.addresses, addresses)) {
      ops.push({ op: 'upsert_contact', anchor: c.anchor, dn: c.dn, name: c.name, addresses, contactId: stored?.id ?? null });
    }
  }
  for (const c of store.contacts) {
    if (!readContacts.has(c.anchor)) ops.push({ op: 'remove_contact', contactId: c.id, anchor: c.anchor });
  }
  return { ops, groups: groups.length, contacts: readContacts.size };
}

/**
 * First pass of planRun: member DN resolution, R30 exceptions (transitive, cycle-safe) and the
 * per-entry checks that do not depend on other entries (R3, R4, R6 precedence).
 */
import { normalizeDn } from './dn.ts';
import { expandMembers } from './groups.ts';
import type { DirContact, DirectorySnapshot, DirGroup, DirUser, RunSettings, SkipReason } from './model.ts';
import type { ManagedCheck } from './plan-context.ts';

/** Member DNs of every group read (in scope and D8 out-of-scope excepted groups), resolved once. */
export interface ResolvedMembers {
  /**
   * Group anchor → member anchors, one per entry named: first those resolved from user entries,
   * then the others (groups, contacts), each part in read order. Two entries sharing an anchor
   * (not possible in one directory) are both listed: readers treat the list as a set.
   */
  anchors: Map<string, string[]>;
  /** Group anchor → how many of its `anchors`, at the start, were resolved from user entries of the read. */
  userCount: Map<string, number>;
  /** Group anchor → member DNs that name no entry of the read (D7 'unresolved_member'). */
  unresolved: Map<string, string[]>;
}

/**
 * Resolves member DNs via normalizeDn against users, groups (incl. out-of-scope excepted ones) and,
 * when contacts are read, contacts. A DN that two entries share (not possible in one directory) maps
 * to the first in that order.
 */
export function resolveMembers(snapshot: DirectorySnapshot, readContacts: boolean): ResolvedMembers {
  const { users, groups, exceptedGroupsOutOfScope: outOfScope } = snapshot;
  const contacts = readContacts ? snapshot.contacts : [];
  // Normalized DN → entry number: users, then groups, out-of-scope groups, contacts. Filled from
  // the last entry to the first, so that the first entry of a DN is the one kept, with a single
  // probe per entry (a Map of 100,000 DNs is most of this function's cost).
  const byDn = new Map<string, number>();
  const g0 = users.length;
  const o0 = g0 + groups.length;
  const c0 = o0 + outOfScope.length;
  for (let i = contacts.length - 1; i >= 0; i--) byDn.set(normalizeDn((contacts[i] as DirContact).dn), c0 + i);
  for (let i = outOfScope.length - 1; i >= 0; i--) byDn.set(normalizeDn((outOfScope[i] as DirGroup).dn), o0 + i);
  for (let i = groups.length - 1; i >= 0; i--) byDn.set(normalizeDn((groups[i] as DirGroup).dn), g0 + i);
  for (let i = users.length - 1; i >= 0; i--) byDn.set(normalizeDn((users[i] as DirUser).dn), i);
  const anchorOf = (k: number): string =>
    k < g0 ? (users[k] as DirUser).anchor
    : k < o0 ? (groups[k - g0] as DirGroup).anchor
    : k < c0 ? (outOfScope[k - o0] as DirGroup).anchor
    : (contacts[k - c0] as DirContact).anchor;
  const anchors = new Map<string, string[]>();
  const userCount = new Map<string, number>();
  const unresolved = new Map<string, string[]>();
  // Entry k was last listed for the group numbered seenIn[k] (from 1): a member named twice is listed once.
  const seenIn = new Int32Array(c0 + contacts.length);
  let groupNo = 0;
  for (const list of [groups, outOfScope]) {
    for (const g of list) {
      if (anchors.has(g.anchor)) continue;
      groupNo++;
      const fromUsers: string[] = [];
      const others: string[] = [];
      const missing: string[] = [];
      for (const dn of g.memberDns) {
        const k = byDn.get(normalizeDn(dn));
        if (k === undefined) {
          missing.push(dn);
          continue;
        }
        if (seenIn[k] === groupNo) continue;
        seenIn[k] = groupNo;
        (k < g0 ? fromUsers : others).push(anchorOf(k));
      }
      userCount.set(g.anchor, fromUsers.length);
      for (const a of others) fromUsers.push(a);
      anchors.set(g.anchor, fromUsers);
      if (missing.length > 0) unresolved.set(g.anchor, missing);
    }
  }
  return { anchors, userCount, unresolved };
}

/**
 * R30: the anchors excluded from the run: excepted users, excepted groups, and every member of an
 * excepted group, transitively (nested groups and contacts included; cycles are safe).
 */
export function computeExcepted(members: ResolvedMembers, settings: RunSettings): Set<string> {
  const excepted = new Set<string>(settings.exceptions.userAnchors.map((a) => a.toLowerCase()));
  const groups = settings.exceptions.groupAnchors.map((a) => a.toLowerCase());
  for (const g of groups) excepted.add(g);
  for (const m of expandMembers(groups, members.anchors).members) excepted.add(m);
  return excepted;
}

/**
 * R3/R30/R4/R6: the skip reason an entry gets before address claims, or null when it may sync.
 * Precedence (one reason per entry): public_folder_not_synced, disabled, excepted,
 * invalid_address/no_address, unmanaged_domain. (address_taken is decided later, R13.)
 */
export function precheckEntry(
  entry: DirUser,
  settings: RunSettings,
  excepted: ReadonlySet<string>,
  isManaged: ManagedCheck,
): { reason: SkipReason; value: string | null } | null {
  if (entry.kind === 'public_folder' && !settings.options.syncPublicFolders) {
    return { reason: 'public_folder_not_synced', value: null };
  }
  if (entry.disabled && !settings.options.syncDisabledUsers) return { reason: 'disabled', value: null };
  if (excepted.size !== 0 && excepted.has(entry.anchor)) return { reason: 'excepted', value: null };
  if (entry.primary === null) {
    if (entry.primaryInvalid) {
      const bad = entry.issues.find((i) => i.code === 'invalid_address');
      return { reason: 'invalid_address', value: bad === undefined ? null : bad.value.slice(0, 512) };
    }
    return { reason: 'no_address', value: null };
  }
  if (!isManaged(entry.primary)) return { reason: 'unmanaged_domain', value: entry.primary };
  return null;
}

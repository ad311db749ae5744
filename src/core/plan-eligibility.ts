/**
 * First pass of planRun: member DN resolution, R30 exceptions (transitive, cycle-safe) and the
 * per-entry checks that do not depend on other entries (R3, R4, R6 precedence).
 */
import { domainOf } from './address.ts';
import { normalizeDn } from './dn.ts';
import { expandMembers } from './groups.ts';
import type { DirectorySnapshot, DirUser, RunSettings, SkipReason } from './model.ts';

/** Member DNs of every group read (in scope and D8 out-of-scope excepted groups), resolved once. */
export interface ResolvedMembers {
  /** Group anchor → member anchors (deduplicated, read order). */
  anchors: Map<string, string[]>;
  /** Group anchor → member DNs that name no entry of the read (D7 'unresolved_member'). */
  unresolved: Map<string, string[]>;
}

/**
 * Resolves member DNs via normalizeDn against users, groups (incl. out-of-scope excepted ones) and,
 * when contacts are read, contacts. A DN that two entries share (not possible in one directory) maps
 * to the first in anchor order.
 */
export function resolveMembers(snapshot: DirectorySnapshot, readContacts: boolean): ResolvedMembers {
  const byDn = new Map<string, string>();
  const note = (dn: string, anchor: string): void => {
    const key = normalizeDn(dn);
    if (!byDn.has(key)) byDn.set(key, anchor);
  };
  for (const u of snapshot.users) note(u.dn, u.anchor);
  for (const g of snapshot.groups) note(g.dn, g.anchor);
  for (const g of snapshot.exceptedGroupsOutOfScope) note(g.dn, g.anchor);
  if (readContacts) for (const c of snapshot.contacts) note(c.dn, c.anchor);
  const anchors = new Map<string, string[]>();
  const unresolved = new Map<string, string[]>();
  for (const g of [...snapshot.groups, ...snapshot.exceptedGroupsOutOfScope]) {
    if (anchors.has(g.anchor)) continue;
    const seen = new Set<string>();
    const missing: string[] = [];
    for (const dn of g.memberDns) {
      const a = byDn.get(normalizeDn(dn));
      if (a === undefined) missing.push(dn);
      else seen.add(a);
    }
    anchors.set(g.anchor, [...seen]);
    if (missing.length > 0) unresolved.set(g.anchor, missing);
  }
  return { anchors, unresolved };
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
  managed: ReadonlySet<string>,
): { reason: SkipReason; value: string | null } | null {
  if (entry.kind === 'public_folder' && !settings.options.syncPublicFolders) {
    return { reason: 'public_folder_not_synced', value: null };
  }
  if (entry.disabled && !settings.options.syncDisabledUsers) return { reason: 'disabled', value: null };
  if (excepted.has(entry.anchor)) return { reason: 'excepted', value: null };
  if (entry.primary === null) {
    if (entry.primaryInvalid) {
      const bad = entry.issues.find((i) => i.code === 'invalid_address');
      return { reason: 'invalid_address', value: bad === undefined ? null : bad.value.slice(0, 512) };
    }
    return { reason: 'no_address', value: null };
  }
  if (!managed.has(domainOf(entry.primary))) return { reason: 'unmanaged_domain', value: entry.primary };
  return null;
}

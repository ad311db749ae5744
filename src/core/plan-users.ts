/**
 * User operations of a run: add (R10), update with field diffs (R12, R13a, R14/D10), alias
 * changes (R13), restore (R16) and flags (R15, R18, R31/D4).
 */
import { computeDeleteAfter } from './lifecycle.ts';
import {
  type Address,
  DETAIL_FIELDS,
  type FieldChange,
  type FlagReason,
  type PlanOp,
  type RunSettings,
  type SkipReason,
  type StoreUser,
  type UserDetails,
  type UserFields,
} from './model.ts';
import type { Candidate } from './plan-context.ts';
import type { UserIndex } from './plan-match.ts';

function nonEmpty(v: string | null): v is string {
  return v !== null && v !== '';
}

/** The user columns a candidate should have after the run. */
function desiredFields(c: Candidate, connectionId: string): UserFields {
  const e = c.entry;
  if (c.mode === 'directory' || c.user === null) {
    return { kind: e.kind, primary: c.primaryClaim, details: e.details, kerberosName: e.kerberosName, ntlmName: e.ntlmName, connectionId, anchor: e.anchor, dn: e.dn };
  }
  // D10/R14: only non-empty directory values overwrite; kind and primary stay the user's.
  const u = c.user;
  const details = { ...u.details };
  for (const f of DETAIL_FIELDS) {
    const v = e.details[f];
    if (nonEmpty(v)) details[f] = v;
  }
  return {
    kind: u.kind,
    primary: u.primary,
    details,
    kerberosName: nonEmpty(e.kerberosName) ? e.kerberosName : u.kerberosName,
    ntlmName: nonEmpty(e.ntlmName) ? e.ntlmName : u.ntlmName,
    connectionId,
    anchor: e.anchor,
    dn: e.dn,
  };
}

const NO_OPS: readonly PlanOp[] = Object.freeze([]);

/**
 * Whether two detail records are equal in every field of DETAIL_FIELDS, written out: a loop over
 * the names made each read a keyed lookup, and this runs for every unchanged user of a run.
 * plan-users.test.ts checks that it looks at every field.
 */
export function sameDetails(a: UserDetails, b: UserDetails): boolean {
  return a.givenName === b.givenName && a.surname === b.surname && a.displayName === b.displayName && a.homePhone === b.homePhone &&
    a.mobile === b.mobile && a.company === b.company && a.department === b.department && a.notes === b.notes;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when a directory-mode candidate's user already has every column and alias the entry
 * wants and is not pending deletion, i.e. planCandidate would return no op. Most entries of a
 * run are unchanged: this answers for them without building the desired fields, sets or diffs.
 */
export function unchangedDirectoryUser(c: Candidate, u: StoreUser, connectionId: string): boolean {
  const e = c.entry;
  if (u.state === 'pending_deletion' || u.kind !== e.kind || u.primary !== c.primaryClaim || u.kerberosName !== e.kerberosName ||
    u.ntlmName !== e.ntlmName || u.connectionId !== connectionId || u.anchor !== e.anchor || u.dn !== e.dn) return false;
  return sameDetails(u.details, e.details) && sameList(u.aliases, c.aliases);
}

/**
 * Ops for one settled candidate: add_user, or the update_user / alias / restore ops of its user
 * (none when nothing changed). The returned array may be shared and frozen: do not mutate it.
 */
export function planCandidate(
  c: Candidate,
  settings: RunSettings,
  archiveIdOf: ReadonlyMap<Address, string>,
): readonly PlanOp[] {
  const u = c.user;
  // A stable candidate's answer was found while its entry and user were at hand (buildCandidate).
  if (u !== null && c.mode === 'directory' && (c.stable ? c.unchanged : unchangedDirectoryUser(c, u, settings.connectionId))) return NO_OPS;
  const want = desiredFields(c, settings.connectionId);
  if (u === null) {
    // The plan gets its own array, not the entry's (Candidate.aliasClaims may be shared with it).
    const aliases = c.aliases === c.entry.aliases ? c.aliases.slice() : c.aliases;
    return [{ op: 'add_user', anchor: c.entry.anchor, fields: want, aliases, archiveId: archiveIdOf.size === 0 ? null : (archiveIdOf.get(want.primary) ?? null) }];
  }
  const ops: PlanOp[] = [];
  const set: Partial<UserFields> = {};
  const changes: FieldChange[] = [];
  const scalar = ['kind', 'primary', 'kerberosName', 'ntlmName', 'connectionId', 'anchor', 'dn'] as const;
  for (const f of scalar) {
    if (u[f] !== want[f]) {
      (set as Record<string, unknown>)[f] = want[f];
      changes.push({ field: f, before: u[f], after: want[f] });
    }
  }
  let detailsChanged = false;
  for (const f of DETAIL_FIELDS) {
    if (u.details[f] !== want.details[f]) {
      detailsChanged = true;
      changes.push({ field: f, before: u.details[f], after: want.details[f] });
    }
  }
  if (detailsChanged) set.details = { ...want.details } satisfies UserDetails;
  if (changes.length > 0) ops.push({ op: 'update_user', userId: u.id, set, changes });
  const current = new Set(u.aliases);
  const desired = new Set(c.aliases);
  for (const a of c.aliases) if (!current.has(a)) ops.push({ op: 'add_alias', userId: u.id, address: a });
  if (c.mode === 'directory') {
    for (const a of u.aliases) if (!desired.has(a)) ops.push({ op: 'remove_alias', userId: u.id, address: a });
  }
  if (u.state === 'pending_deletion') ops.push({ op: 'restore_user', userId: u.id });
  return ops;
}

/** R15 flag reason of an entry that is present but not eligible. */
export function flagReasonFor(reason: SkipReason): FlagReason {
  switch (reason) {
    case 'disabled':
      return 'disabled';
    case 'excepted':
      return 'excepted';
    case 'address_taken':
      return 'address_taken';
    case 'no_address':
    case 'invalid_address':
    case 'unmanaged_domain':
      return 'no_valid_address';
    case 'public_folder_not_synced':
      return 'missing'; // filtered out by an option: the same as filtered out of scope
  }
}

/**
 * R15/R18/R31: flag ops for active users of this connection (source ldap, or addition no longer on
 * the list) not matched by an eligible entry, and — when settings.flagUnanchored — active ldap
 * users with no anchor that no entry matched. Pending users stay as they are; deactivated,
 * manual, smtp and listed additions are never flagged. `matched` is indexed by id slot.
 */
export function planFlags(
  idx: UserIndex,
  matched: Uint8Array,
  presentSkips: { get(anchor: string): SkipReason | undefined },
  settings: RunSettings,
  now: string,
): PlanOp[] {
  const additions = new Set<string>(settings.additions);
  const deleteAfter = computeDeleteAfter(now, settings.deletionDelayDays);
  const ops: PlanOp[] = [];
  const users = idx.users;
  for (let i = 0; i < users.length; i++) {
    const u = users[i] as StoreUser;
    if (u.state !== 'active' || matched[idx.slot[i] as number] !== 0) continue;
    let reason: FlagReason | null = null;
    const listedAddition = u.source === 'addition' && additions.has(u.primary);
    if (u.connectionId === settings.connectionId && (u.source === 'ldap' || (u.source === 'addition' && !listedAddition))) {
      const skip = u.anchor === null ? undefined : presentSkips.get(u.anchor);
      if (skip !== undefined) reason = flagReasonFor(skip);
      // D4: a user of this connection without an anchor can only be an addition that never met its
      // entry; once off the list (source addition, or already turned ldap) it is flagged as such.
      else if (u.source === 'addition' || u.anchor === null) reason = 'removed_from_additions';
      else reason = 'missing';
    } else if (u.connectionId === null && u.anchor === null && u.source === 'ldap' && settings.flagUnanchored) {
      reason = 'unanchored'; // R18
    }
    if (reason !== null) ops.push({ op: 'flag_user', userId: u.id, reason, flaggedAt: now, deleteAfter });
  }
  return ops;
}

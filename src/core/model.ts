/**
 * The data model shared by every layer: what a directory read yields (DirectorySnapshot),
 * what the store holds for one run (StoreState), the run's settings, and the plan.
 *
 * PURE: this file and everything in src/core import nothing from node:*, ldapts, kysely or pg.
 * Times are ISO-8601 strings in UTC (`2026-11-22T10:00:00.000Z`); `now` is always a parameter.
 */

/** A normalized mail address: trimmed, lower-case, domain in ASCII (punycode) form. */
export type Address = string & { readonly __brand: 'Address' };

export type UserSource = 'ldap' | 'manual' | 'smtp' | 'addition' | 'entra';
export type UserState = 'active' | 'pending_deletion' | 'deactivated';
/** D3: public folders are user-like objects with the same lifecycle. */
export type UserKind = 'user' | 'public_folder';

/** R15: why a user was flagged for deletion. */
export type FlagReason =
  | 'missing' // deleted, moved out of scope or filtered out: a plain read cannot tell them apart
  | 'disabled'
  | 'excepted'
  | 'no_valid_address' // no valid primary, or primary in an unmanaged domain
  | 'address_taken' // its primary address now belongs to another object
  | 'removed_from_additions'
  | 'unanchored'; // R18: an ldap user with no anchor that no connection matched

/** R6: why an entry in scope did not become or update a user. One reason per entry. */
export type SkipReason =
  | 'disabled'
  | 'excepted'
  | 'no_address'
  | 'invalid_address'
  | 'unmanaged_domain'
  | 'address_taken'
  | 'public_folder_not_synced'; // R3: "sync public folders" is off

/** D9: per-entry issue codes for entries that still sync (and for skipped detail). */
export type IssueCode =
  | 'invalid_address' // a value dropped because it is not a valid address (R4)
  | 'several_smtp_primaries' // AD: more than one `SMTP:` value (R4)
  | 'address_taken' // an alias or group address already held by another object (R13)
  | 'address_claimed_by_other_entry' // two entries of one read claimed one free address (R13)
  | 'address_won_by_priority' // R51: an alias taken from a user of a lower-priority connection (detail: that user's primary)
  | 'user_taken_over' // R51/D6: a user of another connection (lower priority, or pending deletion there) matched by address and re-anchored here
  | 'alias_unmanaged_domain' // alias not qualifying (R13)
  | 'alias_excepted' // R30
  | 'continuation_reference' // R5: recorded, not followed
  | 'unresolved_member' // a group member DN that is not in this read
  | 'value_too_large' // an attribute value dropped for its size (R44)
  | 'invalid_utf8'; // an attribute value that is not valid UTF-8 (R44)

export interface EntryIssue {
  code: IssueCode;
  /** The raw value concerned (an address, a DN, a referral URL), truncated to 512 chars. */
  value: string;
  detail?: string;
}

/** Contact details of a user (R1). Empty directory values are null. */
export interface UserDetails {
  givenName: string | null;
  surname: string | null;
  displayName: string | null;
  homePhone: string | null;
  mobile: string | null;
  company: string | null;
  department: string | null;
  notes: string | null;
}

export const DETAIL_FIELDS = [
  'givenName',
  'surname',
  'displayName',
  'homePhone',
  'mobile',
  'company',
  'department',
  'notes',
] as const satisfies readonly (keyof UserDetails)[];

// ---------------------------------------------------------------------------------------------
// What a complete directory read yields (produced by src/directory, consumed by planRun).
// ---------------------------------------------------------------------------------------------

/** One user or public-folder entry in scope, mapped by a profile (R1). */
export interface DirUser {
  /** Immutable id, lower-case: AD objectGUID as a GUID string, OpenLDAP entryUUID. */
  anchor: string;
  dn: string;
  kind: UserKind;
  disabled: boolean;
  /** Normalized primary address (R4), or null when the entry has no valid one. */
  primary: Address | null;
  /** True when the entry had address values but none valid for a primary (R6 invalid_address vs no_address). */
  primaryInvalid: boolean;
  /** Other valid addresses of the entry (any domain), normalized, deduplicated, primary excluded, sorted. */
  aliases: Address[];
  details: UserDetails;
  kerberosName: string | null;
  ntlmName: string | null;
  /** Values dropped while mapping (D9). */
  issues: EntryIssue[];
}

export interface DirGroup {
  anchor: string;
  dn: string;
  name: string;
  /** The group's own mail address, if any. */
  address: Address | null;
  /** Member DNs exactly as read (the planner resolves them against the read's DNs). */
  memberDns: string[];
  issues: EntryIssue[];
}

export interface DirContact {
  anchor: string;
  dn: string;
  name: string;
  addresses: Address[];
  issues: EntryIssue[];
}

/** A complete read of one connection. An incomplete read never produces one (R5). */
export interface DirectorySnapshot {
  complete: true;
  users: DirUser[];
  groups: DirGroup[];
  contacts: DirContact[];
  /**
   * D8: excepted groups read by anchor because they lie outside the search base or filter.
   * Used only to expand exceptions, never stored in the snapshot tables.
   */
  exceptedGroupsOutOfScope: DirGroup[];
  /** R5: continuation references seen during the read (recorded, not followed). */
  references: string[];
}

// ---------------------------------------------------------------------------------------------
// What the store holds, as the planner sees it (produced by src/store loadStoreState).
// ---------------------------------------------------------------------------------------------

export interface StoreUser {
  id: string;
  kind: UserKind;
  source: UserSource;
  state: UserState;
  accessEnabled: boolean;
  primary: Address;
  /** Sorted. */
  aliases: Address[];
  details: UserDetails;
  kerberosName: string | null;
  ntlmName: string | null;
  /** The connection that anchors this user, or null (manual users, or ldap users from before sync). */
  connectionId: string | null;
  anchor: string | null;
  dn: string | null;
  flagReason: FlagReason | null;
  flaggedAt: string | null;
  deleteAfter: string | null;
}

/** A group of this connection's snapshot (D7). */
export interface StoreGroup {
  id: string;
  anchor: string;
  dn: string;
  name: string;
  address: Address | null;
  /** Anchors of direct members (users, contacts, groups) of this connection; sorted. */
  memberAnchors: string[];
}

export interface StoreContact {
  id: string;
  anchor: string;
  dn: string;
  name: string;
  /** Sorted. */
  addresses: Address[];
}

/** An address held by an object that is not a user of this tenant nor a group of this connection. */
export interface ForeignAddress {
  address: Address;
  ownerKind: 'group' | 'user';
  /** The connection of that group (another connection of the tenant), or null. */
  connectionId: string | null;
}

export interface StoreArchive {
  id: string;
  address: Address;
  userId: string | null;
}

export interface StoreState {
  /** Every user of the tenant (all sources, all connections): a run may match any of them (R11). */
  users: StoreUser[];
  /** This connection's groups and contacts (D7). */
  groups: StoreGroup[];
  contacts: StoreContact[];
  /** Addresses held by groups of the tenant's other connections. */
  foreignAddresses: ForeignAddress[];
  /** The tenant's archives (R10 relink by primary address). */
  archives: StoreArchive[];
}

// ---------------------------------------------------------------------------------------------
// Settings of one run.
// ---------------------------------------------------------------------------------------------

export type DeletionDelayDays = 7 | 14 | 30 | null; // null = never (R20)

export interface SyncOptions {
  /** R3: sync disabled accounts as ordinary active users. */
  syncDisabledUsers: boolean;
  /** R3: sync public folders. */
  syncPublicFolders: boolean;
  /** R3: read contacts into the snapshot (R60). */
  readContacts: boolean;
}

export interface RunSettings {
  tenantId: string;
  connectionId: string;
  /** R51: lower number wins an address among the tenant's connections. */
  connectionPriority: number;
  /**
   * R51: the priority of every enabled connection of the tenant, by id (this one included). A user
   * anchored to a connection with a HIGHER number (lower priority) than this one yields to this run:
   * an entry may match it by address (taking it over), and take its aliases. Absent or missing
   * entries: the other connection never yields (holder keeps, R13).
   */
  connectionPriorities?: Readonly<Record<string, number>>;
  /** Managed domains of the tenant, ASCII lower-case. */
  managedDomains: string[];
  options: SyncOptions;
  deletionDelayDays: DeletionDelayDays;
  exceptions: {
    userAnchors: string[];
    groupAnchors: string[];
    aliases: Address[];
  };
  /** R31/D4: addresses on this connection's additions list. */
  additions: Address[];
  /** R18: true when every enabled connection of the tenant has completed a run since sync was enabled (counting this run). */
  flagUnanchored: boolean;
}

// ---------------------------------------------------------------------------------------------
// The plan: plain data, sorted deterministically; dry runs, held runs and apply read the same.
// ---------------------------------------------------------------------------------------------

/** The user columns a run can set. */
export interface UserFields {
  kind: UserKind;
  primary: Address;
  details: UserDetails;
  kerberosName: string | null;
  ntlmName: string | null;
  connectionId: string | null;
  anchor: string | null;
  dn: string | null;
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export type PlanOp =
  /** R10: a new user, source ldap, active, access enabled; archiveId = archive to relink. */
  | { op: 'add_user'; anchor: string; fields: UserFields; aliases: Address[]; archiveId: string | null }
  /** R11/R12/R13a/R14: changed columns only (`set`), with their diffs (`changes`). */
  | { op: 'update_user'; userId: string; set: Partial<UserFields>; changes: FieldChange[] }
  | { op: 'add_alias'; userId: string; address: Address }
  | { op: 'remove_alias'; userId: string; address: Address }
  /** R15 */
  | { op: 'flag_user'; userId: string; reason: FlagReason; flaggedAt: string; deleteAfter: string | null }
  /** R16 */
  | { op: 'restore_user'; userId: string }
  /** D7 snapshot of groups, memberships and contacts. */
  | { op: 'upsert_group'; anchor: string; dn: string; name: string; address: Address | null; groupId: string | null }
  | { op: 'remove_group'; groupId: string; anchor: string }
  | { op: 'set_members'; groupAnchor: string; add: string[]; remove: string[] }
  | { op: 'upsert_contact'; anchor: string; dn: string; name: string; addresses: Address[]; contactId: string | null }
  | { op: 'remove_contact'; contactId: string; anchor: string };

export type PlanOpKind = PlanOp['op'];

export interface SkippedEntry {
  anchor: string;
  dn: string;
  reason: SkipReason;
  /** The address or value concerned, for the data-quality reasons (R6). */
  value: string | null;
}

export interface RunIssue extends EntryIssue {
  anchor: string | null;
  dn: string | null;
}

/** R52 counts. */
export interface RunCounts {
  read: number;
  eligible: number;
  added: number;
  updated: number;
  unchanged: number;
  aliasesAdded: number;
  aliasesRemoved: number;
  flagged: number;
  restored: number;
  removed: number;
  skipped: number;
  skippedByReason: Partial<Record<SkipReason, number>>;
  groups: number;
  contacts: number;
}

export interface Plan {
  tenantId: string;
  connectionId: string;
  now: string;
  /**
   * Sorted: all removals first (remove_alias, remove_group, remove_contact), then
   * update_user, flag_user, restore_user, add_user, add_alias, upsert_group, set_members,
   * upsert_contact; within one kind by userId / anchor / address. Apply relies on the
   * removals-before-inserts order for address uniqueness.
   */
  ops: PlanOp[];
  skipped: SkippedEntry[];
  issues: RunIssue[];
  counts: RunCounts;
  /** Users this run would flag (R41 input). */
  flagCount: number;
  /** Users of this connection held in the store before the run, not pending deletion (R41 input). */
  syncedUserCount: number;
}

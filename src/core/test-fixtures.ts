/**
 * Builders for planRun unit tests: small, readable fixtures with sensible defaults.
 * Test-only (imported by *.test.ts); pure like the rest of src/core.
 */
import type {
  Address,
  DirContact,
  DirectorySnapshot,
  DirGroup,
  DirUser,
  Plan,
  PlanOp,
  PlanOpKind,
  StoreContact,
  StoreGroup,
  StoreState,
  StoreUser,
  RunSettings,
  UserDetails,
} from './model.ts';

export const NOW = '2026-11-22T10:00:00.000Z';
export const CONN = 'conn-1';
export const OTHER_CONN = 'conn-2';

export function addr(s: string): Address {
  return s as Address;
}

export function details(over: Partial<UserDetails> = {}): UserDetails {
  return { givenName: null, surname: null, displayName: null, homePhone: null, mobile: null, company: null, department: null, notes: null, ...over };
}

/** A directory user; `anchor` doubles as the uid in the DN. */
export function dirUser(anchor: string, primary: string | null, over: Partial<DirUser> = {}): DirUser {
  return {
    anchor,
    dn: `uid=${anchor},ou=people,dc=example,dc=com`,
    kind: 'user',
    disabled: false,
    primary: primary === null ? null : addr(primary),
    primaryInvalid: false,
    aliases: [],
    details: details({ displayName: anchor }),
    kerberosName: null,
    ntlmName: null,
    issues: [],
    ...over,
  };
}

export function dirGroup(anchor: string, memberDns: string[], over: Partial<DirGroup> = {}): DirGroup {
  return { anchor, dn: `cn=${anchor},ou=groups,dc=example,dc=com`, name: anchor, address: null, memberDns, issues: [], ...over };
}

export function dirContact(anchor: string, addresses: string[], over: Partial<DirContact> = {}): DirContact {
  return { anchor, dn: `cn=${anchor},ou=contacts,dc=example,dc=com`, name: anchor, addresses: addresses.map(addr), issues: [], ...over };
}

export function userDn(anchor: string): string {
  return `uid=${anchor},ou=people,dc=example,dc=com`;
}

export function groupDn(anchor: string): string {
  return `cn=${anchor},ou=groups,dc=example,dc=com`;
}

/**
 * A store user as a previous run of CONN would have left it for `dirUser(anchor, primary)`:
 * same details, linked by anchor. Override anything.
 */
export function storeUser(id: string, primary: string, over: Partial<StoreUser> = {}): StoreUser {
  return {
    id,
    kind: 'user',
    source: 'ldap',
    state: 'active',
    accessEnabled: true,
    primary: addr(primary),
    aliases: [],
    details: details({ displayName: over.anchor ?? null }),
    kerberosName: null,
    ntlmName: null,
    connectionId: over.anchor === undefined || over.anchor === null ? null : CONN,
    anchor: null,
    dn: over.anchor === undefined || over.anchor === null ? null : userDn(over.anchor),
    flagReason: null,
    flaggedAt: null,
    deleteAfter: null,
    ...over,
  };
}

export function storeGroup(id: string, anchor: string, over: Partial<StoreGroup> = {}): StoreGroup {
  return { id, anchor, dn: groupDn(anchor), name: anchor, address: null, memberAnchors: [], ...over };
}

export function storeContact(id: string, anchor: string, addresses: string[], over: Partial<StoreContact> = {}): StoreContact {
  return { id, anchor, dn: `cn=${anchor},ou=contacts,dc=example,dc=com`, name: anchor, addresses: addresses.map(addr), ...over };
}

export function snapshot(over: Partial<DirectorySnapshot> = {}): DirectorySnapshot {
  return { complete: true, users: [], groups: [], contacts: [], exceptedGroupsOutOfScope: [], references: [], ...over };
}

export function store(over: Partial<StoreState> = {}): StoreState {
  return { users: [], groups: [], contacts: [], foreignAddresses: [], archives: [], ...over };
}

export function settings(over: Partial<Omit<RunSettings, 'options' | 'exceptions'>> & {
  options?: Partial<RunSettings['options']>;
  exceptions?: Partial<RunSettings['exceptions']>;
} = {}): RunSettings {
  const { options, exceptions, ...rest } = over;
  return {
    tenantId: 't-1',
    connectionId: CONN,
    connectionPriority: 1,
    managedDomains: ['example.com', 'example.org'],
    deletionDelayDays: 7,
    additions: [],
    flagUnanchored: false,
    ...rest,
    options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: false, ...options },
    exceptions: { userAnchors: [], groupAnchors: [], aliases: [], ...exceptions },
  };
}

/** Ops of one kind, for terse assertions. */
export function opsOf<K extends PlanOpKind>(plan: Plan, kind: K): Extract<PlanOp, { op: K }>[] {
  return plan.ops.filter((o): o is Extract<PlanOp, { op: K }> => o.op === kind);
}

/** Mulberry32: a tiny seeded PRNG so every failure is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

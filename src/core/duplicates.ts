/**
 * R63 duplicate findings, the pure part: rows found by the store's aggregate queries
 * (src/store/duplicates.ts) become findings — kind, normalized key, the value shown, the objects
 * involved — and the consequences for the users involved, deterministically. PURE.
 *
 * Normalization (what "the same" means; the store's SQL computes exactly these keys, on SQLite and
 * PostgreSQL alike, and `nameKey` / `loginKey` are their reference):
 * - names (display_name among the tenant's users, group_name among its groups, contact_name among
 *   its contacts): tab, CR and LF become spaces, runs of spaces become one, leading and trailing
 *   spaces go, and ASCII letters A–Z are lower-cased. Other letters compare exactly: SQLite's
 *   lower() folds ASCII only, and so does PostgreSQL's under the "C" collation, which the store uses
 *   so that both dialects find the same duplicates. Empty names are never duplicates.
 * - kerberos_name and ntlm_name (among the tenant's users): trimmed, ASCII letters lower-cased.
 * - address: addresses are stored normalized (R4: lower-case, punycode), compared as they are.
 *
 * A finding belongs to the connection whose run found it, and only when at least one of its
 * objects is that connection's (R63 "per connection"): a user anchored to it, one of its groups or
 * contacts, an entry of its read. A finding needs two objects or more.
 */
import type { PlanOp } from './model.ts';

export type DuplicateKind = 'display_name' | 'group_name' | 'contact_name' | 'kerberos_name' | 'ntlm_name' | 'address';
export const DUPLICATE_KINDS: readonly DuplicateKind[] = ['display_name', 'group_name', 'contact_name', 'kerberos_name', 'ntlm_name', 'address'];

export type DuplicateObjectKind = 'user' | 'public_folder' | 'group' | 'contact' | 'entry';

/**
 * One object involved in a finding. `address`: a user's or public folder's primary address (how
 * users are named), a group's address, for a contact the address in question (address findings)
 * or its first address, for an entry of the read (an entry that is no user of the store) the
 * address it claimed.
 */
export interface DuplicateObject {
  kind: DuplicateObjectKind;
  /** Store id of the user, group or contact; null for an entry. */
  id: string | null;
  connectionId: string | null;
  connectionName: string | null;
  anchor: string | null;
  dn: string | null;
  name: string | null;
  address: string | null;
}

export type Consequence = 'no_spoofing_protection' | 'no_personal_features';

export interface FindingConsequence {
  userId: string;
  consequence: Consequence;
}

export interface DuplicateFinding {
  kind: DuplicateKind;
  /** The normalized value compared. */
  key: string;
  /** The value as shown: the smallest of the objects' raw values (names) or the address. */
  value: string;
  /** Sorted (objectOrder), one per object. */
  objects: DuplicateObject[];
  /** Sorted by user id. */
  users: FindingConsequence[];
}

/** One object found under one key: what the store's queries return. */
export interface DuplicateRow {
  kind: DuplicateKind;
  key: string;
  /** The object's raw value (its name, its Kerberos/NTLM name, or the address). */
  value: string;
  object: DuplicateObject;
}

/** An address an entry of the read did not get because another object holds it (R13, from the plan). */
export interface AddressClaim {
  anchor: string;
  dn: string | null;
  address: string;
}

const CLAIM_CODES: ReadonlySet<string> = new Set(['address_taken', 'address_claimed_by_other_entry', 'address_won_by_priority', 'user_taken_over']);

const WS_RE = /[\t\r\n ]+/g;
const ASCII_UPPER_RE = /[A-Z]+/g;

function asciiLower(s: string): string {
  return s.replace(ASCII_UPPER_RE, (m) => m.toLowerCase());
}

/** The key of a display, group or contact name (see the header): the reference of the store's SQL. */
export function nameKey(name: string): string {
  return asciiLower(name.replace(WS_RE, ' ').replace(/^ +| +$/g, ''));
}

/** The key of a Kerberos or NTLM name: trimmed (spaces), ASCII letters lower-cased. */
export function loginKey(name: string): string {
  return asciiLower(name.replace(/^ +| +$/g, ''));
}

/** The consequence a finding of `kind` has for the users involved, or null (group and contact names). */
export function consequenceOf(kind: DuplicateKind): Consequence | null {
  switch (kind) {
    case 'display_name':
      return 'no_spoofing_protection';
    case 'address':
    case 'kerberos_name':
    case 'ntlm_name':
      return 'no_personal_features';
    case 'group_name':
    case 'contact_name':
      return null;
  }
}

/** R51 clashes the plan settled by connection priority, as the other side of each address (see r51ClashesOf). */
export interface PriorityClash {
  address: string;
  /** The user of a lower-priority connection whose alias this run took (its remove_alias op). */
  userId: string | null;
  /** The other connection's entry a user was taken over from: its connection, anchor and DN before this run. */
  entry: { connectionId: string; anchor: string | null; dn: string | null } | null;
}

/**
 * R51 "the clash is a duplicate finding": `address_won_by_priority` (this run took an alias from a
 * user of a lower-priority connection: that user, by its remove_alias op) and `user_taken_over`
 * from a lower-priority connection (the user is this connection's now; the other connection's
 * entry, by the update_user op's before values, still shows the address). A user taken over while
 * pending deletion there (a restore_user op) is no clash: its old entry is gone.
 */
export function r51ClashesOf(plan: {
  issues: readonly { code: string; anchor: string | null; value: string }[];
  ops: readonly PlanOp[];
}): PriorityClash[] {
  const won = new Set<string>();
  const takenOver = new Map<string, string>(); // entry anchor → the address
  for (const i of plan.issues) {
    if (i.code === 'address_won_by_priority') won.add(i.value);
    else if (i.code === 'user_taken_over' && i.anchor !== null) takenOver.set(i.anchor, i.value);
  }
  if (won.size === 0 && takenOver.size === 0) return [];
  const restored = new Set<string>();
  for (const o of plan.ops) if (o.op === 'restore_user') restored.add(o.userId);
  const out: PriorityClash[] = [];
  for (const o of plan.ops) {
    if (o.op === 'remove_alias' && won.has(o.address)) out.push({ address: o.address, userId: o.userId, entry: null });
    if (o.op !== 'update_user' || takenOver.size === 0 || restored.has(o.userId)) continue;
    const change = (f: string) => o.changes.find((c) => c.field === f);
    const anchor = change('anchor');
    const conn = change('connectionId');
    const address = anchor === undefined ? undefined : takenOver.get(String(anchor.after));
    if (address === undefined || conn === undefined || typeof conn.before !== 'string') continue;
    const dn = change('dn')?.before;
    out.push({ address, userId: null, entry: {
      connectionId: conn.before, anchor: typeof anchor?.before === 'string' ? anchor.before : null, dn: typeof dn === 'string' ? dn : null,
    } });
  }
  return out.sort((a, b) => cmp(a.address, b.address) || cmp(a.userId, b.userId) || cmp(a.entry?.anchor ?? null, b.entry?.anchor ?? null));
}

/**
 * R13 claims the plan reports: issues `address_taken` and `address_claimed_by_other_entry` (an
 * alias or group address another object holds or won), `address_won_by_priority` and
 * `user_taken_over` (R51: the entry that won), and entries skipped `address_taken` (their
 * primary). Deduplicated, sorted by address then anchor.
 */
export function addressClaimsOf(
  issues: readonly { code: string; anchor: string | null; dn: string | null; value: string }[],
  skipped: readonly { reason: string; anchor: string; dn: string; value: string | null }[],
): AddressClaim[] {
  const out = new Map<string, AddressClaim>();
  const add = (anchor: string, dn: string | null, address: string): void => {
    const k = `${address}\u0000${anchor}`;
    if (!out.has(k)) out.set(k, { anchor, dn, address });
  };
  for (const i of issues) {
    if (CLAIM_CODES.has(i.code) && i.anchor !== null && i.value !== '') add(i.anchor, i.dn, i.value);
  }
  for (const s of skipped) if (s.reason === 'address_taken' && s.value !== null && s.value !== '') add(s.anchor, s.dn, s.value);
  return [...out.values()].sort((a, b) => cmp(a.address, b.address) || cmp(a.anchor, b.anchor));
}

function cmp(a: string | null, b: string | null): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

const KIND_ORDER: Record<DuplicateObjectKind, number> = { user: 0, public_folder: 1, group: 2, contact: 3, entry: 4 };

/** Objects in a finding: users, public folders, groups, contacts, entries; then connection, address, name, anchor, id. */
export function objectOrder(a: DuplicateObject, b: DuplicateObject): number {
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.connectionName, b.connectionName) || cmp(a.connectionId, b.connectionId) ||
    cmp(a.address, b.address) || cmp(a.name, b.name) || cmp(a.anchor, b.anchor) || cmp(a.id, b.id) || cmp(a.dn, b.dn);
}

/** The identity of an object inside one finding: store objects by id, entries by connection and anchor. */
function identity(o: DuplicateObject): string {
  const kind = o.kind === 'public_folder' ? 'user' : o.kind;
  return o.id !== null ? `${kind}:${o.id}` : `${kind}:${o.connectionId ?? ''}:${o.anchor ?? ''}:${o.dn ?? ''}`;
}

/** True when the object is the connection's: anchored to it, one of its groups or contacts, or an entry of its read. */
function ofConnection(o: DuplicateObject, connectionId: string): boolean {
  return o.connectionId === connectionId;
}

/**
 * Turns rows into the findings of connection `connectionId`: grouped by (kind, key), objects
 * deduplicated and sorted, findings with fewer than two objects or with no object of the
 * connection dropped, consequences for the users involved. Sorted by kind, then key.
 */
export function buildFindings(connectionId: string, rows: readonly DuplicateRow[]): DuplicateFinding[] {
  const groups = new Map<string, { kind: DuplicateKind; key: string; values: string[]; objects: Map<string, DuplicateObject> }>();
  for (const r of rows) {
    if (r.key === '') continue;
    const gk = `${r.kind}\u0000${r.key}`;
    let g = groups.get(gk);
    if (g === undefined) groups.set(gk, (g = { kind: r.kind, key: r.key, values: [], objects: new Map() }));
    g.values.push(r.value);
    const id = identity(r.object);
    // The same object found twice (by two queries): the first row wins; rows come in query order.
    if (!g.objects.has(id)) g.objects.set(id, r.object);
  }
  const out: DuplicateFinding[] = [];
  for (const g of groups.values()) {
    const objects = [...g.objects.values()].sort(objectOrder);
    if (objects.length < 2 || !objects.some((o) => ofConnection(o, connectionId))) continue;
    const value = g.kind === 'address' ? g.key : g.values.reduce((m, v) => (v < m ? v : m));
    const consequence = consequenceOf(g.kind);
    const userIds = new Set<string>();
    if (consequence !== null) for (const o of objects) if ((o.kind === 'user' || o.kind === 'public_folder') && o.id !== null) userIds.add(o.id);
    const users = [...userIds].sort(cmp).map((userId) => ({ userId, consequence: consequence as Consequence }));
    out.push({ kind: g.kind, key: g.key, value, objects, users });
  }
  const kindIx = (k: DuplicateKind): number => DUPLICATE_KINDS.indexOf(k);
  return out.sort((a, b) => kindIx(a.kind) - kindIx(b.kind) || cmp(a.key, b.key));
}

/** One line an administrator reads: `display name "Alice Smith": user alice@…, user alice2@… (main)`. */
export function describeFinding(f: { kind: DuplicateKind; value: string; objects: readonly DuplicateObject[] }): string {
  const label: Record<DuplicateKind, string> = {
    display_name: 'display name', group_name: 'group name', contact_name: 'contact name',
    kerberos_name: 'Kerberos name', ntlm_name: 'NTLM name', address: 'address',
  };
  const objects = f.objects.map(describeObject).join(', ');
  return `${label[f.kind]} ${JSON.stringify(f.value)} shared by ${objects}`;
}

/** `user alice@example.test (main)`, `contact "Bob Shadow" (main)`, `entry CN=x,… (main)`. */
export function describeObject(o: DuplicateObject): string {
  const kind = o.kind === 'public_folder' ? 'public folder' : o.kind;
  const what = o.kind === 'entry' ? (o.dn ?? o.anchor ?? '?')
    : o.kind === 'user' || o.kind === 'public_folder' ? (o.address ?? o.name ?? o.id ?? '?')
      : JSON.stringify(o.name ?? o.address ?? o.id ?? '?');
  const where = o.connectionName === null ? (o.kind === 'user' || o.kind === 'public_folder' ? ' (no connection)' : '') : ` (${o.connectionName})`;
  return `${kind} ${what}${where}`;
}

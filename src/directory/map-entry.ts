/**
 * R1/R4/R44: maps one raw directory entry to the compact DirUser / DirGroup / DirContact the
 * planner consumes. PURE: no I/O; a bad value is dropped with an EntryIssue, never thrown.
 * An entry without an anchor maps to null: the caller decides (the reader fails the read, R5,
 * because silently skipping it would later flag the user as missing).
 *
 * Built for 100,000 entries per read: each profile is compiled once into lower-case lookup keys,
 * values are read without copying lists, empty aliases / issues / members share one frozen empty
 * array, an address already in normal form keeps the flat string read from the directory, and
 * values that repeat across users (given names, surnames, companies, departments) share one string.
 */
import type { Address, DirContact, DirGroup, DirUser, EntryIssue, UserKind } from '../core/model.ts';
import type { MappedField } from '../core/connection.ts';
import { normalizeAddress, parseProxyAddresses } from '../core/address.ts';
import type { ResolvedProfile } from './profiles.ts';
import { EMPTY_STRINGS, firstValue, guidToString, readBytes, stringsOf, truncateIssueValue, type EntryView } from './values.ts';

/** The permanent administrative lock of ppolicy (R1); a dated lock is a temporary lockout. */
const PERMANENT_LOCK = '000001010000Z';

/** Shared by every entry without aliases, issues or members (never modified: frozen). */
const EMPTY: never[] = Object.freeze([]) as never[];

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An attribute as the mapping reads it: lower-case key for the entry, name as configured for issues. */
interface Attr {
  key: string;
  name: string;
}

/** A profile compiled for mapping: every lookup key lower-cased once. */
interface Compiled {
  fields: Record<MappedField, Attr[]>;
  primary: Attr | null;
  /** null when the profile has no alias attribute or it is the primary's (further values of mail). */
  aliases: Attr | null;
  extraAliases: Attr[];
  anchorGuid: boolean[];
  accountName: Attr | null;
}

const compiledProfiles = new WeakMap<ResolvedProfile, Compiled>();

function attr(name: string): Attr {
  return { key: name.toLowerCase(), name };
}

function compile(p: ResolvedProfile): Compiled {
  let c = compiledProfiles.get(p);
  if (c !== undefined) return c;
  const fields = {} as Record<MappedField, Attr[]>;
  for (const f of Object.keys(p.fields) as MappedField[]) {
    const main = p.fields[f];
    fields[f] = [...(main === null ? [] : [main]), ...(p.fallbacks[f] ?? [])].map(attr);
  }
  const primary = p.fields.primary === null ? null : attr(p.fields.primary);
  const aliasName = p.fields.aliases;
  const sameAttr = aliasName !== null && primary !== null && aliasName.toLowerCase() === primary.key;
  c = {
    fields,
    primary,
    aliases: aliasName === null || sameAttr ? null : attr(aliasName),
    extraAliases: p.extraAliasAttrs.map(attr),
    anchorGuid: fields.anchor.map((a) => p.anchorIsGuid && a.key === 'objectguid'),
    accountName: p.fields.accountName === null ? null : attr(p.fields.accountName),
  };
  compiledProfiles.set(p, c);
  return c;
}

/** Issues of the user being mapped; copied out only when there are some (most users have none). */
const scratch: EntryIssue[] = [];

/** Values that repeat across many users share one string (bounded; a full pool starts over). */
const pool = new Map<string, string>();
function shared(v: string | null): string | null {
  if (v === null || v.length > 64) return v;
  const s = pool.get(v);
  if (s !== undefined) return s;
  if (pool.size >= 20_000) pool.clear();
  pool.set(v, v);
  return v;
}

/** First non-blank value among the field's attribute and its fallbacks. */
function firstOf(e: EntryView, c: Compiled, field: MappedField, issues: EntryIssue[]): string | null {
  for (const a of c.fields[field]) {
    const v = firstValue(e, a.key, a.name, issues);
    if (v !== null) return v;
  }
  return null;
}

/** The entry's anchor, lower case, or null when it has none (R1: objectGUID as a GUID string). */
export function readAnchor(e: EntryView, p: ResolvedProfile): string | null {
  const c = compile(p);
  const attrs = c.fields.anchor;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    if (c.anchorGuid[i]) {
      const b = readBytes(e, a.key);
      const g = b === null ? null : guidToString(b);
      if (g !== null) return g;
      continue;
    }
    const v = firstValue(e, a.key, a.name, []);
    if (v !== null) return v.trim().toLowerCase();
  }
  return null;
}

/** Valid addresses of `values` in order; each invalid one is an issue. */
function addressesOf(values: readonly string[], issues: EntryIssue[]): Address[] {
  if (values.length === 0) return EMPTY;
  const out: Address[] = [];
  for (const v of values) {
    const a = normalizeAddress(v);
    if (a === null) issues.push({ code: 'invalid_address', value: truncateIssueValue(v) });
    // Already normal: keep the directory's flat string, not the normalizer's concatenation.
    else out.push(a === v ? (v as Address) : a);
  }
  return out;
}

interface Addresses {
  primary: Address | null;
  aliases: Address[];
  /** Any address value was present (valid or not). */
  hadValues: boolean;
}

/** R1/R4: primary and aliases of a user-like entry. */
export function readAddresses(e: EntryView, p: ResolvedProfile, issues: EntryIssue[]): Addresses {
  const c = compile(p);
  const primaryRaw = c.primary === null ? EMPTY_STRINGS : stringsOf(e, c.primary.key, c.primary.name, issues);
  const primaryValues = addressesOf(primaryRaw, issues);
  const aliasRaw = c.aliases === null ? EMPTY_STRINGS : stringsOf(e, c.aliases.key, c.aliases.name, issues);
  let extraRaw: readonly string[] = EMPTY_STRINGS;
  for (const a of c.extraAliases) {
    const v = stringsOf(e, a.key, a.name, issues);
    if (v.length > 0) extraRaw = extraRaw.length === 0 ? v : [...extraRaw, ...v];
  }
  let hadValues = primaryRaw.length + aliasRaw.length + extraRaw.length > 0;
  let primary: Address | null = primaryValues[0] ?? null;
  const aliases: Address[] = primaryValues.length > 1 ? primaryValues.slice(1) : [];
  if (p.aliasesAreProxyAddresses) {
    const proxy = parseProxyAddresses(aliasRaw);
    for (const bad of proxy.invalid) issues.push({ code: 'invalid_address', value: truncateIssueValue(bad) });
    hadValues = primaryRaw.length + proxy.primaries.length + proxy.aliases.length + proxy.invalid.length > 0 || extraRaw.length > 0;
    if (primary === null && proxy.primaries.length > 0) {
      primary = proxy.primaries[0] ?? null; // sorted: the lowest in byte order (R4)
      if (proxy.primaries.length > 1) {
        issues.push({ code: 'several_smtp_primaries', value: truncateIssueValue(proxy.primaries.join(' ')), detail: `using ${primary}` });
      }
    }
    // An SMTP: value that differs from the primary (mail) is an alias (R4).
    aliases.push(...proxy.primaries, ...proxy.aliases);
  } else {
    aliases.push(...addressesOf(aliasRaw, issues));
  }
  aliases.push(...addressesOf(extraRaw, issues));
  if (aliases.length === 0) return { primary, aliases: EMPTY, hadValues };
  const set = new Set<Address>(aliases);
  if (primary !== null) set.delete(primary);
  return { primary, aliases: set.size === 0 ? EMPTY : [...set].sort(byCodeUnits), hadValues };
}

function isDisabled(e: EntryView, p: ResolvedProfile): boolean {
  if (p.disabled === 'ad-user-account-control') {
    const uac = Number.parseInt(firstValue(e, 'useraccountcontrol', 'userAccountControl', []) ?? '0', 10);
    return Number.isFinite(uac) && (uac & 2) === 2;
  }
  const locked = stringsOf(e, 'pwdaccountlockedtime', 'pwdAccountLockedTime', []).some((v) => v.trim() === PERMANENT_LOCK);
  const nsLock = stringsOf(e, 'nsaccountlock', 'nsAccountLock', []).some((v) => v.trim().toLowerCase() === 'true');
  return locked || nsLock;
}

/**
 * Maps a user (or, D3, a public folder) entry. Returns null when the entry has no anchor.
 * Invariants: aliases are normalized, deduplicated, sorted and exclude the primary;
 * primaryInvalid is true only when primary is null and the entry had address values.
 * The aliases and issues arrays may be a shared frozen empty array: never modify them.
 */
export function mapUser(e: EntryView, p: ResolvedProfile, kind: UserKind, netbiosDomain: string | null): DirUser | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const c = compile(p);
  const issues = scratch;
  issues.length = 0;
  const { primary, aliases, hadValues } = readAddresses(e, p, issues);
  const account = c.accountName === null ? null : firstValue(e, c.accountName.key, c.accountName.name, issues);
  return {
    anchor,
    dn: e.dn,
    kind,
    disabled: isDisabled(e, p),
    primary,
    primaryInvalid: primary === null && hadValues,
    aliases,
    details: {
      givenName: shared(firstOf(e, c, 'givenName', issues)),
      surname: shared(firstOf(e, c, 'surname', issues)),
      displayName: firstOf(e, c, 'displayName', issues),
      homePhone: firstOf(e, c, 'homePhone', issues),
      mobile: firstOf(e, c, 'mobile', issues),
      company: shared(firstOf(e, c, 'company', issues)),
      department: shared(firstOf(e, c, 'department', issues)),
      notes: firstOf(e, c, 'notes', issues),
    },
    kerberosName: firstOf(e, c, 'kerberosName', issues),
    ntlmName: account !== null && netbiosDomain ? `${netbiosDomain}\\${account}` : null,
    issues: issues.length === 0 ? EMPTY : issues.slice(),
  };
}

/** groupOfUniqueNames values may carry an optional `#'0101'B` unique identifier (RFC 4517 NameAndOptionalUID). */
function stripUid(v: string): string {
  return v.endsWith("'B") ? v.replace(/#'[01]*'B$/, '') : v;
}

/**
 * Maps a group entry. `memberDns` are all values of the member attributes (after range
 * retrieval), in directory order, duplicates removed. Returns null when the entry has no anchor.
 * `dnPool` (DN → the same DN as already held, e.g. by a DirUser) lets a member DN share that
 * string instead of holding a copy: 100,000 users are about as many member values.
 */
export function mapGroup(e: EntryView, p: ResolvedProfile, dnPool?: ReadonlyMap<string, string>): DirGroup | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const c = compile(p);
  const issues: EntryIssue[] = [];
  const members = new Set<string>();
  for (const a of c.fields.members) {
    for (const v of stringsOf(e, a.key, a.name, issues)) {
      const dn = stripUid(v);
      members.add(dnPool?.get(dn) ?? dn);
    }
  }
  const mails = c.primary === null ? EMPTY : addressesOf(stringsOf(e, c.primary.key, c.primary.name, issues), issues);
  return {
    anchor,
    dn: e.dn,
    name: firstOf(e, c, 'groupName', issues) ?? e.dn,
    address: mails[0] ?? null,
    memberDns: members.size === 0 ? EMPTY : [...members],
    issues: issues.length === 0 ? EMPTY : issues,
  };
}

/** Maps a contact entry: every valid address it shows (R60), sorted. Null when it has no anchor. */
export function mapContact(e: EntryView, p: ResolvedProfile): DirContact | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const c = compile(p);
  const issues: EntryIssue[] = [];
  const { primary, aliases } = readAddresses(e, p, issues);
  const all = primary === null ? aliases : [primary, ...aliases];
  return {
    anchor,
    dn: e.dn,
    name: firstOf(e, c, 'contactName', issues) ?? e.dn,
    addresses: [...new Set(all)].sort(byCodeUnits),
    issues: issues.length === 0 ? EMPTY : issues,
  };
}

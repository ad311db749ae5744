/**
 * R1/R4/R44: maps one raw directory entry to the compact DirUser / DirGroup / DirContact the
 * planner consumes. PURE: no I/O; a bad value is dropped with an EntryIssue, never thrown.
 * An entry without an anchor maps to null: the caller decides (the reader fails the read, R5,
 * because silently skipping it would later flag the user as missing).
 */
import type { Address, DirContact, DirGroup, DirUser, EntryIssue, UserKind } from '../core/model.ts';
import type { MappedField } from '../core/connection.ts';
import { normalizeAddress, parseProxyAddresses } from '../core/address.ts';
import type { ResolvedProfile } from './profiles.ts';
import { guidToString, readBytes, readFirst, readStrings, truncateIssueValue, type RawEntry } from './values.ts';

/** The permanent administrative lock of ppolicy (R1); a dated lock is a temporary lockout. */
const PERMANENT_LOCK = '000001010000Z';

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function attrsOf(p: ResolvedProfile, field: MappedField): string[] {
  const main = p.fields[field];
  return [...(main === null ? [] : [main]), ...(p.fallbacks[field] ?? [])];
}

/** First non-blank value among the field's attribute and its fallbacks. */
function firstOf(e: RawEntry, p: ResolvedProfile, field: MappedField, issues: EntryIssue[]): string | null {
  for (const a of attrsOf(p, field)) {
    const v = readFirst(e, a, issues);
    if (v !== null) return v;
  }
  return null;
}

/** The entry's anchor, lower case, or null when it has none (R1: objectGUID as a GUID string). */
export function readAnchor(e: RawEntry, p: ResolvedProfile): string | null {
  for (const a of attrsOf(p, 'anchor')) {
    if (p.anchorIsGuid && a.toLowerCase() === 'objectguid') {
      const b = readBytes(e, a);
      const g = b === null ? null : guidToString(b);
      if (g !== null) return g;
      continue;
    }
    const v = readFirst(e, a, []);
    if (v !== null) return v.trim().toLowerCase();
  }
  return null;
}

function addressesOf(values: string[], issues: EntryIssue[]): Address[] {
  const out: Address[] = [];
  for (const v of values) {
    const a = normalizeAddress(v);
    if (a === null) issues.push({ code: 'invalid_address', value: truncateIssueValue(v) });
    else out.push(a);
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
export function readAddresses(e: RawEntry, p: ResolvedProfile, issues: EntryIssue[]): Addresses {
  const primaryAttr = p.fields.primary;
  const primaryRaw = primaryAttr === null ? [] : readStrings(e, primaryAttr, issues);
  const primaryValues = addressesOf(primaryRaw, issues);
  const aliasAttr = p.fields.aliases;
  const sameAttr = aliasAttr !== null && primaryAttr !== null && aliasAttr.toLowerCase() === primaryAttr.toLowerCase();
  const aliasRaw = aliasAttr === null || sameAttr ? [] : readStrings(e, aliasAttr, issues);
  const extraRaw = p.extraAliasAttrs.flatMap((a) => readStrings(e, a, issues));
  let hadValues = primaryRaw.length + aliasRaw.length + extraRaw.length > 0;
  let primary: Address | null = primaryValues[0] ?? null;
  const aliases: Address[] = primaryValues.slice(1);
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
  const set = new Set<Address>(aliases);
  if (primary !== null) set.delete(primary);
  return { primary, aliases: [...set].sort(byCodeUnits), hadValues };
}

function isDisabled(e: RawEntry, p: ResolvedProfile): boolean {
  if (p.disabled === 'ad-user-account-control') {
    const uac = Number.parseInt(readFirst(e, 'userAccountControl', []) ?? '0', 10);
    return Number.isFinite(uac) && (uac & 2) === 2;
  }
  const locked = readStrings(e, 'pwdAccountLockedTime', []).some((v) => v.trim() === PERMANENT_LOCK);
  const nsLock = readStrings(e, 'nsAccountLock', []).some((v) => v.trim().toLowerCase() === 'true');
  return locked || nsLock;
}

/**
 * Maps a user (or, D3, a public folder) entry. Returns null when the entry has no anchor.
 * Invariants: aliases are normalized, deduplicated, sorted and exclude the primary;
 * primaryInvalid is true only when primary is null and the entry had address values.
 */
export function mapUser(e: RawEntry, p: ResolvedProfile, kind: UserKind, netbiosDomain: string | null): DirUser | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const issues: EntryIssue[] = [];
  const { primary, aliases, hadValues } = readAddresses(e, p, issues);
  const account = p.fields.accountName === null ? null : readFirst(e, p.fields.accountName, issues);
  return {
    anchor,
    dn: e.dn,
    kind,
    disabled: isDisabled(e, p),
    primary,
    primaryInvalid: primary === null && hadValues,
    aliases,
    details: {
      givenName: firstOf(e, p, 'givenName', issues),
      surname: firstOf(e, p, 'surname', issues),
      displayName: firstOf(e, p, 'displayName', issues),
      homePhone: firstOf(e, p, 'homePhone', issues),
      mobile: firstOf(e, p, 'mobile', issues),
      company: firstOf(e, p, 'company', issues),
      department: firstOf(e, p, 'department', issues),
      notes: firstOf(e, p, 'notes', issues),
    },
    kerberosName: firstOf(e, p, 'kerberosName', issues),
    ntlmName: account !== null && netbiosDomain ? `${netbiosDomain}\\${account}` : null,
    issues,
  };
}

/** groupOfUniqueNames values may carry an optional `#'0101'B` unique identifier (RFC 4517 NameAndOptionalUID). */
function stripUid(v: string): string {
  return v.replace(/#'[01]*'B$/, '');
}

/**
 * Maps a group entry. `memberDns` are all values of the member attributes (after range
 * retrieval), in directory order, duplicates removed. Returns null when the entry has no anchor.
 */
export function mapGroup(e: RawEntry, p: ResolvedProfile): DirGroup | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const issues: EntryIssue[] = [];
  const members = new Set<string>();
  for (const a of attrsOf(p, 'members')) for (const v of readStrings(e, a, issues)) members.add(stripUid(v));
  const mails = p.fields.primary === null ? [] : addressesOf(readStrings(e, p.fields.primary, issues), issues);
  return {
    anchor,
    dn: e.dn,
    name: firstOf(e, p, 'groupName', issues) ?? e.dn,
    address: mails[0] ?? null,
    memberDns: [...members],
    issues,
  };
}

/** Maps a contact entry: every valid address it shows (R60), sorted. Null when it has no anchor. */
export function mapContact(e: RawEntry, p: ResolvedProfile): DirContact | null {
  const anchor = readAnchor(e, p);
  if (anchor === null) return null;
  const issues: EntryIssue[] = [];
  const { primary, aliases } = readAddresses(e, p, issues);
  const all = primary === null ? aliases : [primary, ...aliases];
  return {
    anchor,
    dn: e.dn,
    name: firstOf(e, p, 'contactName', issues) ?? e.dn,
    addresses: [...new Set(all)].sort(byCodeUnits),
    issues,
  };
}

/**
 * R1 schema profiles: which entries are users, groups, contacts and public folders, and which
 * attribute holds each Roster field; per-connection overrides replace one field's attribute.
 * PURE (no I/O): resolveProfile turns connection settings into a ResolvedProfile that the
 * readers and the mapping (map-entry.ts) share.
 */
import type { ConnectionSettings, MappedField, ProfileName } from '../core/connection.ts';
import { RosterError } from '../core/errors.ts';
import { escapeFilterValue } from './escape.ts';
import { validateFilter } from './filter.ts';

export type DisabledRule = 'ad-user-account-control' | 'openldap-lock';

export interface ResolvedProfile {
  name: ProfileName;
  /** Object filters AND-ed with the custom filter where R2 says so; ready to send. */
  userFilter: string;
  groupFilter: string;
  /** Null: this profile reads no contacts. */
  contactFilter: string | null;
  /** D3: null when no public-folder class is known for this connection. */
  publicFolderFilter: string | null;
  /** The field → attribute map after overrides; null = the profile maps nothing to that field. */
  fields: Record<MappedField, string | null>;
  /** Fallbacks the profile reads when the main attribute is empty (dropped when the field is overridden). */
  fallbacks: Partial<Record<MappedField, string[]>>;
  /** OpenLDAP: further alias attributes read when present (dropped when `aliases` is overridden). */
  extraAliasAttrs: string[];
  /** The aliases attribute holds typed `SMTP:`/`smtp:` values (AD proxyAddresses). */
  aliasesAreProxyAddresses: boolean;
  disabled: DisabledRule;
  /** Attributes that must come back as bytes (ldapts explicitBufferAttributes). */
  binaryAttrs: string[];
  /** True when anchors are binary GUIDs shown as GUID strings (AD objectGUID). */
  anchorIsGuid: boolean;
}

const AD_FIELDS: Record<MappedField, string | null> = {
  primary: 'mail',
  aliases: 'proxyAddresses',
  givenName: 'givenName',
  surname: 'sn',
  displayName: 'displayName',
  homePhone: 'homePhone',
  mobile: 'mobile',
  company: 'company',
  department: 'department',
  notes: 'info',
  anchor: 'objectGUID',
  kerberosName: 'userPrincipalName',
  accountName: 'sAMAccountName',
  members: 'member',
  groupName: 'cn',
  contactName: 'displayName',
};

const OPENLDAP_FIELDS: Record<MappedField, string | null> = {
  primary: 'mail',
  aliases: 'mail', // further values of mail; extraAliasAttrs add the others
  givenName: 'givenName',
  surname: 'sn',
  displayName: 'displayName',
  homePhone: 'homePhone',
  mobile: 'mobile',
  company: 'o',
  department: 'ou',
  notes: 'description',
  anchor: 'entryUUID',
  kerberosName: null,
  accountName: null,
  members: 'member',
  groupName: 'cn',
  contactName: 'cn',
};

const AD_FALLBACKS: Partial<Record<MappedField, string[]>> = {
  displayName: ['cn'],
  contactName: ['cn'],
  groupName: ['name'],
};

const OPENLDAP_FALLBACKS: Partial<Record<MappedField, string[]>> = {
  displayName: ['cn'],
  department: ['departmentNumber'],
  anchor: ['nsUniqueId'],
  members: ['uniqueMember'],
};

const ATTR_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;

/** The object filter AND-ed with the admin's custom filter (R2); the custom filter is validated. */
export function withCustomFilter(objectFilter: string, customFilter: string | null): string {
  if (customFilter === null || customFilter.trim() === '') return objectFilter;
  const v = validateFilter(customFilter);
  if (!v.ok) throw new RosterError('bad_input', `invalid custom filter: ${v.message}`, { details: { position: v.position } });
  return `(&${objectFilter}${v.normalized})`;
}

/**
 * Resolves the profile of a connection. Throws RosterError('bad_input') for an invalid custom
 * filter or an override that is not an attribute name. Invariants: every filter is valid RFC 4515;
 * public folders are excluded from the user filter whenever their class is known, so an entry is
 * never read both as a user and as a public folder.
 */
export function resolveProfile(
  settings: Pick<ConnectionSettings, 'profile' | 'attributeOverrides' | 'publicFolderClass' | 'customFilter'>,
): ResolvedProfile {
  const ad = settings.profile === 'active-directory';
  const fields = { ...(ad ? AD_FIELDS : OPENLDAP_FIELDS) };
  const fallbacks = { ...(ad ? AD_FALLBACKS : OPENLDAP_FALLBACKS) };
  let extraAliasAttrs = ad ? [] : ['mailAlternateAddress', 'mailLocalAddress'];
  for (const [field, attr] of Object.entries(settings.attributeOverrides) as [MappedField, string | undefined][]) {
    if (attr === undefined) continue;
    if (!ATTR_NAME.test(attr)) throw new RosterError('bad_input', `attribute override for ${field} is not an attribute name: ${JSON.stringify(attr)}`);
    fields[field] = attr;
    // An override replaces the profile's attribute for that field, fallbacks included; the cn
    // fallback of display names stays (R4: displayName, else cn).
    if (field !== 'displayName' && field !== 'contactName') delete fallbacks[field];
    if (field === 'aliases') extraAliasAttrs = [];
  }
  const pfClass = settings.publicFolderClass ?? (ad ? 'publicFolder' : null);
  const pfObject = pfClass === null ? null : `(objectClass=${escapeFilterValue(pfClass)})`;
  const baseUser = ad ? '(&(objectCategory=person)(objectClass=user))' : '(objectClass=inetOrgPerson)';
  const userObject = pfObject === null ? baseUser : `(&${baseUser}(!${pfObject}))`;
  const groupObject = ad ? '(objectClass=group)' : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))';
  const anchor = fields.anchor ?? (ad ? 'objectGUID' : 'entryUUID');
  const anchorIsGuid = anchor.toLowerCase() === 'objectguid';
  return {
    name: settings.profile,
    userFilter: withCustomFilter(userObject, settings.customFilter),
    groupFilter: withCustomFilter(groupObject, settings.customFilter),
    contactFilter: ad ? '(objectClass=contact)' : null,
    publicFolderFilter: pfObject,
    fields,
    fallbacks,
    extraAliasAttrs,
    aliasesAreProxyAddresses: (fields.aliases ?? '').toLowerCase() === 'proxyaddresses',
    disabled: ad ? 'ad-user-account-control' : 'openldap-lock',
    binaryAttrs: ad || anchorIsGuid ? ['objectGUID', 'objectSid'] : [],
    anchorIsGuid,
  };
}

/** The group filter without the custom filter (D8: excepted groups are read by anchor regardless of it). */
export function groupObjectFilter(p: ResolvedProfile): string {
  return p.name === 'active-directory' ? '(objectClass=group)' : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))';
}

function uniq(list: (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of list) {
    if (!a || seen.has(a.toLowerCase())) continue;
    seen.add(a.toLowerCase());
    out.push(a);
  }
  return out;
}

function withFallbacks(p: ResolvedProfile, field: MappedField): (string | null)[] {
  return [p.fields[field], ...(p.fallbacks[field] ?? [])];
}

/** The attributes the mapping of a user or public-folder entry reads (map-entry.ts). */
export function userMappedAttributes(p: ResolvedProfile): string[] {
  const fieldsToRead: MappedField[] = ['primary', 'aliases', 'givenName', 'surname', 'displayName', 'homePhone',
    'mobile', 'company', 'department', 'notes', 'anchor', 'kerberosName', 'accountName'];
  const disabledAttrs = p.disabled === 'ad-user-account-control' ? ['userAccountControl'] : ['pwdAccountLockedTime', 'nsAccountLock'];
  return uniq([...fieldsToRead.flatMap((f) => withFallbacks(p, f)), ...p.extraAliasAttrs, ...disabledAttrs]);
}

/**
 * The attributes of the user fields whose values repeat across many users (given names, surnames,
 * companies, departments): the decoder hands out one string per distinct value (map-entry.ts
 * shares these fields' values as well).
 */
export function userSharedAttributes(p: ResolvedProfile): string[] {
  const fields: MappedField[] = ['givenName', 'surname', 'company', 'department'];
  return uniq(fields.flatMap((f) => withFallbacks(p, f)));
}

/**
 * Attributes to request for user and public-folder entries (operational ones named: R1): the
 * mapped ones and objectClass, which the mapping does not read (the reader does not decode it).
 */
export function userAttributes(p: ResolvedProfile): string[] {
  return uniq([...userMappedAttributes(p), 'objectClass']);
}

/** Attributes to request for group entries; `memberAttrs` replaces the member attributes (range retrieval). */
export function groupAttributes(p: ResolvedProfile, memberAttrs?: string[]): string[] {
  const members = memberAttrs ?? withFallbacks(p, 'members');
  return uniq([...withFallbacks(p, 'anchor'), ...withFallbacks(p, 'groupName'), p.fields.primary, ...members]);
}

/** Attributes to request for contact entries. */
export function contactAttributes(p: ResolvedProfile): string[] {
  return uniq([...withFallbacks(p, 'anchor'), ...withFallbacks(p, 'contactName'), p.fields.primary, p.fields.aliases, ...p.extraAliasAttrs]);
}

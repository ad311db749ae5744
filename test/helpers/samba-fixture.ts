/**
 * The Samba AD test fixture: tens of objects covering the AD profile's cases (R1, R3, R4, R13,
 * R60): `mail` vs `proxyAddresses` (SMTP:/smtp:/X500:/SIP:/X400:), a user with no `mail` but an
 * SMTP: value, one with two SMTP: values, aliases in unmanaged domains, an invalid value, a
 * disabled user (userAccountControl 514), nested mail-enabled groups, contacts, a 250-member
 * group (range retrieval), and users outside OU=Staff (scope tests).
 *
 * Tests read expectations from `sambaFixture` instead of hard-coding them. Managed domains:
 * example.test and example.org; unmanaged: other.test.
 */
import { ldifAdd } from '../fixtures/ldif.ts';

/** Bump when the fixture changes: cached domains are keyed by it. */
export const SAMBA_FIXTURE_VERSION = 2;

export const SAMBA_BASE_DN = 'DC=example,DC=test';
export const MANAGED_DOMAINS = ['example.test', 'example.org'] as const;
export const UNMANAGED_DOMAINS = ['other.test'] as const;

export interface FixtureUser {
  sam: string;
  dn: string;
  /** null for the bulk users: created without a password (UAC 544 = enabled, password not required), which is much faster. */
  password: string | null;
  givenName: string;
  sn: string;
  displayName: string;
  mail: string | null;
  proxyAddresses: string[];
  userAccountControl: number;
  company?: string;
  department?: string;
  info?: string;
  homePhone?: string;
  mobile?: string;
  /** What the active-directory profile must derive (R1/R4), lower-case; null = no valid primary. */
  expectedPrimary: string | null;
  /** Every valid alias the profile yields (any domain), lower-case, sorted; R13 decides which qualify. */
  expectedAliases: string[];
  /** Values the profile must drop as invalid (R4). */
  invalidValues: string[];
}

export interface FixtureGroup { cn: string; dn: string; mail: string | null; memberDns: string[] }
export interface FixtureContact { cn: string; dn: string; mail: string }

export interface SambaFixture {
  version: number;
  baseDn: string;
  staffOu: string;
  otherOu: string;
  bulkOu: string;
  /** Users in OU=Staff (the "interesting" ones). */
  staff: FixtureUser[];
  /** Users in OU=Other (out of scope when the search base is OU=Staff). */
  other: FixtureUser[];
  /** Users in OU=Bulk, all members of `bigGroup`. */
  bulk: FixtureUser[];
  groups: { g1: FixtureGroup; g2: FixtureGroup; bigGroup: FixtureGroup };
  contacts: FixtureContact[];
  counts: {
    staffUsers: number; otherUsers: number; bulkUsers: number; allFixtureUsers: number;
    disabled: number; groups: number; contacts: number; bigGroupMembers: number;
  };
}

const staffOu = `OU=Staff,${SAMBA_BASE_DN}`;
const otherOu = `OU=Other,${SAMBA_BASE_DN}`;
const bulkOu = `OU=Bulk,${SAMBA_BASE_DN}`;

function user(ou: string, sam: string, given: string, sn: string, p: Partial<FixtureUser> & Pick<FixtureUser, 'expectedPrimary'>): FixtureUser {
  return {
    sam, dn: `CN=${given} ${sn},${ou}`, password: `Pw!${sam}-2026x`, givenName: given, sn, displayName: `${given} ${sn}`,
    mail: null, proxyAddresses: [], userAccountControl: 512, expectedAliases: [], invalidValues: [], ...p,
  };
}

const details = (dept: string, n: number) => ({
  company: 'Example Corp', department: dept, info: `Fixture note ${n}`,
  homePhone: `+1 555 0100 ${String(n).padStart(4, '0')}`, mobile: `+1 555 0200 ${String(n).padStart(4, '0')}`,
});

const staff: FixtureUser[] = [
  user(staffOu, 'alice', 'Alice', 'Smith', { ...details('Sales', 1), mail: 'alice@example.test',
    proxyAddresses: ['SMTP:alice@example.test', 'smtp:a.smith@example.test', 'smtp:alice@example.org',
      'X500:/o=Example/ou=Exchange/cn=Recipients/cn=alice', 'SIP:alice@example.test'],
    expectedPrimary: 'alice@example.test', expectedAliases: ['a.smith@example.test', 'alice@example.org'] }),
  user(staffOu, 'bob', 'Bob', 'Jones', { ...details('Sales', 2), mail: 'bob@example.test',
    proxyAddresses: ['SMTP:bob@example.test', 'smtp:bobby@example.test'],
    expectedPrimary: 'bob@example.test', expectedAliases: ['bobby@example.test'] }),
  // No mail: the SMTP: value is the primary (R4).
  user(staffOu, 'carol', 'Carol', 'White', { ...details('Engineering', 3),
    proxyAddresses: ['SMTP:carol@example.test', 'smtp:c.white@example.test'],
    expectedPrimary: 'carol@example.test', expectedAliases: ['c.white@example.test'] }),
  // No mail and two SMTP: values: the lowest lower-case address in byte order is primary (R4).
  user(staffOu, 'dave', 'Dave', 'Brown', { ...details('Engineering', 4),
    proxyAddresses: ['SMTP:dave@example.test', 'SMTP:d.brown@example.org', 'smtp:dave.b@example.test'],
    expectedPrimary: 'd.brown@example.org', expectedAliases: ['dave.b@example.test', 'dave@example.test'] }),
  // An alias in an unmanaged domain (R13: does not qualify).
  user(staffOu, 'erin', 'Erin', 'Wolf', { ...details('Engineering', 5), mail: 'erin@example.test',
    proxyAddresses: ['SMTP:erin@example.test', 'smtp:erin.w@example.test', 'smtp:erin@other.test'],
    expectedPrimary: 'erin@example.test', expectedAliases: ['erin.w@example.test', 'erin@other.test'] }),
  user(staffOu, 'frank', 'Frank', 'Miller', { ...details('Finance', 6), mail: 'frank@example.org',
    expectedPrimary: 'frank@example.org' }),
  // Mixed case everywhere (R4 compares lower-case); the prefix case decides primary vs alias.
  user(staffOu, 'grace', 'Grace', 'Hopper', { ...details('Engineering', 7), mail: 'Grace.Hopper@Example.Test',
    proxyAddresses: ['SMTP:Grace.Hopper@example.test', 'Smtp:grace@EXAMPLE.test'],
    expectedPrimary: 'grace.hopper@example.test', expectedAliases: ['grace@example.test'] }),
  // Disabled (R3).
  user(staffOu, 'heidi', 'Heidi', 'Klum', { ...details('Legal', 8), mail: 'heidi@example.test', userAccountControl: 514,
    proxyAddresses: ['SMTP:heidi@example.test'], expectedPrimary: 'heidi@example.test' }),
  // Primary in an unmanaged domain.
  user(staffOu, 'ivan', 'Ivan', 'Petrov', { ...details('Support', 9), mail: 'ivan@other.test',
    proxyAddresses: ['SMTP:ivan@other.test', 'smtp:ivan@example.test'],
    expectedPrimary: 'ivan@other.test', expectedAliases: ['ivan@example.test'] }),
  // No address at all (R4/R6 "no address").
  user(staffOu, 'judy', 'Judy', 'Moss', { ...details('Support', 10), expectedPrimary: null }),
  user(staffOu, 'mallory', 'Mallory', 'Stone', { ...details('Marketing', 11), mail: 'mallory@example.test',
    proxyAddresses: ['SMTP:mallory@example.test', 'smtp:mallory@example.org', 'X400:c=US;a= ;p=Example;o=Exchange;s=Stone;',
      'SIP:mallory@example.test'],
    expectedPrimary: 'mallory@example.test', expectedAliases: ['mallory@example.org'] }),
  // An invalid smtp: value is dropped and reported, never fatal (R4).
  user(staffOu, 'oscar', 'Oscar', 'Wilde', { ...details('Marketing', 12), mail: 'oscar@example.test',
    proxyAddresses: ['SMTP:oscar@example.test', 'smtp:not-an-address', 'smtp:o.wilde@example.test'],
    expectedPrimary: 'oscar@example.test', expectedAliases: ['o.wilde@example.test'], invalidValues: ['not-an-address'] }),
];

const other: FixtureUser[] = [
  user(otherOu, 'olga', 'Olga', 'Other', { mail: 'olga@example.test', proxyAddresses: ['SMTP:olga@example.test'], expectedPrimary: 'olga@example.test' }),
  user(otherOu, 'otto', 'Otto', 'Other', { mail: 'otto@example.org', expectedPrimary: 'otto@example.org' }),
];

const bulk: FixtureUser[] = Array.from({ length: 250 }, (_, i) => {
  const n = String(i + 1).padStart(3, '0');
  return user(bulkOu, `bulk${n}`, 'Bulk', `User${n}`, { mail: `bulk${n}@example.test`, expectedPrimary: `bulk${n}@example.test`,
    password: null, userAccountControl: 544 });
});

const byName = (sam: string): string => staff.find((u) => u.sam === sam)!.dn;
const g2: FixtureGroup = { cn: 'Staff Engineering', dn: `CN=Staff Engineering,${staffOu}`, mail: 'eng@example.test',
  memberDns: [byName('carol'), byName('dave'), byName('erin'), byName('grace')] };
const g1: FixtureGroup = { cn: 'Staff All', dn: `CN=Staff All,${staffOu}`, mail: 'staff@example.test',
  memberDns: [g2.dn, byName('alice'), byName('bob')] };
const bigGroup: FixtureGroup = { cn: 'Bulk 250', dn: `CN=Bulk 250,${bulkOu}`, mail: 'bulk-all@example.org', memberDns: bulk.map((u) => u.dn) };
const contacts: FixtureContact[] = [
  { cn: 'Partner Contact', dn: `CN=Partner Contact,${staffOu}`, mail: 'partner@other.test' },
  // A contact showing an address that a user holds (R13: contacts may; they never become users).
  { cn: 'Bob Shadow', dn: `CN=Bob Shadow,${staffOu}`, mail: 'bob@example.test' },
];

export const sambaFixture: SambaFixture = {
  version: SAMBA_FIXTURE_VERSION, baseDn: SAMBA_BASE_DN, staffOu, otherOu, bulkOu, staff, other, bulk,
  groups: { g1, g2, bigGroup }, contacts,
  counts: {
    staffUsers: staff.length, otherUsers: other.length, bulkUsers: bulk.length,
    allFixtureUsers: staff.length + other.length + bulk.length,
    disabled: [...staff, ...other, ...bulk].filter((u) => (u.userAccountControl & 2) !== 0).length,
    groups: 3, contacts: contacts.length, bigGroupMembers: bulk.length,
  },
};

/** AD wants unicodePwd as the quoted password in UTF-16LE. */
const unicodePwd = (pw: string): string => Buffer.from(`"${pw}"`, 'utf16le').toString('latin1');

function userLdif(u: FixtureUser, domain: string): string {
  // unicodePwd is binary: ldifAdd base64-encodes it because it is not a safe string.
  return ldifAdd(u.dn, {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'], cn: `${u.givenName} ${u.sn}`, sAMAccountName: u.sam,
    userPrincipalName: `${u.sam}@${domain}`, givenName: u.givenName, sn: u.sn, displayName: u.displayName,
    mail: u.mail ?? undefined, proxyAddresses: u.proxyAddresses.length ? u.proxyAddresses : undefined,
    company: u.company, department: u.department, info: u.info, homePhone: u.homePhone, mobile: u.mobile,
  }).replace(/\n\n$/, `\n${u.password === null ? '' : `unicodePwd:: ${Buffer.from(unicodePwd(u.password), 'latin1').toString('base64')}\n`}` +
    `userAccountControl: ${u.userAccountControl}\n\n`);
}

/** The whole fixture as change LDIF for one ldapmodify run over LDAPS (unicodePwd needs TLS). */
export function sambaFixtureLdif(domain = 'example.test'): string {
  const ou = (dn: string, name: string) => ldifAdd(dn, { objectClass: ['top', 'organizationalUnit'], ou: name });
  const group = (g: FixtureGroup) => ldifAdd(g.dn, { objectClass: ['top', 'group'], cn: g.cn, sAMAccountName: g.cn.replace(/\s+/g, '_'),
    mail: g.mail ?? undefined, member: g.memberDns });
  const contact = (c: FixtureContact) => ldifAdd(c.dn, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
    cn: c.cn, displayName: c.cn, mail: c.mail });
  return [
    ou(staffOu, 'Staff'), ou(otherOu, 'Other'), ou(bulkOu, 'Bulk'),
    ...[...staff, ...other, ...bulk].map((u) => userLdif(u, domain)),
    group(g2), group(g1), group(bigGroup), ...contacts.map(contact),
  ].join('');
}

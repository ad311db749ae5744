import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapContact, mapGroup, mapUser } from './map-entry.ts';
import { resolveProfile } from './profiles.ts';
import { guidToBytes, guidToString, toRawEntry, MAX_VALUE_BYTES } from './values.ts';

const ad = resolveProfile({ profile: 'active-directory', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
const ol = resolveProfile({ profile: 'openldap', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
const GUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const guidBytes = (): Buffer => Buffer.from(guidToBytes(GUID) ?? new Uint8Array());

test('R1 objectGUID bytes become a lower-case GUID string in Microsoft byte order, and back', () => {
  const b = new Uint8Array([0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01]);
  assert.equal(guidToString(b), GUID);
  assert.deepEqual(guidToBytes(GUID.toUpperCase()), b);
  assert.equal(guidToString(new Uint8Array(15)), null);
  assert.equal(guidToBytes('not-a-guid'), null);
});

test('R1 R4 AD user: mail is primary, SMTP:/smtp: become aliases, X500/SIP ignored, NTLM and Kerberos names', () => {
  const u = mapUser(toRawEntry({
    dn: 'CN=Ann,OU=Staff,DC=example,DC=test', objectGUID: guidBytes(), mail: 'Ann@Example.test',
    proxyAddresses: ['SMTP:ann@example.test', 'smtp:a.other@example.test', 'X500:/o=Org/cn=ann', 'SIP:ann@example.test', 'SMTP:Ann.Legacy@Example.test'],
    userAccountControl: '512', userPrincipalName: 'ann@EXAMPLE.TEST', sAMAccountName: 'ann', givenName: 'Ann', sn: 'Lee',
    cn: 'Ann Lee', info: 'VIP', company: 'ACME', department: 'Sales', mobile: '+1 555', homePhone: '',
  }), ad, 'user', 'EXAMPLE');
  assert.ok(u);
  assert.equal(u.anchor, GUID);
  assert.equal(u.primary, 'ann@example.test');
  assert.deepEqual(u.aliases, ['a.other@example.test', 'ann.legacy@example.test']);
  assert.equal(u.disabled, false);
  assert.equal(u.kerberosName, 'ann@EXAMPLE.TEST');
  assert.equal(u.ntlmName, 'EXAMPLE\\ann');
  assert.deepEqual(u.details, { givenName: 'Ann', surname: 'Lee', displayName: 'Ann Lee', homePhone: null, mobile: '+1 555',
    company: 'ACME', department: 'Sales', notes: 'VIP' });
  assert.deepEqual(u.issues, []);
  assert.equal(u.kind, 'user');
});

test('R4 AD user without mail: lowest SMTP: is primary and several primaries are reported', () => {
  const u = mapUser(toRawEntry({ dn: 'CN=B,DC=x', objectGUID: guidBytes(), proxyAddresses: ['SMTP:zed@example.test', 'SMTP:Bob@example.test', 'smtp:b2@example.test'], userAccountControl: '514' }), ad, 'user', null);
  assert.ok(u);
  assert.equal(u.primary, 'bob@example.test');
  assert.deepEqual(u.aliases, ['b2@example.test', 'zed@example.test']);
  assert.equal(u.disabled, true);
  assert.equal(u.ntlmName, null);
  assert.deepEqual(u.issues.map((i) => i.code), ['several_smtp_primaries']);
});

test('R4 invalid addresses are dropped with issues; primaryInvalid tells invalid from absent', () => {
  const bad = mapUser(toRawEntry({ dn: 'CN=C,DC=x', objectGUID: guidBytes(), mail: 'not an address', proxyAddresses: ['smtp:@nodomain'] }), ad, 'user', null);
  assert.ok(bad);
  assert.equal(bad.primary, null);
  assert.equal(bad.primaryInvalid, true);
  assert.deepEqual(bad.issues.map((i) => [i.code, i.value]), [['invalid_address', 'not an address'], ['invalid_address', 'smtp:@nodomain']]);
  const none = mapUser(toRawEntry({ dn: 'CN=D,DC=x', objectGUID: guidBytes() }), ad, 'user', null);
  assert.ok(none);
  assert.equal(none.primary, null);
  assert.equal(none.primaryInvalid, false);
});

test('R1 OpenLDAP user: first mail primary, further mail and mailAlternateAddress aliases, entryUUID lower case', () => {
  const u = mapUser(toRawEntry({ dn: 'uid=x,ou=people,dc=example,dc=test', entryUUID: 'AB8E7C3A-1111-2222-3333-444455556666',
    mail: ['x@example.test', 'X.Alias@example.test'], mailAlternateAddress: 'alt@example.test', cn: 'X Person', o: 'Org',
    departmentNumber: '42', description: 'note' }), ol, 'user', 'IGNORED');
  assert.ok(u);
  assert.equal(u.anchor, 'ab8e7c3a-1111-2222-3333-444455556666');
  assert.equal(u.primary, 'x@example.test');
  assert.deepEqual(u.aliases, ['alt@example.test', 'x.alias@example.test']);
  assert.equal(u.details.displayName, 'X Person');
  assert.equal(u.details.company, 'Org');
  assert.equal(u.details.department, '42');
  assert.equal(u.details.notes, 'note');
  assert.equal(u.ntlmName, null);
  assert.equal(u.kerberosName, null);
});

test('R1 OpenLDAP disabled: permanent ppolicy lock or nsAccountLock, not a dated lockout; nsUniqueId fallback', () => {
  const base = { dn: 'uid=y,dc=x', mail: 'y@example.test' };
  const locked = mapUser(toRawEntry({ ...base, entryUUID: 'u1', pwdAccountLockedTime: '000001010000Z' }), ol, 'user', null);
  const dated = mapUser(toRawEntry({ ...base, entryUUID: 'u2', pwdAccountLockedTime: '20261122010000Z' }), ol, 'user', null);
  const ns = mapUser(toRawEntry({ ...base, nsUniqueId: 'A-B-C-D', nsAccountLock: 'TRUE' }), ol, 'user', null);
  assert.equal(locked?.disabled, true);
  assert.equal(dated?.disabled, false);
  assert.equal(ns?.disabled, true);
  assert.equal(ns?.anchor, 'a-b-c-d');
  assert.equal(mapUser(toRawEntry(base), ol, 'user', null), null);
});

test('R44 invalid UTF-8 and oversized values are dropped with issues', () => {
  const u = mapUser(toRawEntry({ dn: 'uid=z,dc=x', entryUUID: 'u3', mail: 'z@example.test',
    givenName: Buffer.from([0xc3, 0x28]), description: 'x'.repeat(MAX_VALUE_BYTES + 1), sn: 'Ok' }), ol, 'user', null);
  assert.ok(u);
  assert.equal(u.details.givenName, null);
  assert.equal(u.details.notes, null);
  assert.equal(u.details.surname, 'Ok');
  assert.deepEqual(u.issues.map((i) => i.code).sort(), ['invalid_utf8', 'value_too_large']);
  assert.ok(u.issues.every((i) => i.value.length <= 512));
});

test('R1 overrides replace one field; the display name keeps its cn fallback', () => {
  const p = resolveProfile({ profile: 'openldap', attributeOverrides: { primary: 'mailPrimaryAddress', department: 'businessCategory', aliases: 'otherMail', accountName: 'uid' },
    publicFolderClass: null, customFilter: null });
  const u = mapUser(toRawEntry({ dn: 'uid=o,dc=x', entryUUID: 'u4', mail: 'ignored@example.test', mailPrimaryAddress: 'p@example.test',
    otherMail: ['o1@example.test'], mailAlternateAddress: 'dropped@example.test', departmentNumber: '7', businessCategory: 'Ops', cn: 'O', uid: 'o' }), p, 'user', 'CORP');
  assert.ok(u);
  assert.equal(u.primary, 'p@example.test');
  assert.deepEqual(u.aliases, ['o1@example.test']);
  assert.equal(u.details.department, 'Ops');
  assert.equal(u.details.displayName, 'O');
  assert.equal(u.ntlmName, 'CORP\\o');
});

test('R2 custom filter is AND-ed to user and group filters; invalid ones are refused', () => {
  const p = resolveProfile({ profile: 'active-directory', attributeOverrides: {}, publicFolderClass: null, customFilter: ' (department=Sales) ' });
  assert.equal(p.userFilter, '(&(&(&(objectCategory=person)(objectClass=user))(!(objectClass=publicFolder)))(department=Sales))');
  assert.equal(p.groupFilter, '(&(objectClass=group)(department=Sales))');
  assert.equal(p.publicFolderFilter, '(objectClass=publicFolder)');
  assert.equal(ol.publicFolderFilter, null);
  assert.equal(ol.userFilter, '(objectClass=inetOrgPerson)');
  assert.throws(() => resolveProfile({ profile: 'openldap', attributeOverrides: {}, publicFolderClass: null, customFilter: '(&)' }),
    (e: Error & { code?: string }) => e.code === 'bad_input' && /empty AND/.test(e.message));
  assert.throws(() => resolveProfile({ profile: 'openldap', attributeOverrides: { primary: 'mail)(x=*' }, publicFolderClass: null, customFilter: null }),
    (e: Error & { code?: string }) => e.code === 'bad_input');
});

test('R1 groups: member and uniqueMember DNs, mail address, name', () => {
  const g = mapGroup(toRawEntry({ dn: 'cn=g,dc=x', entryUUID: 'G1', cn: 'Group G', mail: 'G@example.test',
    member: ['uid=a,dc=x', 'uid=b,dc=x'], uniqueMember: ["uid=c,dc=x#'0101'B", 'uid=a,dc=x'] }), ol);
  assert.ok(g);
  assert.equal(g.anchor, 'g1');
  assert.equal(g.name, 'Group G');
  assert.equal(g.address, 'g@example.test');
  assert.deepEqual(g.memberDns, ['uid=a,dc=x', 'uid=b,dc=x', 'uid=c,dc=x']);
});

test('R60 AD contacts: every valid SMTP address, name from displayName else cn', () => {
  const c = mapContact(toRawEntry({ dn: 'CN=K,DC=x', objectGUID: guidBytes(), cn: 'Kay', mail: 'kay@ext.test', proxyAddresses: ['SMTP:kay@ext.test', 'smtp:k2@ext.test', 'X500:x'] }), ad);
  assert.ok(c);
  assert.equal(c.name, 'Kay');
  assert.deepEqual(c.addresses, ['k2@ext.test', 'kay@ext.test']);
});

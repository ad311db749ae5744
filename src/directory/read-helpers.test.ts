import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidCredentialsError, SizeLimitExceededError, UnknownStatusCodeError } from 'ldapts';
import { findRangeWindow, parseRangeKey, rangeRequest } from './range.ts';
import { describeLdapError } from './ldap-errors.ts';
import { namingContextOf } from './naming.ts';
import { anchorFilter } from './read-groups.ts';
import { resolveProfile } from './profiles.ts';
import { toRawEntry } from './values.ts';
import { checkPlainBind } from './connect.ts';

test('R5 range keys parse; anything malformed is not a window', () => {
  assert.deepEqual(parseRangeKey('member;range=0-1499', 'member'), { low: 0, high: 1499 });
  assert.deepEqual(parseRangeKey('Member;Range=1500-*', 'member'), { low: 1500, high: null });
  assert.equal(parseRangeKey('member', 'member'), null);
  assert.equal(parseRangeKey('memberof;range=0-9', 'member'), null);
  assert.equal(parseRangeKey('member;range=9-3', 'member'), null);
  assert.equal(parseRangeKey('member;range=a-3', 'member'), null);
  assert.equal(rangeRequest('member', 40, 40), 'member;range=40-79');
  assert.equal(rangeRequest('member', 1500, undefined), 'member;range=1500-*');
  const w = findRangeWindow(toRawEntry({ dn: 'CN=g', 'member;range=0-1': ['a', 'b'] }), 'member');
  assert.deepEqual(w, { key: 'member;range=0-1', low: 0, high: 1, values: ['a', 'b'] });
  // ldapts' placeholder for a requested window the server did not send is no answer …
  const placeholder = toRawEntry({ dn: 'CN=g', 'member;range=240-*': ['x'], 'member;range=240-279': [] });
  assert.equal(findRangeWindow(placeholder, 'member')?.key, 'member;range=240-*');
  assert.equal(findRangeWindow(toRawEntry({ dn: 'CN=g', 'member;range=0-39': [] }), 'member'), null);
  // … but an empty final window is (AD answers `member;range=1500-*` with no values after exactly 1500).
  assert.deepEqual(findRangeWindow(toRawEntry({ dn: 'CN=g', 'member;range=1500-*': [] }), 'member')?.values, []);
});

test('R5 LDAP faults are named precisely', () => {
  assert.equal(describeLdapError(new SizeLimitExceededError('')), 'size limit exceeded (4)');
  assert.equal(describeLdapError(new InvalidCredentialsError('80090308: LdapErr: data 52e')), 'invalid credentials (49: 80090308: LdapErr: data 52e)');
  assert.equal(describeLdapError(new UnknownStatusCodeError(10, '')), 'referral returned for the search itself (10)');
  assert.equal(describeLdapError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'connection refused');
  assert.equal(describeLdapError(new Error('SearchRequest: Operation timed out'), { operationMs: 500 }), 'operation timed out after 500 ms');
  assert.match(describeLdapError(Object.assign(new Error('Hostname/IP does not match'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), /^TLS host name does not match/);
});

test('D8 the naming context root is the longest context holding the base', () => {
  const root = { namingContexts: ['DC=example,DC=test', 'CN=Configuration,DC=example,DC=test', 'DC=DomainDnsZones,DC=example,DC=test'],
    defaultNamingContext: 'DC=example,DC=test', configurationNamingContext: 'CN=Configuration,DC=example,DC=test' };
  assert.equal(namingContextOf('OU=Staff, DC=Example,DC=test', root), 'DC=example,DC=test');
  assert.equal(namingContextOf('ou=x,dc=other', { namingContexts: [], defaultNamingContext: null, configurationNamingContext: null }), 'ou=x,dc=other');
});

test('D8 R2 anchor filters are escaped: objectGUID as binary, entryUUID as text with the nsUniqueId fallback', () => {
  const ad = resolveProfile({ profile: 'active-directory', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
  assert.equal(anchorFilter(ad, '3f2504e0-4f89-11d3-9a0c-0305e82c3301'),
    '(&(objectClass=group)(objectGUID=\\e0\\04\\25\\3f\\89\\4f\\d3\\11\\9a\\0c\\03\\05\\e8\\2c\\33\\01))');
  assert.equal(anchorFilter(ad, 'not-a-guid'), null);
  const ol = resolveProfile({ profile: 'openldap', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
  assert.equal(anchorFilter(ol, 'x*)(cn=*'),
    '(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|(entryUUID=x\\2a\\29\\28cn=\\2a)(nsUniqueId=x\\2a\\29\\28cn=\\2a)))');
});

test('R43 plain binds with a password need the explicit opt-in; anonymous or TLS reads do not', () => {
  const plain = [{ host: 'dc1', port: 389, security: 'plain' as const }];
  assert.throws(() => checkPlainBind({ servers: plain, allowPlainBind: false }, 'pw'), (e: Error & { code?: string }) => e.code === 'bad_input' && !e.message.includes('pw,'));
  assert.doesNotThrow(() => checkPlainBind({ servers: plain, allowPlainBind: true }, 'pw'));
  assert.doesNotThrow(() => checkPlainBind({ servers: plain, allowPlainBind: false }, null));
  assert.doesNotThrow(() => checkPlainBind({ servers: [{ host: 'dc1', port: 636, security: 'ldaps' }], allowPlainBind: false }, 'pw'));
});

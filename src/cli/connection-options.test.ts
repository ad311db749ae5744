import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServer, parseDelay, mergeConnectionOptions } from './connection-options.ts';
import { formatProgress } from './progress.ts';

test('R55: server URLs: ldaps default 636, ldap default 389 plain or StartTLS, IPv6 in brackets', () => {
  assert.deepEqual(parseServer('ldaps://dc1.example.test', false), { host: 'dc1.example.test', port: 636, security: 'ldaps' });
  assert.deepEqual(parseServer('ldap://127.0.0.1:3890/', false), { host: '127.0.0.1', port: 3890, security: 'plain' });
  assert.deepEqual(parseServer('ldap://h', true), { host: 'h', port: 389, security: 'starttls' });
  assert.deepEqual(parseServer('ldaps://[::1]:6360', false), { host: '::1', port: 6360, security: 'ldaps' });
  for (const bad of ['dc1:389', 'http://h', 'ldap://h:x', 'ldap://']) assert.throws(() => parseServer(bad, false), /invalid server/);
});

test('R20: deletion delay parses never and numbers; non-numbers refused', () => {
  assert.equal(parseDelay('never'), null);
  assert.equal(parseDelay('14'), 14);
  assert.throws(() => parseDelay('two weeks'), /7, 14, 30 or never/);
});

test('merge: add needs profile and base DN; edit keeps what is not given; --map adds and removes overrides', () => {
  assert.throws(() => mergeConnectionOptions('c', { baseDn: 'dc=x' }, null), /--profile is required/);
  const added = mergeConnectionOptions('c', { profile: 'openldap', baseDn: 'dc=x', server: ['ldaps://h'], map: ['primary=mail', 'notes=info'], readContacts: true }, null);
  assert.deepEqual(added.settings.attributeOverrides, { primary: 'mail', notes: 'info' });
  assert.equal(added.settings.options.readContacts, true);
  assert.equal(added.settings.deletionDelayDays, 7);
  const edited = mergeConnectionOptions('c', { map: ['notes='], deletionDelay: 'never', filter: '' }, { ...added, settings: { ...added.settings, customFilter: '(a=b)' } });
  assert.deepEqual(edited.settings.attributeOverrides, { primary: 'mail' });
  assert.equal(edited.settings.deletionDelayDays, null);
  assert.equal(edited.settings.customFilter, null);
  assert.deepEqual(edited.settings.servers, added.settings.servers);
  assert.equal(edited.settings.options.readContacts, true);
});

test('R53: progress lines name the phase and the entries read', () => {
  assert.equal(formatProgress({ phase: 'read', entries: 12345 }), 'reading directory: 12,345 entries');
  assert.equal(formatProgress({ phase: 'apply', done: 3, total: 9 }), 'applying: 3/9');
});

/**
 * Edge cases end to end through the CLI against a private slapd with a small hand-made directory:
 * matching a manual user by alias (R11, D6), addresses taken by another user or claimed by two
 * entries (R13), IDN and mixed-case addresses (R4, D11), removing a user exception restores the
 * user (R30, R16), and admin actions the rules forbid (D10, R22).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry, ldifDelete } from '../fixtures/ldif.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const ENTRIES: Array<[string, string[], string]> = [
  ['alias-match', ['shared@example.test'], '0000cccc-0000-4000-8000-000000000001'],
  ['taken', ['tk@example.test', 'held@example.test'], '0000cccc-0000-4000-8000-000000000002'],
  ['idn', ['anna@xn--bcher-kva.test', 'anna2@example.test'], '0000cccc-0000-4000-8000-000000000003'],
  ['mixed', ['Mixed.Case@Example.Test'], '0000cccc-0000-4000-8000-000000000004'],
  ['uex', ['uex@example.test'], '0000cccc-0000-4000-8000-000000000005'],
  ['claim-a', ['a1@example.test', 'dup@example.test'], '0000cccc-0000-4000-8000-000000000006'],
  ['claim-b', ['b1@example.test', 'dup@example.test'], '0000cccc-0000-4000-8000-000000000007'],
  ['csv', ['csv@example.test'], '0000cccc-0000-4000-8000-000000000008'],
];
const CSV_NAME = 'Doe, "JJ" Jr';

function ldif(): string {
  let out = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  out += ldifEntry(PEOPLE, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  for (const [uid, mails, uuid] of ENTRIES) {
    out += ldifEntry(`uid=${uid},${PEOPLE}`, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: `${uid} Edge`,
      sn: 'Edge', givenName: uid, mail: mails, entryUUID: uuid, displayName: uid === 'csv' ? CSV_NAME : undefined });
  }
  return out;
}

let slapd: Slapd;
let s: Scenario;
let first: any;
const T0 = '2026-12-01T00:00:00.000Z';

before(async () => {
  slapd = await startSlapd({ ldif: ldif() });
  s = await scenario({
    now: T0, domains: ['example.test', 'bücher.test'],
    connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword },
  });
  await s.json(['users', 'add', 'boss@example.test', '--alias', 'shared@example.test', '--tenant', 'acme']);
  await s.json(['users', 'add', 'holder@example.test', '--alias', 'held@example.test', '--tenant', 'acme']);
  first = await s.sync({ now: '2026-12-01T01:00:00.000Z' });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R11 R14 D6 an entry whose primary is a manual user\'s alias matches that user and never changes its primary', async () => {
  assert.equal(first.status, 'succeeded');
  const boss = await s.user('boss@example.test');
  assert.equal(boss.address, 'boss@example.test', 'primary unchanged');
  assert.deepEqual([boss.source, boss.state], ['manual', 'active']);
  assert.equal(boss.details.givenName, 'alias-match', 'details filled from the matched entry');
  assert.equal((await s.user('shared@example.test')).id, boss.id, 'no second user for the address');
});

test('R13 an alias held by another user is not taken; it is reported as an issue of the run', async () => {
  const tk = await s.user('tk@example.test');
  assert.equal(tk.source, 'ldap');
  assert.deepEqual(tk.aliases, []);
  assert.equal((await s.user('held@example.test')).address, 'holder@example.test');
  const issues = await s.json(['runs', 'show', first.id, '--tenant', 'acme', '--items', 'issue', '--limit', '1000']);
  assert.ok(issues.items.items.some((i: any) => i.code === 'address_taken' && /held@example\.test/i.test(String(i.value))), JSON.stringify(issues.items.items));
});

test('R13 two entries claiming one free alias: the entry whose primary sorts first gets it, stably across runs', async () => {
  assert.deepEqual((await s.user('a1@example.test')).aliases, ['dup@example.test']);
  assert.deepEqual((await s.user('b1@example.test')).aliases, []);
  const r = await s.sync({ now: '2026-12-01T02:00:00.000Z' });
  assert.deepEqual([r.counts.updated, r.counts.aliasesAdded, r.counts.aliasesRemoved], [0, 0, 0]);
  assert.equal((await s.user('dup@example.test')).address, 'a1@example.test');
});

test('R4 D11 IDN and mixed-case addresses: stored in punycode and lower case, found in any form', async () => {
  const byUnicode = await s.user('anna@bücher.test');
  assert.ok(byUnicode, 'found by its Unicode form');
  assert.equal(byUnicode.address, 'anna@xn--bcher-kva.test', 'JSON shows punycode');
  assert.deepEqual(byUnicode.aliases, ['anna2@example.test']);
  const mixed = await s.user('MIXED.case@example.TEST');
  assert.ok(mixed);
  assert.equal(mixed.address, 'mixed.case@example.test');
  const human = await s.cli(['users', 'show', 'anna@xn--bcher-kva.test', '--tenant', 'acme']);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /anna@bücher\.test/, 'humans see Unicode');
});

test('R30 R16 removing a user exception restores the flagged user', async () => {
  const before = await s.user('uex@example.test');
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--user', before.anchor]);
  const r1 = await s.sync({ now: '2026-12-01T03:00:00.000Z' });
  assert.equal(r1.counts.flagged, 1);
  assert.deepEqual([(await s.user('uex@example.test')).state, (await s.user('uex@example.test')).flagReason], ['pending_deletion', 'excepted']);
  await s.json(['exceptions', 'remove', before.anchor, '--tenant', 'acme', '--connection', 'main']);
  const r2 = await s.sync({ now: '2026-12-01T04:00:00.000Z' });
  assert.equal(r2.counts.restored, 1);
  const back = await s.user('uex@example.test');
  assert.deepEqual([back.id, back.state, back.access], [before.id, 'active', true]);
});

test('D10 R22 forbidden admin actions: editing a directory user, resolving a conflict that is none', async () => {
  const edit = await s.cli(['users', 'edit', 'tk@example.test', '--given-name', 'Hacked', '--tenant', 'acme', '--json']);
  assert.notEqual(edit.code, 0, 'directory fields of ldap users are read-only');
  assert.equal((await s.user('tk@example.test')).details.givenName, 'taken');
  const del = await s.cli(['conflicts', 'delete', 'tk@example.test', '--tenant', 'acme', '--json']);
  assert.notEqual(del.code, 0, 'an active user is not a conflict');
  assert.notEqual(await s.user('tk@example.test'), null);
});

test('R22 the conflicts export is valid CSV when a display name holds a comma and quotes', async () => {
  await slapd.ldapModify(ldifDelete(`uid=csv,${PEOPLE}`));
  const r = await s.sync({ now: '2026-12-01T05:00:00.000Z' });
  assert.equal(r.counts.flagged, 1);
  const file = join(s.dataDir, 'edge.csv');
  await s.json(['conflicts', 'export', '--tenant', 'acme', '--out', file]);
  const line = readFileSync(file, 'utf8').split(/\r?\n/).find((l) => l.startsWith('csv@example.test'));
  assert.ok(line);
  assert.ok(line.includes('"Doe, ""JJ"" Jr"'), `RFC 4180 quoting: ${line}`);
  assert.ok(line.includes(',missing,'));
});

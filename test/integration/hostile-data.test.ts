/**
 * R44 (with R4, R6, R13, D9): hostile directory data in a real slapd — binary junk and a 1 MB value
 * as the primary address, invalid UTF-8 in a text field, a 1 MB display name, 10,000 alias values
 * on one entry, a value that is no address, an unmanaged domain, the same address on two entries,
 * odd DNs (escaped comma in a multi-valued RDN, leading #, quotes, UTF-8, trailing space). Each
 * bad entry is skipped or reported per entry with a reason (runs show --json), the run succeeds,
 * the other users sync, and a second run over the same data changes nothing (no corruption, no churn).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { testPki } from '../helpers/tls.ts';
import {
  HOSTILE_BASE, HOSTILE_MAPS, HOSTILE_PEOPLE, HOSTILE_SCHEMA, HOSTILE_SYNCED, MANY_ALIASES, hostileEntries, hostileLdif,
} from '../fixtures/hostile-directory.ts';

let slapd: Slapd;
let s: Scenario;
let first: any;
let items: any[];
const uuid = (key: string): string => hostileEntries().find((e) => e.key === key)!.uuid;

before(async () => {
  slapd = await startSlapd({ ldif: hostileLdif(), extraConfig: `include ${HOSTILE_SCHEMA}` });
  s = await scenario({
    now: '2026-12-01T00:00:00.000Z', domains: ['example.test'],
    connection: { profile: 'openldap', server: slapd.ldapsUrl, baseDn: HOSTILE_BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword,
      caFile: testPki().caFile, extra: HOSTILE_MAPS },
  });
  first = await s.sync();
  const shown = await s.json(['runs', 'show', first.id, '--tenant', 'acme', '--limit', '1000']);
  items = shown.items.items;
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

/** The items (skipped and issues) of one entry, as "kind:code". */
function itemsOf(key: string): string[] {
  return items.filter((i) => i.anchor === uuid(key)).map((i) => `${i.kind}:${i.code}`).sort();
}

test('R44 R5 hostile data never aborts the run: it succeeds, reads every entry, and the healthy users sync', async () => {
  assert.equal(first.status, 'succeeded', JSON.stringify(first));
  assert.equal(first.counts.read, hostileEntries().length);
  const users = await s.users();
  assert.deepEqual([...users.keys()].sort(), Object.values(HOSTILE_SYNCED).sort());
  assert.equal(first.counts.added, Object.keys(HOSTILE_SYNCED).length);
  assert.equal(first.counts.skipped, hostileEntries().length - Object.keys(HOSTILE_SYNCED).length);
  for (const u of users.values()) assert.deepEqual([u.state, u.access, u.source], ['active', true, 'ldap']);
  assert.deepEqual(users.get('ok1@example.test').aliases, ['ok1.alias@example.test']);
});

test('R44 binary junk as the primary address: skipped with a reason, the junk reported as invalid_utf8 (hex), never stored', async () => {
  assert.deepEqual(itemsOf('junkMail'), ['issue:invalid_utf8', 'skipped:no_address']);
  const issue = items.find((i) => i.anchor === uuid('junkMail') && i.kind === 'issue');
  assert.equal(issue.value, 'fffe00018040c3');
  assert.match(issue.detail, /rosterRawMail/);
});

test('R44 a 1 MB primary value: skipped, reported as value_too_large with a bounded excerpt', async () => {
  assert.deepEqual(itemsOf('hugeMail'), ['issue:value_too_large', 'skipped:no_address']);
  const issue = items.find((i) => i.anchor === uuid('hugeMail') && i.kind === 'issue');
  assert.ok(String(issue.value).length <= 1024, `excerpt of ${String(issue.value).length} characters`);
  assert.match(issue.detail, /1048576 bytes/);
});

test('R44 invalid UTF-8 in a text field and a 1 MB display name: the value is dropped and reported, the user still syncs', async () => {
  assert.deepEqual(itemsOf('badText'), ['issue:invalid_utf8']);
  assert.equal(items.find((i) => i.anchor === uuid('badText')).value, '6f6bc328eda080');
  const bad = await s.user('badtext@example.test');
  assert.equal(bad.details.notes, null, 'the undecodable notes are not stored in any lossy form');
  assert.deepEqual(itemsOf('bigName'), ['issue:value_too_large']);
  const big = await s.user('bigname@example.test');
  assert.ok(big.details.displayName === null || big.details.displayName.length < 1000, 'the 1 MB value is not stored');
  assert.notEqual(big.details.displayName, 'x'.repeat(1024 * 1024));
});

test(`R44 R13 ${MANY_ALIASES} mail values on one entry: the user syncs with every valid alias, nothing reported for it`, async () => {
  const many = await s.user('many@example.test');
  assert.equal(many.aliases.length, MANY_ALIASES);
  assert.equal(many.aliases[0], 'many.00000@example.test');
  assert.equal(many.aliases[MANY_ALIASES - 1], `many.${String(MANY_ALIASES - 1).padStart(5, '0')}@example.test`);
  assert.deepEqual(itemsOf('many'), []);
  assert.equal(first.counts.aliasesAdded, MANY_ALIASES + 1);
});

test('R4 R6 a value that is no address, an unmanaged domain: skipped per entry with the raw value', async () => {
  assert.deepEqual(itemsOf('notAddress'), ['issue:invalid_address', 'skipped:invalid_address']);
  assert.equal(items.find((i) => i.anchor === uuid('notAddress') && i.kind === 'skipped').value, 'not an address');
  assert.deepEqual(itemsOf('unmanaged'), ['skipped:unmanaged_domain']);
  assert.equal(items.find((i) => i.anchor === uuid('unmanaged')).value, 'someone@elsewhere.test');
});

test('R13 R6 the same address on two entries (case and blanks differ): one user, the other entry skipped as address_taken', async () => {
  const same = await s.user('same@example.test');
  assert.equal(same.anchor, uuid('dupA'));
  assert.deepEqual(itemsOf('dupA'), []);
  assert.deepEqual(itemsOf('dupB'), ['skipped:address_taken']);
  assert.equal(items.find((i) => i.anchor === uuid('dupB')).value, 'same@example.test');
});

test('R44 odd DNs (escaped comma in a multi-valued RDN, leading #, quotes, UTF-8, trailing space) sync like any entry', async () => {
  for (const key of ['comma', 'hash', 'quote', 'utf8', 'trailing']) {
    const u = await s.user(HOSTILE_SYNCED[key]!);
    assert.equal(u.anchor, uuid(key), key);
    assert.ok(String(u.dn).endsWith(`,${HOSTILE_PEOPLE}`), `${key}: ${u.dn}`);
    assert.deepEqual(itemsOf(key), [], key);
  }
  assert.equal((await s.user('utf8@example.test')).dn, `cn=Ünïcødé 名前,${HOSTILE_PEOPLE}`);
  assert.equal((await s.user('comma@example.test')).details.displayName, 'a,b');
  assert.equal((await s.user('trailing@example.test')).details.displayName, 'trailing ');
});

test('R12 R44 a second run over the same hostile data changes nothing and reports the same items', async () => {
  const before = JSON.stringify([...(await s.users()).values()].map((u) => [u.address, u.aliases.length, u.details, u.dn, u.state]).sort());
  const again = await s.sync({ now: '2026-12-01T01:00:00.000Z' });
  assert.equal(again.status, 'succeeded');
  assert.deepEqual([again.counts.added, again.counts.updated, again.counts.flagged, again.counts.aliasesAdded, again.counts.aliasesRemoved], [0, 0, 0, 0, 0]);
  assert.equal(again.counts.skipped, first.counts.skipped);
  const after = JSON.stringify([...(await s.users({ now: '2026-12-01T01:00:00.000Z' })).values()].map((u) => [u.address, u.aliases.length, u.details, u.dn, u.state]).sort());
  assert.equal(after, before);
});

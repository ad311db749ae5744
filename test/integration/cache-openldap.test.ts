/**
 * R60 end to end against a real slapd: the cache of a connection is what the last complete read
 * left (users, groups, memberships); a read that fails (directory stopped) leaves it untouched and
 * says so with its age; the next complete read replaces it; deleting the connection deletes it
 * (its users stay, R23-style nothing lost).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const T0 = '2026-12-01T00:00:00.000Z';
const at = (h: number) => new Date(Date.parse(T0) + h * 3_600_000).toISOString();

function ldif(): string {
  let out = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  out += ldifEntry(PEOPLE, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  out += ldifEntry(GROUPS, { objectClass: ['top', 'organizationalUnit'], ou: 'groups' });
  for (const uid of ['ann', 'bob', 'cy']) {
    out += ldifEntry(`uid=${uid},${PEOPLE}`, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: `${uid} Cache`, sn: 'Cache', mail: `${uid}@example.test` });
  }
  out += ldifEntry(`cn=staff,${GROUPS}`, { objectClass: ['top', 'groupOfNames'], cn: 'staff', member: [`uid=ann,${PEOPLE}`, `uid=bob,${PEOPLE}`] });
  out += ldifEntry(`cn=all,${GROUPS}`, { objectClass: ['top', 'groupOfNames'], cn: 'all', member: [`cn=staff,${GROUPS}`, `uid=cy,${PEOPLE}`] });
  return out;
}

let slapd: Slapd;
let s: Scenario;
const cache = async (now: string) => (await s.json(['cache', 'show', '--tenant', 'acme'], { now })).connections[0];

before(async () => {
  slapd = await startSlapd({ ldif: ldif() });
  s = await scenario({ now: T0, domains: ['example.test'], connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword } });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R60 an empty cache before the first read, then what the complete read left', async () => {
  assert.equal((await cache(T0)).state, 'empty');
  await s.sync({ now: at(1) });
  const c = await cache(at(1.5));
  assert.deepEqual([c.state, c.users, c.addresses, c.groups, c.memberships, c.lastCompleteReadAt, c.ageSeconds], ['fresh', 3, 3, 2, 4, at(1), 1800]);
});

test('R60 R5 the directory stopped: the run fails, the cache stays as it was and shows its age and why', async () => {
  await slapd.ldapModify(`dn: cn=staff,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=cy,${PEOPLE}\n`);
  await slapd.halt();
  try {
    const r = await s.cli(['sync', 'acme', 'main', '--json'], { now: at(6) });
    assert.notEqual(r.code, 0, 'a sync with the directory down fails');
    const c = await cache(at(7));
    assert.equal(c.state, 'stale');
    assert.equal(c.since.status, 'failed');
    assert.ok(String(c.since.error).length > 0);
    assert.deepEqual([c.users, c.groups, c.memberships, c.lastCompleteReadAt, c.ageSeconds], [3, 2, 4, at(1), 6 * 3600], 'the cache is the last complete read');
    const users = await s.users();
    assert.deepEqual([...users.values()].map((u) => u.state), ['active', 'active', 'active'], 'nobody flagged by a failed read (R5)');
    const human = await s.cli(['cache', 'show', '--tenant', 'acme'], { now: at(7) });
    assert.match(human.stdout, /main: STALE, read 6 h 0 min ago; failed since .*lookups and recipient validation keep serving this cache/);
    const show = await s.json(['connections', 'show', 'main', '--tenant', 'acme'], { now: at(7) });
    assert.equal(show.cache.state, 'stale');
  } finally {
    await slapd.start();
  }
});

test('R60 the next complete read replaces the cache atomically (the new membership appears)', async () => {
  await s.sync({ now: at(8) });
  const c = await cache(at(8));
  assert.deepEqual([c.state, c.memberships, c.lastCompleteReadAt, c.ageSeconds], ['fresh', 5, at(8), 0]);
});

test('R60 deleting the connection deletes its cache; its users stay', async () => {
  const r = await s.json(['connections', 'delete', 'main', '--tenant', 'acme', '--yes']);
  assert.equal(r.groups, 2);
  assert.deepEqual((await s.json(['cache', 'show', '--tenant', 'acme'])).connections, []);
  const users = await s.users();
  assert.equal(users.size, 3);
  for (const u of users.values()) assert.equal(u.connection, null);
});

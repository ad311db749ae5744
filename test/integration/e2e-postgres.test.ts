/**
 * The OpenLDAP story on PostgreSQL (ROSTER_DATABASE_URL), through the CLI: add (R10), update and
 * a second run that writes nothing (R12), delete in the directory → flagged (R15), purge only after
 * the delay (R20/R21) with rules gone and the archive kept, re-add with the archive relinked (R10),
 * and the audit of applied runs and admin actions (R25). The database is a fresh one on a private
 * cluster (or on ROSTER_TEST_PG_URL's server).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { scenario, addDays, type Scenario } from '../helpers/cli.ts';
import { generateOpenLdapLdif, generateUser, userAttrs, ldifEntry, ldifModify, ldifDelete, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { openStore } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 23, users: 400, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'], withCycle: true };
const gen = generateOpenLdapLdif(spec);
const eligible = Array.from({ length: spec.users }, (_, i) => generateUser(spec, i)).filter((u) => u.managedPrimary && !u.disabled);
const T0 = '2026-12-01T00:00:00.000Z';
let now = T0;
const tick = (): string => (now = new Date(Date.parse(now) + 3_600_000).toISOString());

let slapd: Slapd;
let pg: TestPostgres;
let url: string;
let s: Scenario;
const applied: string[] = [];
let heldRun = '';
let heldFlags = 0;

async function sync(): Promise<any> {
  const r = await s.sync({ now: tick() });
  assert.equal(r.status, 'succeeded');
  applied.push(r.id);
  return r;
}
async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openStore>>['db']) => Promise<T>): Promise<T> {
  const st = await openStore({ url });
  try { return await fn(st.db); } finally { await st.close(); }
}

before(async () => {
  [slapd, pg] = await Promise.all([startSlapd({ ldif: gen.toString() }), startPostgres()]);
  url = await pg.createDatabase();
  s = await scenario({
    now: T0, domains: ['example.test', 'example.org'], databaseUrl: url,
    connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword, extra: ['--deletion-delay', '14'] },
  });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
  await pg?.stop();
});

test('R10 R12 on PostgreSQL: first run adds every eligible user; a changed detail updates one; the next run writes nothing', async () => {
  const r1 = await sync();
  assert.equal(r1.counts.added, gen.manifest.eligible);
  assert.equal(r1.counts.aliasesAdded, gen.manifest.managedAliasValuesOfEligible);
  const users = await s.users();
  assert.equal(users.size, gen.manifest.eligible);
  const sample = eligible[3]!;
  const u = users.get(sample.mails[0]!.toLowerCase());
  assert.deepEqual([u.source, u.state, u.anchor, u.details.displayName], ['ldap', 'active', sample.entryUUID, sample.displayName]);
  assert.equal(await withDb((db) => db.selectFrom('users').select('id').execute().then((r) => r.length)), gen.manifest.eligible, 'rows are in PostgreSQL');

  await slapd.ldapModify(ldifModify(sample.dn, [{ op: 'replace', attr: 'mobile', values: ['+1 555 9999 0000'] }]));
  const r2 = await sync();
  const changedAt = now;
  assert.deepEqual([r2.counts.added, r2.counts.updated, r2.counts.flagged], [0, 1, 0]);
  assert.equal((await s.user(sample.mails[0]!)).details.mobile, '+1 555 9999 0000');
  const digest = await withDb((db) => digestStore(db));
  const r3 = await sync();
  assert.deepEqual([r3.counts.added, r3.counts.updated, r3.counts.flagged], [0, 0, 0]);
  assert.equal(await withDb((db) => digestStore(db)), digest, 'a run that changes nothing writes nothing');
  assert.equal((await s.user(sample.mails[0]!)).updatedAt, changedAt);
});

test('R15 R20 R21 R10 on PostgreSQL: deleted → flagged missing → purged after the delay with its rules → re-added with its archive', async () => {
  const victim = eligible[7]!;
  const address = victim.mails[0]!.toLowerCase();
  await s.json(['rules', 'add', address, 'allow', 'boss@partner.example', '--tenant', 'acme']);
  await s.json(['archives', 'add', address, '--tenant', 'acme']);
  const before = await s.user(address);
  assert.deepEqual([before.ruleCount, before.archives], [1, [address]]);

  await slapd.ldapModify(ldifDelete(victim.dn));
  const r = await sync();
  const at = now;
  assert.equal(r.counts.flagged, 1);
  const flagged = await s.user(address);
  assert.deepEqual([flagged.state, flagged.access, flagged.flagReason, flagged.flaggedAt, flagged.deleteAfter], ['pending_deletion', false, 'missing', at, addDays(at, 14)]);

  assert.equal((await s.json(['purge'], { now: addDays(at, 13.9) })).count, 0, 'kept before the delay');
  assert.notEqual(await s.user(address), null);
  const p = await s.json(['purge'], { now: addDays(at, 14.1) });
  assert.deepEqual([p.count, p.addresses], [1, [address]]);
  assert.equal(await s.user(address), null);
  assert.equal(await withDb((db) => db.selectFrom('rules').select('id').where('user_id', '=', before.id).execute().then((x) => x.length)), 0);
  const unlinked = await s.json(['archives', 'list', '--tenant', 'acme', '--unlinked']);
  assert.ok(unlinked.some((a: any) => a.address === address));

  now = addDays(at, 15);
  const attrs = userAttrs(victim);
  await slapd.ldapAdd(ldifEntry(victim.dn, attrs));
  const back = await sync();
  assert.equal(back.counts.added, 1);
  const again = await s.user(address);
  assert.notEqual(again.id, before.id);
  assert.deepEqual([again.state, again.source, again.ruleCount, again.archives], ['active', 'ldap', 0, [address]], 'R10: archive restored');
});

test('R15 R16 on PostgreSQL: an entry filtered out by the custom filter is flagged missing; clearing the filter restores it', async () => {
  const target = eligible[11]!;
  const address = target.mails[0]!.toLowerCase();
  const before = await s.user(address);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', `(!(uid=${target.uid}))`]);
  const r1 = await sync();
  assert.equal(r1.counts.flagged, 1);
  const u = await s.user(address);
  assert.deepEqual([u.state, u.flagReason, u.access], ['pending_deletion', 'missing', false]);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', '']);
  const r2 = await sync();
  assert.equal(r2.counts.restored, 1);
  const back = await s.user(address);
  assert.deepEqual([back.id, back.state, back.access, back.flagReason, back.deleteAfter], [before.id, 'active', true, null, null]);
});

test('R16 D6 on PostgreSQL: an entry deleted and re-created (new entryUUID) before the purge restores the same user', async () => {
  const victim = eligible[13]!;
  const address = victim.mails[0]!.toLowerCase();
  await s.json(['rules', 'add', address, 'deny', 'x@spam.example', '--tenant', 'acme']);
  const before = await s.user(address);
  await slapd.ldapModify(ldifDelete(victim.dn));
  assert.equal((await sync()).counts.flagged, 1);
  await slapd.ldapAdd(ldifEntry(victim.dn, userAttrs(victim)));
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.restored], [0, 1]);
  const back = await s.user(address);
  assert.deepEqual([back.id, back.state, back.access, back.ruleCount], [before.id, 'active', true, 1], 'same user, rules kept');
  assert.notEqual(back.anchor, before.anchor, 'anchored to the new entry');
});

test('R25 on PostgreSQL: each applied run and each admin action has an audit row', async () => {
  const rows = await withDb((db) => db.selectFrom('audit').select(['action', 'object_id', 'actor']).execute());
  assert.deepEqual(rows.filter((r) => r.action === 'run.apply').map((r) => r.object_id).sort(), [...applied].sort());
  const actions = new Set(rows.map((r) => r.action));
  for (const a of ['tenant.add', 'domain.add', 'connection.add', 'rule.add', 'archive.add', 'user.purge']) assert.ok(actions.has(a), `audit has ${a}`);
  assert.ok(rows.filter((r) => r.action === 'user.purge').every((r) => r.actor !== ''));
});

test('R41 R15 on PostgreSQL: a run that would flag too many users is held, applies nothing, and exits 7', async () => {
  const digest = await withDb((db) => digestStore(db));
  const legal = eligible.filter((u) => u.ou === 'Legal').length;
  assert.ok(legal > 10 && legal > 0.05 * eligible.length, `the filter must exceed the hold threshold (${legal} of ${eligible.length})`);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', '(!(ou=Legal))']);
  const held = await s.sync({ now: tick(), expectCode: 7 });
  assert.equal(held.status, 'held');
  assert.equal(await withDb((db) => digestStore(db)), digest, 'a held run changed the store');
  assert.equal((await s.json(['conflicts', 'list', '--tenant', 'acme'])).total, 0);
  heldRun = held.id;
  heldFlags = legal;
});

test('R41 on PostgreSQL: an admin approves the held run from the CLI and its plan is applied once', async () => {
  assert.notEqual(heldRun, '', 'the previous test left a held run');
  const approve = await s.cli(['runs', 'approve', heldRun, '--tenant', 'acme', '--json'], { now: tick() });
  assert.equal(approve.code, 0, `roster runs approve: ${approve.stderr}`);
  assert.equal((await s.json(['conflicts', 'list', '--tenant', 'acme'])).total, heldFlags);
  const again = await s.cli(['runs', 'approve', heldRun, '--tenant', 'acme', '--json'], { now: tick() });
  assert.notEqual(again.code, 0, 'a held plan is applied once');
});

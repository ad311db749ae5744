/**
 * R18 end to end: a tenant that already has users before sync is enabled (unanchored `ldap` users
 * from a previous directory service, inserted in the store as the CLI cannot make them; manual and
 * SMTP users made with the CLI). With two enabled connections, unmatched unanchored ldap users are
 * flagged only once BOTH have completed a run since sync was enabled; matched ones get anchored;
 * manual and SMTP users are left alone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, addDays, type Scenario } from '../helpers/cli.ts';
import { generateOpenLdapLdif, generateUser, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { openStore } from '../../src/store/db.ts';
import { getTenant } from '../../src/store/admin/tenants.ts';
import { insertUser } from '../../src/store/admin/users.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 5, users: 200, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
const T0 = '2026-12-01T00:00:00.000Z';
const matched = Array.from({ length: spec.users }, (_, i) => generateUser(spec, i)).find((u) => u.managedPrimary && !u.disabled)!;
const matchedAddress = matched.mails[0]!.toLowerCase();

let slapd: Slapd;
let s: Scenario;

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() });
  s = await scenario({
    now: T0, domains: ['example.test', 'example.org'], syncDisabled: true,
    connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword, extra: ['--deletion-delay', '14'] },
  });
  // A second enabled connection of the tenant (another search base: R51 allows it).
  await s.json(['connections', 'add', 'groups', '--tenant', 'acme', '--profile', 'openldap', '--server', slapd.url, '--allow-plain-bind',
    '--base-dn', `ou=groups,${BASE}`, '--bind-dn', slapd.readerDn, '--deletion-delay', '14'], { env: { ROSTER_BIND_PASSWORD: slapd.readerPassword } });
  // Users from before sync: two unanchored ldap users (one the directory has, one it lacks), a manual and an SMTP user.
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try {
    const t = await getTenant(st.db, 'acme');
    const ctx = { actor: 'test:legacy-import', now: T0 };
    await insertUser(st.db, t.id, { address: matchedAddress, details: { displayName: 'Legacy Name' } }, { source: 'ldap', connectionId: null }, ctx);
    await insertUser(st.db, t.id, { address: 'legacy-gone@example.test' }, { source: 'ldap', connectionId: null }, ctx);
  } finally {
    await st.close();
  }
  await s.json(['users', 'add', 'keep-manual@example.test', '--tenant', 'acme']);
  await s.json(['users', 'add', 'keep-smtp@example.test', '--tenant', 'acme', '--smtp']);
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R18 unanchored ldap users are flagged only once every enabled connection has completed a run since sync was enabled', async () => {
  const legacy = await s.user(matchedAddress);
  assert.deepEqual([legacy.source, legacy.anchor, legacy.connection], ['ldap', null, null]);
  const enabled = await s.json(['tenants', 'enable-sync', 'acme'], { now: '2026-12-01T01:00:00.000Z' });
  assert.equal(enabled.syncEnabled, true);

  const r1 = await s.sync({ now: '2026-12-01T02:00:00.000Z' });
  assert.equal(r1.status, 'succeeded');
  assert.equal(r1.counts.flagged, 0, 'the other connection has not run yet');
  assert.equal(r1.counts.added, gen.manifest.eligible - 1, 'the legacy user is matched, not added (R11)');
  const anchored = await s.user(matchedAddress);
  assert.equal(anchored.id, legacy.id);
  assert.deepEqual([anchored.source, anchored.state, anchored.connection, anchored.anchor], ['ldap', 'active', 'main', matched.entryUUID.toLowerCase()]);
  assert.equal(anchored.details.displayName, matched.displayName, 'R12: details from the directory');
  assert.equal((await s.user('legacy-gone@example.test')).state, 'active');

  const r2 = await s.sync({ now: '2026-12-01T03:00:00.000Z', connection: 'groups' });
  assert.equal(r2.status, 'succeeded');
  assert.equal(r2.counts.flagged, 1);
  const gone = await s.user('legacy-gone@example.test');
  assert.deepEqual([gone.state, gone.access, gone.flagReason, gone.flaggedAt, gone.deleteAfter],
    ['pending_deletion', false, 'unanchored', '2026-12-01T03:00:00.000Z', addDays('2026-12-01T03:00:00.000Z', 14)]);
  for (const a of ['keep-manual@example.test', 'keep-smtp@example.test']) {
    const u = await s.user(a);
    assert.equal(u.state, 'active', `${a} left alone`);
  }
  const c = await s.json(['conflicts', 'list', '--tenant', 'acme']);
  assert.deepEqual(c.conflicts.map((x: any) => [x.address, x.reason]), [['legacy-gone@example.test', 'unanchored']]);

  const r3 = await s.sync({ now: '2026-12-01T04:00:00.000Z' });
  assert.deepEqual([r3.counts.flagged, r3.counts.added, r3.counts.updated], [0, 0, 0], 'nothing more to do');
});

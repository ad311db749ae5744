/**
 * R63 end to end through the CLI against a private Samba AD DC, with REAL duplicates in the directory:
 * two users with the same displayName (differing in case and spacing), two groups with the same name
 * (same cn in two OUs), a contact showing a user's address (the fixture's "Bob Shadow", read contacts
 * on), an entry whose alias another user holds (R13). Then one duplicate is fixed in the directory and
 * a sync lifts that finding and its consequence while the others stay (same id, first seen kept).
 *
 * Kerberos and NTLM names: within one AD domain userPrincipalName and sAMAccountName are unique (the DC
 * refuses a second one), so a duplicate needs two sources of names in one tenant. The simplest real
 * setup is a second connection to the SAME DC with another search base (OU=Other) and a profile
 * override (R1) that maps the Kerberos name from `employeeNumber` and the account name (NTLM:
 * NETBIOS\account) from `employeeID`, attributes we set on olga to alice's UPN and sAMAccountName —
 * as a second forest or an HR-fed attribute would. Each connection then finds the duplicate when it
 * runs (R63: per connection), and clearing the attribute lifts it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifAdd, ldifModify } from '../fixtures/ldif.ts';
import { MANAGED_DOMAINS } from '../helpers/samba-fixture.ts';

const T0 = '2026-12-01T00:00:00.000Z';
let now = T0;
const tick = (): string => (now = new Date(Date.parse(now) + 3_600_000).toISOString());
let dc: SambaDc;
let s: Scenario;

const staffOu = (): string => dc.fixture.staffOu;
const dnOf = (sam: string): string => [...dc.fixture.staff, ...dc.fixture.other].find((u) => u.sam === sam)!.dn;
const twinDn = (): string => `CN=Alice Twin,${staffOu()}`;
const teamsOu = (): string => `OU=Teams,${staffOu()}`;

/** A user created the way the fixture's bulk users are (no password, UAC 544 = enabled). */
function newUser(dn: string, sam: string, attrs: Record<string, string | string[]>): string {
  return ldifAdd(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'user'], sAMAccountName: sam, userPrincipalName: `${sam}@example.test`, ...attrs })
    .replace(/\n\n$/, '\nuserAccountControl: 544\n\n');
}

const sync = (connection?: string): Promise<any> => s.sync({ now: tick(), ...(connection === undefined ? {} : { connection }) });
const list = (...extra: string[]): Promise<any[]> => s.json(['duplicates', 'list', 'acme', ...extra]);
const keys = (fs: any[]): string[] => fs.map((f) => `${f.connection} ${f.kind} ${f.key}`).sort();

before(async () => {
  dc = await startSamba();
  await dc.ldapModify([
    newUser(twinDn(), 'alicetwin', { displayName: 'alice  SMITH', givenName: 'Alice', sn: 'Twin', mail: 'alicetwin@example.test' }),
    ldifAdd(teamsOu(), { objectClass: ['top', 'organizationalUnit'], ou: 'Teams' }),
    ldifAdd(`CN=Staff All,${teamsOu()}`, { objectClass: ['top', 'group'], cn: 'Staff All', sAMAccountName: 'Staff_All_Teams' }),
    newUser(`CN=Alias Thief,${staffOu()}`, 'thief', { displayName: 'Alias Thief', mail: 'thief@example.test',
      proxyAddresses: ['SMTP:thief@example.test', 'smtp:a.smith@example.test'] }),
    ldifModify(dnOf('olga'), [{ op: 'replace', attr: 'employeeNumber', values: ['Alice@Example.Test'] }, { op: 'replace', attr: 'employeeID', values: ['ALICE'] }]),
  ].join(''));
  s = await scenario({
    now: T0, domains: [...MANAGED_DOMAINS],
    connection: { profile: 'active-directory', server: `ldaps://${dc.host}:636`, caFile: dc.caFile, baseDn: staffOu(),
      bindDn: `CN=Administrator,CN=Users,${dc.baseDn}`, bindPassword: dc.password, extra: ['--read-contacts', '--netbios-domain', dc.netbios] },
  });
  const other = await s.json(['connections', 'add', 'other', '--tenant', 'acme', '--profile', 'active-directory', '--server', `ldaps://${dc.host}:636`,
    '--ca-file', dc.caFile, '--base-dn', dc.fixture.otherOu, '--bind-dn', `CN=Administrator,CN=Users,${dc.baseDn}`, '--netbios-domain', dc.netbios,
    '--map', 'kerberosName=employeeNumber', '--map', 'accountName=employeeID'], { env: { ROSTER_BIND_PASSWORD: dc.password } });
  assert.equal(other.hasBindPassword, true);
});

after(async () => {
  await dc?.stop();
  s?.cleanup();
});

test('R63 R13 a sync of real AD duplicates stores findings: display name, group name, contact showing a user address, alias held by another user', async () => {
  const r = await sync();
  assert.equal(r.status, 'succeeded');
  const fs = await list();
  assert.deepEqual(keys(fs), [
    'main address a.smith@example.test', 'main address bob@example.test', 'main display_name alice smith', 'main group_name staff all',
  ]);
  const byKind = (k: string, key: string) => fs.find((f) => f.kind === k && f.key === key);
  const dn = byKind('display_name', 'alice smith');
  assert.deepEqual(dn.objects.map((o: any) => o.address).sort(), ['alice@example.test', 'alicetwin@example.test']);
  assert.equal(dn.value, 'Alice Smith', 'the smallest name as written');
  const groups = byKind('group_name', 'staff all');
  assert.deepEqual(groups.objects.map((o: any) => o.dn.toLowerCase()).sort(), [`cn=staff all,${staffOu()}`.toLowerCase(), `cn=staff all,${teamsOu()}`.toLowerCase()]);
  const shadow = byKind('address', 'bob@example.test');
  assert.deepEqual(shadow.objects.map((o: any) => [o.kind, o.name]), [['user', 'Bob Jones'], ['contact', 'Bob Shadow']]);
  const alias = byKind('address', 'a.smith@example.test');
  assert.deepEqual(alias.objects.map((o: any) => [o.kind, o.address]), [['user', 'alice@example.test'], ['user', 'thief@example.test']],
    'the holder and the entry whose alias it holds');
  for (const f of fs) assert.deepEqual([f.firstSeenAt, f.lastSeenAt, f.runId], [now, now, r.id]);

  const alice = await s.user('alice@example.test');
  assert.deepEqual([alice.spoofingProtection, alice.personalLists, alice.personalArchiveView], [false, false, false]);
  const twin = await s.user('alicetwin@example.test');
  assert.deepEqual([twin.spoofingProtection, twin.personalLists], [false, true]);
  const bob = await s.user('bob@example.test');
  assert.deepEqual([bob.spoofingProtection, bob.personalLists], [true, false]);
  assert.match(bob.personalArchiveViewReason, /bob@example\.test/);
  const thief = await s.user('thief@example.test');
  assert.equal(thief.personalLists, false);
  const carol = await s.user('carol@example.test');
  assert.deepEqual([carol.spoofingProtection, carol.personalLists, carol.duplicates], [true, true, []]);

  // Consequences at work: bob's allow/deny list is closed while the contact shows his address.
  const refused = await s.cli(['rules', 'add', 'bob@example.test', 'deny', 'spam@evil.test', '--tenant', 'acme']);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /no personal allow\/deny rules while a duplicate lasts: duplicate address "bob@example\.test" shared by user bob@example\.test \(main\), contact "Bob Shadow" \(main\)/);
  assert.equal((await s.json(['rules', 'add', 'carol@example.test', 'deny', 'spam@evil.test', '--tenant', 'acme'])).kind, 'deny');

  // Human output: one warning line each; sync says how many and where to look.
  const human = await s.cli(['duplicates', 'list', 'acme', '--kind', 'display_name']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^warning: \[main\] duplicate display name "Alice Smith" shared by user alice@example\.test \(main\), user alicetwin@example\.test \(main\) \(first seen .*; 2 users excluded from display-name spoofing protection\)\n$/);
  const again = await s.cli(['sync', 'acme', 'main'], { now: tick() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\nwarning: 4 duplicate findings — roster duplicates list acme --connection main\n$/);
});

test('R63 R51 Kerberos and NTLM name duplicates across two connections: each connection finds them when it runs', async () => {
  const r = await sync('other');
  assert.equal(r.status, 'succeeded');
  assert.deepEqual(keys(await list('--connection', 'other')), ['other kerberos_name alice@example.test', 'other ntlm_name example\\alice']);
  assert.deepEqual(keys(await list('--connection', 'main')).filter((k) => k.includes('_name') && !k.includes('display') && !k.includes('group')), [],
    'main has not run since: not its findings yet');
  const olga = await s.user('olga@example.test');
  assert.equal(olga.personalLists, false);
  assert.deepEqual(olga.duplicates.map((d: any) => d.kind).sort(), ['kerberos_name', 'ntlm_name']);
  await sync();
  const main = await list('--connection', 'main');
  assert.ok(keys(main).includes('main kerberos_name alice@example.test') && keys(main).includes('main ntlm_name example\\alice'));
  const krb = main.find((f: any) => f.kind === 'kerberos_name');
  assert.deepEqual(krb.objects.map((o: any) => [o.address, o.connectionName]), [['alice@example.test', 'main'], ['olga@example.test', 'other']]);
  assert.deepEqual(krb.users.map((u: any) => u.consequence), ['no_personal_features', 'no_personal_features']);
  const ntlm = await list('--kind', 'ntlm_name');
  assert.deepEqual(ntlm.map((f: any) => [f.connection, f.value]).sort(), [['main', 'EXAMPLE\\ALICE'], ['other', 'EXAMPLE\\ALICE']]);
});

test('R63 fixing duplicates in the directory lifts those findings and consequences; the others stay with their first-seen time', async () => {
  const before = await list();
  const firstSeen = new Map(before.map((f: any) => [`${f.connection} ${f.kind} ${f.key}`, [f.id, f.firstSeenAt]]));
  await dc.ldapModify([
    ldifModify(twinDn(), [{ op: 'replace', attr: 'displayName', values: ['Alice Twin'] }]),
    ldifModify(dnOf('olga'), [{ op: 'delete', attr: 'employeeNumber' }]),
  ].join(''));
  const r = await sync();
  const after = await list('--connection', 'main');
  // olga's Kerberos name is still the store's until "other" reads her again: main keeps that finding for now.
  assert.deepEqual(keys(after), [
    'main address a.smith@example.test', 'main address bob@example.test', 'main group_name staff all', 'main kerberos_name alice@example.test',
    'main ntlm_name example\\alice',
  ], 'the display name duplicate lifted for main');
  for (const f of after) {
    assert.deepEqual([f.id, f.firstSeenAt], firstSeen.get(`${f.connection} ${f.kind} ${f.key}`), `${f.kind} ${f.key} kept its id and first seen`);
    assert.deepEqual([f.lastSeenAt, f.runId], [now, r.id]);
  }
  const alice = await s.user('alice@example.test');
  assert.equal(alice.spoofingProtection, true, 'back in spoofing protection');
  assert.equal(alice.personalLists, false, 'the alias, Kerberos and NTLM duplicates still last');
  assert.deepEqual((await s.user('alicetwin@example.test')).spoofingProtection, true);
  await sync('other');
  assert.deepEqual(keys(await list('--connection', 'other')), ['other ntlm_name example\\alice'], 'other no longer finds the Kerberos duplicate');
  assert.ok(keys(await list('--connection', 'main')).includes('main kerberos_name alice@example.test'), 'R63 per connection: main\'s lasts until main runs');
  await sync();
  assert.deepEqual(keys(await list('--connection', 'main')), [
    'main address a.smith@example.test', 'main address bob@example.test', 'main group_name staff all', 'main ntlm_name example\\alice',
  ]);
  assert.deepEqual((await s.user('olga@example.test')).duplicates.map((d: any) => d.kind), ['ntlm_name', 'ntlm_name'], 'one NTLM finding per connection');
  // The alias: the thief drops it; the finding goes and bob's contact-shadow finding stays.
  await dc.ldapModify(ldifModify(`CN=Alias Thief,${staffOu()}`, [{ op: 'delete', attr: 'proxyAddresses', values: ['smtp:a.smith@example.test'] }]));
  await sync();
  assert.deepEqual(keys(await list('--connection', 'main')), ['main address bob@example.test', 'main group_name staff all', 'main ntlm_name example\\alice']);
  assert.equal((await s.user('thief@example.test')).personalLists, true);
  assert.equal((await s.user('bob@example.test')).personalLists, false);
});

test('R63 R41 approving a held run refreshes the findings like a sync and prints the same warning line', async () => {
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--hold-count', '0', '--hold-percent', '0', '--hold-absolute', '0']);
  // The thief disabled (UAC 546): flagging one user now holds the run (R41), nothing applied.
  await dc.ldapModify(ldifModify(`CN=Alias Thief,${staffOu()}`, [{ op: 'replace', attr: 'userAccountControl', values: ['546'] }]));
  const held = await s.sync({ now: tick(), expectCode: 7 });
  assert.equal(held.status, 'held');
  assert.equal((await s.user('thief@example.test')).state, 'active', 'held: nothing applied');
  const approved = await s.cli(['runs', 'approve', held.id, '--tenant', 'acme'], { now: tick() });
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, new RegExp(`^run ${held.id} approved: .*\\nwarning: 3 duplicate findings — roster duplicates list acme --connection main\\n$`));
  assert.equal((await s.user('thief@example.test')).state, 'pending_deletion');
  assert.ok((await list('--connection', 'main')).every((f: any) => f.runId === held.id), 'the approved run refreshed the findings');
});

/**
 * End to end through the CLI against a private Samba AD DC (LDAPS, test CA), search base OU=Staff
 * of the fixture: users from mail/proxyAddresses (R1/R4/R10), a second run that writes nothing
 * (R12), disable/re-enable through userAccountControl (R15/R16), a rename that keeps the objectGUID
 * anchor (R11), a group exception through nested groups (R30), and contacts read into the cache but
 * never made users (R3). Expectations come from the fixture, not hard-coded counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { ldapSearch, ldapSearchEntries } from '../helpers/ldap-tools.ts';
import { scenario, addDays, type Scenario } from '../helpers/cli.ts';
import { ldifModify, ldifModrdn } from '../fixtures/ldif.ts';
import { MANAGED_DOMAINS, type FixtureUser } from '../helpers/samba-fixture.ts';
import { openStore } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';

const T0 = '2026-12-01T00:00:00.000Z';
let now = T0;
const tick = (): string => (now = new Date(Date.parse(now) + 3_600_000).toISOString());
let dc: SambaDc;
let s: Scenario;

const managed = (a: string): boolean => (MANAGED_DOMAINS as readonly string[]).includes(a.slice(a.lastIndexOf('@') + 1));
const isEligible = (u: FixtureUser): boolean => u.expectedPrimary !== null && managed(u.expectedPrimary) && (u.userAccountControl & 2) === 0;
const staff = (): FixtureUser[] => dc.fixture.staff;
const bySam = (sam: string): FixtureUser => staff().find((u) => u.sam === sam)!;
const storeDigest = async (): Promise<string> => {
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try { return await digestStore(st.db); } finally { await st.close(); }
};
const sync = (): Promise<any> => s.sync({ now: tick() });

before(async () => {
  dc = await startSamba();
  s = await scenario({
    now: T0, domains: [...MANAGED_DOMAINS],
    connection: { profile: 'active-directory', server: `ldaps://${dc.host}:636`, caFile: dc.caFile, baseDn: dc.fixture.staffOu,
      bindDn: `CN=Administrator,CN=Users,${dc.baseDn}`, bindPassword: dc.password, extra: ['--read-contacts', '--netbios-domain', dc.netbios, '--deletion-delay', '30'] },
  });
});

after(async () => {
  await dc?.stop();
  s?.cleanup();
});

test('R10 R1 R3 users come from mail and proxyAddresses; X500/SIP ignored; contacts read but never users', async () => {
  const r = await sync();
  assert.equal(r.status, 'succeeded');
  const eligible = staff().filter(isEligible);
  assert.equal(r.counts.read, staff().length);
  assert.equal(r.counts.added, eligible.length);
  assert.equal(r.counts.contacts, dc.fixture.contacts.length, 'R3: contacts read into the cache');
  const users = await s.users();
  assert.equal(users.size, eligible.length, 'contacts never become users');
  for (const f of eligible) {
    const u = users.get(f.expectedPrimary!);
    assert.ok(u, `${f.sam} stored under ${f.expectedPrimary}`);
    assert.deepEqual([u.source, u.state, u.access], ['ldap', 'active', true]);
    assert.match(u.anchor, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'objectGUID as a lower-case GUID');
    assert.deepEqual(u.aliases, f.expectedAliases.filter(managed).sort(), `${f.sam}: qualifying smtp: aliases only`);
    assert.equal(u.details.displayName, f.displayName);
    if (f.department !== undefined) assert.deepEqual([u.details.department, u.details.company, u.details.notes], [f.department, f.company, f.info]);
  }
  const carol = users.get(bySam('carol').expectedPrimary!);
  assert.equal(carol.address, 'carol@example.test', 'no mail: the SMTP: value is the primary');
  for (const f of staff().filter((x) => !isEligible(x) && x.expectedPrimary !== null)) assert.equal(users.has(f.expectedPrimary!), false, `${f.sam} not synced`);
  assert.ok(![...users.values()].some((u) => u.address === 'partner@other.test'), 'contact address is no user');
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try {
    const contacts = await st.db.selectFrom('contacts').select(['name', 'dn']).execute();
    assert.deepEqual(contacts.map((c) => c.name).sort(), dc.fixture.contacts.map((c) => c.cn).sort());
    const shadow = await st.db.selectFrom('contact_addresses').select('address').execute();
    assert.ok(shadow.some((a) => a.address === 'bob@example.test'), 'a contact may show an address a user holds (R13)');
  } finally { await st.close(); }
  assert.equal((await s.user('bob@example.test')).source, 'ldap');
});

test('R12 a second run over an unchanged AD writes nothing', async () => {
  const digest = await storeDigest();
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.updated, r.counts.flagged, r.counts.aliasesAdded, r.counts.aliasesRemoved], [0, 0, 0, 0, 0]);
  assert.equal(await storeDigest(), digest);
});

test('R15 R16 userAccountControl 514 flags the user as disabled; 512 restores it', async () => {
  const bob = bySam('bob');
  const before = await s.user(bob.expectedPrimary!);
  await dc.ldapModify(ldifModify(bob.dn, [{ op: 'replace', attr: 'userAccountControl', values: ['514'] }]));
  const r1 = await sync();
  const at = now;
  assert.equal(r1.counts.flagged, 1);
  const u = await s.user(bob.expectedPrimary!);
  assert.deepEqual([u.state, u.access, u.flagReason, u.flaggedAt, u.deleteAfter], ['pending_deletion', false, 'disabled', at, addDays(at, 30)]);
  await dc.ldapModify(ldifModify(bob.dn, [{ op: 'replace', attr: 'userAccountControl', values: ['512'] }]));
  const r2 = await sync();
  assert.equal(r2.counts.restored, 1);
  const back = await s.user(bob.expectedPrimary!);
  assert.deepEqual([back.id, back.state, back.access, back.flagReason, back.deleteAfter], [before.id, 'active', true, null, null]);
});

test('R11 a rename in AD keeps the user: same objectGUID anchor, same id, new DN', async () => {
  const frank = bySam('frank');
  const before = await s.user(frank.expectedPrimary!);
  await dc.ldapModify(ldifModrdn(frank.dn, 'CN=Franklin Miller'));
  const newDn = `CN=Franklin Miller,${dc.fixture.staffOu}`;
  const guid = await ldapSearchEntries(dc.admin, { base: newDn, scope: 'base', attrs: ['objectGUID'] });
  assert.equal(guid.length, 1, 'renamed entry found');
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.flagged], [0, 0]);
  const after = await s.user(frank.expectedPrimary!);
  assert.deepEqual([after.id, after.anchor, after.state], [before.id, before.anchor, 'active']);
  assert.equal(after.dn.toLowerCase(), newDn.toLowerCase());
});

test('R30 excepting a group excepts its members through nested groups', async () => {
  const { g1, g2 } = dc.fixture.groups;
  // ldapsearch prints the binary objectGUID base64; as a GUID string its first three parts are little-endian.
  const raw = await ldapSearch(dc.admin, { base: g1.dn, scope: 'base', attrs: ['objectGUID'] });
  const b64 = /^objectGUID:: (\S+)$/m.exec(raw.stdout)?.[1];
  assert.ok(b64, `objectGUID of ${g1.dn}: ${raw.stderr}`);
  const hex = Buffer.from(b64, 'base64').toString('hex');
  assert.equal(hex.length, 32);
  const le = (h: string): string => h.match(/../g)!.reverse().join('');
  const guid = `${le(hex.slice(0, 8))}-${le(hex.slice(8, 12))}-${le(hex.slice(12, 16))}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--group', guid, '--dn', g1.dn]);
  const memberSams = staff().filter((u) => [...g1.memberDns, ...g2.memberDns].includes(u.dn) && isEligible(u)).map((u) => u.sam);
  const r = await sync();
  assert.equal(r.counts.flagged, memberSams.length);
  const c = await s.json(['conflicts', 'list', '--tenant', 'acme']);
  const flagged = new Map<string, string>(c.conflicts.map((x: any) => [x.address, x.reason]));
  for (const sam of memberSams) assert.equal(flagged.get(bySam(sam).expectedPrimary!), 'excepted', `${sam} excepted through ${g1.cn}`);
  assert.equal(flagged.size, memberSams.length, 'nobody else');
  assert.ok(memberSams.includes('carol'), 'a member of the nested group is among them');
});

test('AD bind account given as a UPN (Administrator@EXAMPLE.TEST), as AD and Samba accept for simple binds, can be saved and used', async () => {
  const add = await s.cli(['connections', 'add', 'upn', '--tenant', 'acme', '--profile', 'active-directory', '--server', `ldaps://${dc.host}:636`,
    '--ca-file', dc.caFile, '--base-dn', dc.fixture.otherOu, '--bind-dn', dc.bindDn, '--json'], { env: { ROSTER_BIND_PASSWORD: dc.password } });
  assert.equal(add.code, 0, `connections add with a UPN bind name: ${add.stderr}`);
  const dry = await s.sync({ now: tick(), connection: 'upn', dryRun: true });
  assert.equal(dry.status, 'previewed');
  assert.equal(dry.counts.read, dc.fixture.other.length);
});

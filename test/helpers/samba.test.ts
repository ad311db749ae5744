/**
 * The Samba AD harness itself: a real DC on its own loopback address, the fixture present as
 * `sambaFixture` describes it (read over LDAPS verified against the test CA), every socket on
 * that address, SRV records from its DNS, and nothing left after stop.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { startSamba, type SambaDc } from './samba.ts';
import { processTree } from './samba-host.ts';
import { ldapSearch, ldapSearchEntries, runLdapTool } from './ldap-tools.ts';
import { testPki } from './tls.ts';

const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is gone
  } catch {
    return false;
  }
};

describe('Samba AD DC with the fixture', () => {
  let dc: SambaDc;
  before(async () => { dc = await startSamba(); });
  after(async () => { await dc?.stop(); });

  test('R55: every listening socket of the DC is on its own loopback address', () => {
    const sockets = dc.sockets();
    assert.match(dc.host, /^127\.0\.0\.(\d+)$/);
    assert.ok(sockets.some((s) => s.proto === 'tcp' && s.port === 636), 'LDAPS listens');
    assert.ok(sockets.some((s) => s.proto === 'tcp' && s.port === 389), 'LDAP listens');
    assert.deepEqual(sockets.filter((s) => s.address !== dc.host), []);
  });

  test('R1/R43: fixture users read over LDAPS verified against the test CA', async () => {
    const f = dc.fixture;
    const users = await ldapSearchEntries(dc.admin, { base: f.staffOu, filter: '(&(objectCategory=person)(objectClass=user))',
      attrs: ['sAMAccountName', 'mail', 'proxyAddresses', 'userAccountControl', 'company', 'info'] });
    assert.equal(users.length, f.counts.staffUsers);
    for (const u of f.staff) {
      const e = users.find((x) => x.attrs.sAMAccountName?.[0] === u.sam);
      assert.ok(e, u.sam);
      assert.deepEqual(e.attrs.mail ?? [], u.mail ? [u.mail] : []);
      assert.deepEqual([...(e.attrs.proxyAddresses ?? [])].sort(), [...u.proxyAddresses].sort());
      assert.equal(Number(e.attrs.userAccountControl?.[0]), u.userAccountControl, `${u.sam} UAC`);
      assert.equal(e.attrs.company?.[0], u.company);
    }
    assert.equal(users.filter((e) => (Number(e.attrs.userAccountControl?.[0]) & 2) !== 0).length, f.counts.disabled);
    const other = await ldapSearchEntries(dc.admin, { base: f.otherOu, filter: '(objectClass=user)', attrs: ['1.1'] });
    assert.equal(other.length, f.counts.otherUsers);
  });

  test('R30/R60: nested groups, the 250-member group and contacts are present', async () => {
    const f = dc.fixture;
    const [g1] = await ldapSearchEntries(dc.admin, { base: f.groups.g1.dn, scope: 'base', attrs: ['member', 'mail'] });
    assert.deepEqual([...(g1?.attrs.member ?? [])].sort(), [...f.groups.g1.memberDns].sort());
    assert.equal(g1?.attrs.mail?.[0], f.groups.g1.mail);
    const nested = await ldapSearchEntries(dc.admin, { base: f.baseDn,
      filter: `(memberOf:1.2.840.113556.1.4.1941:=${f.groups.g1.dn})`, attrs: ['1.1'] });
    assert.equal(nested.length, f.groups.g1.memberDns.length + f.groups.g2.memberDns.length, 'transitive members of G1 (G2 included)');
    const [big] = await ldapSearchEntries(dc.admin, { base: f.groups.bigGroup.dn, scope: 'base', attrs: ['member;range=0-*'] });
    const values = Object.entries(big?.attrs ?? {}).filter(([k]) => k.toLowerCase().startsWith('member')).flatMap(([, v]) => v);
    assert.equal(values.length, f.counts.bigGroupMembers);
    const contacts = await ldapSearchEntries(dc.admin, { base: f.baseDn, filter: '(objectClass=contact)', attrs: ['mail'] });
    assert.deepEqual(contacts.map((c) => c.attrs.mail?.[0]).sort(), f.contacts.map((c) => c.mail).sort());
  });

  test('R43: a foreign CA is refused; plain LDAP simple bind and StartTLS work', async () => {
    const bad = await ldapSearch({ ...dc.admin, caFile: testPki().wrongCaFile }, { base: dc.baseDn, scope: 'base', attrs: ['1.1'] });
    assert.notEqual(bad.code, 0);
    const plain = { ...dc.admin, url: `ldap://${dc.host}` };
    assert.equal((await ldapSearch(plain, { base: dc.baseDn, scope: 'base', attrs: ['1.1'] })).code, 0);
    const tls = await runLdapTool('ldapsearch', plain, ['-ZZ', '-LLL', '-b', dc.baseDn, '-s', 'base', '1.1']);
    assert.equal(tls.code, 0, tls.stderr);
    const disabled = dc.fixture.staff.find((u) => u.userAccountControl === 514)!;
    const enabled = dc.fixture.staff.find((u) => u.userAccountControl === 512)!;
    // Samba has no WhoAmI extended operation: a base search proves the bind.
    const who = (u: typeof enabled) => ldapSearch({ ...dc.admin, bindDn: `${u.sam}@EXAMPLE.TEST`, password: u.password! },
      { base: dc.baseDn, scope: 'base', attrs: ['1.1'] });
    const ok = await who(enabled);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await who(disabled)).code, 49);
  });

  test('R55: DNS answers the SRV record for LDAP with the DC on its address', () => {
    const srv = execFileSync('dig', [`@${dc.host}`, '+short', '+time=2', '+tries=1', '_ldap._tcp.example.test', 'SRV'], { encoding: 'utf8' });
    assert.match(srv, /^\d+ \d+ 389 dc1\.example\.test\.$/m);
    const a = execFileSync('dig', [`@${dc.host}`, '+short', '+time=2', '+tries=1', 'dc1.example.test', 'A'], { encoding: 'utf8' });
    assert.deepEqual(a.trim().split('\n'), [dc.host]);
  });

  test('samba-tool runs against this DC', async () => {
    const list = await dc.samba('user', 'list');
    for (const u of dc.fixture.staff) assert.match(list, new RegExp(`^${u.sam}$`, 'm'));
  });
});

test('stop() ends every process of the DC, frees the address and removes its dir', async () => {
  const dc = await startSamba({ fixture: false });
  const tree = processTree(dc.pid!);
  assert.ok(tree.size > 1);
  const users = await ldapSearchEntries(dc.admin, { base: dc.baseDn, filter: '(sAMAccountName=alice)', attrs: ['1.1'] });
  assert.equal(users.length, 0, 'fixture: false gives a bare domain');
  await dc.stop();
  const deadline = Date.now() + 5000;
  while ([...tree].some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual([...tree].filter(running), []);
  assert.equal(existsSync(dc.dir), false);
  assert.equal(existsSync(`/tmp/roster-samba-addr-${dc.host}.lock`), false);
});

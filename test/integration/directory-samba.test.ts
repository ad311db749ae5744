/**
 * readDirectory against a real Samba AD DC (private, on its own loopback address) loaded with the
 * harness fixture: R1/R4 proxyAddresses, R3 disabled, nested groups, contacts, objectGUID anchors,
 * NTLM and Kerberos names, R5 continuation references, range retrieval, D8 and R2 on AD.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { readDirectory, type ReadResult } from '../../src/directory/read-directory.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../../src/core/connection.ts';
import { RosterError } from '../../src/core/errors.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const lc = (s: string): string => s.toLowerCase();

describe('readDirectory on Samba AD', () => {
  let dc: SambaDc;
  let full: ReadResult;
  const settings = (over: Partial<ConnectionSettings> = {}): ConnectionSettings => ({
    ...DEFAULT_CONNECTION_SETTINGS, profile: 'active-directory', servers: [{ host: dc.host, port: dc.ldapsPort, security: 'ldaps' }],
    caFile: dc.caFile, bindDn: dc.bindDn, baseDn: dc.baseDn, pageSize: 50, connectTimeoutMs: 5000, operationTimeoutMs: 20_000,
    options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: true }, ...over,
  });

  before(async () => {
    dc = await startSamba();
    full = await readDirectory(settings(), dc.password);
  });
  after(async () => {
    await dc?.stop();
  });

  const userByDn = (r: ReadResult, dn: string) => r.snapshot.users.find((u) => lc(u.dn) === lc(dn));

  test('R1 R4 proxyAddresses: SMTP: primary fallback, smtp: aliases, X500/SIP/X400 ignored, invalid values reported', () => {
    for (const f of dc.fixture.staff) {
      const u = userByDn(full, f.dn);
      assert.ok(u, f.dn);
      assert.equal(u.primary, f.expectedPrimary, f.sam);
      assert.deepEqual(u.aliases, f.expectedAliases, f.sam);
      const invalid = u.issues.filter((i) => i.code === 'invalid_address').map((i) => i.value);
      assert.deepEqual(invalid.map((v) => v.replace(/^smtp:/i, '')), f.invalidValues, f.sam);
      assert.equal(u.kind, 'user');
    }
    const dave = userByDn(full, dc.fixture.staff.find((f) => f.sam === 'dave')!.dn);
    assert.deepEqual(dave?.issues.map((i) => i.code), ['several_smtp_primaries']);
    const judy = userByDn(full, dc.fixture.staff.find((f) => f.sam === 'judy')!.dn);
    assert.equal(judy?.primaryInvalid, false);
  });

  test('R1 details, R3 disabled (userAccountControl 514), NTLM and Kerberos names', () => {
    assert.equal(full.netbiosDomain, 'EXAMPLE');
    assert.equal(full.serverUsed, `ldaps://${dc.host}:636`);
    for (const f of dc.fixture.staff) {
      const u = userByDn(full, f.dn)!;
      assert.equal(u.disabled, (f.userAccountControl & 2) === 2, f.sam);
      assert.equal(u.ntlmName, `EXAMPLE\\${f.sam}`);
      assert.equal(u.kerberosName, `${f.sam}@example.test`);
      assert.deepEqual(u.details, { givenName: f.givenName, surname: f.sn, displayName: f.displayName, homePhone: f.homePhone ?? null,
        mobile: f.mobile ?? null, company: f.company ?? null, department: f.department ?? null, notes: f.info ?? null });
    }
    const disabled = full.snapshot.users.filter((u) => dc.fixture.staff.some((f) => lc(f.dn) === lc(u.dn)) && u.disabled);
    assert.equal(disabled.length, dc.fixture.counts.disabled);
  });

  test('R1 computers are not users; every fixture user is read', () => {
    const dns = new Set(full.snapshot.users.map((u) => lc(u.dn)));
    for (const f of [...dc.fixture.staff, ...dc.fixture.other, ...dc.fixture.bulk]) assert.ok(dns.has(lc(f.dn)), f.dn);
    assert.ok(![...dns].some((d) => d.includes('ou=domain controllers')), 'the DC computer account is no user');
  });

  test('R1 objectGUID anchors are lower-case GUID strings, equal to Samba\'s own, stable across reads', async () => {
    assert.ok(full.snapshot.users.every((u) => GUID.test(u.anchor)));
    assert.ok(full.snapshot.groups.every((g) => GUID.test(g.anchor)));
    assert.equal(new Set(full.snapshot.users.map((u) => u.anchor)).size, full.snapshot.users.length);
    const alice = dc.fixture.staff.find((f) => f.sam === 'alice')!;
    const shown = /objectGUID: (\S+)/.exec(await dc.samba('user', 'show', 'alice', '--attributes=objectGUID'))?.[1];
    assert.equal(userByDn(full, alice.dn)?.anchor, shown?.toLowerCase());
    const again = await readDirectory(settings(), dc.password);
    const anchors = (r: ReadResult) => new Map(r.snapshot.users.map((u) => [lc(u.dn), u.anchor]));
    assert.deepEqual(anchors(again), anchors(full));
  });

  test('R1 nested groups with mail, and contacts (R60)', () => {
    const { g1, g2 } = dc.fixture.groups;
    for (const f of [g1, g2]) {
      const g = full.snapshot.groups.find((x) => lc(x.dn) === lc(f.dn));
      assert.ok(g, f.dn);
      assert.equal(g.address, f.mail);
      assert.equal(g.name, f.cn);
      assert.deepEqual(g.memberDns.map(lc).sort(), f.memberDns.map(lc).sort());
    }
    const contacts = full.snapshot.contacts.map((c) => ({ name: c.name, addresses: c.addresses })).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(contacts, dc.fixture.contacts.map((c) => ({ name: c.cn, addresses: [c.mail] })).sort((a, b) => a.name.localeCompare(b.name)));
    assert.equal(full.snapshot.users.some((u) => dc.fixture.contacts.some((c) => lc(c.dn) === lc(u.dn))), false, 'contacts never become users');
  });

  test('R5 continuation references from the domain root are recorded, not followed, and not fatal', () => {
    assert.equal(full.snapshot.complete, true);
    assert.equal(full.snapshot.references.length, 3);
    for (const part of ['CN=Configuration', 'DC=DomainDnsZones', 'DC=ForestDnsZones']) {
      assert.ok(full.snapshot.references.some((r) => r.includes(part)), part);
    }
  });

  test('R5 range retrieval: a 250-member group read in windows of 40 gives all 250 members', async () => {
    const big = dc.fixture.groups.bigGroup;
    // The server really answers in windows: asking for 0-39 yields exactly that window.
    const c = new Client({ url: `ldaps://${dc.host}:636`, tlsOptions: { ca: readFileSync(dc.caFile) }, timeout: 10_000, connectTimeout: 5000 });
    try {
      await c.bind(dc.bindDn, dc.password);
      const r = await c.search(big.dn, { scope: 'base', attributes: ['member;range=0-39'] });
      const v = r.searchEntries[0]?.['member;range=0-39'];
      assert.ok(Array.isArray(v) && v.length === 40, 'Samba returns a 40-value window');
    } finally {
      await c.unbind();
    }
    const r = await readDirectory(settings({ baseDn: dc.fixture.bulkOu }), dc.password, { rangeStep: 40 });
    const g = r.snapshot.groups.find((x) => lc(x.dn) === lc(big.dn));
    assert.ok(g);
    assert.equal(g.memberDns.length, 250);
    assert.deepEqual(g.memberDns.map(lc).sort(), big.memberDns.map(lc).sort());
    const fromFull = full.snapshot.groups.find((x) => lc(x.dn) === lc(big.dn));
    assert.equal(fromFull?.memberDns.length, 250, 'without explicit windows too');
  });

  test('R2 search base and custom filter scope users and groups', async () => {
    const r = await readDirectory(settings({ baseDn: dc.fixture.staffOu, customFilter: '(|(department=Sales)(cn=Staff All))' }), dc.password);
    const sales = dc.fixture.staff.filter((f) => f.department === 'Sales').map((f) => lc(f.dn)).sort();
    assert.deepEqual(r.snapshot.users.map((u) => lc(u.dn)).sort(), sales);
    assert.deepEqual(r.snapshot.groups.map((g) => g.name), ['Staff All']);
    assert.deepEqual(r.snapshot.references, [], 'a search below the domain root has no continuation references');
  });

  test('D8 an excepted group outside the base is read by objectGUID from the domain root, members ranged', async () => {
    const bigAnchor = full.snapshot.groups.find((x) => lc(x.dn) === lc(dc.fixture.groups.bigGroup.dn))!.anchor;
    const r = await readDirectory(settings({ baseDn: dc.fixture.staffOu }), dc.password, { exceptedGroupAnchors: [bigAnchor], rangeStep: 40 });
    assert.equal(r.snapshot.exceptedGroupsOutOfScope.length, 1);
    assert.equal(r.snapshot.exceptedGroupsOutOfScope[0]?.anchor, bigAnchor);
    assert.equal(r.snapshot.exceptedGroupsOutOfScope[0]?.memberDns.length, 250);
    await assert.rejects(readDirectory(settings({ baseDn: dc.fixture.staffOu }), dc.password, { exceptedGroupAnchors: ['0a0b0c0d-0000-4000-8000-000000000000'] }),
      (e: unknown) => e instanceof RosterError && e.code === 'read_incomplete' && /excepted group 0a0b0c0d-/.test(e.message));
  });

  test('R43 StartTLS to the DC verifies against the CA; a wrong password is connect_failed', async () => {
    const r = await readDirectory(settings({ servers: [{ host: dc.host, port: 389, security: 'starttls' }], baseDn: dc.fixture.staffOu }), dc.password);
    assert.equal(r.snapshot.users.length, dc.fixture.counts.staffUsers);
    await assert.rejects(readDirectory(settings(), 'not-the-password'),
      (e: unknown) => e instanceof RosterError && e.code === 'connect_failed' && /invalid credentials/.test(e.message) && !e.message.includes('not-the-password'));
  });
});

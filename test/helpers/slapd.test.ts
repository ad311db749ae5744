/**
 * The slapd harness itself: real slapd on loopback, data as the generator's manifest says,
 * LDAPS verified against the test CA, limits for the reader (R5), ppolicy lock (R1/R3),
 * syncprov cookies, restart with data kept, and nothing left running after stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect } from 'node:net';
import { startSlapd } from './slapd.ts';
import { ldapCount, ldapSearch, ldapSearchEntries, runLdapTool } from './ldap-tools.ts';
import { testPki } from './tls.ts';
import { generateOpenLdapLdif, generateUser, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { buildChangeSet } from '../fixtures/change-set.ts';

const spec: GeneratorSpec = {
  seed: 7, users: 300, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'],
  unmanagedDomains: ['other.test'], disabledShare: 0.05, withCycle: true, publicFolders: 3,
};

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
const portOpen = (port: number): Promise<boolean> => new Promise((res) => {
  const s = connect({ port, host: '127.0.0.1' });
  s.once('connect', () => { s.destroy(); res(true); });
  s.once('error', () => res(false));
});

test('R1/R3: slapd serves exactly the generated directory (counts equal the manifest)', async () => {
  const gen = generateOpenLdapLdif(spec);
  await using s = await startSlapd({ ldif: gen.toString() });
  const m = gen.manifest;
  assert.equal((await ldapCount(s.reader, { base: s.baseDn })).count, m.entries + 2, 'all entries + the reader + the default policy');
  assert.equal((await ldapCount(s.reader, { base: m.peopleDn, filter: '(objectClass=inetOrgPerson)' })).count, m.users);
  assert.equal((await ldapCount(s.reader, { base: s.baseDn, filter: '(pwdAccountLockedTime=000001010000Z)' })).count, m.disabled);
  assert.ok(m.disabled > 0 && m.unmanaged > 0 && m.withAliases > 0);
  assert.equal((await ldapCount(s.reader, { base: m.groupsDn, filter: '(objectClass=groupOfNames)' })).count, m.groups);
  assert.equal((await ldapCount(s.reader, { base: s.baseDn, filter: '(objectClass=rosterPublicFolder)' })).count, m.publicFolders);
  const members = await ldapSearchEntries(s.reader, { base: m.groupsDn, filter: '(objectClass=groupOfNames)', attrs: ['member'] });
  assert.equal(members.reduce((n, e) => n + (e.attrs.member?.length ?? 0), 0), m.memberValues);
  const u = generateUser(spec, 17);
  const [e] = await ldapSearchEntries(s.reader, { base: u.dn, scope: 'base', attrs: ['mail', 'sn', 'entryUUID'] });
  assert.deepEqual(e?.attrs.mail, u.mails);
  assert.equal(e?.attrs.sn?.[0], u.sn);
  assert.equal(e?.attrs.entryUUID?.[0], u.entryUUID, 'seed-derived entryUUID kept by slapadd');
});

test('R43: LDAPS verifies against the test CA and fails against a foreign CA', async () => {
  await using s = await startSlapd();
  const ok = await ldapSearch({ ...s.reader, url: s.ldapsUrl }, { base: s.baseDn, scope: 'base', attrs: ['1.1'] });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await ldapSearch({ ...s.reader, url: s.ldapsUrl, caFile: testPki().wrongCaFile }, { base: s.baseDn, scope: 'base' });
  assert.notEqual(bad.code, 0);
  // Node's own TLS (what ldapts uses) accepts the chain and the IP SAN too.
  const authorized = await new Promise<boolean>((res, rej) => {
    const sock = tlsConnect({ host: s.host, port: s.ldapsPort, ca: readFileSync(s.caFile) }, () => { res(sock.authorized); sock.destroy(); });
    sock.once('error', rej);
  });
  assert.equal(authorized, true);
  const starttls = await runLdapTool('ldapsearch', s.reader, ['-ZZ', '-LLL', '-b', s.baseDn, '-s', 'base', '1.1']);
  assert.equal(starttls.code, 0, starttls.stderr);
});

test('R43: an expired or wrong-name server certificate is refused even with the right CA', async () => {
  for (const cert of [testPki().expired, testPki().wrongName]) {
    await using s = await startSlapd({ serverCert: cert });
    const r = await ldapSearch({ ...s.reader, url: s.ldapsUrl }, { base: s.baseDn, scope: 'base', attrs: ['1.1'] });
    assert.notEqual(r.code, 0, `${cert.certFile} accepted`);
    const plain = await ldapSearch(s.reader, { base: s.baseDn, scope: 'base', attrs: ['1.1'] });
    assert.equal(plain.code, 0, 'the server itself is up');
  }
});

test('R5: a reader size limit truncates a paged read with sizeLimitExceeded; the default is unlimited', async () => {
  const ldif = generateOpenLdapLdif({ ...spec, users: 700, withCycle: false, publicFolders: 0 }).toString();
  await using limited = await startSlapd({ ldif, sizeLimitForReader: 100 });
  const r = await ldapCount(limited.reader, { base: limited.baseDn, filter: '(objectClass=inetOrgPerson)', pageSize: 50 });
  assert.equal(r.code, 4, `expected sizeLimitExceeded, got ${r.code} ${r.stderr}`);
  assert.ok(r.count <= 100 && r.count > 0, `partial count ${r.count}`);
  await using open = await startSlapd({ ldif });
  const all = await ldapCount(open.reader, { base: open.baseDn, filter: '(objectClass=inetOrgPerson)', pageSize: 50 });
  assert.deepEqual([all.code, all.count], [0, 700]);
  const anon = await ldapCount({ url: open.url }, { base: open.baseDn, filter: '(objectClass=*)' });
  assert.equal(anon.count, 0, 'anonymous reads nothing');
});

test('R3: a ppolicy-locked user cannot bind; an enabled one can', async () => {
  const ldif = generateOpenLdapLdif({ ...spec, users: 60, disabledShare: 0.5 }).toString();
  await using s = await startSlapd({ ldif });
  const users = Array.from({ length: 60 }, (_, i) => generateUser({ ...spec, users: 60, disabledShare: 0.5 }, i));
  const locked = users.find((u) => u.disabled)!;
  const open = users.find((u) => !u.disabled)!;
  const who = (dn: string, uid: string) => runLdapTool('ldapwhoami', { url: s.url, bindDn: dn, password: `pw-${uid}` }, []);
  assert.equal((await who(open.dn, open.uid)).code, 0);
  assert.equal((await who(locked.dn, locked.uid)).code, 49);
});

test('change sets apply; syncprov returns a cookie; kill() + start() keeps the data', async () => {
  const small = { ...spec, users: 100 };
  await using s = await startSlapd({ ldif: generateOpenLdapLdif(small).toString() });
  const cs = buildChangeSet(small, { seed: 3, modify: 2, addAlias: 1, disable: 1, rename: 1, delete: 2, add: 3 });
  await s.ldapModify(cs.ldif);
  const renamed = cs.renamed[0]!;
  const [moved] = await ldapSearchEntries(s.reader, { base: s.baseDn, filter: `(entryUUID=${renamed.entryUUID})`, attrs: ['1.1'] });
  assert.equal(moved?.dn, renamed.newDn, 'modrdn keeps entryUUID');
  assert.equal((await ldapCount(s.reader, { base: s.baseDn, filter: '(objectClass=inetOrgPerson)' })).count, 100 - 2 + 3);
  const sync = await runLdapTool('ldapsearch', s.reader, ['-b', s.baseDn, '-E', '!sync=ro', '(uid=u000001)', '1.1']);
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /# cookie: rid=\d+,csn=\d{14}/);
  const pid = s.pid!;
  s.kill();
  await s.start();
  assert.notEqual(s.pid, pid);
  assert.equal((await ldapCount(s.reader, { base: s.baseDn, filter: '(objectClass=inetOrgPerson)' })).count, 101);
});

test('stop() leaves no process, no listening port and no directory behind', async () => {
  const s = await startSlapd();
  const pid = s.pid!;
  assert.ok(alive(pid));
  assert.ok(await portOpen(s.port));
  await s.stop();
  assert.equal(alive(pid), false);
  assert.equal(await portOpen(s.port), false);
  assert.equal(await portOpen(s.ldapsPort), false);
  assert.equal(existsSync(s.dir), false);
  await s.stop(); // idempotent
});

test('R90 scale: 100k generated users load offline and read back completely with paging', async () => {
  const gen = generateOpenLdapLdif({ ...spec, users: 100_000, withCycle: false, publicFolders: 0 });
  const file = `/tmp/roster-slapd-test-100k-${process.pid}.ldif`;
  await gen.write(file);
  try {
    await using s = await startSlapd({ ldifFile: file });
    const users = await ldapCount({ ...s.reader, url: s.ldapsUrl }, { base: gen.manifest.peopleDn, filter: '(objectClass=inetOrgPerson)' });
    assert.deepEqual([users.code, users.count], [0, gen.manifest.users]);
    const locked = await ldapCount(s.reader, { base: s.baseDn, filter: '(pwdAccountLockedTime=000001010000Z)' });
    assert.equal(locked.count, gen.manifest.disabled);
  } finally {
    rmSync(file, { force: true });
  }
});

/**
 * readDirectory against a real slapd (private instance on free loopback ports) loaded with the
 * generated test directory: counts equal the generator's manifest, R1 mapping, R5 incomplete
 * reads (size limit, killed server), R43 TLS and plain-bind rules, R2 custom filter, D8.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { freePort } from '../helpers/ports.ts';
import { testPki } from '../helpers/tls.ts';
import { deterministicUuid, generateOpenLdapLdif, generateUser, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { readDirectory, type ReadProgress } from '../../src/directory/read-directory.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings, type Security } from '../../src/core/connection.ts';
import { RosterError } from '../../src/core/errors.ts';

const spec: GeneratorSpec = { seed: 42, users: 3000, baseDn: 'dc=example,dc=test', managedDomains: ['example.test'],
  unmanagedDomains: ['elsewhere.test'], publicFolders: 4, withCycle: true };
const gen = generateOpenLdapLdif(spec);
const m = gen.manifest;

function settingsFor(s: Slapd, over: Partial<ConnectionSettings> = {}, security: Security = 'plain'): ConnectionSettings {
  return {
    ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap',
    servers: [{ host: '127.0.0.1', port: security === 'ldaps' ? s.ldapsPort : s.port, security }],
    allowPlainBind: true, caFile: s.caFile, bindDn: s.readerDn, baseDn: s.baseDn, pageSize: 100,
    connectTimeoutMs: 5000, operationTimeoutMs: 20_000, ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<RosterError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RosterError, `expected a RosterError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code} matching ${message}`);
}

describe('readDirectory on OpenLDAP', () => {
  let s: Slapd;
  before(async () => {
    s = await startSlapd({ ldif: gen.toString() });
  });
  after(async () => {
    await s?.stop();
  });

  test('R1 R5 counts equal the manifest, streamed over many pages of 100', async () => {
    const progress: ReadProgress[] = [];
    const r = await readDirectory(settingsFor(s), s.readerPassword, { onProgress: (p) => progress.push(p) });
    const { users, groups } = r.snapshot;
    assert.equal(r.snapshot.complete, true);
    assert.equal(r.serverUsed, `ldap://127.0.0.1:${s.port}`);
    assert.equal(users.length, m.users);
    assert.equal(users.filter((u) => u.disabled).length, m.disabled);
    assert.equal(users.filter((u) => u.aliases.length > 0).length, m.withAliases);
    assert.equal(users.reduce((n, u) => n + u.aliases.length, 0), m.aliasValues);
    assert.equal(users.filter((u) => u.primary?.endsWith('@elsewhere.test')).length, m.unmanaged);
    assert.equal(new Set(users.map((u) => u.anchor)).size, m.users);
    assert.equal(groups.length, m.groups);
    assert.equal(groups.reduce((n, g) => n + g.memberDns.length, 0), m.memberValues);
    assert.equal(groups.filter((g) => g.address !== null).length, m.groupsWithMail + 2); // + the two cycle groups
    const userPages = progress.filter((p) => p.phase === 'users');
    assert.ok(userPages.length >= m.users / 100, `expected ≥ ${m.users / 100} user pages, saw ${userPages.length}`);
    assert.equal(userPages.at(-1)?.entries, m.users);
    assert.deepEqual([...new Set(progress.map((p) => p.phase))], ['connect', 'users', 'groups']);
    assert.deepEqual(r.snapshot.references, []);
    assert.equal(r.snapshot.users.some((u) => u.kind === 'public_folder'), false);
  });

  test('R1 each user maps exactly as generated (anchor, primary, aliases, details, disabled)', async () => {
    const r = await readDirectory(settingsFor(s), s.readerPassword);
    const byDn = new Map(r.snapshot.users.map((u) => [u.dn, u]));
    for (const i of [0, 1, 2, 17, 999, 2999]) {
      const g = generateUser(spec, i);
      const u = byDn.get(g.dn);
      assert.ok(u, g.dn);
      assert.equal(u.anchor, g.entryUUID.toLowerCase());
      assert.equal(u.primary, g.mails[0]?.toLowerCase() ?? null);
      assert.deepEqual(u.aliases, g.mails.slice(1).map((a) => a.toLowerCase()).sort());
      assert.equal(u.disabled, g.disabled);
      assert.deepEqual(u.details, { givenName: g.givenName, surname: g.sn, displayName: g.displayName, homePhone: g.homePhone,
        mobile: g.mobile, company: g.o, department: g.ou, notes: g.description });
    }
    const disabled = r.snapshot.users.find((u) => u.disabled);
    assert.ok(disabled, 'a disabled (pwdAccountLockedTime 000001010000Z) user is read');
  });

  test('D3 public folders of the configured class are read as kind public_folder, never as users', async () => {
    const r = await readDirectory(settingsFor(s, { publicFolderClass: 'rosterPublicFolder',
      options: { syncDisabledUsers: false, syncPublicFolders: true, readContacts: false } }), s.readerPassword);
    const folders = r.snapshot.users.filter((u) => u.kind === 'public_folder');
    assert.equal(folders.length, m.publicFolders);
    assert.equal(r.snapshot.users.length, m.users + m.publicFolders);
    assert.equal(folders[0]?.primary, 'folder-1@example.test');
  });

  test('R2 the custom filter applies to user and group reads', async () => {
    const r = await readDirectory(settingsFor(s, { customFilter: '(|(ou=Sales)(cn=group-1))' }), s.readerPassword);
    assert.ok(r.snapshot.users.length > 0 && r.snapshot.users.length < m.users);
    assert.ok(r.snapshot.users.every((u) => u.details.department === 'Sales'));
    assert.deepEqual(r.snapshot.groups.map((g) => g.name), ['group-1']);
  });

  test('R2 escaped UTF-8 in a custom filter reaches the server as the right bytes', async () => {
    const r = await readDirectory(settingsFor(s, { customFilter: '(sn=M\\c3\\bcller)' }), s.readerPassword);
    assert.ok(r.snapshot.users.length > 0);
    assert.ok(r.snapshot.users.every((u) => u.details.surname === 'Müller'));
  });

  test('D8 an excepted group outside the search base is read by anchor; an unknown one fails the read', async () => {
    const anchor = deterministicUuid(spec.seed, 2, 0); // group-1
    const r = await readDirectory(settingsFor(s, { baseDn: m.peopleDn }), s.readerPassword, { exceptedGroupAnchors: [anchor.toUpperCase()] });
    assert.equal(r.snapshot.groups.length, 0);
    assert.equal(r.snapshot.exceptedGroupsOutOfScope.length, 1);
    assert.equal(r.snapshot.exceptedGroupsOutOfScope[0]?.anchor, anchor);
    assert.ok((r.snapshot.exceptedGroupsOutOfScope[0]?.memberDns.length ?? 0) > 0);
    const inScope = await readDirectory(settingsFor(s), s.readerPassword, { exceptedGroupAnchors: [anchor] });
    assert.deepEqual(inScope.snapshot.exceptedGroupsOutOfScope, []);
    await rejectsWith(readDirectory(settingsFor(s, { baseDn: m.peopleDn }), s.readerPassword, { exceptedGroupAnchors: ['00000000-0000-4000-8000-000000000000'] }),
      'read_incomplete', /excepted group 00000000-0000-4000-8000-000000000000 could not be read/);
  });

  test('R5 a search base that does not exist makes the read incomplete', async () => {
    await rejectsWith(readDirectory(settingsFor(s, { baseDn: 'ou=nowhere,dc=example,dc=test' }), s.readerPassword),
      'read_incomplete', /no such object .* while reading users from ldap:\/\/127\.0\.0\.1:\d+/);
  });

  test('R43 wrong password → connect_failed naming the server, never the password', async () => {
    const e = await rejectsWith(readDirectory(settingsFor(s), 'Wrong-Secret-123'), 'connect_failed', /ldap:\/\/127\.0\.0\.1:\d+: invalid credentials \(49/);
    assert.doesNotMatch(e.message + JSON.stringify(e.details), /Wrong-Secret-123/);
  });

  test('R43 plain LDAP with a password is refused without allowPlainBind, before connecting', async () => {
    await rejectsWith(readDirectory(settingsFor(s, { allowPlainBind: false }), s.readerPassword), 'bad_input', /not allowed .*R43/);
  });

  test('R43 LDAPS and StartTLS verify against the harness CA', async () => {
    const ldaps = await readDirectory(settingsFor(s, { allowPlainBind: false }, 'ldaps'), s.readerPassword);
    assert.equal(ldaps.serverUsed, `ldaps://127.0.0.1:${s.ldapsPort}`);
    assert.equal(ldaps.snapshot.users.length, m.users);
    const starttls = await readDirectory(settingsFor(s, { allowPlainBind: false }, 'starttls'), s.readerPassword);
    assert.equal(starttls.snapshot.users.length, m.users);
  });

  test('R43 a wrong CA fails with a clear TLS error, for LDAPS and StartTLS', async () => {
    const wrong = testPki().wrongCaFile;
    await rejectsWith(readDirectory(settingsFor(s, { caFile: wrong }, 'ldaps'), s.readerPassword), 'connect_failed',
      /ldaps:\/\/127\.0\.0\.1:\d+: TLS certificate verification failed/);
    await rejectsWith(readDirectory(settingsFor(s, { caFile: wrong }, 'starttls'), s.readerPassword), 'connect_failed',
      /\(StartTLS\): TLS certificate verification failed/);
  });

  test('R55 servers are tried in order: a dead first server is skipped, the next one used', async () => {
    const dead = await freePort();
    const r = await readDirectory(settingsFor(s, { servers: [{ host: '127.0.0.1', port: dead, security: 'plain' },
      { host: '127.0.0.1', port: s.port, security: 'plain' }] }), s.readerPassword);
    assert.equal(r.serverUsed, `ldap://127.0.0.1:${s.port}`);
    await rejectsWith(readDirectory(settingsFor(s, { servers: [{ host: '127.0.0.1', port: dead, security: 'plain' }] }), s.readerPassword),
      'connect_failed', new RegExp(`ldap://127\\.0\\.0\\.1:${dead}: connection refused`));
  });

  test('R57 an aborted read is incomplete', async () => {
    const ac = new AbortController();
    await rejectsWith(readDirectory(settingsFor(s), s.readerPassword, { signal: ac.signal, onProgress: (p) => { if (p.entries >= 200) ac.abort(); } }),
      'read_incomplete', /aborted/);
  });

  test('R5 killing slapd in the middle of the read makes it incomplete', async () => {
    let killed = false;
    const e = await rejectsWith(readDirectory(settingsFor(s), s.readerPassword, {
      onProgress: (p) => { if (p.phase === 'users' && p.entries >= 300 && !killed) { killed = true; s.kill(); } },
    }), 'read_incomplete', /(connection|socket).* after \d+ entries while reading users from ldap:\/\/127\.0\.0\.1/i);
    assert.ok(killed);
    assert.match(e.message, /after (3\d\d|4\d\d) entries/);
    await s.start(); // later tests (if any are added) get the server back
  });
});

describe('readDirectory on OpenLDAP with a size-limited bind account', () => {
  test('R5 the bind account hitting a size limit makes the read incomplete', async () => {
    await using s = await startSlapd({ ldif: gen.toString(), sizeLimitForReader: 500 });
    await rejectsWith(readDirectory(settingsFor(s), s.readerPassword), 'read_incomplete',
      /size limit exceeded .*after 500 entries while reading users from ldap:\/\/127\.0\.0\.1:\d+/);
  });
});

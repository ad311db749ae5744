/**
 * R43 through the CLI: LDAPS and StartTLS verify the server certificate and host name. Three real
 * slapd servers on loopback serve (1) a good certificate, (2) an expired one, (3) one for another
 * name; a fourth case points the connection at a foreign CA. Each bad case must make `roster sync`
 * fail with exit 6 (connect_failed) and a stderr that says WHICH check failed, record a failed run,
 * and change no user. A password bind over plain LDAP needs `--allow-plain-bind`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { testPki } from '../helpers/tls.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
const T0 = '2026-12-01T00:00:00.000Z';

function ldif(): string {
  let out = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  out += ldifEntry(`ou=people,${BASE}`, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  for (let i = 1; i <= 3; i++) {
    out += ldifEntry(`uid=t${i},ou=people,${BASE}`, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid: `t${i}`, cn: `T ${i}`, sn: 'T', mail: `t${i}@example.test` });
  }
  return out;
}

let good: Slapd;
let expired: Slapd;
let wrongName: Slapd;
let s: Scenario;
let baseline: string;

/** A stable picture of every user: a failed run must leave it byte for byte. */
async function picture(): Promise<string> {
  const users = await s.users();
  return JSON.stringify([...users.values()].map((u) => [u.address, u.state, u.access, u.anchor, u.aliases]).sort());
}

before(async () => {
  const pki = testPki();
  [good, expired, wrongName] = await Promise.all([
    startSlapd({ ldif: ldif() }),
    startSlapd({ ldif: ldif(), serverCert: pki.expired }),
    startSlapd({ ldif: ldif(), serverCert: pki.wrongName }),
  ]);
  s = await scenario({
    now: T0, domains: ['example.test'],
    connection: { profile: 'openldap', server: good.ldapsUrl, baseDn: BASE, bindDn: good.readerDn, bindPassword: good.readerPassword, caFile: pki.caFile },
  });
  const first = await s.sync();
  assert.equal(first.status, 'succeeded');
  assert.equal(first.counts.added, 3);
  baseline = await picture();
});

after(async () => {
  await Promise.all([good?.stop(), expired?.stop(), wrongName?.stop()]);
  s?.cleanup();
});

test('R43 LDAPS and StartTLS with the right CA both sync', async () => {
  const ldaps = await s.sync();
  assert.equal(ldaps.status, 'succeeded');
  assert.match(String(ldaps.serverUsed), /^ldaps:\/\/127\.0\.0\.1:/);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.url, '--starttls']);
  const shown = await s.json(['connections', 'show', 'main', '--tenant', 'acme']);
  assert.equal(shown.settings.servers[0].security, 'starttls');
  const st = await s.sync();
  assert.equal(st.status, 'succeeded');
  assert.equal(st.counts.read, 3);
  assert.equal(await picture(), baseline);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.ldapsUrl]);
});

interface BadCase {
  name: string;
  /** connections edit flags that point the connection at the bad server. */
  edit: () => string[];
  /**
   * What stderr must say: which verification failed. A foreign CA must be named as such (a hint to
   * check the CA file), not only as OpenSSL's "self-signed certificate in certificate chain".
   */
  says: RegExp[];
}

const cases: BadCase[] = [
  { name: 'a wrong CA over LDAPS', edit: () => ['--server', good.ldapsUrl, '--ca-file', testPki().wrongCaFile],
    says: [/certificate verification failed/i, /\bCA\b/] },
  { name: 'a wrong CA over StartTLS', edit: () => ['--server', good.url, '--starttls', '--ca-file', testPki().wrongCaFile],
    says: [/certificate verification failed/i, /\bCA\b/, /StartTLS/] },
  { name: 'an expired certificate over LDAPS', edit: () => ['--server', expired.ldapsUrl, '--ca-file', testPki().caFile],
    says: [/certificate has expired/i] },
  { name: 'an expired certificate over StartTLS', edit: () => ['--server', expired.url, '--starttls', '--ca-file', testPki().caFile],
    says: [/certificate has expired/i, /StartTLS/] },
  { name: 'a name mismatch over LDAPS (cert for wrong.invalid, connecting to 127.0.0.1)',
    edit: () => ['--server', wrongName.ldapsUrl, '--ca-file', testPki().caFile], says: [/does not match/i, /host ?name/i, /127\.0\.0\.1/] },
  { name: 'a name mismatch over StartTLS', edit: () => ['--server', wrongName.url, '--starttls', '--ca-file', testPki().caFile],
    says: [/does not match/i, /host ?name/i, /StartTLS/] },
];

for (const c of cases) {
  test(`R43 ${c.name}: sync fails with a clear error, the run is recorded failed, nothing changes`, async () => {
    await s.json(['connections', 'edit', 'main', '--tenant', 'acme', ...c.edit()]);
    const human = await s.cli(['sync', 'acme', 'main']);
    assert.equal(human.code, 6, `exit code (connect_failed) — stderr: ${human.stderr}`);
    for (const re of c.says) assert.match(human.stderr, re, `stderr must say ${re}: ${human.stderr}`);
    assert.doesNotMatch(human.stderr, /\n\s+at .*\(.*\.ts:\d+/, 'no stack trace for an expected failure');
    if (!c.name.includes('StartTLS')) {
      const json = await s.cli(['sync', 'acme', 'main', '--json']);
      assert.equal(json.code, 6, json.stderr);
      assert.equal(json.json?.status, 'failed', `the failed run record is printed: ${json.stdout}`);
      for (const re of c.says) assert.match(String(json.json.error), re, String(json.json.error));
    }
    const runs = await s.json(['runs', 'list', '--tenant', 'acme', '--connection', 'main', '--limit', '1']);
    assert.equal(runs[0].status, 'failed');
    assert.match(String(runs[0].error), c.says[0]!);
    assert.equal(await picture(), baseline, 'no user changed');
  });
}

test('R43 R5 once the connection points at a good server again, the next run works normally', async () => {
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.ldapsUrl, '--ca-file', testPki().caFile]);
  const next = await s.sync();
  assert.equal(next.status, 'succeeded');
  assert.deepEqual([next.counts.added, next.counts.flagged, next.counts.updated], [0, 0, 0]);
  assert.equal(await picture(), baseline);
});

test('R43 a password bind over plain LDAP is refused unless --allow-plain-bind is given for the connection', async () => {
  // Saving a plain server with a password and no opt-in is refused, naming the flag.
  const add = await s.cli(['connections', 'add', 'plain', '--tenant', 'acme', '--profile', 'openldap', '--server', good.url,
    '--base-dn', `ou=people,${BASE}`, '--bind-dn', good.readerDn], { env: { ROSTER_BIND_PASSWORD: good.readerPassword } });
  assert.equal(add.code, 2, add.stderr);
  assert.match(add.stderr, /plain LDAP/i);
  assert.match(add.stderr, /--allow-plain-bind/);
  assert.doesNotMatch(add.stderr + add.stdout, new RegExp(good.readerPassword));

  // Switching an existing TLS connection to plain without the opt-in is refused as well.
  const edit = await s.cli(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.url]);
  assert.equal(edit.code, 2, edit.stderr);
  assert.match(edit.stderr, /--allow-plain-bind/);
  const still = await s.json(['connections', 'show', 'main', '--tenant', 'acme']);
  assert.equal(still.settings.servers[0].security, 'ldaps', 'the refused edit saved nothing');

  // With the explicit opt-in it works; taking the opt-in back is refused while the server is plain.
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.url, '--allow-plain-bind']);
  const run = await s.sync();
  assert.equal(run.status, 'succeeded');
  assert.match(String(run.serverUsed), /^ldap:\/\//);
  const back = await s.cli(['connections', 'edit', 'main', '--tenant', 'acme', '--no-allow-plain-bind']);
  assert.equal(back.code, 2, back.stderr);
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--server', good.ldapsUrl, '--no-allow-plain-bind']);
  assert.equal((await s.sync()).status, 'succeeded');
  assert.equal(await picture(), baseline);
});

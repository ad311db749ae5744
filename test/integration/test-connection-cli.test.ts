/**
 * R56 through the CLI: `roster connections test` against a real slapd passes every step, and
 * for each failure kind names the failing step with its hint and exits non-zero: unresolvable
 * name (SRV name unknown to Samba's DNS on loopback — never the system resolver), refused port,
 * TLS failure (wrong CA), bad credentials, missing base DN, bad filter, no address in a managed
 * domain.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { testPki } from '../helpers/tls.ts';
import { freePort } from '../helpers/ports.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
let slapd: Slapd;
let dc: SambaDc;
let s: Scenario;

before(async () => {
  const ldif = [1, 2].map((i) => ldifEntry(`uid=u${i},${BASE}`, { objectClass: ['inetOrgPerson'], uid: `u${i}`, cn: 'U', sn: 'U', mail: `u${i}@example.com` })).join('')
    + ldifEntry(`uid=x,${BASE}`, { objectClass: ['inetOrgPerson'], uid: 'x', cn: 'X', sn: 'X', mail: 'x@elsewhere.test' });
  [slapd, dc] = await Promise.all([startSlapd({ ldif }), startSamba({ fixture: false })]);
  s = await scenario({
    domains: ['example.com'], now: '2030-01-01T00:00:00Z',
    connection: { profile: 'openldap', server: slapd.ldapsUrl, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword, caFile: testPki().caFile,
      extra: ['--connect-timeout', '2000', '--operation-timeout', '3000'] },
  });
});

after(async () => {
  s?.cleanup();
  await Promise.all([slapd?.stop(), dc?.stop()]);
});

const edit = async (...args: string[]) => {
  const r = await s.cli(['connections', 'edit', s.connection, '--tenant', s.tenant, ...args, '--json'], { env: { ROSTER_BIND_PASSWORD: slapd.readerPassword } });
  assert.equal(r.code, 0, r.stderr);
};
const probe = (...extra: string[]) => s.cli(['connections', 'test', s.connection, '--tenant', s.tenant, '--json', ...extra]);
const statuses = (j: any) => Object.fromEntries(j.steps.map((x: any) => [x.step, x.status]));

async function expectFailure(step: string, hint: RegExp, code: number, extra: string[] = []): Promise<any> {
  const r = await probe(...extra);
  assert.equal(r.code, code, `exit code for a ${step} failure: ${r.stderr}`);
  assert.equal(r.json.ok, false);
  assert.equal(r.json.failedStep, step);
  assert.match(r.json.hint, hint);
  const st = r.json.steps.find((x: any) => x.step === step);
  assert.equal(st.status, 'failed');
  assert.ok(typeof st.ms === 'number' && st.ms >= 0);
  const order = ['resolve', 'tcp', 'tls', 'bind', 'base', 'filter', 'count', 'managed'];
  assert.deepEqual(r.json.steps.map((x: any) => x.step), order, 'every step listed, in order');
  for (const later of order.slice(order.indexOf(step) + 1)) assert.equal(statuses(r.json)[later], 'not_run');
  assert.ok(!r.stdout.includes(slapd.readerPassword) && !r.stderr.includes(slapd.readerPassword), 'R42: never the password');
  return r.json;
}

test('R56 every step passes on a healthy connection, with times and counts (exit 0)', async () => {
  const r = await probe();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.ok, true);
  assert.deepEqual(Object.values(statuses(r.json)), Array(8).fill('ok'));
  assert.equal(r.json.entries, 3);
  assert.equal(r.json.managedEntries, 2);
  const text = await s.cli(['connections', 'test', s.connection, '--tenant', s.tenant]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /managed +ok +\d+ ms +2 of 3 entries have an address in a managed domain \(example\.com\)/);
  assert.match(text.stdout, /all checks passed/);
});

test('R56 bad filter (tried before saving with --filter) fails at "filter"', async () => {
  const j = await expectFailure('filter', /filter/, 2, ['--filter', '(mail=*']);
  assert.equal(statuses(j).base, 'ok');
});

test('R56 no address in a managed domain fails at "managed" with the unmanaged-domain hint', async () => {
  await expectFailure('managed', /unmanaged domain/, 2, ['--filter', '(uid=x)']);
});

test('R56 wrong CA fails at "tls"', async () => {
  await edit('--ca-file', testPki().wrongCaFile);
  const j = await expectFailure('tls', /CA file/, 6);
  assert.equal(statuses(j).tcp, 'ok');
  await edit('--ca-file', testPki().caFile);
});

test('R56 bad credentials fail at "bind"', async () => {
  const r = await s.cli(['connections', 'edit', s.connection, '--tenant', s.tenant, '--set-password', '--json'], { env: { ROSTER_BIND_PASSWORD: 'wrong-password' } });
  assert.equal(r.code, 0, r.stderr);
  const j = await expectFailure('bind', /credentials/, 6);
  assert.equal(statuses(j).tls, 'ok');
  await s.cli(['connections', 'edit', s.connection, '--tenant', s.tenant, '--set-password', '--json'], { env: { ROSTER_BIND_PASSWORD: slapd.readerPassword } });
});

test('R56 missing base DN fails at "base"', async () => {
  await edit('--base-dn', 'ou=missing,dc=example,dc=test');
  const j = await expectFailure('base', /base DN/, 2);
  assert.equal(statuses(j).bind, 'ok');
  await edit('--base-dn', BASE);
});

test('R56 refused port fails at "tcp" with the firewall hint', async () => {
  await edit('--server', `ldaps://127.0.0.1:${await freePort('127.0.0.1')}`);
  const j = await expectFailure('tcp', /firewall/, 6);
  assert.match(j.steps[1].detail, /refused/);
  await edit('--server', slapd.ldapsUrl);
});

test('R56 unresolvable name (SRV name unknown to the configured DNS server) fails at "resolve"', async () => {
  await edit('--srv-domain', 'nowhere.example.test', '--srv-security', 'ldaps', '--dns-server', `${dc.host}:53`);
  const j = await expectFailure('resolve', /name resolution/, 6);
  assert.match(j.steps[0].detail, /_ldap\._tcp\.nowhere\.example\.test/);
  await edit('--server', slapd.ldapsUrl);
});

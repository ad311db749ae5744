/**
 * R55 against real DNS: Samba's internal DNS on its loopback address serves SRV records that
 * point at two slapd instances (different priorities; a weighted pair for RFC 2782 order).
 * Runs discover the servers through that DNS server, complete on the preferred one, fail over
 * when it stops, record every attempt and the server used, mark the failed one unhealthy
 * (connections show), and try healthy servers first afterwards. TLS is verified against the SRV
 * target names (StartTLS with certificates for ldap-a/ldap-b.example.test).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { serverCertFor, testPki } from '../helpers/tls.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';
import { discoverServers } from '../../src/directory/srv.ts';

const BASE = 'dc=example,dc=test';
const ldif = [1, 2, 3].map((i) => ldifEntry(`uid=u${i},${BASE}`, {
  objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: `u${i}`, cn: `User ${i}`, sn: `U${i}`, mail: `u${i}@example.com`,
  // Both slapd instances are replicas: the same anchors (R10), so failing over changes nothing.
  entryUUID: `00000000-0000-4000-8000-00000000000${i}`,
})).join('');

let dc: SambaDc;
let a: Slapd;
let b: Slapd;
let s: Scenario;
let dns: string;

before(async () => {
  const cert = serverCertFor(['127.0.0.1'], ['ldap-a.example.test', 'ldap-b.example.test', 'ldap-c.example.test']);
  [dc, a, b] = await Promise.all([startSamba({ fixture: false }), startSlapd({ ldif, serverCert: cert }), startSlapd({ ldif, serverCert: cert })]);
  dns = `${dc.host}:53`;
  for (const n of ['ldap-a', 'ldap-b', 'ldap-c']) await dc.samba('dns', 'add', dc.host, 'example.test', n, 'A', '127.0.0.1');
  // Failover set: a preferred (priority 0), b next (priority 10).
  await dc.samba('dns', 'add', dc.host, 'example.test', '_ldap._tcp.fo', 'SRV', `ldap-a.example.test ${a.port} 0 100`);
  await dc.samba('dns', 'add', dc.host, 'example.test', '_ldap._tcp.fo', 'SRV', `ldap-b.example.test ${b.port} 10 100`);
  // Weighted set: one priority, weights 10 / 90, and a lower-priority fallback.
  await dc.samba('dns', 'add', dc.host, 'example.test', '_ldap._tcp.w', 'SRV', `ldap-a.example.test 1001 5 10`);
  await dc.samba('dns', 'add', dc.host, 'example.test', '_ldap._tcp.w', 'SRV', `ldap-b.example.test 1002 5 90`);
  await dc.samba('dns', 'add', dc.host, 'example.test', '_ldap._tcp.w', 'SRV', `ldap-c.example.test 1003 7 0`);
  s = await scenario({
    domains: ['example.com'], now: '2030-01-01T00:00:00Z',
    connection: { profile: 'openldap', server: a.url, baseDn: BASE, bindDn: a.readerDn, bindPassword: a.readerPassword, caFile: testPki().caFile },
  });
  // Switch the connection from its listed server to SRV discovery (R55) through the CLI.
  const edited = await s.json(['connections', 'edit', s.connection, '--tenant', s.tenant, '--srv-domain', 'fo.example.test', '--srv-kind', 'ldap',
    '--srv-security', 'starttls', '--dns-server', dns]);
  assert.deepEqual(edited.settings.servers, []);
  assert.deepEqual(edited.settings.srv, { domain: 'fo.example.test', kind: 'ldap', security: 'starttls', dnsServer: dns });
});

after(async () => {
  s?.cleanup();
  await Promise.all([dc?.stop(), a?.stop(), b?.stop()]);
});

test('R55 SRV through a configured DNS server: weighted order within a priority follows the injected random source', async () => {
  const d = { domain: 'w.example.test', kind: 'ldap' as const, security: 'starttls' as const, dnsServer: dns };
  // total weight 100: r = floor(x * 101); 0.05 → 5 ≤ 10 picks ldap-a first, 0.5 → 50 > 10 picks ldap-b first.
  const low = await discoverServers(d, { random: () => 0.05 });
  assert.deepEqual(low.map((x) => `${x.host}:${x.port}`), ['ldap-a.example.test:1001', 'ldap-b.example.test:1002', 'ldap-c.example.test:1003']);
  const high = await discoverServers(d, { random: () => 0.5 });
  assert.deepEqual(high.map((x) => `${x.host}:${x.port}`), ['ldap-b.example.test:1002', 'ldap-a.example.test:1001', 'ldap-c.example.test:1003']);
  assert.ok(high.every((x) => x.address === '127.0.0.1' && x.security === 'starttls'), 'targets resolved through the same DNS server');
});

test('R55 AD kind queries _ldap._tcp.dc._msdcs.<domain> (Samba serves its DC there)', async () => {
  const found = await discoverServers({ domain: 'example.test', kind: 'ad', security: 'ldaps', dnsServer: dns });
  assert.deepEqual(found.map((x) => [x.host, x.port, x.address]), [['dc1.example.test', 389, dc.host]]);
});

test('R55 an SRV name without records fails with connect_failed naming the query', async () => {
  await assert.rejects(discoverServers({ domain: 'none.example.test', kind: 'ldap', security: 'ldaps', dnsServer: dns }),
    (e: any) => e.code === 'connect_failed' && /_ldap\._tcp\.none\.example\.test/.test(e.message));
});

test('R55 R52 runs use the preferred SRV server, fail over when it stops, record attempts and health, then prefer healthy servers', async () => {
  const aUrl = `ldap+starttls://ldap-a.example.test:${a.port}`;
  const bUrl = `ldap+starttls://ldap-b.example.test:${b.port}`;
  const r1 = await s.sync();
  assert.equal(r1.status, 'succeeded');
  assert.equal(r1.serverUsed, `ldap://ldap-a.example.test:${a.port}`);
  assert.deepEqual(r1.serverAttempts.map((x: any) => [x.server, x.ok]), [[aUrl, true]]);
  assert.equal(r1.counts.added, 3);

  await a.halt();
  const r2 = await s.sync({ now: '2030-01-01T01:00:00Z' });
  assert.equal(r2.status, 'succeeded', 'the run goes on with the next server');
  assert.equal(r2.serverUsed, `ldap://ldap-b.example.test:${b.port}`);
  assert.deepEqual(r2.serverAttempts.map((x: any) => [x.server, x.ok]), [[aUrl, false], [bUrl, true]]);
  assert.match(r2.serverAttempts[0].error, /refused/);
  assert.equal(r2.counts.updated, 0, 'the replica holds the same users: nothing changes');
  const shown = await s.json(['runs', 'show', r2.id, '--tenant', s.tenant]);
  assert.deepEqual(shown.serverAttempts, r2.serverAttempts);
  const text = await s.cli(['runs', 'show', r2.id, '--tenant', s.tenant]);
  assert.match(text.stdout, new RegExp(`servers tried: +${aUrl.replace(/[.+]/g, '\\$&')} failed \\(connection refused\\)`));

  const conn = await s.json(['connections', 'show', s.connection, '--tenant', s.tenant]);
  const health = new Map(conn.serverHealth.map((h: any) => [h.server, h]));
  const ha: any = health.get(aUrl);
  assert.ok(ha && ha.unhealthyUntil !== null && Date.parse(ha.unhealthyUntil) > Date.now() + 4 * 60_000, 'a unhealthy for about 5 minutes (real clock)');
  assert.equal((health.get(bUrl) as any).unhealthyUntil, null);
  const human = await s.cli(['connections', 'show', s.connection, '--tenant', s.tenant]);
  assert.match(human.stdout, /ldap-a\.example\.test.*unhealthy/);
  assert.match(human.stdout, /SRV _ldap\._tcp\.fo\.example\.test \(starttls, DNS /);

  // a is back, but still marked unhealthy: the next run tries b first and never touches a.
  await a.start();
  const r3 = await s.sync({ now: '2030-01-01T02:00:00Z' });
  assert.equal(r3.serverUsed, `ldap://ldap-b.example.test:${b.port}`);
  assert.deepEqual(r3.serverAttempts.map((x: any) => [x.server, x.ok]), [[bUrl, true]]);

  // Every server down: the run fails (connect_failed, exit 6) and records both attempts, the unhealthy one marked.
  await b.halt();
  const r4 = await s.cli(['sync', s.tenant, s.connection, '--json'], { now: '2030-01-01T03:00:00Z' });
  await a.halt();
  const r5 = await s.cli(['sync', s.tenant, s.connection, '--json'], { now: '2030-01-01T04:00:00Z' });
  assert.equal(r4.code, 0, `b down, a (unhealthy but up) used as a last resort: ${r4.stderr}`);
  assert.equal(r4.json.serverUsed, `ldap://ldap-a.example.test:${a.port}`);
  assert.deepEqual(r4.json.serverAttempts.map((x: any) => [x.server, x.ok, x.wasUnhealthy === true]), [[bUrl, false, false], [aUrl, true, true]]);
  assert.equal(r5.code, 6, r5.stderr);
  const runs = await s.json(['runs', 'list', '--tenant', s.tenant, '--connection', s.connection]);
  const failed = await s.json(['runs', 'show', runs[0].id, '--tenant', s.tenant]);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.serverUsed, null);
  assert.deepEqual(failed.serverAttempts.map((x: any) => x.ok), [false, false]);
});

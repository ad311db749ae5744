/**
 * R57 with a server that accepts and never answers (a plain TCP listener on loopback that never
 * writes): a run whose only server is that one fails within the configured time (exit 6); with
 * a real slapd listed next, the run completes there and records the silent one as timed out.
 * Both StartTLS (the bind/extended operation waits) and LDAPS (the TLS handshake waits).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { testPki } from '../helpers/tls.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
let slapd: Slapd;
let silent: Server;
let silentPort: number;
const sockets = new Set<Socket>();
let s: Scenario;

before(async () => {
  slapd = await startSlapd({ ldif: ldifEntry(`uid=u1,${BASE}`, { objectClass: ['inetOrgPerson'], uid: 'u1', cn: 'U', sn: 'U', mail: 'u1@example.com' }) });
  silent = createServer((c) => { sockets.add(c); c.on('data', () => { /* read and drop: never answer */ }); c.on('close', () => sockets.delete(c)); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  s = await scenario({
    domains: ['example.com'], now: '2030-01-01T00:00:00Z',
    connection: { profile: 'openldap', server: `ldap://127.0.0.1:${silentPort}`, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword,
      caFile: testPki().caFile, extra: ['--starttls', '--connect-timeout', '500', '--operation-timeout', '800'] },
  });
});

after(async () => {
  s?.cleanup();
  for (const c of sockets) c.destroy();
  silent?.close();
  await slapd?.stop();
});

test('R57 a run whose only server accepts and never answers fails within the configured time (StartTLS)', async () => {
  const t0 = Date.now();
  const r = await s.cli(['sync', s.tenant, s.connection, '--json']);
  const ms = Date.now() - t0;
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /timed out/);
  // connect 500 + operation 800 bound the attempt; the CLI's own start-up is the rest.
  assert.ok(ms < 5000, `took ${ms} ms`);
  const runs = await s.json(['runs', 'list', '--tenant', s.tenant, '--connection', s.connection]);
  const run = await s.json(['runs', 'show', runs[0].id, '--tenant', s.tenant]);
  assert.equal(run.serverAttempts.length, 1);
  assert.match(run.serverAttempts[0].error, /timed out/);
  assert.ok(run.serverAttempts[0].ms >= 500 && run.serverAttempts[0].ms < 3000, `attempt took ${run.serverAttempts[0].ms} ms`);
});

test('R57 R55 the silent server is skipped after its timeout and the next server is used (StartTLS and LDAPS)', async () => {
  for (const [silentUrl, realUrl] of [[`ldap://127.0.0.1:${silentPort}`, slapd.url], [`ldaps://127.0.0.1:${silentPort}`, slapd.ldapsUrl]] as const) {
    const edit = await s.cli(['connections', 'edit', s.connection, '--tenant', s.tenant, '--server', silentUrl, '--server', realUrl, '--starttls', '--json']);
    assert.equal(edit.code, 0, edit.stderr);
    const t0 = Date.now();
    const r = await s.sync({ now: `2030-01-01T0${silentUrl.startsWith('ldaps') ? 2 : 1}:00:00Z` });
    const ms = Date.now() - t0;
    assert.equal(r.status, 'succeeded');
    assert.equal(r.serverUsed, realUrl);
    assert.ok(ms < 6000, `took ${ms} ms`);
    if (silentUrl.startsWith('ldaps')) {
      // Never tried before: first in order; its TLS handshake never completes and is cut at the deadline.
      assert.deepEqual(r.serverAttempts.map((a: any) => a.ok), [false, true]);
      assert.match(r.serverAttempts[0].error, /timed out/);
      assert.ok(r.serverAttempts[0].ms >= 500 && r.serverAttempts[0].ms < 3000, `attempt took ${r.serverAttempts[0].ms} ms`);
    } else {
      // The first test's run marked the silent StartTLS server unhealthy: the healthy one goes first, alone.
      assert.deepEqual(r.serverAttempts.map((a: any) => [a.server, a.ok]), [[`ldap+starttls://127.0.0.1:${slapd.port}`, true]]);
    }
  }
});

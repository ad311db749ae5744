/**
 * R55 R5: a server that connects and then fails in the middle of the read is marked failed and the
 * whole read starts again on the next server; the run succeeds from that server alone, and a failed
 * read on the last server still fails the run and changes nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/tcp-fault.ts';
import { generateOpenLdapLdif, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';
import { addTenant, setTenantSync, type TenantInfo } from '../../src/store/admin/tenants.ts';
import { addDomain } from '../../src/store/admin/domains.ts';
import { addConnection, editConnection, type ConnectionInfo } from '../../src/store/admin/connections.ts';
import { encryptSecret } from '../../src/sync/secrets.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../../src/core/connection.ts';
import { RosterError } from '../../src/core/errors.ts';

const spec: GeneratorSpec = { seed: 21, users: 600, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const ldif = generateOpenLdapLdif(spec).toString();
const key = randomBytes(32);
const ctx = { actor: 'cli:test', now: '2026-11-22T10:00:00.000Z' };
let a: Slapd;
let b: Slapd;
let proxy: FaultProxy;
let store: Store;
let dir: string;
let tenant: TenantInfo;
let conn: ConnectionInfo;

const settings = (servers: ConnectionSettings['servers']): ConnectionSettings => ({
  ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers, allowPlainBind: true,
  bindDn: a.readerDn, baseDn: spec.baseDn, pageSize: 50, connectTimeoutMs: 3000, operationTimeoutMs: 5000,
});
const run = () => runSync(store, { tenantId: tenant.id, connectionId: conn.id, dryRun: false, trigger: 'cli', actor: ctx.actor, now: ctx.now, clockOverride: null, secretKey: key });

before(async () => {
  // Two replicas of one directory (the generator's entryUUIDs are deterministic, so anchors agree).
  [a, b] = await Promise.all([startSlapd({ ldif }), startSlapd({ ldif })]);
  proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: a.port }, fault: { kind: 'none' } });
  dir = mkdtempSync(join(tmpdir(), 'roster-failover-'));
  store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  tenant = await addTenant(store.db, { name: 'acme' }, ctx);
  for (const d of spec.managedDomains) await addDomain(store.db, tenant, d, ctx);
  tenant = await setTenantSync(store.db, tenant, true, ctx);
  conn = await addConnection(store.db, tenant, {
    name: 'main', priority: 1, enabled: true, schedule: '30m',
    settings: settings([{ host: '127.0.0.1', port: proxy.port, security: 'plain' }, { host: '127.0.0.1', port: b.port, security: 'plain' }]),
  }, encryptSecret(a.readerPassword, key), ctx);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('R55 R5 the first server cuts the stream mid-read: the read starts again on the next server and the run succeeds from it', async () => {
  proxy.setFault({ kind: 'cut', atByte: 20_000 }); // well inside the users' pages
  const r = await run();
  assert.equal(r.status, 'succeeded');
  assert.equal(r.serverUsed, `ldap://127.0.0.1:${b.port}`);
  assert.equal(r.counts?.read, spec.users);
  const row = await store.db.selectFrom('runs').select('server_attempts').where('id', '=', r.id).executeTakeFirstOrThrow();
  const attempts = JSON.parse(row.server_attempts ?? '[]') as { server: string; ok: boolean; error?: string }[];
  const first = attempts.filter((x) => x.server.endsWith(`:${proxy.port}`));
  assert.deepEqual(first.map((x) => x.ok), [true, false], 'connected, then failed mid-read');
  assert.match(first[1]?.error ?? '', /after \d+ entries/);
  const health = await store.db.selectFrom('server_health').selectAll().where('connection_id', '=', conn.id).execute();
  const bad = health.find((h) => h.server.endsWith(`:${proxy.port}`));
  assert.ok(bad?.unhealthy_until, 'the failed server is marked unhealthy for a while');
});

test('R5 a mid-read failure on the last server fails the run and changes nothing', async () => {
  proxy.setFault({ kind: 'none' });
  conn = await editConnection(store.db, tenant, 'main', {
    name: 'main', priority: 1, enabled: true, schedule: '30m', settings: settings([{ host: '127.0.0.1', port: proxy.port, security: 'plain' }]),
  }, undefined, ctx);
  proxy.setFault({ kind: 'cut', atByte: 20_000 });
  const before = await digestStore(store.db);
  await assert.rejects(run(), (e: RosterError) => e.code === 'read_incomplete');
  assert.equal(await digestStore(store.db), before);
});

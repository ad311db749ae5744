/**
 * runSync against a real slapd on SQLite: add (R10), nothing written on a second run (R12),
 * dry run applies nothing (R19), a failed read changes nothing (R5), one run per connection
 * (R50), and the bind password never stored or recorded in clear (R42).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { generateOpenLdapLdif, generateUser, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { ldifModify, ldifDelete } from '../fixtures/ldif.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';
import { addTenant, setTenantSync, type TenantInfo } from '../../src/store/admin/tenants.ts';
import { addDomain } from '../../src/store/admin/domains.ts';
import { addConnection, editConnection, getConnection, type ConnectionInfo } from '../../src/store/admin/connections.ts';
import { encryptSecret } from '../../src/sync/secrets.ts';
import { runSync, type RunSyncOptions } from '../../src/sync/run-sync.ts';
import { approveHeldRun, rejectHeldRun } from '../../src/sync/review-run.ts';
import { claimRun } from '../../src/sync/run-claim.ts';
import { deleteUser } from '../../src/store/admin/users.ts';
import { DEFAULT_CONNECTION_SETTINGS } from '../../src/core/connection.ts';
import { RosterError } from '../../src/core/errors.ts';

const spec: GeneratorSpec = { seed: 7, users: 300, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
const key = randomBytes(32);
const ctx = { actor: 'cli:test', now: '2026-11-22T10:00:00.000Z' };
let slapd: Slapd;
let store: Store;
let dir: string;
let tenant: TenantInfo;
let conn: ConnectionInfo;

const opts = (o: Partial<RunSyncOptions> = {}): RunSyncOptions => ({
  tenantId: tenant.id, connectionId: conn.id, dryRun: false, trigger: 'cli', actor: 'cli:test', now: ctx.now, clockOverride: null, secretKey: key, ...o,
});
const userCount = async () => Number((await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() });
  dir = mkdtempSync(join(tmpdir(), 'roster-sync-'));
  store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  tenant = await addTenant(store.db, { name: 'acme' }, ctx);
  for (const d of spec.managedDomains) await addDomain(store.db, tenant, d, ctx);
  tenant = await setTenantSync(store.db, tenant, true, ctx);
  conn = await addConnection(
    store.db,
    tenant,
    {
      name: 'main', priority: 1, enabled: true, schedule: '30m',
      settings: {
        ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host: '127.0.0.1', port: slapd.port, security: 'plain' }],
        allowPlainBind: true, bindDn: slapd.readerDn, baseDn: spec.baseDn, pageSize: 100,
      },
    },
    encryptSecret(slapd.readerPassword, key),
    ctx,
  );
});

after(async () => {
  await store?.close();
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('R10/R52: first run adds every eligible user and records counts and the server used', async () => {
  const phases = new Set<string>();
  let maxEntries = 0;
  const r = await runSync(store, opts({ onProgress: (p) => { phases.add(p.phase); maxEntries = Math.max(maxEntries, p.entries ?? 0); } }));
  assert.equal(r.status, 'succeeded');
  assert.equal(r.counts?.added, gen.manifest.eligible);
  assert.equal(r.counts?.read, gen.manifest.users);
  assert.equal(await userCount(), gen.manifest.eligible);
  assert.match(r.serverUsed ?? '', new RegExp(`127\\.0\\.0\\.1:${slapd.port}`));
  assert.ok(r.durationMs !== null && r.durationMs >= 0);
  assert.equal(r.clockOverride, null);
  assert.ok(r.items.skipped > 0, 'disabled and unmanaged users are recorded as skipped (R6)');
  for (const ph of ['read', 'plan', 'apply', 'done']) assert.ok(phases.has(ph), `progress phase ${ph} (R53)`);
  assert.ok(maxEntries > 0, 'progress reports entries read (R53)');
  const c = await store.db.selectFrom('connections').select('last_complete_run_at').where('id', '=', conn.id).executeTakeFirstOrThrow();
  assert.equal(c.last_complete_run_at, ctx.now);
});

test('R12: a second run over an unchanged directory writes nothing', async () => {
  const before = await digestStore(store.db);
  const r = await runSync(store, opts({ now: '2026-11-22T11:00:00.000Z', clockOverride: '2026-11-22T11:00:00.000Z' }));
  assert.equal(r.status, 'succeeded');
  assert.equal(r.counts?.added, 0);
  assert.equal(r.counts?.updated, 0);
  assert.equal(r.counts?.flagged, 0);
  assert.equal(r.clockOverride, '2026-11-22T11:00:00.000Z', 'D5: the run says the clock was overridden');
  assert.equal(await digestStore(store.db), before);
});

test('R19: a dry run stores the plan and applies nothing; the real run then applies it', async () => {
  const changed = generateUser(spec, findEligible(0));
  const gone = generateUser(spec, findEligible(1));
  await slapd.ldapModify(ldifModify(changed.dn, [{ op: 'replace', attr: 'displayName', values: ['Renamed Person'] }]) + ldifDelete(gone.dn));
  const before = await digestStore(store.db);
  const dry = await runSync(store, opts({ dryRun: true }));
  assert.equal(dry.status, 'previewed');
  assert.equal(dry.counts?.updated, 1);
  assert.equal(dry.counts?.flagged, 1);
  assert.equal(await digestStore(store.db), before, 'dry run changed the store');
  const planRow = await store.db.selectFrom('runs').select('plan').where('id', '=', dry.id).executeTakeFirstOrThrow();
  const plan = JSON.parse(planRow.plan ?? '{}') as { ops?: { op: string }[] };
  // The deleted user may also leave a group (set_members); the user ops are exactly these.
  assert.deepEqual(plan.ops?.map((o) => o.op).filter((op) => op.endsWith('_user')).sort(), ['flag_user', 'update_user']);
  const real = await runSync(store, opts());
  assert.equal(real.status, 'succeeded');
  assert.deepEqual([real.counts?.updated, real.counts?.flagged], [dry.counts?.updated, dry.counts?.flagged], 'same code path (R19)');
  const u = await store.db.selectFrom('users').select(['display_name']).where('display_name', '=', 'Renamed Person').execute();
  assert.equal(u.length, 1);
  const flagged = await store.db.selectFrom('users').select(['state', 'flag_reason']).where('state', '=', 'pending_deletion').execute();
  assert.deepEqual(flagged, [{ state: 'pending_deletion', flag_reason: 'missing' }]);
});

test('R5: a run whose directory is unreachable fails, is recorded, and changes nothing', async () => {
  const before = await digestStore(store.db);
  const lastRun = (await store.db.selectFrom('connections').select('last_complete_run_at').where('id', '=', conn.id).executeTakeFirstOrThrow()).last_complete_run_at;
  await slapd.halt();
  try {
    await assert.rejects(runSync(store, opts({ now: '2026-12-30T00:00:00.000Z' })), (e: unknown) => {
      assert.ok(e instanceof RosterError);
      assert.equal(e.code, 'connect_failed');
      assert.equal(typeof e.details?.['runId'], 'string');
      return true;
    });
  } finally {
    await slapd.start();
  }
  const failed = await store.db.selectFrom('runs').selectAll().where('status', '=', 'failed').execute();
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.error_code, 'connect_failed');
  assert.ok((failed[0]!.error ?? '').length > 0);
  assert.equal(await digestStore(store.db), before);
  const after = (await store.db.selectFrom('connections').select('last_complete_run_at').where('id', '=', conn.id).executeTakeFirstOrThrow()).last_complete_run_at;
  assert.equal(after, lastRun, 'the cursor did not move');
});

test('R50: a second run of the same connection is refused while one is running', async () => {
  const results = await Promise.allSettled([runSync(store, opts({ dryRun: true })), runSync(store, opts({ dryRun: true }))]);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 1);
  const reason = (refused[0] as PromiseRejectedResult).reason as RosterError;
  assert.equal(reason.code, 'conflict');
  assert.match(reason.message, /already has a run in progress/);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('R24: a real run is refused while the tenant sync is disabled; a dry run is allowed', async () => {
  tenant = await setTenantSync(store.db, tenant, false, ctx);
  try {
    await assert.rejects(runSync(store, opts()), /sync is disabled/);
    assert.equal((await runSync(store, opts({ dryRun: true }))).status, 'previewed');
  } finally {
    tenant = await setTenantSync(store.db, tenant, true, ctx);
  }
});

test('R41: a run that would flag too many users is held with its plan and applies nothing', async () => {
  let ldif = '';
  for (let n = 2; n < 22; n++) ldif += ldifDelete(generateUser(spec, findEligible(n)).dn);
  await slapd.ldapModify(ldif);
  const before = await digestStore(store.db);
  const r = await runSync(store, opts());
  assert.equal(r.status, 'held');
  assert.equal(r.errorCode, 'held');
  assert.equal(r.counts?.flagged, 20);
  assert.equal(await digestStore(store.db), before);
  const row = await store.db.selectFrom('runs').select('plan').where('id', '=', r.id).executeTakeFirstOrThrow();
  const plan = JSON.parse(row.plan ?? '{}') as { ops?: { op: string }[] };
  assert.equal(plan.ops?.filter((o) => o.op === 'flag_user').length, 20, 'the whole plan is kept for approval');
});

test('R41 R24: a rejected held run applies nothing; approval is refused while a run is going on, while sync is disabled, or once a later run applied; an approval applies the plan once', async () => {
  const held = (await store.db.selectFrom('runs').select('id').where('status', '=', 'held').executeTakeFirstOrThrow()).id;
  const before = await digestStore(store.db);
  const rejected = await rejectHeldRun(store.db, { tenantId: tenant.id, runId: held, ...ctx });
  assert.equal(rejected.status, 'rejected');
  assert.equal(await digestStore(store.db), before, 'a rejected plan changed the store');
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: held, ...ctx }), (e: RosterError) => e.code === 'conflict');

  const stale = await runSync(store, opts());
  assert.equal(stale.status, 'held');
  const other = await claimRun(store.db, { ...opts(), connectionName: 'main' });
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: stale.id, ...ctx }), /is running/);
  await store.db.updateTable('runs').set({ status: 'succeeded' }).where('id', '=', other.id).execute();
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: stale.id, ...ctx }), /may be stale/);
  assert.equal(await digestStore(store.db), before, 'a refused approval changed the store');

  const pending = async () => (await store.db.selectFrom('users').select('id').where('state', '=', 'pending_deletion').execute()).length;
  tenant = await setTenantSync(store.db, tenant, false, ctx);
  const whileOff = await runSync(store, opts({ dryRun: true }));
  assert.equal(whileOff.status, 'previewed');
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: stale.id, ...ctx }), /sync is disabled/, 'R24: no approval while sync is off');
  tenant = await setTenantSync(store.db, tenant, true, ctx);
  const flaggedBefore = await pending();
  const fresh = await runSync(store, opts());
  assert.equal(fresh.status, 'held');
  const approved = await approveHeldRun(store.db, { tenantId: tenant.id, runId: fresh.id, ...ctx });
  assert.equal(approved.status, 'approved');
  assert.equal(await pending(), flaggedBefore + 20, 'the approved plan flagged the 20 users');
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: fresh.id, ...ctx }), (e: RosterError) => e.code === 'conflict');
  const audit = await store.db.selectFrom('audit').select('action').where('object_id', '=', fresh.id).execute();
  assert.deepEqual(audit.map((a) => a.action).sort(), ['run.apply', 'run.approve']);
});

test('R41: a held plan whose inputs changed since (a user deleted by hand, the connection edited) is refused at approval; nothing is applied', async () => {
  let ldif = '';
  for (let n = 30; n < 50; n++) ldif += ldifDelete(generateUser(spec, findEligible(n)).dn);
  await slapd.ldapModify(ldif);
  const held = await runSync(store, opts());
  assert.equal(held.status, 'held');
  const victim = await store.db.selectFrom('users').innerJoin('addresses', 'addresses.user_id', 'users.id')
    .select('addresses.address').where('users.state', '=', 'active').where('addresses.role', '=', 'primary').executeTakeFirstOrThrow();
  await deleteUser(store.db, tenant.id, victim.address, ctx);
  const before = await digestStore(store.db);
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: held.id, ...ctx }), /changed since this plan was made/);
  assert.equal(await digestStore(store.db), before, 'a refused approval changed the store');
  assert.equal((await rejectHeldRun(store.db, { tenantId: tenant.id, runId: held.id, ...ctx })).status, 'rejected');
  // The same for the connection's own settings: the admin fixes the read, the old plan no longer fits it.
  const again = await runSync(store, opts());
  assert.equal(again.status, 'held');
  const cur = await getConnection(store.db, tenant, 'main');
  await editConnection(store.db, tenant, 'main', { name: 'main', priority: cur.priority, enabled: true, schedule: cur.schedule,
    settings: { ...cur.settings, customFilter: '(objectClass=inetOrgPerson)' } }, undefined, ctx);
  await assert.rejects(approveHeldRun(store.db, { tenantId: tenant.id, runId: again.id, ...ctx }), /changed since this plan was made/);
  await editConnection(store.db, tenant, 'main', { name: 'main', priority: cur.priority, enabled: true, schedule: cur.schedule, settings: cur.settings }, undefined, ctx);
  assert.equal((await rejectHeldRun(store.db, { tenantId: tenant.id, runId: again.id, ...ctx })).status, 'rejected');
});

test('R42: the bind password appears in no table in clear', async () => {
  for (const table of ['connections', 'runs', 'run_items', 'audit'] as const) {
    const rows = await store.db.selectFrom(table).selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(slapd.readerPassword), `password found in ${table}`);
  }
});

/** Index of the n-th eligible generated user (enabled, managed primary). */
function findEligible(n: number): number {
  let seen = 0;
  for (let i = 0; i < spec.users; i++) {
    const u = generateUser(spec, i);
    if (!u.disabled && u.managedPrimary && u.mails.length > 0) if (seen++ === n) return i;
  }
  throw new Error('not enough eligible users');
}

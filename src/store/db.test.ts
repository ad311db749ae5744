import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { CONN, NOW, seedTenant, TENANT } from '../../test/fixtures/store-data.ts';
import { openStore, dialectOf, pgConnectTimeoutMs, PG_CONNECT_TIMEOUT_MS } from './db.ts';
import type { Database } from './schema.ts';

const TABLES = ['providers', 'tenants', 'domains', 'connections', 'users', 'addresses', 'groups', 'memberships', 'contacts',
  'contact_addresses', 'rules', 'archives', 'exceptions', 'additions', 'runs', 'run_items', 'audit'];

async function insertUser(db: Kysely<Database>, id: string): Promise<void> {
  await sql`insert into users (id, tenant_id, kind, source, state, access_enabled, created_at, updated_at)
            values (${id}, ${TENANT}, 'user', 'manual', 'active', 1, ${NOW}, ${NOW})`.execute(db);
}

/** Asserts that `fn` fails with a constraint violation (unique/check/FK), whatever the dialect's wording. */
async function rejectsConstraint(fn: () => Promise<unknown>, what: RegExp): Promise<void> {
  await assert.rejects(fn, (e: Error & { code?: string }) => {
    assert.match(`${e.message} ${e.code ?? ''}`, what);
    return true;
  });
}
const UNIQUE = /unique|duplicate|23505/i;
const LOWER = /addresses_lower_ck/i;

test('dialectOf names the dialect of a store URL and refuses others', () => {
  assert.equal(dialectOf('sqlite:/tmp/x.db'), 'sqlite');
  assert.equal(dialectOf('sqlite::memory:'), 'sqlite');
  assert.equal(dialectOf('postgres://u@127.0.0.1/db'), 'postgres');
  assert.equal(dialectOf('postgresql://u@127.0.0.1/db'), 'postgres');
  assert.throws(() => dialectOf('mysql://x'), { code: 'config' });
});

test('an unreachable PostgreSQL store fails with connect_failed; an unopenable SQLite file with config', async () => {
  const { freePort } = await import('../../test/helpers/ports.ts');
  const port = await freePort();
  await assert.rejects(openStore({ url: `postgres://nobody@127.0.0.1:${port}/none` }), { code: 'connect_failed' });
  // A server that accepts and never answers: the connect gives up after connect_timeout (libpq's URL parameter).
  const { createServer } = await import('node:net');
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const t0 = performance.now();
    const silentPort = (silent.address() as { port: number }).port;
    await assert.rejects(openStore({ url: `postgres://nobody@127.0.0.1:${silentPort}/none?connect_timeout=1` }), { code: 'connect_failed' });
    const ms = performance.now() - t0;
    assert.ok(ms >= 900 && ms < 5000, `gave up after ${ms.toFixed(0)} ms`);
  } finally {
    silent.close();
  }
  assert.equal(pgConnectTimeoutMs('postgres://u@h/db'), PG_CONNECT_TIMEOUT_MS);
  assert.equal(pgConnectTimeoutMs('postgres://u@h/db?connect_timeout=3'), 3000);
  await assert.rejects(openStore({ url: 'postgres://u@127.0.0.1/db?connect_timeout=soon' }), { code: 'config' });
  const dir = mkdtempSync(join(tmpdir(), 'roster-bad-'));
  try {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    await assert.rejects(openStore({ url: `sqlite:${join(notADir, 'roster.db')}` }), { code: 'config' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite::memory: opens a migrated store', async () => {
  await using store = await openStore({ url: 'sqlite::memory:' });
  const r = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(r.n), 0);
});

test('sqlite: a missing data directory is created; WAL, NORMAL sync, foreign keys, busy timeout and 16 KiB pages are on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-db-'));
  try {
    const file = join(dir, 'a', 'b', 'roster.db');
    await using store = await openStore({ url: `sqlite:${file}` });
    assert.ok(existsSync(file));
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
    assert.equal(await pragma('journal_mode'), 'wal');
    assert.equal(await pragma('synchronous'), 1, 'NORMAL');
    assert.equal(await pragma('foreign_keys'), 1);
    assert.equal(await pragma('busy_timeout'), 5000);
    assert.equal(await pragma('page_size'), 16384);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

forEachDialect('store migrations', (open, factory) => {
  test('COUNT(*) and BIGINT ids come back as numbers on both dialects', async () => {
    const { db } = await open();
    await db.insertInto('audit').values({ at: NOW, actor: 'test', action: 'x', tenant_id: null, object_kind: null, object_id: null, before: null, after: null }).execute();
    const n = await db.selectFrom('audit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(n.n, 1);
    const row = await db.selectFrom('audit').select('id').executeTakeFirstOrThrow();
    assert.equal(typeof row.id, 'number');
  });

  test('migrations create every table of schema.ts, and reopening is a no-op', async () => {
    const url = await factory.newUrl();
    const first = await openStore({ url });
    for (const t of TABLES) {
      const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(first.db);
      assert.equal(Number(r.rows[0]?.n), 0, t);
    }
    await seedTenant(first.db);
    await first.close();
    await using again = await openStore({ url });
    const n = await again.db.selectFrom('connections').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 2, 'data survives a reopen, migrations do not run twice');
  });

  test('R13: an address held as a primary cannot be taken again in another case, as alias or group address', async () => {
    const { db } = await open();
    await seedTenant(db);
    await insertUser(db, 'user-a');
    await insertUser(db, 'user-b');
    await sql`insert into groups (id, tenant_id, connection_id, anchor, dn, name, created_at, updated_at)
              values ('g1', ${TENANT}, ${CONN}, 'ga', 'cn=g', 'g', ${NOW}, ${NOW})`.execute(db);
    await sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('ann@example.com', ${TENANT}, 'primary', 'user-a', null)`.execute(db);
    // Another case of a held address is refused by the lower-case rule (CHECK / trigger), the same case by the key.
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('Ann@Example.COM', ${TENANT}, 'alias', 'user-b', null)`.execute(db), LOWER);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('ANN@example.com', ${TENANT}, 'group', null, 'g1')`.execute(db), LOWER);
    await rejectsConstraint(() => sql`update addresses set address = 'Ann@example.com' where address = 'ann@example.com'`.execute(db), LOWER);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('bob@Example.com', ${TENANT}, 'alias', 'user-b', null)`.execute(db), LOWER);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('ann@example.com', ${TENANT}, 'alias', 'user-b', null)`.execute(db), UNIQUE);
    const rows = await db.selectFrom('addresses').selectAll().execute();
    assert.deepEqual(rows.map((r) => [r.address, r.user_id]), [['ann@example.com', 'user-a']]);
  });

  test('one primary per user; owner and role checks on addresses', async () => {
    const { db } = await open();
    await seedTenant(db);
    await insertUser(db, 'user-a');
    await sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('a1@example.com', ${TENANT}, 'primary', 'user-a', null)`.execute(db);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('a2@example.com', ${TENANT}, 'primary', 'user-a', null)`.execute(db), UNIQUE);
    await sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('a2@example.com', ${TENANT}, 'alias', 'user-a', null)`.execute(db);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('a3@example.com', ${TENANT}, 'group', 'user-a', null)`.execute(db), /check|23514/i);
    await rejectsConstraint(() => sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('a4@example.com', ${TENANT}, 'alias', null, null)`.execute(db), /check|23514/i);
  });

  test('domains are unique and stored lower-case (case-insensitive uniqueness)', async () => {
    const { db } = await open();
    await seedTenant(db);
    await rejectsConstraint(() => sql`insert into domains (id, tenant_id, name, created_at) values ('dx', ${TENANT}, 'example.com', ${NOW})`.execute(db), UNIQUE);
    await rejectsConstraint(() => sql`insert into domains (id, tenant_id, name, created_at) values ('dy', ${TENANT}, 'Example.COM', ${NOW})`.execute(db), /check|23514/i);
  });

  test('users: UNIQUE (connection_id, anchor), users without anchor do not collide; FKs cascade and set null', async () => {
    const { db } = await open();
    await seedTenant(db);
    const user = (id: string, anchor: string | null) => sql`insert into users (id, tenant_id, kind, source, state, access_enabled, connection_id, anchor, created_at, updated_at)
      values (${id}, ${TENANT}, 'user', 'ldap', 'active', 1, ${CONN}, ${anchor}, ${NOW}, ${NOW})`.execute(db);
    await user('u1', 'x');
    await rejectsConstraint(() => user('u2', 'x'), UNIQUE);
    await user('u3', null);
    await user('u4', null);
    await sql`insert into addresses (address, tenant_id, role, user_id, group_id) values ('u1@example.com', ${TENANT}, 'primary', 'u1', null)`.execute(db);
    await sql`insert into rules (id, user_id, kind, value, created_at) values ('r1', 'u1', 'allow', 'x@y.z', ${NOW})`.execute(db);
    await sql`insert into archives (id, tenant_id, address, user_id, created_at) values ('ar1', ${TENANT}, 'u1@example.com', 'u1', ${NOW})`.execute(db);
    await db.deleteFrom('users').where('id', '=', 'u1').execute();
    assert.equal((await db.selectFrom('addresses').selectAll().execute()).length, 0, 'addresses cascade with the user');
    assert.equal((await db.selectFrom('rules').selectAll().execute()).length, 0, 'rules go with the user (R21)');
    assert.deepEqual((await db.selectFrom('archives').select(['id', 'user_id']).execute()), [{ id: 'ar1', user_id: null }], 'archives stay, unlinked (R21)');
    await db.deleteFrom('connections').where('id', '=', CONN).execute();
    const left = await db.selectFrom('users').select(['id', 'connection_id']).orderBy('id').execute();
    assert.deepEqual(left, [{ id: 'u3', connection_id: null }, { id: 'u4', connection_id: null }]);
  });

  test('connections: UNIQUE (tenant_id, scope_key) (R51)', async () => {
    const { db } = await open();
    await seedTenant(db);
    await rejectsConstraint(() => sql`insert into connections (id, tenant_id, name, priority, enabled, profile, settings, scope_key, schedule, created_at, updated_at)
      values ('c3', ${TENANT}, 'c3', 3, 1, 'openldap', '{}', ${`ldap://127.0.0.1/${CONN}`}, '6h', ${NOW}, ${NOW})`.execute(db), UNIQUE);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addUser, bigAddPlan, ctx, plan, seedTenant } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { DEFERRABLE_INDEXES, deferIndexes, plannedInserts } from './bulk-load.ts';
import { digestStore } from './digest.ts';
import type { Database } from './schema.ts';

const DEFERRED = Object.values(DEFERRABLE_INDEXES).flat();

/** The definitions of the deferrable indexes as the database holds them (name → definition). */
async function indexDefinitions(db: Kysely<Database>, dialect: string): Promise<Record<string, string>> {
  const rows = dialect === 'sqlite'
    ? (await sql<{ name: string; def: string }>`select name, sql as def from sqlite_master where type = 'index' and name in (${sql.join(DEFERRED)})`.execute(db)).rows
    : (await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes where indexname in (${sql.join(DEFERRED)})`.execute(db)).rows;
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

test('plannedInserts counts the rows each table receives from a plan', () => {
  const p = plan([addUser('a', 'a@example.com', ['a2@example.com', 'a3@example.com']), addUser('b', 'b@example.com'),
    { op: 'add_alias', userId: 'u1', address: 'x@example.com' as never },
    { op: 'set_members', groupAnchor: 'g', add: ['a', 'b', 'c'], remove: ['d'] }]);
  const n = plannedInserts(p);
  assert.equal(n.users, 2);
  assert.equal(n.addresses, 5); // 2 primaries, 2 aliases of a, 1 added alias
  assert.equal(n.memberships, 3);
  assert.equal(n.audit, 3);
  assert.ok(n.search_terms >= 2);
});

forEachDialect('bulk load: deferred index builds', (open) => {
  test('a first big apply leaves every index exactly as the migrations define it, and the store as without deferral', async () => {
    const a = await open();
    const b = await open();
    await seedTenant(a.db);
    await seedTenant(b.db);
    const before = await indexDefinitions(a.db, a.dialect);
    assert.equal(Object.keys(before).length, DEFERRED.length, 'every deferrable index exists');
    // 25,000 users: above the threshold for users, addresses, search terms and audit.
    const p = bigAddPlan(25_000);
    assert.ok(plannedInserts(p).users >= 20_000);
    await applyPlan(a.db, p, ctx());
    assert.deepEqual(await indexDefinitions(a.db, a.dialect), before);
    // The same plan applied in small pieces (never deferred) gives the same store.
    const ops = p.ops;
    for (let i = 0; i < ops.length; i += 5_000) await applyPlan(b.db, { ...p, ops: ops.slice(i, i + 5_000) }, ctx());
    // Digests cover rows, not ids of audit rows: compare the directory tables through digestStore.
    assert.equal(await digestStore(a.db, 'tenant-1'), await digestStore(b.db, 'tenant-1'));
    // The rebuilt indexes serve their queries (the address index answers a tenant's prefix scan).
    const hits = await a.db.selectFrom('addresses').select('address').where('tenant_id', '=', 'tenant-1').where('address', '>=', 'u00001').where('address', '<', 'u00002').execute();
    assert.ok(hits.length >= 10);
  });

  test('SQLite drops the indexes of a table the apply at least doubles, and builds them again; PostgreSQL never drops one', async () => {
    const s = await open();
    await seedTenant(s.db);
    const before = await indexDefinitions(s.db, s.dialect);
    await s.db.transaction().execute(async (trx) => {
      const rebuild = await deferIndexes(trx, { addresses: 10, users: 1 }, { minRows: 5 });
      const during = await indexDefinitions(trx, s.dialect);
      if (s.dialect === 'sqlite') {
        assert.equal(during['addresses_tenant_address_ix'], undefined, 'dropped: the empty table is at least doubled');
        assert.ok(during['users_tenant_ix'] !== undefined, 'kept: below minRows');
      } else {
        assert.deepEqual(during, before);
      }
      await rebuild();
      assert.deepEqual(await indexDefinitions(trx, s.dialect), before);
    });
  });

  test('a failure after the drop rolls the drop back with the rows (all or nothing)', async () => {
    const s = await open();
    await seedTenant(s.db);
    const before = await indexDefinitions(s.db, s.dialect);
    await assert.rejects(s.db.transaction().execute(async (trx) => {
      await deferIndexes(trx, { addresses: 10 }, { minRows: 5 });
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(await indexDefinitions(s.db, s.dialect), before);
  });

  test('a table already holding as many rows as the apply brings keeps its indexes', async () => {
    const s = await open();
    await seedTenant(s.db);
    await applyPlan(s.db, bigAddPlan(50), ctx());
    await s.db.transaction().execute(async (trx) => {
      await deferIndexes(trx, { users: 20 }, { minRows: 5 });
      assert.ok((await indexDefinitions(trx, s.dialect))['users_tenant_ix'] !== undefined);
    });
  });

  test('a unique index built again still refuses a duplicate: the whole apply rolls back', async () => {
    const s = await open();
    await seedTenant(s.db);
    const before = await indexDefinitions(s.db, s.dialect);
    const err = await s.db.transaction().execute(async (trx) => {
      const rebuild = await deferIndexes(trx, { users: 10 }, { minRows: 5 });
      const row = { tenant_id: 'tenant-1', kind: 'user', source: 'ldap', state: 'active', access_enabled: 1, connection_id: 'conn-1', anchor: 'same', dn: 'uid=x', created_at: 'now', updated_at: 'now' };
      await trx.insertInto('users').values([{ id: 'u1', ...row }, { id: 'u2', ...row }]).execute();
      await rebuild();
    }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof Error, 'the duplicate (connection, anchor) is refused');
    assert.match(String((err as Error).message), /UNIQUE|unique/);
    assert.equal((await s.db.selectFrom('users').select('id').execute()).length, 0);
    assert.deepEqual(await indexDefinitions(s.db, s.dialect), before);
  });
});

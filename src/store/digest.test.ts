import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { startPostgres } from '../../test/helpers/postgres.ts';
import { addr, addUser, ctx, NOW, plan, seedTenant, TENANT } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { openStore } from './db.ts';
import { digestStore } from './digest.ts';
import type { Database } from './schema.ts';

async function populate(db: Kysely<Database>): Promise<void> {
  await seedTenant(db);
  await seedTenant(db, 'tenant-2', '-b');
  await db.insertInto('archives').values({ id: 'ar-1', tenant_id: TENANT, address: 'ann@example.com', user_id: null, created_at: NOW }).execute();
  await applyPlan(db, plan([
    addUser('a-1', 'ann@example.com', ['ann.x@example.com'], 'ar-1'),
    addUser('a-2', 'bea@example.com'),
    { op: 'upsert_group', anchor: 'g-1', dn: 'cn=g1', name: 'G1', address: addr('g1@example.com'), groupId: null },
    { op: 'set_members', groupAnchor: 'g-1', add: ['a-1', 'a-2'], remove: [] },
    { op: 'upsert_contact', anchor: 'c-1', dn: 'cn=c1', name: 'C1', addresses: [addr('c@partner.test')], contactId: null },
  ]), ctx());
  await applyPlan(db, plan([addUser('b-1', 'bo@example-b.com')], 'conn-1-b', 'tenant-2'), ctx({ tenantId: 'tenant-2' }));
}

forEachDialect('digestStore', (open) => {
  test('the digest changes with every table it covers, and a tenant digest ignores other tenants', async () => {
    const { db } = await open();
    await populate(db);
    const seen = new Set([await digestStore(db, TENANT)]);
    const other = await digestStore(db, 'tenant-2');
    const whole = await digestStore(db);
    assert.equal(await digestStore(db, TENANT), [...seen][0], 'stable when nothing changes');
    const mutations: (() => Promise<unknown>)[] = [
      () => db.updateTable('users').set({ department: 'Sales' }).where('anchor', '=', 'a-2').execute(),
      () => db.updateTable('addresses').set({ address: 'ann.y@example.com' }).where('address', '=', 'ann.x@example.com').execute(),
      () => db.updateTable('groups').set({ name: 'G1b' }).execute(),
      () => db.deleteFrom('memberships').where('member_anchor', '=', 'a-2').execute(),
      () => db.updateTable('contacts').set({ dn: 'cn=c1b' }).execute(),
      () => db.updateTable('contact_addresses').set({ address: 'd@partner.test' }).execute(),
      () => db.updateTable('archives').set({ user_id: null }).where('id', '=', 'ar-1').execute(),
    ];
    for (const m of mutations) {
      await m();
      const d = await digestStore(db, TENANT);
      assert.ok(!seen.has(d), `a new digest after ${m.toString()}`);
      seen.add(d);
    }
    assert.equal(await digestStore(db, 'tenant-2'), other, 'tenant-2 untouched');
    assert.notEqual(await digestStore(db), whole);
  });
});

test('the same plans give the same digest on SQLite and PostgreSQL (ids replaced by natural keys)', async () => {
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'roster-digest-'));
  try {
    await using lite = await openStore({ url: `sqlite:${join(dir, 'r.db')}` });
    await using post = await openStore({ url: await pg.createDatabase() });
    await populate(lite.db);
    await populate(post.db);
    const d = await digestStore(lite.db);
    assert.match(d, /^[0-9a-f]{64}$/);
    assert.equal(await digestStore(post.db), d);
    assert.equal(await digestStore(post.db, TENANT), await digestStore(lite.db, TENANT));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pg.stop();
  }
});

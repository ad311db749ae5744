import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { insertUserRow, seedTenant, T0 } from '../../../test/helpers/admin-fixtures.ts';
import { cacheStatus, humanAge } from './cache.ts';
import { getTenant } from './tenants.ts';

const later = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

forEachDialect('admin cache (R60)', (open) => {
  test('R60 state, age and contents per connection; a failed or held newer run marks it stale or held', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'hr', 'idle'] });
    const tenant = await getTenant(db, 'acme');
    const main = s.connections.main!;
    const hr = s.connections.hr!;
    await insertUserRow(db, s.tenantId, { address: 'ann@acme.test', aliases: ['a@acme.test'], connectionId: main, anchor: 'a1' });
    await insertUserRow(db, s.tenantId, { address: 'bob@acme.test', connectionId: hr, anchor: 'b1' });
    const gid = crypto.randomUUID();
    await db.insertInto('groups').values({ id: gid, tenant_id: s.tenantId, connection_id: main, anchor: 'g1', dn: 'cn=g', name: 'G', created_at: T0, updated_at: T0 }).execute();
    await db.insertInto('addresses').values({ address: 'g@acme.test', tenant_id: s.tenantId, role: 'group', user_id: null, group_id: gid }).execute();
    await db.insertInto('memberships').values({ connection_id: main, group_anchor: 'g1', member_anchor: 'a1' }).execute();
    const cid = crypto.randomUUID();
    await db.insertInto('contacts').values({ id: cid, tenant_id: s.tenantId, connection_id: main, anchor: 'c1', dn: 'cn=c', name: 'C', created_at: T0, updated_at: T0 }).execute();
    await db.insertInto('contact_addresses').values({ contact_id: cid, address: 'ext@other.test' }).execute();
    await db.updateTable('connections').set({ last_complete_run_at: T0 }).where('id', 'in', [main, hr]).execute();
    const run = (conn: string, status: string, startedAt: string, dry = 0) => db.insertInto('runs').values({
      id: crypto.randomUUID(), tenant_id: s.tenantId, connection_id: conn, trigger: 'cli', actor: 't', dry_run: dry, status, started_at: startedAt,
      finished_at: null, duration_ms: null, clock_override: null, server_used: null, counts: null, plan: null, error: status === 'failed' ? 'connect_failed: refused' : null, error_code: null,
    }).execute();
    await run(main, 'succeeded', T0);
    await run(main, 'previewed', later(10), 1); // a preview never counts
    await run(hr, 'failed', later(60));

    const rows = await cacheStatus(db, tenant, later(3600));
    assert.deepEqual(rows.map((r) => [r.connection, r.state, r.ageSeconds]), [['main', 'fresh', 3600], ['hr', 'stale', 3600], ['idle', 'empty', null]]);
    const m = rows[0]!;
    assert.deepEqual([m.users, m.addresses, m.groups, m.memberships, m.contacts, m.contactAddresses], [1, 3, 1, 1, 1, 1]);
    assert.deepEqual([rows[1]!.since?.status, rows[1]!.since?.error], ['failed', 'connect_failed: refused']);

    await run(main, 'held', later(120));
    const held = await cacheStatus(db, tenant, later(3600), main);
    assert.deepEqual(held.map((r) => [r.connection, r.state]), [['main', 'held']]);
  });

  test('R60 another tenant\'s connections are never listed', async () => {
    const { db } = await open();
    await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    await seedTenant(db, { tenant: 'other', domains: ['other.test'], connections: ['theirs'] });
    assert.deepEqual((await cacheStatus(db, await getTenant(db, 'acme'), T0)).map((r) => r.connection), ['main']);
  });
});

test('humanAge', () => {
  assert.deepEqual([humanAge(5), humanAge(600), humanAge(3 * 3600 + 300), humanAge(3 * 86400 + 7200)], ['5 s', '10 min', '3 h 5 min', '3 d 2 h']);
});

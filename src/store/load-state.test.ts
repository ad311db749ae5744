import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoreState } from '../core/model.ts';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addr, addUser, ctx, details, NOW, OTHER_CONN, plan, seedTenant, TENANT, CONN } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { loadStoreState } from './load-state.ts';

forEachDialect('loadStoreState', (open) => {
  test('returns users with primary and sorted aliases, this connection\'s groups and contacts, foreign addresses, archives', async () => {
    const { db } = await open();
    await seedTenant(db);
    await seedTenant(db, 'tenant-2', '-b');
    // A manual user (no connection), inserted by hand, aliases inserted out of order.
    await db.insertInto('users').values({ id: 'm-1', tenant_id: TENANT, kind: 'user', source: 'manual', state: 'active', access_enabled: 1,
      given_name: 'Mia', surname: null, display_name: null, home_phone: null, mobile: null, company: null, department: null, notes: null,
      kerberos_name: 'mia@EXAMPLE.COM', ntlm_name: null, connection_id: null, anchor: null, dn: null, flag_reason: null, flagged_at: null,
      delete_after: null, created_at: NOW, updated_at: NOW }).execute();
    await db.insertInto('addresses').values([
      { address: 'mia@example.com', tenant_id: TENANT, role: 'primary', user_id: 'm-1', group_id: null },
      { address: 'zz.mia@example.com', tenant_id: TENANT, role: 'alias', user_id: 'm-1', group_id: null },
      { address: 'aa.mia@example.com', tenant_id: TENANT, role: 'alias', user_id: 'm-1', group_id: null },
    ]).execute();
    await db.insertInto('archives').values([
      { id: 'ar-1', tenant_id: TENANT, address: 'zed@example.com', user_id: null, created_at: NOW },
      { id: 'ar-2', tenant_id: TENANT, address: 'mia@example.com', user_id: 'm-1', created_at: NOW },
      { id: 'ar-x', tenant_id: 'tenant-2', address: 'x@example-b.com', user_id: null, created_at: NOW },
    ]).execute();
    await applyPlan(db, plan([
      addUser('a-1', 'ann@example.com', ['ann.b@example.com', 'ann.a@example.com']),
      { op: 'flag_user', userId: 'm-1', reason: 'missing', flaggedAt: NOW, deleteAfter: '2026-12-01T00:00:00.000Z' },
      { op: 'upsert_group', anchor: 'g-1', dn: 'cn=g1', name: 'G1', address: addr('g1@example.com'), groupId: null },
      { op: 'upsert_group', anchor: 'g-0', dn: 'cn=g0', name: 'G0', address: null, groupId: null },
      { op: 'set_members', groupAnchor: 'g-1', add: ['z', 'a-1', 'g-0'], remove: [] },
      { op: 'upsert_contact', anchor: 'c-1', dn: 'cn=c1', name: 'C1', addresses: [addr('c@partner.test'), addr('b@partner.test')], contactId: null },
    ]), ctx());
    // The other connection's group and contact; another tenant's user.
    await applyPlan(db, plan([
      { op: 'upsert_group', anchor: 'g-x', dn: 'cn=gx', name: 'GX', address: addr('gx@example.com'), groupId: null },
      { op: 'set_members', groupAnchor: 'g-x', add: ['a-1'], remove: [] },
      { op: 'upsert_contact', anchor: 'c-x', dn: 'cn=cx', name: 'CX', addresses: [addr('x@partner.test')], contactId: null },
    ], OTHER_CONN), ctx());
    await applyPlan(db, plan([addUser('b-1', 'bo@example-b.com')], 'conn-1-b', 'tenant-2'), ctx({ tenantId: 'tenant-2' }));

    const s: StoreState = await loadStoreState(db, TENANT, CONN);
    assert.equal(s.users.length, 2, 'only this tenant\'s users, of every source');
    const ann = s.users.find((u) => u.anchor === 'a-1');
    assert.ok(ann);
    assert.deepEqual({ ...ann, id: 'x' }, {
      id: 'x', kind: 'user', source: 'ldap', state: 'active', accessEnabled: true, primary: 'ann@example.com',
      aliases: ['ann.a@example.com', 'ann.b@example.com'], details: details('a-1'), kerberosName: null, ntlmName: null,
      connectionId: CONN, anchor: 'a-1', dn: 'uid=a-1,ou=people,dc=example,dc=com', flagReason: null, flaggedAt: null, deleteAfter: null,
    });
    const mia = s.users.find((u) => u.id === 'm-1');
    assert.deepEqual([mia?.source, mia?.state, mia?.accessEnabled, mia?.primary, mia?.aliases, mia?.kerberosName, mia?.flagReason, mia?.deleteAfter],
      ['manual', 'pending_deletion', false, 'mia@example.com', ['aa.mia@example.com', 'zz.mia@example.com'], 'mia@EXAMPLE.COM', 'missing', '2026-12-01T00:00:00.000Z']);
    assert.deepEqual(s.users.map((u) => u.id), [...s.users.map((u) => u.id)].sort(), 'users sorted by id');

    assert.deepEqual(s.groups.map((g) => ({ ...g, id: typeof g.id })), [
      { id: 'string', anchor: 'g-0', dn: 'cn=g0', name: 'G0', address: null, memberAnchors: [] },
      { id: 'string', anchor: 'g-1', dn: 'cn=g1', name: 'G1', address: 'g1@example.com', memberAnchors: ['a-1', 'g-0', 'z'] },
    ]);
    assert.deepEqual(s.contacts.map((c) => ({ ...c, id: typeof c.id })), [
      { id: 'string', anchor: 'c-1', dn: 'cn=c1', name: 'C1', addresses: ['b@partner.test', 'c@partner.test'] },
    ]);
    assert.deepEqual(s.foreignAddresses, [{ address: 'gx@example.com', ownerKind: 'group', connectionId: OTHER_CONN }]);
    assert.deepEqual(s.archives, [
      { id: 'ar-2', address: 'mia@example.com', userId: 'm-1' },
      { id: 'ar-1', address: 'zed@example.com', userId: null },
    ]);

    const other = await loadStoreState(db, TENANT, OTHER_CONN);
    assert.deepEqual(other.groups.map((g) => [g.anchor, g.memberAnchors]), [['g-x', ['a-1']]]);
    assert.deepEqual(other.foreignAddresses.map((f) => f.address), ['g1@example.com']);
    assert.deepEqual(other.contacts.map((c) => c.anchor), ['c-x']);
  });

  test('an empty tenant loads as empty lists', async () => {
    const { db } = await open();
    await seedTenant(db);
    assert.deepEqual(await loadStoreState(db, TENANT, CONN), { users: [], groups: [], contacts: [], foreignAddresses: [], archives: [] });
  });

  test('a cooperative load (a sync loading beside its directory read) returns the same state and lets other work run meanwhile', async () => {
    const { db } = await open();
    await seedTenant(db);
    // 5,000 users with memberships: more rows than one yield step on SQLite.
    const ops = [];
    for (let i = 0; i < 5_000; i++) ops.push(addUser(`c-${i}`, `c${i}@example.com`, i % 3 === 0 ? [`c${i}.x@example.org`] : []));
    ops.push({ op: 'upsert_group' as const, groupId: null, anchor: 'g-1', dn: 'cn=g1,dc=example,dc=com', name: 'G1', address: null },
      { op: 'set_members' as const, groupAnchor: 'g-1', add: Array.from({ length: 4_500 }, (_, i) => `c-${i}`), remove: [] });
    await applyPlan(db, plan(ops), ctx());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const cooperative = await loadStoreState(db, TENANT, CONN, { cooperative: true });
    clearInterval(timer);
    assert.deepEqual(cooperative, await loadStoreState(db, TENANT, CONN));
    assert.equal(cooperative.users.length, 5_000);
    assert.equal(cooperative.groups[0]?.memberAnchors.length, 4_500);
    assert.ok(ticks > 0, 'timers ran while the store was loading');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { CTX, countRows, insertUserRow, seedTenant } from '../../../test/helpers/admin-fixtures.ts';
import { listAudit } from './audit.ts';
import { addAddition, listAdditions, removeAddition } from './additions.ts';
import { deleteUser, showUser } from './users.ts';

forEachDialect('admin additions', (open) => {
  test('R31/D4 add: user created at once (source addition, active, access on, on the connection), audited', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const c = s.connections.main!;
    const a = await addAddition(db, s.tenantId, c, 'Room.1@ACME.test', CTX);
    assert.equal(a.address, 'room.1@acme.test');
    const u = await showUser(db, s.tenantId, 'room.1@acme.test');
    assert.deepEqual([u.source, u.state, u.access, u.connection, u.anchor], ['addition', 'active', true, 'main', null]);
    const row = await db.selectFrom('additions').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual([row.address, row.connection_id, row.tenant_id], ['room.1@acme.test', c, s.tenantId]);
    assert.deepEqual((await listAdditions(db, s.tenantId, c)).map((x) => [x.address, x.user?.source]), [['room.1@acme.test', 'addition']]);
    const actions = (await listAudit(db, { tenantId: s.tenantId })).map((x) => x.action).sort();
    assert.deepEqual(actions, ['addition.add', 'user.add']);
  });

  test('R31/D4 add refused outside managed domains and when another object holds the address; nothing written', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'hr'] });
    await insertUserRow(db, s.tenantId, { address: 'bob@acme.test', aliases: ['sales@acme.test'] });
    const gid = crypto.randomUUID();
    await db.insertInto('groups').values({ id: gid, tenant_id: s.tenantId, connection_id: s.connections.main!, anchor: 'g1', dn: 'cn=all', name: 'All Staff', created_at: CTX.now, updated_at: CTX.now }).execute();
    await db.insertInto('addresses').values({ address: 'all@acme.test', tenant_id: s.tenantId, role: 'group', user_id: null, group_id: gid }).execute();
    await assert.rejects(addAddition(db, s.tenantId, s.connections.main!, 'x@elsewhere.test', CTX), { code: 'bad_input' });
    await assert.rejects(addAddition(db, s.tenantId, s.connections.main!, 'sales@acme.test', CTX), {
      code: 'conflict',
      message: 'address sales@acme.test is already held by user bob@acme.test (as an alias)',
    });
    await assert.rejects(addAddition(db, s.tenantId, s.connections.main!, 'all@acme.test', CTX), {
      code: 'conflict',
      message: 'address all@acme.test is already held by group All Staff',
    });
    await addAddition(db, s.tenantId, s.connections.main!, 'new@acme.test', CTX);
    await assert.rejects(addAddition(db, s.tenantId, s.connections.hr!, 'new@acme.test', CTX), { code: 'conflict' });
    assert.equal(await countRows(db, 'additions'), 1);
    assert.equal(await countRows(db, 'users'), 2);
  });

  test('R31/D4 remove: source becomes ldap at once (the next run may flag it); listing and audit follow', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const c = s.connections.main!;
    await addAddition(db, s.tenantId, c, 'room@acme.test', CTX);
    const r = await removeAddition(db, s.tenantId, c, 'ROOM@acme.test', CTX);
    assert.equal(r.user?.source, 'ldap');
    const u = await showUser(db, s.tenantId, 'room@acme.test');
    assert.deepEqual([u.source, u.state, u.connection], ['ldap', 'active', 'main']);
    assert.equal(await countRows(db, 'additions'), 0);
    assert.deepEqual(await listAdditions(db, s.tenantId, c), []);
    await assert.rejects(removeAddition(db, s.tenantId, c, 'room@acme.test', CTX), { code: 'not_found' });
    const actions = (await listAudit(db, { tenantId: s.tenantId })).map((x) => x.action);
    assert.deepEqual(actions.slice(0, 2).sort(), ['addition.remove', 'user.source']);
  });

  test('deleting an addition user by hand takes it off the additions list too', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    await addAddition(db, s.tenantId, s.connections.main!, 'room@acme.test', CTX);
    await deleteUser(db, s.tenantId, 'room@acme.test', CTX);
    assert.equal(await countRows(db, 'additions'), 0);
    assert.equal(await countRows(db, 'users'), 0);
  });
});

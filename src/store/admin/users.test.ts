import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { CTX, countRows, insertUserRow, seedTenant } from '../../../test/helpers/admin-fixtures.ts';
import { listAudit } from './audit.ts';
import { addUser, deleteUser, editUser, listUsers, showUser } from './users.ts';
import { addRule } from './rules.ts';
import { addArchive } from './archives.ts';

forEachDialect('admin users', (open) => {
  test('R14 manual add: source manual, active, access on, stored with its aliases, audited (R25)', async () => {
    const { db } = await open();
    const { tenantId } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test', 'xn--bcher-kva.test'] });
    const u = await addUser(db, tenantId, { address: ' Ann@ACME.test ', aliases: ['ann.b@bücher.test'], details: { displayName: 'Ann B' } }, 'manual', CTX);
    assert.equal(u.address, 'ann@acme.test');
    assert.deepEqual(u.aliases, ['ann.b@xn--bcher-kva.test']); // D11: punycode
    assert.equal(u.source, 'manual');
    assert.equal(u.state, 'active');
    assert.equal(u.access, true);
    assert.equal(u.details.displayName, 'Ann B');
    const row = await db.selectFrom('users').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'manual');
    assert.equal(Number(row.access_enabled), 1);
    assert.equal(row.connection_id, null);
    const addrs = await db.selectFrom('addresses').select(['address', 'role']).where('user_id', '=', u.id).orderBy('address').execute().then((rs) => rs.map((r) => ({ ...r })));
    assert.deepEqual(addrs, [
      { address: 'ann.b@xn--bcher-kva.test', role: 'alias' },
      { address: 'ann@acme.test', role: 'primary' },
    ]);
    const audit = await listAudit(db, { objectId: u.id });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.action, 'user.add');
    assert.equal(audit[0]?.actor, 'cli:test');
    assert.equal(audit[0]?.at, CTX.now);
    assert.equal(audit[0]?.before, null);
    assert.equal((audit[0]?.after as { address: string }).address, 'ann@acme.test');
  });

  test('R14 manual add refused outside managed domains (bad_input) and for a held address (conflict naming the holder)', async () => {
    const { db } = await open();
    const { tenantId } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    const other = await seedTenant(db, { tenant: 'globex', domains: ['globex.test'] });
    await insertUserRow(db, tenantId, { address: 'bob@acme.test', aliases: ['robert@acme.test'] });
    await assert.rejects(addUser(db, tenantId, { address: 'x@globex.test' }, 'manual', CTX), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'bad_input');
      assert.match(e.message, /globex\.test is not managed by tenant acme/);
      return true;
    });
    await assert.rejects(addUser(db, tenantId, { address: 'ROBERT@acme.test' }, 'manual', CTX), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'conflict');
      assert.match(e.message, /held by user bob@acme\.test \(as an alias\)/);
      return true;
    });
    await assert.rejects(addUser(db, tenantId, { address: 'not an address' }, 'manual', CTX), { code: 'bad_input' });
    await assert.rejects(addUser(db, other.tenantId, { address: 'bob@acme.test' }, 'manual', CTX), { code: 'bad_input' });
    assert.equal(await countRows(db, 'users'), 1);
    assert.equal(await countRows(db, 'audit'), 0);
  });

  test('D2 SMTP user: source smtp; an unlinked archive of its address is linked', async () => {
    const { db } = await open();
    const { tenantId } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    const arch = await addArchive(db, tenantId, 'cy@acme.test', CTX);
    assert.equal(arch.user, null);
    const u = await addUser(db, tenantId, { address: 'cy@acme.test' }, 'smtp', CTX);
    assert.equal(u.source, 'smtp');
    assert.deepEqual(u.archives, ['cy@acme.test']);
  });

  test('D11 list: filters by state, source, connection, search; pages; rule count and archive link', async () => {
    const { db } = await open();
    const { tenantId, connections } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'second'] });
    await insertUserRow(db, tenantId, { address: 'a@acme.test', connectionId: connections.main!, anchor: 'AAAA-1', displayName: 'Alice Smith' });
    await insertUserRow(db, tenantId, {
      address: 'b@acme.test',
      connectionId: connections.main!,
      state: 'pending_deletion',
      flagReason: 'missing',
      flaggedAt: '2026-11-20T00:00:00.000Z',
      deleteAfter: '2026-11-27T00:00:00.000Z',
    });
    await insertUserRow(db, tenantId, { address: 'c@acme.test', connectionId: connections.second!, aliases: ['smith_c@acme.test'] });
    await addUser(db, tenantId, { address: 'd@acme.test' }, 'manual', CTX);
    await addRule(db, tenantId, 'a@acme.test', { kind: 'deny', value: 'spam@x.test' }, CTX);
    await addRule(db, tenantId, 'a@acme.test', { kind: 'allow', value: 'x.test' }, CTX);
    await addArchive(db, tenantId, 'a@acme.test', CTX);

    const all = await listUsers(db, tenantId);
    assert.equal(all.total, 4);
    assert.deepEqual(all.users.map((u) => u.address), ['a@acme.test', 'b@acme.test', 'c@acme.test', 'd@acme.test']);
    const a = all.users[0]!;
    assert.equal(a.ruleCount, 2);
    assert.deepEqual(a.archives, ['a@acme.test']);
    assert.equal(a.anchor, 'aaaa-1'); // D11: anchors lower-case
    assert.equal(a.connection, 'main');
    const b = all.users[1]!;
    assert.equal(b.flagReason, 'missing');
    assert.equal(b.deleteAfter, '2026-11-27T00:00:00.000Z');
    assert.equal(b.access, false);

    assert.deepEqual((await listUsers(db, tenantId, { state: 'pending_deletion' })).users.map((u) => u.address), ['b@acme.test']);
    assert.deepEqual((await listUsers(db, tenantId, { source: 'manual' })).users.map((u) => u.address), ['d@acme.test']);
    assert.deepEqual((await listUsers(db, tenantId, { connectionId: connections.second! })).users.map((u) => u.address), ['c@acme.test']);
    // search hits display names and aliases, case-insensitively; '_' is literal, not a wildcard
    assert.deepEqual((await listUsers(db, tenantId, { search: 'SMITH' })).users.map((u) => u.address), ['a@acme.test', 'c@acme.test']);
    assert.deepEqual((await listUsers(db, tenantId, { search: 'h_c' })).users.map((u) => u.address), ['c@acme.test']);
    assert.equal((await listUsers(db, tenantId, { search: 'h_' })).total, 1);
    const page = await listUsers(db, tenantId, { limit: 2, offset: 2 });
    assert.equal(page.total, 4);
    assert.deepEqual(page.users.map((u) => u.address), ['c@acme.test', 'd@acme.test']);
  });

  test('show finds a user by an alias; an unknown address is not_found with a humane message', async () => {
    const { db } = await open();
    const { tenantId } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    await insertUserRow(db, tenantId, { address: 'bob@acme.test', aliases: ['robert@acme.test'] });
    assert.equal((await showUser(db, tenantId, 'Robert@Acme.Test')).address, 'bob@acme.test');
    await assert.rejects(showUser(db, tenantId, 'x@acme.test'), { code: 'not_found', message: 'no user with address x@acme.test in tenant acme' });
  });

  test('D10 edit: manual details change (audited); ldap users are read-only (bad_input)', async () => {
    const { db } = await open();
    const { tenantId, connections } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    await addUser(db, tenantId, { address: 'm@acme.test', details: { company: 'Old' } }, 'manual', CTX);
    await insertUserRow(db, tenantId, { address: 'l@acme.test', connectionId: connections.main!, displayName: 'Dir Name' });
    const later = { actor: 'cli:test', now: '2026-11-23T00:00:00.000Z' };
    const after = await editUser(db, tenantId, 'm@acme.test', { company: 'New', mobile: '+1 555' }, later);
    assert.equal(after.details.company, 'New');
    assert.equal(after.details.mobile, '+1 555');
    assert.equal(after.updatedAt, later.now);
    const audit = await listAudit(db, { action: 'user.edit' });
    assert.equal(audit.length, 1);
    assert.equal((audit[0]?.before as { details: { company: string } }).details.company, 'Old');
    await assert.rejects(editUser(db, tenantId, 'l@acme.test', { displayName: 'Hacked' }, CTX), { code: 'bad_input' });
    const row = await db.selectFrom('users').select('display_name').where('source', '=', 'ldap').executeTakeFirstOrThrow();
    assert.equal(row.display_name, 'Dir Name');
    await assert.rejects(editUser(db, tenantId, 'm@acme.test', { password: 'x' } as never, CTX), { code: 'bad_input' });
  });

  test('R23 manual delete of an ldap user: user, aliases and rules gone, archive kept unlinked, audited', async () => {
    const { db } = await open();
    const { tenantId, connections } = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const id = await insertUserRow(db, tenantId, { address: 'l@acme.test', aliases: ['l2@acme.test'], connectionId: connections.main! });
    await addRule(db, tenantId, 'l@acme.test', { kind: 'allow', value: 'friend@x.test' }, CTX);
    await addArchive(db, tenantId, 'l@acme.test', CTX);
    const res = await deleteUser(db, tenantId, 'l2@acme.test', CTX);
    assert.equal(res.address, 'l@acme.test');
    assert.equal(res.source, 'ldap');
    assert.equal(res.rulesDeleted, 1);
    assert.equal(await countRows(db, 'users'), 0);
    assert.equal(await countRows(db, 'addresses'), 0);
    assert.equal(await countRows(db, 'rules'), 0);
    const arch = await db.selectFrom('archives').selectAll().executeTakeFirstOrThrow();
    assert.equal(arch.address, 'l@acme.test');
    assert.equal(arch.user_id, null);
    const audit = await listAudit(db, { objectId: id });
    assert.equal(audit[0]?.action, 'user.delete');
    assert.equal(audit[0]?.after, null);
    assert.equal((audit[0]?.before as { anchor: string | null }).anchor !== null, true);
    // the address is free again: the next run (or an admin) may create it anew
    const again = await addUser(db, tenantId, { address: 'l@acme.test' }, 'manual', CTX);
    assert.deepEqual(again.archives, ['l@acme.test']);
  });
});

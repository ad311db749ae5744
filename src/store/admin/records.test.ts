import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { CTX, countRows, insertUserRow, seedTenant } from '../../../test/helpers/admin-fixtures.ts';
import { listAudit } from './audit.ts';
import { addRule, deleteRule, listRules } from './rules.ts';
import { addArchive, listArchives } from './archives.ts';
import { addException, listExceptions, removeException } from './exceptions.ts';
import { deleteUser } from './users.ts';

forEachDialect('admin rules and archives', (open) => {
  test('D2 rules: add, list (by kind, value), duplicate refused, delete; audited; bad kind refused', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    await insertUserRow(db, s.tenantId, { address: 'a@acme.test', aliases: ['al@acme.test'] });
    await addRule(db, s.tenantId, 'a@acme.test', { kind: 'deny', value: 'Spam@Evil.test' }, CTX);
    await addRule(db, s.tenantId, 'al@acme.test', { kind: 'allow', value: 'friend.test' }, CTX);
    const rules = await listRules(db, s.tenantId, 'a@acme.test');
    assert.deepEqual(rules.map((r) => [r.user, r.kind, r.value]), [
      ['a@acme.test', 'allow', 'friend.test'],
      ['a@acme.test', 'deny', 'spam@evil.test'],
    ]);
    await assert.rejects(addRule(db, s.tenantId, 'a@acme.test', { kind: 'deny', value: 'spam@evil.test' }, CTX), { code: 'conflict' });
    await assert.rejects(addRule(db, s.tenantId, 'a@acme.test', { kind: 'block', value: 'x' }, CTX), { code: 'bad_input' });
    await assert.rejects(addRule(db, s.tenantId, 'nobody@acme.test', { kind: 'deny', value: 'x' }, CTX), { code: 'not_found' });
    const removed = await deleteRule(db, s.tenantId, 'a@acme.test', { kind: 'deny', value: 'spam@evil.test' }, CTX);
    assert.equal(removed.value, 'spam@evil.test');
    assert.equal(await countRows(db, 'rules'), 1);
    await assert.rejects(deleteRule(db, s.tenantId, 'a@acme.test', { kind: 'deny', value: 'spam@evil.test' }, CTX), { code: 'not_found' });
    const audit = await listAudit(db, { tenantId: s.tenantId });
    assert.deepEqual(audit.map((a) => a.action), ['rule.delete', 'rule.add', 'rule.add']);
  });

  test('D2 rules are deleted with their user (FK cascade path)', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    await insertUserRow(db, s.tenantId, { address: 'a@acme.test', source: 'manual' });
    await addRule(db, s.tenantId, 'a@acme.test', { kind: 'deny', value: 'x@y.test' }, CTX);
    const uid = (await db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id;
    // the database itself cascades (R21): a raw delete of the user takes its rules
    await db.deleteFrom('addresses').where('user_id', '=', uid).execute();
    await db.deleteFrom('users').where('id', '=', uid).execute();
    assert.equal(await countRows(db, 'rules'), 0);
  });

  test('D2 archives: linked by primary address when created (not by alias), unique per tenant, kept on user delete', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'] });
    await insertUserRow(db, s.tenantId, { address: 'a@acme.test', aliases: ['al@acme.test'] });
    const linked = await addArchive(db, s.tenantId, 'A@acme.test', CTX);
    assert.equal(linked.user, 'a@acme.test');
    const byAlias = await addArchive(db, s.tenantId, 'al@acme.test', CTX);
    assert.equal(byAlias.user, null);
    const orphan = await addArchive(db, s.tenantId, 'left@acme.test', CTX);
    assert.equal(orphan.user, null);
    await assert.rejects(addArchive(db, s.tenantId, 'a@acme.test', CTX), { code: 'conflict' });
    await assert.rejects(addArchive(db, s.tenantId, 'a@other.test', CTX), { code: 'bad_input' });
    assert.deepEqual((await listArchives(db, s.tenantId, { linked: true })).map((a) => a.address), ['a@acme.test']);
    await deleteUser(db, s.tenantId, 'a@acme.test', CTX);
    const all = await listArchives(db, s.tenantId);
    assert.deepEqual(all.map((a) => [a.address, a.user]), [
      ['a@acme.test', null],
      ['al@acme.test', null],
      ['left@acme.test', null],
    ]);
    assert.equal((await listAudit(db, { action: 'archive.add' })).length, 3);
  });
});

forEachDialect('admin exceptions', (open) => {
  test('R30/D8 exceptions: user and group by anchor (lower-cased, DN kept), alias by address; list; remove; audited', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'hr'] });
    const c = s.connections.main!;
    const u = await addException(db, s.tenantId, c, { kind: 'user', anchor: ' 0A1B-C2 ', dn: 'uid=x,dc=acme,dc=test' }, CTX);
    assert.equal(u.anchor, '0a1b-c2');
    assert.equal(u.dn, 'uid=x,dc=acme,dc=test');
    await addException(db, s.tenantId, c, { kind: 'group', anchor: 'ffff-0001', dn: 'cn=Sales,dc=acme,dc=test' }, CTX);
    await addException(db, s.tenantId, c, { kind: 'alias', address: 'Old.Alias@acme.test' }, CTX);
    await assert.rejects(addException(db, s.tenantId, c, { kind: 'user', anchor: '0a1b-c2' }, CTX), { code: 'conflict' });
    await assert.rejects(addException(db, s.tenantId, c, { kind: 'alias', address: 'not-an-address' }, CTX), { code: 'bad_input' });
    await assert.rejects(addException(db, s.tenantId, c, { kind: 'ou', anchor: 'x' } as never, CTX), { code: 'bad_input' });
    // same anchor on another connection is another exception
    await addException(db, s.tenantId, s.connections.hr!, { kind: 'user', anchor: '0a1b-c2' }, CTX);
    const list = await listExceptions(db, s.tenantId, c);
    assert.deepEqual(list.map((e) => [e.kind, e.anchor, e.address]), [
      ['user', '0a1b-c2', null],
      ['group', 'ffff-0001', null],
      ['alias', null, 'old.alias@acme.test'],
    ]);
    const rows = await db.selectFrom('exceptions').select(['kind', 'anchor', 'address']).where('connection_id', '=', c).execute();
    assert.equal(rows.length, 3);
    await removeException(db, s.tenantId, c, 'FFFF-0001', CTX);
    await removeException(db, s.tenantId, c, 'old.alias@acme.test', CTX);
    await assert.rejects(removeException(db, s.tenantId, c, 'nope', CTX), { code: 'not_found' });
    assert.deepEqual((await listExceptions(db, s.tenantId, c)).map((e) => e.anchor), ['0a1b-c2']);
    assert.equal((await listAudit(db, { action: 'exception.add' })).length, 4);
    assert.equal((await listAudit(db, { action: 'exception.remove' })).length, 2);
    // a connection of another tenant is not reachable through this tenant
    const other = await seedTenant(db, { tenant: 'globex', domains: ['globex.test'], connections: ['x'] });
    await assert.rejects(listExceptions(db, s.tenantId, other.connections.x!), { code: 'not_found' });
  });
});

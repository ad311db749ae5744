import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { PlanOp } from '../core/model.ts';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addr, addUser, ctx, details, NOW, plan, seedTenant, TENANT, CONN } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { digestStore } from './digest.ts';
import type { Database } from './schema.ts';

const LATER = '2026-11-23T10:00:00.000Z';

async function userByPrimary(db: Kysely<Database>, address: string) {
  const row = await db.selectFrom('addresses').innerJoin('users', 'users.id', 'addresses.user_id').selectAll('users')
    .where('addresses.address', '=', address).where('addresses.role', '=', 'primary').executeTakeFirst();
  assert.ok(row, `a user with primary ${address}`);
  return row;
}

async function addressesOf(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('addresses').select(['address', 'role']).where('user_id', '=', userId).execute();
  return rows.map((r) => `${r.role}:${r.address}`).sort();
}

async function auditActions(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('audit').select('action').orderBy('id').execute()).map((r) => r.action);
}

forEachDialect('applyPlan', (open) => {
  test('R10 add_user: ldap/active/access, primary and alias rows, archive relinked, audit rows (R25)', async () => {
    const { db } = await open();
    await seedTenant(db);
    await db.insertInto('archives').values({ id: 'arch-bob', tenant_id: TENANT, address: 'bob@example.com', user_id: null, created_at: NOW }).execute();
    const result = await applyPlan(db, plan([
      addUser('a-alice', 'alice@example.com', ['al@example.org', 'alice.x@example.com']),
      addUser('a-bob', 'bob@example.com', [], 'arch-bob'),
    ]), ctx());
    assert.equal(result.byKind.add_user, 2);
    assert.equal(result.auditRows, 3);
    const alice = await userByPrimary(db, 'alice@example.com');
    assert.deepEqual(
      [alice.source, alice.state, alice.access_enabled, alice.anchor, alice.connection_id, alice.given_name, alice.created_at, alice.updated_at, alice.flag_reason],
      ['ldap', 'active', 1, 'a-alice', CONN, 'a-alice', NOW, NOW, null],
    );
    assert.deepEqual(await addressesOf(db, alice.id), ['alias:al@example.org', 'alias:alice.x@example.com', 'primary:alice@example.com']);
    const bob = await userByPrimary(db, 'bob@example.com');
    const arch = await db.selectFrom('archives').select('user_id').where('id', '=', 'arch-bob').executeTakeFirstOrThrow();
    assert.equal(arch.user_id, bob.id, 'R10: the archive of the primary address is linked to the new user');
    assert.deepEqual(await auditActions(db), ['user.add', 'user.add', 'run.apply']);
    const add = await db.selectFrom('audit').selectAll().where('object_id', '=', bob.id).executeTakeFirstOrThrow();
    assert.equal(add.actor, 'sync:conn-1');
    assert.equal(add.at, NOW);
    assert.equal(add.before, null);
    assert.equal(JSON.parse(add.after ?? '{}').archiveId, 'arch-bob');
    const runRow = await db.selectFrom('audit').selectAll().where('action', '=', 'run.apply').executeTakeFirstOrThrow();
    assert.equal(runRow.object_id, 'run-1');
    assert.equal(JSON.parse(runRow.after ?? '{}').ops.add_user, 2);
  });

  test('R13a update_user: new primary, old primary kept as alias, rules and archive stay; only set columns change', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-c', 'carol@example.com', ['caro@example.com'])]), ctx());
    const carol = await userByPrimary(db, 'carol@example.com');
    await db.insertInto('rules').values({ id: 'rule-1', user_id: carol.id, kind: 'allow', value: 'x@partner.test', created_at: NOW }).execute();
    await db.insertInto('archives').values({ id: 'arch-c', tenant_id: TENANT, address: 'carol@example.com', user_id: carol.id, created_at: NOW }).execute();
    const ops: PlanOp[] = [
      { op: 'remove_alias', userId: carol.id, address: addr('caro@example.com') },
      { op: 'update_user', userId: carol.id, set: { primary: addr('caro@example.com'), details: details('Carol', { department: 'Sales' }) },
        changes: [{ field: 'primary', before: 'carol@example.com', after: 'caro@example.com' }, { field: 'department', before: null, after: 'Sales' }] },
      { op: 'add_alias', userId: carol.id, address: addr('carol@example.com') },
    ];
    const r = await applyPlan(db, plan(ops), ctx({ now: LATER, runId: 'run-2' }));
    assert.equal(r.byKind.update_user, 1);
    const after = await userByPrimary(db, 'caro@example.com');
    assert.equal(after.id, carol.id);
    assert.deepEqual([after.given_name, after.department, after.dn, after.anchor, after.updated_at, after.created_at],
      ['Carol', 'Sales', carol.dn, 'a-c', LATER, NOW]);
    assert.deepEqual(await addressesOf(db, carol.id), ['alias:carol@example.com', 'primary:caro@example.com']);
    assert.equal((await db.selectFrom('rules').select('user_id').executeTakeFirstOrThrow()).user_id, carol.id);
    assert.equal((await db.selectFrom('archives').select('user_id').executeTakeFirstOrThrow()).user_id, carol.id);
    const upd = await db.selectFrom('audit').selectAll().where('action', '=', 'user.update').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(upd.before ?? ''), { primary: 'carol@example.com', department: null });
    assert.deepEqual(JSON.parse(upd.after ?? ''), { primary: 'caro@example.com', department: 'Sales' });
  });

  test('R13a: an alias promoted to primary without a remove_alias op, and two users swapping primaries', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-d', 'dan@example.com', ['d@example.com']), addUser('a-e', 'eve@example.com'), addUser('a-f', 'fay@example.com')]), ctx());
    const [dan, eve, fay] = await Promise.all(['dan', 'eve', 'fay'].map((n) => userByPrimary(db, `${n}@example.com`)));
    const move = (id: string, from: string, to: string): PlanOp => ({ op: 'update_user', userId: id, set: { primary: addr(to) }, changes: [{ field: 'primary', before: from, after: to }] });
    await applyPlan(db, plan([
      move(dan!.id, 'dan@example.com', 'd@example.com'),
      move(eve!.id, 'eve@example.com', 'fay@example.com'),
      move(fay!.id, 'fay@example.com', 'eve@example.com'),
    ]), ctx({ now: LATER }));
    assert.deepEqual(await addressesOf(db, dan!.id), ['primary:d@example.com']);
    assert.deepEqual(await addressesOf(db, eve!.id), ['primary:fay@example.com']);
    assert.deepEqual(await addressesOf(db, fay!.id), ['primary:eve@example.com']);
    assert.equal((await userByPrimary(db, 'fay@example.com')).updated_at, LATER);
  });

  test('R13: an alias moves between two users in one plan, whatever the order of plan.ops', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-g', 'gil@example.com', ['team@example.com']), addUser('a-h', 'hal@example.com')]), ctx());
    const gil = await userByPrimary(db, 'gil@example.com');
    const hal = await userByPrimary(db, 'hal@example.com');
    // add_alias listed before remove_alias: apply still removes first.
    await applyPlan(db, plan([
      { op: 'add_alias', userId: hal.id, address: addr('team@example.com') },
      { op: 'remove_alias', userId: gil.id, address: addr('team@example.com') },
    ]), ctx({ runId: 'run-2' }));
    assert.deepEqual(await addressesOf(db, gil.id), ['primary:gil@example.com']);
    assert.deepEqual(await addressesOf(db, hal.id), ['alias:team@example.com', 'primary:hal@example.com']);
    const actions = await auditActions(db);
    assert.deepEqual(actions.slice(-3), ['user.alias_remove', 'user.alias_add', 'run.apply']);
  });

  test('R15 flag_user and R16 restore_user set and clear the lifecycle fields, audited with before/after', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-i', 'ida@example.com'), addUser('a-j', 'jan@example.com'), addUser('a-k', 'kim@example.com')]), ctx());
    const [ida, jan, kim] = await Promise.all(['ida', 'jan', 'kim'].map((n) => userByPrimary(db, `${n}@example.com`)));
    await applyPlan(db, plan([
      { op: 'flag_user', userId: ida!.id, reason: 'missing', flaggedAt: LATER, deleteAfter: '2026-11-30T10:00:00.000Z' },
      { op: 'flag_user', userId: jan!.id, reason: 'disabled', flaggedAt: LATER, deleteAfter: null },
    ]), ctx({ now: LATER, runId: 'run-2' }));
    const i1 = await userByPrimary(db, 'ida@example.com');
    assert.deepEqual([i1.state, i1.access_enabled, i1.flag_reason, i1.flagged_at, i1.delete_after, i1.updated_at],
      ['pending_deletion', 0, 'missing', LATER, '2026-11-30T10:00:00.000Z', LATER]);
    const j1 = await userByPrimary(db, 'jan@example.com');
    assert.deepEqual([j1.state, j1.access_enabled, j1.flag_reason, j1.delete_after], ['pending_deletion', 0, 'disabled', null]);
    const k1 = await userByPrimary(db, 'kim@example.com');
    assert.deepEqual([k1.state, k1.access_enabled, k1.updated_at], ['active', 1, NOW], 'an unflagged user is untouched');
    const flag = await db.selectFrom('audit').selectAll().where('action', '=', 'user.flag').where('object_id', '=', ida!.id).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(flag.before ?? '{}').state, 'active');
    assert.equal(JSON.parse(flag.after ?? '{}').flagReason, 'missing');

    await applyPlan(db, plan([{ op: 'restore_user', userId: ida!.id }]), ctx({ now: '2026-11-24T10:00:00.000Z', runId: 'run-3' }));
    const i2 = await userByPrimary(db, 'ida@example.com');
    assert.deepEqual([i2.state, i2.access_enabled, i2.flag_reason, i2.flagged_at, i2.delete_after], ['active', 1, null, null, null]);
    assert.equal(kim!.id, k1.id);
    const restore = await db.selectFrom('audit').selectAll().where('action', '=', 'user.restore').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(restore.before ?? '{}').flagReason, 'missing');
    assert.equal(JSON.parse(restore.after ?? '{}').state, 'active');
  });

  test('D7 groups, memberships and contacts: upsert, change, remove', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([
      { op: 'upsert_group', anchor: 'g-sales', dn: 'cn=sales', name: 'Sales', address: addr('sales@example.com'), groupId: null },
      { op: 'upsert_group', anchor: 'g-ops', dn: 'cn=ops', name: 'Ops', address: null, groupId: null },
      { op: 'set_members', groupAnchor: 'g-sales', add: ['u1', 'u2', 'g-ops'], remove: [] },
      { op: 'set_members', groupAnchor: 'g-ops', add: ['u3'], remove: [] },
      { op: 'upsert_contact', anchor: 'c-1', dn: 'cn=c1', name: 'Partner', addresses: [addr('p@partner.test'), addr('p2@partner.test')], contactId: null },
      { op: 'upsert_contact', anchor: 'c-2', dn: 'cn=c2', name: 'Other', addresses: [addr('o@partner.test')], contactId: null },
    ]), ctx());
    const groups = await db.selectFrom('groups').selectAll().orderBy('anchor').execute();
    assert.deepEqual(groups.map((g) => [g.anchor, g.name, g.connection_id, g.tenant_id]), [['g-ops', 'Ops', CONN, TENANT], ['g-sales', 'Sales', CONN, TENANT]]);
    const sales = groups.find((g) => g.anchor === 'g-sales')!;
    const ops = groups.find((g) => g.anchor === 'g-ops')!;
    const gaddr = await db.selectFrom('addresses').select(['address', 'group_id', 'role']).where('role', '=', 'group').execute();
    assert.deepEqual(gaddr, [{ address: 'sales@example.com', group_id: sales.id, role: 'group' }]);
    const contacts = await db.selectFrom('contacts').selectAll().orderBy('anchor').execute();
    assert.equal(contacts.length, 2);
    const c1 = contacts[0]!;

    await applyPlan(db, plan([
      { op: 'remove_group', groupId: ops.id, anchor: 'g-ops' },
      { op: 'remove_contact', contactId: contacts[1]!.id, anchor: 'c-2' },
      { op: 'upsert_group', anchor: 'g-sales', dn: 'cn=sales2', name: 'Sales EU', address: addr('sales-eu@example.com'), groupId: sales.id },
      { op: 'set_members', groupAnchor: 'g-sales', add: ['u4'], remove: ['u1', 'g-ops'] },
      { op: 'upsert_contact', anchor: 'c-1', dn: 'cn=c1b', name: 'Partner B', addresses: [addr('p@partner.test'), addr('p3@partner.test')], contactId: c1.id },
    ]), ctx({ now: LATER, runId: 'run-2' }));
    const g2 = await db.selectFrom('groups').selectAll().execute();
    assert.deepEqual(g2.map((g) => [g.id, g.dn, g.name, g.updated_at, g.created_at]), [[sales.id, 'cn=sales2', 'Sales EU', LATER, NOW]]);
    const gaddr2 = await db.selectFrom('addresses').select(['address', 'group_id']).where('role', '=', 'group').execute();
    assert.deepEqual(gaddr2, [{ address: 'sales-eu@example.com', group_id: sales.id }]);
    const members = await db.selectFrom('memberships').select(['group_anchor', 'member_anchor']).orderBy('group_anchor').orderBy('member_anchor').execute();
    assert.deepEqual(members.map((m) => `${m.group_anchor}>${m.member_anchor}`), ['g-sales>u2', 'g-sales>u4'], 'g-ops memberships went with it');
    const c = await db.selectFrom('contacts').selectAll().execute();
    assert.deepEqual(c.map((x) => [x.id, x.dn, x.name, x.updated_at]), [[c1.id, 'cn=c1b', 'Partner B', LATER]]);
    const ca = await db.selectFrom('contact_addresses').select(['contact_id', 'address']).orderBy('address').execute();
    assert.deepEqual(ca.map((x) => x.address), ['p3@partner.test', 'p@partner.test'].sort());
    assert.ok(ca.every((x) => x.contact_id === c1.id));
  });

  test('D7 set_members is idempotent: a membership already stored, or listed twice by one plan, is kept once', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([{ op: 'set_members', groupAnchor: 'g-1', add: ['u1', 'u2'], remove: [] }]), ctx());
    await applyPlan(db, plan([
      { op: 'set_members', groupAnchor: 'g-1', add: ['u2', 'u3'], remove: [] },
      { op: 'set_members', groupAnchor: 'g-1', add: ['u3', 'u4'], remove: [] },
    ]), ctx({ now: LATER, runId: 'run-2' }));
    const members = await db.selectFrom('memberships').select(['group_anchor', 'member_anchor']).orderBy('member_anchor').execute();
    assert.deepEqual(members.map((m) => `${m.group_anchor}>${m.member_anchor}`), ['g-1>u1', 'g-1>u2', 'g-1>u3', 'g-1>u4']);
  });

  test('R12: an empty plan changes no user, address, group or contact row (digest unchanged)', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-l', 'lee@example.com', ['l@example.com']),
      { op: 'upsert_group', anchor: 'g1', dn: 'cn=g1', name: 'G1', address: addr('g1@example.com'), groupId: null }]), ctx());
    const before = await digestStore(db, TENANT);
    const r = await applyPlan(db, plan([]), ctx({ now: LATER, runId: 'run-2' }));
    assert.equal(await digestStore(db, TENANT), before);
    assert.equal(r.auditRows, 1, 'only the run.apply audit row');
    assert.ok(Object.values(r.byKind).every((n) => n === 0));
  });

  test('atomic: a plan that fails half-way (address taken, R13) changes nothing at all', async () => {
    const { db } = await open();
    await seedTenant(db);
    await applyPlan(db, plan([addUser('a-m', 'max@example.com')]), ctx());
    const before = await digestStore(db);
    const auditBefore = await auditActions(db);
    // Ned's user row is written before Oli's alias collides with Max's primary.
    await assert.rejects(applyPlan(db, plan([
      addUser('a-n', 'ned@example.com'),
      addUser('a-o', 'oli@example.com', ['max@example.com']),
    ]), ctx({ runId: 'run-2' })), /unique|duplicate/i);
    // The same address in another case fails as well (the store holds addresses lower-case only).
    await assert.rejects(applyPlan(db, plan([
      addUser('a-n', 'ned@example.com'),
      addUser('a-o', 'oli@example.com', ['MAX@example.com']),
    ]), ctx({ runId: 'run-3' })), /addresses_lower_ck/);
    assert.equal(await digestStore(db), before);
    assert.deepEqual(await auditActions(db), auditBefore);
  });

  test('onBatch reports ops done and the total, inside the transaction', async () => {
    const { db } = await open();
    await seedTenant(db);
    const ops = Array.from({ length: 2500 }, (_, i) => addUser(`a-${i}`, `p${i}@example.com`));
    const seen: [number, number][] = [];
    await applyPlan(db, plan(ops), { ...ctx(), onBatch: (done, total) => void seen.push([done, total]) });
    assert.deepEqual(seen, [[1000, 2500], [2000, 2500], [2500, 2500]]);
  });

  test('a plan for another tenant is refused (bad_input)', async () => {
    const { db } = await open();
    await seedTenant(db);
    await assert.rejects(applyPlan(db, plan([], CONN, 'other'), ctx()), { code: 'bad_input' });
  });
});

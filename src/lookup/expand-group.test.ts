import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addr, dirContact, dirGroup, dirUser, groupDn, seedTenant, snapshot, syncSnapshot, userDn } from '../../test/helpers/lookup-fixtures.ts';
import { bulkInsert } from '../store/batch.ts';
import type { Database } from '../store/schema.ts';
import { expandGroup, type GroupExpansion } from './expand-group.ts';

const OPTIONS = { syncDisabledUsers: false, syncPublicFolders: false, readContacts: true };
const contactDn = (a: string) => `cn=${a},ou=contacts,dc=example,dc=com`;
const users = ['u1', 'u2', 'u3', 'u4'].map((a) => dirUser(a, `${a}@example.com`));
const disabled = dirUser('u-dis', 'dis@example.com', { disabled: true });
// A → B → C → A is a cycle; A → D and C → D is a diamond (no cycle); u-dis is read but not synced (disabled).
const groups = [
  dirGroup('g-a', [userDn('u1'), groupDn('g-b'), groupDn('g-d'), contactDn('c-ext'), userDn('u-dis')], { name: 'Group A', address: addr('group-a@example.com') }),
  dirGroup('g-b', [userDn('u2'), groupDn('g-c')], { name: 'Group B' }),
  dirGroup('g-c', [userDn('u3'), groupDn('g-a'), groupDn('g-d')], { name: 'Group C' }),
  dirGroup('g-d', [userDn('u4')], { name: 'Group D' }),
  dirGroup('g-dup', [], { name: 'Dup' }),
];

async function seed(db: Kysely<Database>): Promise<void> {
  await seedTenant(db);
  await syncSnapshot(db, snapshot({ users: [...users, disabled], groups, contacts: [dirContact('c-ext', ['ext@partner.test'], { name: 'External' })] }), { settings: { options: OPTIONS } });
  await syncSnapshot(db, snapshot({ groups: [dirGroup('g-dup2', [], { name: 'Dup' })] }), { connectionId: 'conn-2', settings: { options: OPTIONS } });
}

const byDepth = (x: GroupExpansion) => x.members.map((m) => `${m.depth}:${m.kind}:${m.anchor}`).sort();
const edges = (x: GroupExpansion) => x.cycles.map((c) => `${c.from.anchor}>${c.to.anchor}`).sort();

forEachDialect('expandGroup (R61)', (open) => {
  test('R61 nested groups with a cycle and a diamond: each member once at its depth, via its group; cycle edges only; unresolved listed', async () => {
    const { db } = await open();
    await seed(db);
    const x = await expandGroup(db, { tenantId: 'tenant-1', group: 'Group A' });
    assert.deepEqual(byDepth(x), [
      '1:contact:c-ext', '1:group:g-b', '1:group:g-d', '1:user:u1',
      '2:group:g-c', '2:user:u2', '2:user:u4',
      '3:user:u3',
    ]);
    assert.deepEqual(edges(x), ['g-a>g-b', 'g-b>g-c', 'g-c>g-a'], 'the diamond A→D, C→D is no cycle');
    assert.deepEqual(x.unresolved.map((u) => [u.anchor, u.depth, u.via.name]), [['u-dis', 1, 'Group A']]);
    assert.equal(x.truncated, false);
    assert.deepEqual(x.counts, { users: 4, publicFolders: 0, groups: 3, contacts: 1, unresolved: 1 });
    const u3 = x.members.find((m) => m.anchor === 'u3')!;
    assert.deepEqual([u3.address, u3.state, u3.via.name, u3.kind], ['u3@example.com', 'active', 'Group C', 'user']);
    assert.equal(x.members.find((m) => m.anchor === 'c-ext')!.address, 'ext@partner.test');
    assert.equal(x.group.address, 'group-a@example.com');
  });

  test('R61 depth limit: truncated, with the groups left unexpanded', async () => {
    const { db } = await open();
    await seed(db);
    const one = await expandGroup(db, { tenantId: 'tenant-1', group: 'Group A', maxDepth: 1 });
    assert.deepEqual(byDepth(one), ['1:contact:c-ext', '1:group:g-b', '1:group:g-d', '1:user:u1']);
    assert.equal(one.truncated, true);
    assert.deepEqual(one.notExpanded.map((g) => g.name).sort(), ['Group B', 'Group D']);
    const two = await expandGroup(db, { tenantId: 'tenant-1', group: 'Group A', maxDepth: 2 });
    assert.deepEqual(two.notExpanded.map((g) => g.name), ['Group C']);
    const three = await expandGroup(db, { tenantId: 'tenant-1', group: 'Group A', maxDepth: 3 });
    assert.deepEqual([three.truncated, three.members.length], [false, 8], 'C was expanded: only seen groups at depth 4');
    await assert.rejects(expandGroup(db, { tenantId: 'tenant-1', group: 'Group A', maxDepth: 0 }), { code: 'bad_input' });
  });

  test('R61 the group named by id, address, <connection>:<anchor>, folded name; ambiguous and unknown names refused', async () => {
    const { db } = await open();
    await seed(db);
    const id = (await db.selectFrom('groups').select('id').where('anchor', '=', 'g-b').executeTakeFirstOrThrow()).id;
    for (const group of [id, 'group-a@example.com', 'conn-1:g-b', 'GROUP B', 'Group B']) {
      const x = await expandGroup(db, { tenantId: 'tenant-1', group });
      assert.ok(['g-a', 'g-b'].includes(x.group.anchor), group);
    }
    assert.equal((await expandGroup(db, { tenantId: 'tenant-1', group: 'conn-2:g-dup2' })).group.connection, 'conn-2');
    await assert.rejects(expandGroup(db, { tenantId: 'tenant-1', group: 'Dup' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'bad_input');
      assert.match(e.message, /2 groups are named "Dup".*conn-1:g-dup, conn-2:g-dup2/);
      return true;
    });
    await assert.rejects(expandGroup(db, { tenantId: 'tenant-1', group: 'No Such' }), { code: 'not_found' });
    await assert.rejects(expandGroup(db, { tenantId: 'tenant-2', group: 'Group A' }), { code: 'not_found' }, 'another tenant cannot expand it');
  });

  test('R61 a 100,000-member group with a nested group expands completely (time printed)', async (t) => {
    const { db } = await open();
    await seedTenant(db);
    const N = 100_000;
    const T = 'text' as const;
    const now = '2026-11-22T10:00:00.000Z';
    const ids = Array.from({ length: N }, (_, i) => `u-${String(i).padStart(6, '0')}`);
    await db.transaction().execute(async (trx) => {
      await bulkInsert(trx, 'users', [['id', T], ['tenant_id', T], ['kind', T], ['source', T], ['state', T], ['access_enabled', 'integer'], ['connection_id', T], ['anchor', T], ['created_at', T], ['updated_at', T]],
        ids.map((id) => [id, 'tenant-1', 'user', 'ldap', 'active', 1, 'conn-1', `a-${id}`, now, now]));
      await bulkInsert(trx, 'addresses', [['address', T], ['tenant_id', T], ['role', T], ['user_id', T], ['group_id', T]], ids.map((id) => [`${id}@example.com`, 'tenant-1', 'primary', id, null]));
      await bulkInsert(trx, 'groups', [['id', T], ['tenant_id', T], ['connection_id', T], ['anchor', T], ['dn', T], ['name', T], ['created_at', T], ['updated_at', T]],
        [['big', 'tenant-1', 'conn-1', 'g-big', 'cn=big', 'Everyone', now, now], ['sub', 'tenant-1', 'conn-1', 'g-sub', 'cn=sub', 'Sub', now, now]]);
      const m = ids.slice(0, N - 10).map((id) => ['conn-1', 'g-big', `a-${id}`]);
      m.push(['conn-1', 'g-big', 'g-sub'], ...ids.slice(N - 10).map((id) => ['conn-1', 'g-sub', `a-${id}`]), ['conn-1', 'g-sub', 'a-u-000000']);
      await bulkInsert(trx, 'memberships', [['connection_id', T], ['group_anchor', T], ['member_anchor', T]], m);
    });
    const t0 = performance.now();
    const x = await expandGroup(db, { tenantId: 'tenant-1', group: 'Everyone' });
    const ms = performance.now() - t0;
    t.diagnostic(`expanded ${x.members.length} members in ${ms.toFixed(0)} ms`);
    assert.equal(x.counts.users, N);
    assert.equal(x.counts.groups, 1);
    assert.equal(new Set(x.members.map((m) => m.id)).size, N + 1, 'each member once');
    assert.equal(x.members.filter((m) => m.depth === 2).length, 10);
    assert.equal(x.members.find((m) => m.id === 'u-000000')!.depth, 1, 'a member reached at depth 1 and 2 is listed at depth 1');
    assert.equal(x.members.find((m) => m.id === 'u-099999')!.address, 'u-099999@example.com');
  });
});

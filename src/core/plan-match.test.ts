import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import { CONN, NOW, OTHER_CONN, addr, details, dirUser, opsOf, settings, snapshot, store, storeUser, userDn } from './test-fixtures.ts';

test('R10 a new eligible entry becomes an ldap user with its fields and qualifying aliases', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('a@example.org')], kerberosName: 'ann@EX', ntlmName: 'EX\\ann' })] }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, [
    {
      op: 'add_user',
      anchor: 'a1',
      fields: {
        kind: 'user',
        primary: 'ann@example.com',
        details: details({ displayName: 'a1' }),
        kerberosName: 'ann@EX',
        ntlmName: 'EX\\ann',
        connectionId: CONN,
        anchor: 'a1',
        dn: userDn('a1'),
      },
      aliases: ['a@example.org'],
      archiveId: null,
    },
  ]);
  assert.equal(plan.counts.added, 1);
  assert.equal(plan.counts.aliasesAdded, 1);
  assert.equal(plan.counts.eligible, 1);
});

test('R10 an unlinked archive with the primary address is relinked; a linked one is not', () => {
  const st = store({
    archives: [
      { id: 'ar1', address: addr('ann@example.com'), userId: null },
      { id: 'ar2', address: addr('bob@example.com'), userId: 'someone' },
    ],
  });
  const plan = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com'), dirUser('b1', 'bob@example.com')] }), st, settings(), NOW);
  const adds = opsOf(plan, 'add_user');
  assert.deepEqual(adds.map((a) => [a.anchor, a.archiveId]), [['a1', 'ar1'], ['b1', null]]);
});

test('R11 match by anchor first: a rename (new DN, same anchor) is an update, not a delete and an add', () => {
  const moved = 'uid=a1,ou=sales,dc=example,dc=com';
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { dn: moved })] }),
    store({ users: [storeUser('u1', 'ann@example.com', { anchor: 'a1' })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, [
    { op: 'update_user', userId: 'u1', set: { dn: moved }, changes: [{ field: 'dn', before: userDn('a1'), after: moved }] },
  ]);
  assert.equal(plan.counts.updated, 1);
  assert.equal(plan.counts.added, 0);
  assert.equal(plan.flagCount, 0);
});

test('R11 match by primary links an unanchored ldap user (R18 pre-sync users)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com')] }),
    store({ users: [storeUser('u1', 'ann@example.com', { details: details({ displayName: 'a1' }) })] }),
    settings(),
    NOW,
  );
  const [upd] = opsOf(plan, 'update_user');
  assert.deepEqual(upd?.set, { connectionId: CONN, anchor: 'a1', dn: userDn('a1') });
  assert.equal(opsOf(plan, 'add_user').length, 0);
});

test('R11 match by alias when no user has the primary; the alias becomes the primary', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com')] }),
    store({ users: [storeUser('u1', 'old@example.com', { aliases: [addr('ann@example.com')], details: details({ displayName: 'a1' }) })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'remove_alias'), [{ op: 'remove_alias', userId: 'u1', address: 'ann@example.com' }]);
  assert.equal(opsOf(plan, 'update_user')[0]?.set.primary, 'ann@example.com');
  assert.equal(opsOf(plan, 'add_user').length, 0);
});

test('R11 primary match wins over alias match of another user', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com')] }),
    store({
      users: [
        storeUser('u1', 'x@example.com', { aliases: [addr('ann@example.com')] }),
        storeUser('u2', 'ann@example.com'),
      ],
    }),
    settings(),
    NOW,
  );
  assert.equal(opsOf(plan, 'update_user')[0]?.userId, 'u2');
});

test("R11 an entry's own alias never matches another user: that alias is address_taken", () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('bob@example.com')] })] }),
    store({ users: [storeUser('u9', 'bob@example.com', { source: 'manual' })] }),
    settings(),
    NOW,
  );
  const [add] = opsOf(plan, 'add_user');
  assert.deepEqual(add?.aliases, []);
  assert.equal(opsOf(plan, 'update_user').length, 0);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['a1', 'address_taken', 'bob@example.com']]);
});

test('D6 an address match never hijacks a user whose anchor is present in this read', () => {
  // u1 is anchored to a1, which is in the read with a new address; a2 now shows u1's old primary.
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'new@example.com'), dirUser('a2', 'ann@example.com')] }),
    store({ users: [storeUser('u1', 'ann@example.com', { anchor: 'a1' })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'update_user').map((u) => [u.userId, u.set.primary]), [['u1', 'new@example.com']]);
  // u1 releases ann@ in this run, so a2 is added with it.
  assert.deepEqual(opsOf(plan, 'add_user').map((a) => [a.anchor, a.fields.primary]), [['a2', 'ann@example.com']]);
});

test('D6 an address match may pick a user anchored to this connection whose anchor is absent (entry re-created)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a9', 'ann@example.com')] }),
    store({ users: [storeUser('u1', 'ann@example.com', { anchor: 'a1', details: details({ displayName: 'a9' }) })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'update_user')[0]?.set, { anchor: 'a9', dn: userDn('a9') });
  assert.equal(plan.flagCount, 0);
});

test('D6 a user anchored to another connection is never matched: the entry is skipped address_taken', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com')] }),
    store({ users: [storeUser('u1', 'ann@example.com', { anchor: 'zz', connectionId: OTHER_CONN })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, []);
  assert.deepEqual(plan.skipped, [{ anchor: 'a1', dn: userDn('a1'), reason: 'address_taken', value: 'ann@example.com' }]);
  assert.deepEqual(plan.counts.skippedByReason, { address_taken: 1 });
});

test('R12 nothing differs: no op at all, counted unchanged', () => {
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('a@example.com')], details: details({ givenName: 'Ann', surname: 'Lee' }) });
  const u = storeUser('u1', 'ann@example.com', { anchor: 'a1', aliases: [addr('a@example.com')], details: details({ givenName: 'Ann', surname: 'Lee' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops, []);
  assert.equal(plan.counts.unchanged, 1);
  assert.equal(plan.counts.updated, 0);
});

test('R12 update carries only changed columns and their diffs; details are overwritten, empty too', () => {
  const e = dirUser('a1', 'ann@example.com', { details: details({ givenName: 'Ann', mobile: null, department: 'Ops' }), kerberosName: 'ann@EX' });
  const u = storeUser('u1', 'ann@example.com', { anchor: 'a1', details: details({ givenName: 'Ann', mobile: '+1 555', department: 'Sales' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops, [
    {
      op: 'update_user',
      userId: 'u1',
      set: { kerberosName: 'ann@EX', details: details({ givenName: 'Ann', mobile: null, department: 'Ops' }) },
      changes: [
        { field: 'kerberosName', before: null, after: 'ann@EX' },
        { field: 'mobile', before: '+1 555', after: null },
        { field: 'department', before: 'Sales', after: 'Ops' },
      ],
    },
  ]);
});

test('R12 the alias set becomes exactly the qualifying aliases', () => {
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('b@example.com'), addr('c@example.com')] });
  const u = storeUser('u1', 'ann@example.com', { anchor: 'a1', aliases: [addr('a@example.com'), addr('b@example.com')], details: details({ displayName: 'a1' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops, [
    { op: 'remove_alias', userId: 'u1', address: 'a@example.com' },
    { op: 'add_alias', userId: 'u1', address: 'c@example.com' },
  ]);
  assert.equal(plan.counts.aliasesAdded, 1);
  assert.equal(plan.counts.aliasesRemoved, 1);
  assert.equal(plan.counts.updated, 1);
});

test('R13a primary change keeps the user; the old primary stays as an alias when the entry lists it', () => {
  const e = dirUser('a1', 'ann.lee@example.com', { aliases: [addr('ann@example.com')] });
  const u = storeUser('u1', 'ann@example.com', { anchor: 'a1', details: details({ displayName: 'a1' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops, [
    { op: 'update_user', userId: 'u1', set: { primary: addr('ann.lee@example.com') }, changes: [{ field: 'primary', before: 'ann@example.com', after: 'ann.lee@example.com' }] },
    { op: 'add_alias', userId: 'u1', address: 'ann@example.com' },
  ]);
});

test('R13a primary change to an unlisted address drops the old primary entirely', () => {
  const e = dirUser('a1', 'ann.lee@example.com');
  const u = storeUser('u1', 'ann@example.com', { anchor: 'a1', details: details({ displayName: 'a1' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops.map((o) => o.op), ['update_user']);
  assert.equal(plan.counts.aliasesAdded, 0);
});

test('R11 kind change (user ↔ public folder) is an update of the same user', () => {
  const e = dirUser('a1', 'pf@example.com', { kind: 'public_folder' });
  const u = storeUser('u1', 'pf@example.com', { anchor: 'a1', details: details({ displayName: 'a1' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings({ options: { syncPublicFolders: true } }), NOW);
  assert.deepEqual(opsOf(plan, 'update_user')[0]?.set, { kind: 'public_folder' });
});

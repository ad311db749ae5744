import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import { NOW, OTHER_CONN, addr, details, dirGroup, dirUser, opsOf, settings, snapshot, store, storeGroup, storeUser } from './test-fixtures.ts';

const synced = (id: string, anchor: string, primary: string, aliases: string[] = []) =>
  storeUser(id, primary, { anchor, aliases: aliases.map(addr), details: details({ displayName: anchor }) });

test('R13 an alias in an unmanaged domain does not qualify and is reported', () => {
  const plan = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('ann@contoso.onmicrosoft.com'), addr('ann@example.org')] })] }), store(), settings(), NOW);
  assert.deepEqual(opsOf(plan, 'add_user')[0]?.aliases, ['ann@example.org']);
  assert.deepEqual(plan.issues.map((i) => [i.code, i.value]), [['alias_unmanaged_domain', 'ann@contoso.onmicrosoft.com']]);
});

test('R13 alias qualifies once its domain is managed, and is removed when the domain is no longer managed', () => {
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('ann@new.net')] });
  const before = planRun(snapshot({ users: [e] }), store({ users: [synced('u1', 'a1', 'ann@example.com')] }), settings(), NOW);
  assert.deepEqual(before.ops, []);
  const added = planRun(snapshot({ users: [e] }), store({ users: [synced('u1', 'a1', 'ann@example.com')] }), settings({ managedDomains: ['example.com', 'new.net'] }), NOW);
  assert.deepEqual(added.ops, [{ op: 'add_alias', userId: 'u1', address: 'ann@new.net' }]);
  const removed = planRun(snapshot({ users: [e] }), store({ users: [synced('u1', 'a1', 'ann@example.com', ['ann@new.net'])] }), settings(), NOW);
  assert.deepEqual(removed.ops, [{ op: 'remove_alias', userId: 'u1', address: 'ann@new.net' }]);
});

test('R13 an address held by another user that is not released is address_taken', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('sales@example.com')] })] }),
    store({ users: [synced('u1', 'a1', 'ann@example.com'), storeUser('u2', 'sales@example.com', { source: 'manual' })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, []);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['a1', 'address_taken', 'sales@example.com']]);
});

test("R13 a foreign address (another connection's group) is not taken", () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('team@example.com')] })] }),
    store({ foreignAddresses: [{ address: addr('team@example.com'), ownerKind: 'group', connectionId: OTHER_CONN }] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'add_user')[0]?.aliases, []);
  assert.equal(plan.issues[0]?.code, 'address_taken');
});

test('R13 two entries claim one free alias: the entry whose primary sorts first gets it', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('z1', 'zed@example.com', { aliases: [addr('info@example.com')] }), dirUser('a1', 'amy@example.com', { aliases: [addr('info@example.com')] })] }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'add_user').map((a) => [a.anchor, a.aliases]), [['a1', ['info@example.com']], ['z1', []]]);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['z1', 'address_claimed_by_other_entry', 'info@example.com']]);
});

test('R13 two entries claim one alias: the user that already holds it keeps it, even if its primary sorts later', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('z1', 'zed@example.com', { aliases: [addr('info@example.com')] }), dirUser('a1', 'amy@example.com', { aliases: [addr('info@example.com')] })] }),
    store({ users: [synced('u1', 'z1', 'zed@example.com', ['info@example.com']), synced('u2', 'a1', 'amy@example.com')] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, []);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code]), [['a1', 'address_claimed_by_other_entry']]);
});

test('R13 an alias moves between two entries in one run (released by its holder)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com'), dirUser('b1', 'bob@example.com', { aliases: [addr('help@example.com')] })] }),
    store({ users: [synced('u1', 'a1', 'ann@example.com', ['help@example.com']), synced('u2', 'b1', 'bob@example.com')] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, [
    { op: 'remove_alias', userId: 'u1', address: 'help@example.com' },
    { op: 'add_alias', userId: 'u2', address: 'help@example.com' },
  ]);
  assert.deepEqual(plan.issues, []);
});

test('R13 a swap of aliases between two entries works in one run', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('y@example.com')] }), dirUser('b1', 'bob@example.com', { aliases: [addr('x@example.com')] })] }),
    store({ users: [synced('u1', 'a1', 'ann@example.com', ['x@example.com']), synced('u2', 'b1', 'bob@example.com', ['y@example.com'])] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops, [
    { op: 'remove_alias', userId: 'u1', address: 'x@example.com' },
    { op: 'remove_alias', userId: 'u2', address: 'y@example.com' },
    { op: 'add_alias', userId: 'u1', address: 'y@example.com' },
    { op: 'add_alias', userId: 'u2', address: 'x@example.com' },
  ]);
  assert.deepEqual(plan.issues, []);
});

test('R13a a swap of primaries between two entries is two updates', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'b@example.com'), dirUser('b1', 'a@example.com')] }),
    store({ users: [synced('u1', 'a1', 'a@example.com'), synced('u2', 'b1', 'b@example.com')] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'update_user').map((u) => [u.userId, u.set.primary]), [['u1', 'b@example.com'], ['u2', 'a@example.com']]);
  assert.equal(plan.skipped.length, 0);
});

test('R13 a primary held by a user that is not released: entry skipped address_taken, and its synced user flagged (R15)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'boss@example.com')] }),
    store({ users: [synced('u1', 'a1', 'ann@example.com'), storeUser('u2', 'boss@example.com', { source: 'manual' })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.skipped.map((s) => [s.anchor, s.reason, s.value]), [['a1', 'address_taken', 'boss@example.com']]);
  assert.deepEqual(opsOf(plan, 'flag_user').map((f) => [f.userId, f.reason]), [['u1', 'address_taken']]);
});

test('R13 a skipped entry keeps what its user holds: the alias it dropped cannot go to another entry (cascade)', () => {
  // a1 changes primary to a taken address and drops help@; b1 asks for help@. a1 is skipped, u1 is
  // flagged and keeps help@, so b1 must not get it.
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'boss@example.com'), dirUser('b1', 'bob@example.com', { aliases: [addr('help@example.com')] })] }),
    store({
      users: [synced('u1', 'a1', 'ann@example.com', ['help@example.com']), synced('u2', 'b1', 'bob@example.com'), storeUser('u3', 'boss@example.com', { source: 'manual' })],
    }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'add_alias'), []);
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['b1', 'address_taken', 'help@example.com']]);
});

test('R13 two new entries with the same primary: the first anchor gets it, the other is skipped', () => {
  const plan = planRun(snapshot({ users: [dirUser('b1', 'dup@example.com'), dirUser('a1', 'dup@example.com')] }), store(), settings(), NOW);
  assert.deepEqual(opsOf(plan, 'add_user').map((a) => a.anchor), ['a1']);
  assert.deepEqual(plan.skipped.map((s) => [s.anchor, s.reason]), [['b1', 'address_taken']]);
});

test('R30 an excepted alias is never attached, and is removed from an ldap user', () => {
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('ceo@example.com'), addr('a@example.com')] });
  const s = settings({ exceptions: { aliases: [addr('ceo@example.com')] } });
  const fresh = planRun(snapshot({ users: [e] }), store(), s, NOW);
  assert.deepEqual(opsOf(fresh, 'add_user')[0]?.aliases, ['a@example.com']);
  assert.deepEqual(fresh.issues.map((i) => [i.code, i.value]), [['alias_excepted', 'ceo@example.com']]);
  const existing = planRun(snapshot({ users: [e] }), store({ users: [synced('u1', 'a1', 'ann@example.com', ['a@example.com', 'ceo@example.com'])] }), s, NOW);
  assert.deepEqual(existing.ops, [{ op: 'remove_alias', userId: 'u1', address: 'ceo@example.com' }]);
});

test('R13 groups share the address space: users are settled first, a group gets only a free address', () => {
  const plan = planRun(
    snapshot({
      users: [dirUser('a1', 'ann@example.com', { aliases: [addr('team@example.com')] })],
      groups: [dirGroup('g1', [], { address: addr('team@example.com') }), dirGroup('g2', [], { address: addr('sales@example.com') })],
    }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'add_user')[0]?.aliases, ['team@example.com']);
  assert.deepEqual(opsOf(plan, 'upsert_group').map((g) => [g.anchor, g.address]), [['g1', null], ['g2', 'sales@example.com']]);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['g1', 'address_taken', 'team@example.com']]);
});

test('R13 a stored group still in the read keeps its address against a user; a removed group releases it', () => {
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('team@example.com')] });
  const st = store({ users: [synced('u1', 'a1', 'ann@example.com')], groups: [storeGroup('G1', 'g1', { address: addr('team@example.com') })] });
  const kept = planRun(snapshot({ users: [e], groups: [dirGroup('g1', [], { address: addr('team@example.com') })] }), st, settings(), NOW);
  assert.deepEqual(kept.ops, []);
  assert.deepEqual(kept.issues.map((i) => [i.anchor, i.code]), [['a1', 'address_taken']]);
  const gone = planRun(snapshot({ users: [e] }), st, settings(), NOW);
  assert.deepEqual(gone.ops, [
    { op: 'remove_group', groupId: 'G1', anchor: 'g1' },
    { op: 'add_alias', userId: 'u1', address: 'team@example.com' },
  ]);
});

test('R13 two groups claim one address: the group holding it keeps it, else the first anchor', () => {
  const groups = [dirGroup('g1', [], { address: addr('all@example.com') }), dirGroup('g2', [], { address: addr('all@example.com') })];
  const fresh = planRun(snapshot({ groups }), store(), settings(), NOW);
  assert.deepEqual(opsOf(fresh, 'upsert_group').map((g) => [g.anchor, g.address]), [['g1', 'all@example.com'], ['g2', null]]);
  const held = planRun(snapshot({ groups }), store({ groups: [storeGroup('G1', 'g1'), storeGroup('G2', 'g2', { address: addr('all@example.com') })] }), settings(), NOW);
  assert.deepEqual(held.ops, []); // both stored as they should be: nothing to write
  assert.deepEqual(held.issues.map((i) => [i.anchor, i.code]), [['g1', 'address_claimed_by_other_entry']]);
});

test('R17 after a domain stops being managed: its entries are skipped, its aliases leave ldap users, manual users keep theirs (R14)', () => {
  const s = settings({ managedDomains: ['example.com'] }); // example.org removed by the admin action
  const plan = planRun(
    snapshot({
      users: [
        dirUser('a1', 'ann@example.com', { aliases: [addr('ann@example.org')] }),
        dirUser('b1', 'bob@example.org'),
        dirUser('m1', 'max@example.com', { aliases: [addr('max@example.org')] }),
      ],
    }),
    store({
      users: [
        synced('u1', 'a1', 'ann@example.com', ['ann@example.org']),
        storeUser('u3', 'max@example.com', { source: 'manual', aliases: [addr('max@example.org')], anchor: 'm1', connectionId: 'conn-1', dn: 'uid=m1,ou=people,dc=example,dc=com', details: details({ displayName: 'm1' }) }),
      ],
    }),
    s,
    NOW,
  );
  assert.deepEqual(plan.ops, [{ op: 'remove_alias', userId: 'u1', address: 'ann@example.org' }]);
  assert.deepEqual(plan.skipped.map((x) => [x.anchor, x.reason, x.value]), [['b1', 'unmanaged_domain', 'bob@example.org']]);
});

/**
 * R51: two connections of one tenant yield the same address — the connection with the lower priority
 * number wins. (The finding R63 asks for is made from these plans' issues by src/store/duplicates.ts.)
 * This run's connection is CONN (priority 1 in `ranked`), the other OTHER_CONN.
 */
import { test, assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import { CONN, NOW, OTHER_CONN, addr, details, dirUser, opsOf, settings, snapshot, store, storeUser } from './test-fixtures.ts';

const ranked = (mine: number, other: number) => settings({ connectionPriority: mine, connectionPriorities: { [CONN]: mine, [OTHER_CONN]: other } });
const ofOther = (id: string, primary: string, aliases: string[] = [], over = {}) =>
  storeUser(id, primary, { connectionId: OTHER_CONN, anchor: `b-${id}`, aliases: aliases.map(addr), details: details({ displayName: id }), ...over });

test('R51 an alias held by a user of a lower-priority connection moves to this higher-priority entry', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('sales@example.com')] })] }),
    store({ users: [ofOther('u2', 'bob@example.com', ['sales@example.com'])] }),
    ranked(1, 2),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'remove_alias'), [{ op: 'remove_alias', userId: 'u2', address: 'sales@example.com' }]);
  assert.deepEqual(opsOf(plan, 'add_user')[0]?.aliases, ['sales@example.com']);
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['a1', 'address_won_by_priority', 'sales@example.com']]);
  assert.equal(plan.counts.aliasesRemoved, 1);
});

test('R51 the same alias claimed by a lower-priority connection stays with the higher-priority holder (address_taken)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('sales@example.com')] })] }),
    store({ users: [ofOther('u2', 'bob@example.com', ['sales@example.com'])] }),
    ranked(2, 1),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  assert.deepEqual(opsOf(plan, 'add_user')[0]?.aliases, []);
  assert.deepEqual(plan.issues.map((i) => [i.code, i.value]), [['address_taken', 'sales@example.com']]);
});

test('R51 equal priorities: the holder keeps the address (R13)', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('sales@example.com')] })] }),
    store({ users: [ofOther('u2', 'bob@example.com', ['sales@example.com'])] }),
    ranked(1, 1),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  assert.equal(plan.issues[0]?.code, 'address_taken');
});

test('R51 a primary held by a user of a lower-priority connection: the entry takes the user over (rules and archive kept)', () => {
  const plan = planRun(snapshot({ users: [dirUser('a1', 'bob@example.com')] }), store({ users: [ofOther('u2', 'bob@example.com')] }), ranked(1, 5), NOW);
  assert.equal(opsOf(plan, 'add_user').length, 0);
  const upd = opsOf(plan, 'update_user');
  assert.equal(upd.length, 1);
  assert.equal(upd[0]?.userId, 'u2');
  assert.equal(upd[0]?.set.connectionId, CONN);
  assert.equal(upd[0]?.set.anchor, 'a1');
  assert.deepEqual(plan.issues.map((i) => [i.anchor, i.code, i.value]), [['a1', 'user_taken_over', 'bob@example.com']]);
});

test('R51 a primary held by a user of a higher-priority connection: the entry is skipped address_taken, nothing changes', () => {
  const plan = planRun(snapshot({ users: [dirUser('a1', 'bob@example.com')] }), store({ users: [ofOther('u2', 'bob@example.com')] }), ranked(5, 1), NOW);
  assert.deepEqual(plan.ops, []);
  assert.deepEqual(plan.skipped.map((s) => [s.anchor, s.reason, s.value]), [['a1', 'address_taken', 'bob@example.com']]);
});

test('R51/D6 a user pending deletion in another connection is picked up and restored, whatever the priorities', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'bob@example.com')] }),
    store({ users: [ofOther('u2', 'bob@example.com', [], { source: 'ldap', state: 'pending_deletion', accessEnabled: false, flagReason: 'missing', flaggedAt: NOW, deleteAfter: NOW })] }),
    ranked(5, 1),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'restore_user').map((o) => o.userId), ['u2']);
  assert.equal(opsOf(plan, 'update_user')[0]?.set.connectionId, CONN);
});

test('R51 a deactivated user of a lower-priority connection is never touched (R22): its alias stays', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('sales@example.com')] })] }),
    store({ users: [ofOther('u2', 'bob@example.com', ['sales@example.com'], { state: 'deactivated' })] }),
    ranked(1, 2),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  assert.equal(plan.issues[0]?.code, 'address_taken');
});

test('R51 without connection priorities (older callers) nothing yields', () => {
  const plan = planRun(snapshot({ users: [dirUser('a1', 'bob@example.com')] }), store({ users: [ofOther('u2', 'bob@example.com')] }), settings(), NOW);
  assert.deepEqual(plan.ops, []);
  assert.equal(plan.skipped[0]?.reason, 'address_taken');
});

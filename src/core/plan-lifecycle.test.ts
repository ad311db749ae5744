import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import type { DirUser, StoreUser } from './model.ts';
import { CONN, NOW, OTHER_CONN, addr, details, dirGroup, dirUser, groupDn, opsOf, settings, snapshot, store, storeUser, userDn } from './test-fixtures.ts';

const synced = (id: string, anchor: string, primary: string, over: Partial<StoreUser> = {}) =>
  storeUser(id, primary, { anchor, details: details({ displayName: anchor }), ...over });
const flagsOf = (users: DirUser[], st: StoreUser[], s = settings()) =>
  opsOf(planRun(snapshot({ users }), store({ users: st }), s, NOW), 'flag_user').map((f) => [f.userId, f.reason]);

test('R6 one skip reason per entry, in precedence order, with counts', () => {
  const users = [
    dirUser('p1', 'pf@example.com', { kind: 'public_folder', disabled: true }),
    dirUser('d1', 'dis@example.com', { disabled: true }),
    dirUser('n1', null),
    dirUser('i1', null, { primaryInvalid: true, issues: [{ code: 'invalid_address', value: 'bad@@x' }] }),
    dirUser('u1', 'out@elsewhere.net'),
    dirUser('e1', null, { disabled: false }),
  ];
  const plan = planRun(snapshot({ users }), store(), settings({ exceptions: { userAnchors: ['e1'] } }), NOW);
  assert.deepEqual(
    plan.skipped.map((s) => [s.anchor, s.reason, s.value]),
    [
      ['d1', 'disabled', null],
      ['e1', 'excepted', null],
      ['i1', 'invalid_address', 'bad@@x'],
      ['n1', 'no_address', null],
      ['p1', 'public_folder_not_synced', null],
      ['u1', 'unmanaged_domain', 'out@elsewhere.net'],
    ],
  );
  assert.deepEqual(plan.counts.skippedByReason, { public_folder_not_synced: 1, disabled: 1, excepted: 1, invalid_address: 1, no_address: 1, unmanaged_domain: 1 });
  assert.equal(plan.counts.skipped, 6);
  assert.equal(plan.counts.eligible, 0);
  assert.deepEqual(plan.ops, []);
});

test('R3 options: disabled users and public folders sync when their options are on', () => {
  const users = [dirUser('d1', 'room@example.com', { disabled: true }), dirUser('p1', 'pf@example.com', { kind: 'public_folder' })];
  const plan = planRun(snapshot({ users }), store(), settings({ options: { syncDisabledUsers: true, syncPublicFolders: true } }), NOW);
  assert.deepEqual(opsOf(plan, 'add_user').map((a) => [a.anchor, a.fields.kind]), [['d1', 'user'], ['p1', 'public_folder']]);
});

test('R15 a missing synced ldap user is flagged with now and now + delay', () => {
  const plan = planRun(snapshot(), store({ users: [synced('u1', 'a1', 'ann@example.com')] }), settings({ deletionDelayDays: 14 }), NOW);
  assert.deepEqual(plan.ops, [{ op: 'flag_user', userId: 'u1', reason: 'missing', flaggedAt: NOW, deleteAfter: '2026-12-06T10:00:00.000Z' }]);
  assert.equal(plan.flagCount, 1);
  assert.equal(plan.syncedUserCount, 1);
});

test('R15/R20 a delay of never flags with deleteAfter null', () => {
  const plan = planRun(snapshot(), store({ users: [synced('u1', 'a1', 'ann@example.com')] }), settings({ deletionDelayDays: null }), NOW);
  assert.equal(opsOf(plan, 'flag_user')[0]?.deleteAfter, null);
});

test('R15 flag reasons follow the entry: disabled, excepted, no valid address (none, invalid, unmanaged)', () => {
  const st = ['d', 'x', 'n', 'i', 'u'].map((a, n) => synced(`u${n}`, a, `${a}@example.com`));
  const flags = flagsOf(
    [
      dirUser('d', 'd@example.com', { disabled: true }),
      dirUser('x', 'x@example.com'),
      dirUser('n', null),
      dirUser('i', null, { primaryInvalid: true }),
      dirUser('u', 'u@elsewhere.net'),
    ],
    st,
    settings({ exceptions: { userAnchors: ['x'] } }),
  );
  assert.deepEqual(flags, [['u0', 'disabled'], ['u1', 'excepted'], ['u2', 'no_valid_address'], ['u3', 'no_valid_address'], ['u4', 'no_valid_address']]);
});

test('R15 only users of this connection, active, source ldap are flagged: manual, smtp, other connections, pending, deactivated are not', () => {
  const flags = flagsOf([], [
    synced('u1', 'a1', 'a@example.com'),
    synced('u2', 'a2', 'b@example.com', { source: 'manual' }),
    synced('u3', 'a3', 'c@example.com', { source: 'smtp' }),
    synced('u4', 'a4', 'd@example.com', { connectionId: OTHER_CONN }),
    synced('u5', 'a5', 'e@example.com', { state: 'pending_deletion', flagReason: 'missing', flaggedAt: '2026-11-01T00:00:00.000Z' }),
    synced('u6', 'a6', 'f@example.com', { state: 'deactivated', source: 'manual' }),
  ]);
  assert.deepEqual(flags, [['u1', 'missing']]);
});

test('R15/R16 disabled → flag; still disabled → no op; re-enabled → restore', () => {
  const e = dirUser('a1', 'ann@example.com');
  const u = synced('u1', 'a1', 'ann@example.com');
  const first = planRun(snapshot({ users: [{ ...e, disabled: true }] }), store({ users: [u] }), settings(), NOW);
  const [flag] = opsOf(first, 'flag_user');
  assert.equal(flag?.reason, 'disabled');
  const pending: StoreUser = { ...u, state: 'pending_deletion', accessEnabled: false, flagReason: 'disabled', flaggedAt: NOW, deleteAfter: flag?.deleteAfter ?? null };
  const again = planRun(snapshot({ users: [{ ...e, disabled: true }] }), store({ users: [pending] }), settings(), '2026-11-23T10:00:00.000Z');
  assert.deepEqual(again.ops, []);
  const back = planRun(snapshot({ users: [e] }), store({ users: [pending] }), settings(), '2026-11-24T10:00:00.000Z');
  assert.deepEqual(back.ops, [{ op: 'restore_user', userId: 'u1' }]);
  assert.equal(back.counts.restored, 1);
  assert.equal(back.counts.updated, 1);
  assert.equal(back.syncedUserCount, 0);
});

test('R16 a restored user also gets its updates', () => {
  const u = synced('u1', 'a1', 'ann@example.com', { state: 'pending_deletion', flagReason: 'missing' });
  const plan = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com', { dn: 'uid=a1,ou=new,dc=example,dc=com' })] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops.map((o) => o.op), ['update_user', 'restore_user']);
});

test('R18 unanchored ldap users are flagged only when flagUnanchored, and never when matched', () => {
  const users = [storeUser('u1', 'old@example.com'), storeUser('u2', 'kept@example.com'), storeUser('u3', 'man@example.com', { source: 'manual' })];
  const entries = [dirUser('k1', 'kept@example.com')];
  assert.deepEqual(flagsOf(entries, users), []);
  assert.deepEqual(flagsOf(entries, users, settings({ flagUnanchored: true })), [['u1', 'unanchored']]);
});

test('R30 an excepted group excludes its members transitively, cycles included, and out-of-scope excepted groups count (D8)', () => {
  const users = ['a', 'b', 'c', 'd', 'e'].map((x) => dirUser(x, `${x}@example.com`));
  const groups = [
    dirGroup('g1', [userDn('a'), groupDn('g2')]),
    dirGroup('g2', [userDn('b'), groupDn('g1')]), // cycle g1 ↔ g2
    dirGroup('g3', [userDn('e')]),
  ];
  const outOfScope = [dirGroup('gx', [userDn('c'), 'CN=G3 , OU=Groups,DC=Example,DC=Com'])];
  const plan = planRun(
    snapshot({ users, groups, exceptedGroupsOutOfScope: outOfScope }),
    store(),
    settings({ exceptions: { groupAnchors: ['g1', 'gx'] } }),
    NOW,
  );
  assert.deepEqual(plan.skipped.map((s) => [s.anchor, s.reason]), [['a', 'excepted'], ['b', 'excepted'], ['c', 'excepted'], ['e', 'excepted']]);
  assert.deepEqual(opsOf(plan, 'add_user').map((a) => a.anchor), ['d']);
  // The excepted groups themselves (g1, g2 and g3 nested in gx) are not part of the snapshot.
  assert.deepEqual(opsOf(plan, 'upsert_group'), []);
});

test('R30 an excepted synced user is flagged excepted', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a1', 'ann@example.com')], groups: [dirGroup('vip', [userDn('a1')])] }),
    store({ users: [synced('u1', 'a1', 'ann@example.com')] }),
    settings({ exceptions: { groupAnchors: ['vip'] } }),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'flag_user').map((f) => f.reason), ['excepted']);
});

test('R31/D4 a listed addition is never flagged, absent or not', () => {
  const u = storeUser('u1', 'add@example.com', { source: 'addition', connectionId: CONN });
  const plan = planRun(snapshot(), store({ users: [u] }), settings({ additions: [addr('add@example.com')], flagUnanchored: true }), NOW);
  assert.deepEqual(plan.ops, []);
});

test('R31/D4 a listed addition found in the directory is linked and updated, keeping source addition', () => {
  const u = storeUser('u1', 'add@example.com', { source: 'addition', connectionId: CONN });
  const e = dirUser('a1', 'add@example.com', { aliases: [addr('x@example.com')], details: details({ givenName: 'Al' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings({ additions: [addr('add@example.com')] }), NOW);
  const [upd] = opsOf(plan, 'update_user');
  assert.deepEqual(upd?.set, { anchor: 'a1', dn: userDn('a1'), details: details({ givenName: 'Al' }) });
  assert.ok(!('source' in (upd?.set ?? {})));
  assert.deepEqual(opsOf(plan, 'add_alias').map((a) => a.address), ['x@example.com']);
});

test('R31/D4 an addition off the list: flagged removed_from_additions when absent, missing when linked', () => {
  const off = storeUser('u1', 'add@example.com', { source: 'addition', connectionId: CONN });
  const turned = storeUser('u2', 'add2@example.com', { source: 'ldap', connectionId: CONN });
  const linked = synced('u3', 'a3', 'add3@example.com', { source: 'addition' });
  assert.deepEqual(flagsOf([], [off, turned, linked]), [['u1', 'removed_from_additions'], ['u2', 'removed_from_additions'], ['u3', 'removed_from_additions']]);
  const present = flagsOf([dirUser('a3', 'add3@example.com', { disabled: true })], [linked]);
  assert.deepEqual(present, [['u3', 'disabled']]);
});

test('R14/D10 a manual user matched by primary: non-empty details overwrite, aliases added, source and primary kept, never flagged', () => {
  const u = storeUser('u1', 'ann@example.com', {
    source: 'manual',
    aliases: [addr('mine@example.com')],
    details: details({ givenName: 'Ann', mobile: '+1 555', notes: 'vip' }),
  });
  const e = dirUser('a1', 'ann@example.com', { aliases: [addr('a@example.com')], details: details({ givenName: 'Anne', mobile: null, department: 'Ops' }) });
  const plan = planRun(snapshot({ users: [e] }), store({ users: [u] }), settings(), NOW);
  const [upd] = opsOf(plan, 'update_user');
  assert.deepEqual(upd?.set, {
    connectionId: CONN,
    anchor: 'a1',
    dn: userDn('a1'),
    details: details({ givenName: 'Anne', mobile: '+1 555', notes: 'vip', department: 'Ops' }),
  });
  assert.deepEqual(opsOf(plan, 'add_alias').map((a) => a.address), ['a@example.com']);
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  // Next run: the entry disappears; the (now linked) manual user is never flagged.
  const linked: StoreUser = { ...u, connectionId: CONN, anchor: 'a1', dn: userDn('a1') };
  assert.deepEqual(planRun(snapshot(), store({ users: [linked] }), settings(), NOW).ops, []);
});

test('R14/D6 a manual user matched by alias keeps its primary; the entry primary becomes an alias', () => {
  const u = storeUser('u1', 'boss@example.com', { source: 'smtp', aliases: [addr('ann@example.com')], details: details({ displayName: 'a1' }) });
  const plan = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('al@example.com')] })] }), store({ users: [u] }), settings(), NOW);
  const [upd] = opsOf(plan, 'update_user');
  assert.equal(upd?.set.primary, undefined);
  assert.deepEqual(opsOf(plan, 'remove_alias'), []);
  assert.deepEqual(opsOf(plan, 'add_alias').map((a) => a.address), ['al@example.com']);
  // Linked now: the next run matches by anchor and still does not touch the primary.
  const next = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com', { aliases: [addr('al@example.com')] })] }), store({ users: [{ ...u, aliases: [addr('al@example.com'), addr('ann@example.com')], connectionId: CONN, anchor: 'a1', dn: userDn('a1') }] }), settings(), NOW);
  assert.deepEqual(next.ops, []);
});

test('R22 a deactivated user matched by its entry is never touched', () => {
  const u = synced('u1', 'a1', 'ann@example.com', { source: 'manual', state: 'deactivated', accessEnabled: false });
  const plan = planRun(snapshot({ users: [dirUser('a1', 'ann@example.com', { details: details({ givenName: 'New' }) })] }), store({ users: [u] }), settings(), NOW);
  assert.deepEqual(plan.ops, []);
  assert.equal(plan.counts.unchanged, 1);
});

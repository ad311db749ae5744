/**
 * Properties of planRun over many random small tenants (seeded, reproducible): determinism under
 * shuffled inputs, address uniqueness after applying the plan in its documented order (R13), and
 * consistent counts (R52).
 */
import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import type { Address, DirUser, Plan, StoreState, StoreUser, UserSource, UserState } from './model.ts';
import { CONN, NOW, OTHER_CONN, addr, details, dirGroup, dirUser, rng, settings, snapshot, store, storeGroup, storeUser, userDn } from './test-fixtures.ts';


function shuffle<T>(items: readonly T[], r: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

const POOL = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => addr(`${x}@example.com`)).concat([addr('x@unmanaged.net'), addr('y@example.org')]);

function scenario(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const anchors = ['e1', 'e2', 'e3', 'e4', 'e5'];
  const users: DirUser[] = [];
  for (const anchor of anchors.slice(0, Math.floor(r() * 6))) {
    const primary = r() < 0.1 ? null : pick(POOL);
    const aliases = [...new Set(POOL.filter(() => r() < 0.2))].filter((a) => a !== primary).sort();
    users.push(dirUser(anchor, primary, { aliases, disabled: r() < 0.15, details: details({ displayName: r() < 0.5 ? anchor : 'changed' }) }));
  }
  const free = shuffle(POOL, r);
  const take = (): Address | undefined => free.pop();
  const storeUsers: StoreUser[] = [];
  for (let i = 0; i < Math.floor(r() * 6); i++) {
    const primary = take();
    if (primary === undefined) break;
    const aliases: Address[] = [];
    if (r() < 0.4) {
      const a = take();
      if (a !== undefined) aliases.push(a);
    }
    const source = pick<UserSource>(['ldap', 'ldap', 'ldap', 'manual', 'smtp', 'addition']);
    const state = pick<UserState>(['active', 'active', 'active', 'pending_deletion', 'deactivated']);
    const anchor = r() < 0.6 ? pick([...anchors, 'gone']) : null;
    const conn = anchor === null ? null : r() < 0.85 ? CONN : OTHER_CONN;
    storeUsers.push(storeUser(`u${i}`, primary, { source, state, anchor, connectionId: conn, aliases: aliases.sort(), dn: anchor === null ? null : userDn(anchor), details: details({ displayName: anchor }) }));
  }
  // Anchors are unique per connection in a real store.
  const seen = new Set<string>();
  const uniqueUsers = storeUsers.filter((u) => {
    const key = `${u.connectionId}/${u.anchor}`;
    if (u.anchor === null) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const groups = ['g1', 'g2'].slice(0, Math.floor(r() * 3)).map((g) => dirGroup(g, users.filter(() => r() < 0.5).map((u) => u.dn), { address: r() < 0.6 ? pick(POOL) : null }));
  const storeGroups = ['g1', 'g2', 'g3'].filter(() => r() < 0.4).map((g) => storeGroup(`G${g}`, g, { address: r() < 0.5 ? (take() ?? null) : null }));
  const foreign = r() < 0.3 ? [take()].filter((a): a is Address => a !== undefined).map((address) => ({ address, ownerKind: 'group' as const, connectionId: OTHER_CONN })) : [];
  return {
    snap: snapshot({ users, groups }),
    st: store({ users: uniqueUsers, groups: storeGroups, foreignAddresses: foreign }),
    // R51: a third of the tenants rank the other connection lower, a third higher, a third not at all.
    s: settings({
      additions: r() < 0.5 ? [POOL[0] as Address] : [], flagUnanchored: r() < 0.5, exceptions: { aliases: r() < 0.3 ? [POOL[1] as Address] : [] },
      ...(() => { const k = r(); return k < 1 / 3 ? { connectionPriorities: { [CONN]: 1, [OTHER_CONN]: 2 } } : k < 2 / 3 ? { connectionPriorities: { [CONN]: 1, [OTHER_CONN]: 0 } } : {}; })(),
    }),
  };
}

/** Applies a plan to an address registry the way the store does (batches in plan order), failing on any clash. */
function applyAddresses(plan: Plan, st: StoreState): Map<Address, string> {
  const owner = new Map<Address, string>();
  const put = (a: Address, who: string) => {
    const held = owner.get(a);
    assert.ok(held === undefined, `address ${a} inserted for ${who} while held by ${held}`);
    owner.set(a, who);
  };
  const primaryOf = new Map<string, Address>();
  for (const u of st.users) {
    put(u.primary, `user:${u.id}`);
    primaryOf.set(u.id, u.primary);
    for (const a of u.aliases) put(a, `user:${u.id}`);
  }
  for (const g of st.groups) if (g.address !== null) put(g.address, `group:${g.anchor}`);
  for (const f of st.foreignAddresses) put(f.address, 'foreign');
  const groupAddr = new Map(st.groups.map((g) => [g.anchor, g.address]));
  for (const op of plan.ops) if (op.op === 'remove_alias') owner.delete(op.address);
  for (const op of plan.ops) if (op.op === 'remove_group') { const a = groupAddr.get(op.anchor); if (a) owner.delete(a); }
  const updates = plan.ops.filter((o) => o.op === 'update_user' && o.set.primary !== undefined);
  for (const op of updates) if (op.op === 'update_user') owner.delete(primaryOf.get(op.userId) as Address);
  for (const op of updates) if (op.op === 'update_user') put(op.set.primary as Address, `user:${op.userId}`);
  // Like the store: old address rows of every upserted group go before any group insert.
  for (const op of plan.ops) if (op.op === 'upsert_group') { const a = groupAddr.get(op.anchor); if (a) owner.delete(a); }
  for (const op of plan.ops) {
    if (op.op === 'add_user') {
      put(op.fields.primary, `new:${op.anchor}`);
      for (const a of op.aliases) put(a, `new:${op.anchor}`);
    } else if (op.op === 'add_alias') put(op.address, `user:${op.userId}`);
    else if (op.op === 'upsert_group' && op.address !== null) put(op.address, `group:${op.anchor}`);
  }
  return owner;
}

test('R13 property: applying any plan in its order never puts one address on two objects (400 random tenants)', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const { snap, st, s } = scenario(seed);
    const plan = planRun(snap, st, s, NOW);
    assert.doesNotThrow(() => applyAddresses(plan, st), `seed ${seed}`);
  }
});

test('R19 property: the plan is deterministic under shuffled inputs (400 random tenants × 3 shuffles)', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const { snap, st, s } = scenario(seed);
    const expected = planRun(snap, st, s, NOW);
    const r = rng(seed * 7919);
    for (let k = 0; k < 3; k++) {
      const snap2 = { ...snap, users: shuffle(snap.users, r), groups: shuffle(snap.groups, r).map((g) => ({ ...g, memberDns: shuffle(g.memberDns, r) })) };
      const st2 = { ...st, users: shuffle(st.users, r), groups: shuffle(st.groups, r), foreignAddresses: shuffle(st.foreignAddresses, r) };
      assert.deepEqual(planRun(snap2, st2, s, NOW), expected, `seed ${seed} shuffle ${k}`);
    }
  }
});

test('R52 property: counts agree with ops and skipped entries; deactivated users are never touched', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const { snap, st, s } = scenario(seed);
    const plan = planRun(snap, st, s, NOW);
    const c = plan.counts;
    const n = (k: string) => plan.ops.filter((o) => o.op === k).length;
    assert.equal(c.read, snap.users.length, `seed ${seed}`);
    assert.equal(c.skipped, plan.skipped.length, `seed ${seed}`);
    assert.equal(c.eligible, c.read - c.skipped, `seed ${seed}`);
    assert.equal(c.eligible, c.added + c.updated + c.unchanged, `seed ${seed}`);
    assert.equal(c.added, n('add_user'), `seed ${seed}`);
    assert.equal(c.flagged, n('flag_user'), `seed ${seed}`);
    assert.equal(plan.flagCount, c.flagged, `seed ${seed}`);
    assert.equal(c.restored, n('restore_user'), `seed ${seed}`);
    assert.equal(c.aliasesRemoved, n('remove_alias'), `seed ${seed}`);
    assert.equal(Object.values(c.skippedByReason).reduce((x, y) => x + y, 0), c.skipped, `seed ${seed}`);
    const deactivated = new Set(st.users.filter((u) => u.state === 'deactivated').map((u) => u.id));
    for (const op of plan.ops) if ('userId' in op) assert.ok(!deactivated.has(op.userId), `seed ${seed}: ${op.op} on deactivated`);
    const flagged = new Set(plan.ops.filter((o) => o.op === 'flag_user').map((o) => ('userId' in o ? o.userId : '')));
    for (const u of st.users) {
      if (flagged.has(u.id)) assert.ok(u.state === 'active' && (u.source === 'ldap' || u.source === 'addition'), `seed ${seed}: ${u.id}`);
    }
  }
});

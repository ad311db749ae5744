import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { guardPlan } from './guards.ts';
import type { Plan } from './model.ts';
import { planRun } from './plan.ts';
import { NOW, dirUser, settings, snapshot, store, storeUser } from './test-fixtures.ts';

function plan(flagCount: number, syncedUserCount: number, eligible = 1): Plan {
  return {
    tenantId: 't',
    connectionId: 'c',
    now: NOW,
    ops: [],
    skipped: [],
    issues: [],
    counts: { read: eligible, eligible, added: 0, updated: 0, unchanged: eligible, aliasesAdded: 0, aliasesRemoved: 0, flagged: flagCount, restored: 0, removed: 0, skipped: 0, skippedByReason: {}, groups: 0, contacts: 0 },
    flagCount,
    syncedUserCount,
  };
}

test('R41 defaults: hold only when more than 10 AND more than 5 % are flagged', () => {
  const cases: [number, number, boolean][] = [
    [10, 100, false], // 10 is not more than 10
    [11, 100, true], // 11 > 10 and 11 % > 5 %
    [11, 220, false], // exactly 5 % is not more than 5 %
    [12, 220, true],
    [50, 10_000, false], // 0.5 %
    [0, 0, false],
  ];
  for (const [flagged, synced, hold] of cases) assert.equal(guardPlan(plan(flagged, synced)).hold, hold, `${flagged}/${synced}`);
});

test('R41 more than 500 always holds, whatever the percentage', () => {
  assert.equal(guardPlan(plan(500, 1_000_000)).hold, false);
  const r = guardPlan(plan(501, 1_000_000));
  assert.equal(r.hold, true);
  assert.equal(r.code, 'mass_deletion');
  assert.match(r.reason ?? '', /501 of 1000000/);
});

test('R41 zero eligible users while the store holds users of this connection holds', () => {
  const r = guardPlan(plan(0, 3, 0));
  assert.deepEqual([r.hold, r.code], [true, 'no_eligible_users']);
  assert.equal(guardPlan(plan(0, 0, 0)).hold, false); // a first run on an empty connection
});

test('R41 a connection threshold overrides the defaults', () => {
  assert.equal(guardPlan(plan(3, 10), { count: 2, percent: 10 }).hold, true);
  assert.equal(guardPlan(plan(3, 100), { count: 2, percent: 10 }).hold, false);
  assert.equal(guardPlan(plan(20, 20), { absolute: 19, count: 1000 }).hold, true);
  assert.deepEqual(guardPlan(plan(1, 100)), { hold: false, code: null, reason: null });
});

test('R41 end to end: a directory that lost most users holds the plan planRun made', () => {
  const users = Array.from({ length: 40 }, (_, i) => storeUser(`u${i}`, `u${i}@example.com`, { anchor: `a${i}` }));
  const p = planRun(snapshot({ users: [dirUser('a0', 'u0@example.com')] }), store({ users }), settings(), NOW);
  assert.equal(p.flagCount, 39);
  assert.equal(guardPlan(p).hold, true);
  const empty = planRun(snapshot(), store({ users }), settings(), NOW);
  assert.equal(guardPlan(empty).code, 'no_eligible_users');
});

/**
 * A 100,000-entry synthetic run: the plan completes with exact counts (the time is printed as a
 * diagnostic, not asserted — machines differ).
 */
import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import type { DirGroup, DirUser, StoreUser } from './model.ts';
import { NOW, addr, details, dirGroup, dirUser, settings, snapshot, store, storeUser } from './test-fixtures.ts';

const N = 100_000;
const STORED = 90_000;
const GONE = 1_000;
const pad = (i: number) => String(i).padStart(6, '0');

test('R52 scale: a 100,000-entry read plans in one pass with exact counts', (t) => {
  const entries: DirUser[] = [];
  const users: StoreUser[] = [];
  for (let i = 0; i < N; i++) {
    const anchor = `e${pad(i)}`;
    const domain = i % 100 === 1 ? 'elsewhere.net' : 'example.com';
    const aliases = i % 3 === 0 ? [addr(`alias${i}@example.org`)] : [];
    entries.push(dirUser(anchor, `user${i}@${domain}`, { aliases, disabled: i % 50 === 0, details: details({ displayName: `User ${i}` }) }));
    if (i < STORED) {
      users.push(storeUser(`u${pad(i)}`, `user${i}@${domain}`, { anchor, aliases, details: details({ displayName: i % 10 === 5 ? `Old ${i}` : `User ${i}` }) }));
    }
  }
  for (let j = 0; j < GONE; j++) users.push(storeUser(`x${pad(j)}`, `gone${j}@example.com`, { anchor: `gone${pad(j)}` }));
  const groups: DirGroup[] = [];
  for (let g = 0; g < 1_000; g++) groups.push(dirGroup(`g${pad(g)}`, entries.slice(g * 100, g * 100 + 100).map((e) => e.dn)));

  // Expected counts, from the fixture's own rules.
  let disabled = 0;
  let unmanaged = 0;
  let added = 0;
  let updated = 0;
  let aliasesAdded = 0;
  let flagDisabled = 0;
  let flagNoAddress = 0;
  for (let i = 0; i < N; i++) {
    const isDisabled = i % 50 === 0;
    const isUnmanaged = i % 100 === 1;
    if (isDisabled) disabled++;
    if (isUnmanaged) unmanaged++;
    const eligible = !isDisabled && !isUnmanaged;
    if (i < STORED) {
      if (isDisabled) flagDisabled++;
      if (isUnmanaged) flagNoAddress++;
      if (eligible && i % 10 === 5) updated++;
    } else if (eligible) {
      added++;
      if (i % 3 === 0) aliasesAdded++;
    }
  }
  const eligible = N - disabled - unmanaged;

  const start = performance.now();
  const plan = planRun(snapshot({ users: entries, groups }), store({ users }), settings(), NOW);
  const ms = performance.now() - start;
  t.diagnostic(`planRun over ${N} entries, ${users.length} stored users, ${groups.length} groups: ${ms.toFixed(0)} ms, ${plan.ops.length} ops`);

  assert.deepEqual(plan.counts, {
    read: N,
    eligible,
    added,
    updated,
    unchanged: eligible - added - updated,
    aliasesAdded,
    aliasesRemoved: 0,
    flagged: flagDisabled + flagNoAddress + GONE,
    restored: 0,
    removed: 0,
    skipped: disabled + unmanaged,
    skippedByReason: { disabled, unmanaged_domain: unmanaged },
    groups: 1_000,
    contacts: 0,
  });
  assert.equal(plan.flagCount, flagDisabled + flagNoAddress + GONE);
  assert.equal(plan.syncedUserCount, STORED + GONE);
  const reasons = new Map<string, number>();
  for (const op of plan.ops) if (op.op === 'flag_user') reasons.set(op.reason, (reasons.get(op.reason) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(reasons), { disabled: flagDisabled, no_valid_address: flagNoAddress, missing: GONE });
  assert.equal(plan.ops.filter((o) => o.op === 'set_members').length, 1_000);
  // Unmanaged entries' aliases are in a managed domain but their primary is not: no issue is raised for skipped entries.
  assert.deepEqual(plan.issues, []);
});

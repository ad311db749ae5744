/**
 * R41 the threshold's boundary, on a real slapd through runSync: from a synced store of N users,
 * the largest flag count the rule allows applies and one more is held — with the default threshold
 * (more than 10 AND more than 5 % of the synced users, or more than 500) where the count decides
 * (N = 100: 10 applies, 11 held) and where the percentage decides (N = 300: 15 applies, 16 held),
 * and with per-connection thresholds. Zero eligible users while the store holds the connection's
 * users is held whatever the threshold. Users are excluded by a custom filter on their uid; putting
 * the filter back restores them (restores are never held), so each step starts from N synced users.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { approveHeldRun } from '../../src/sync/review-run.ts';
import { getConnection } from '../../src/store/admin/connections.ts';
import { DEFAULT_HOLD_THRESHOLD, type HoldThreshold } from '../../src/core/guards.ts';
import { assertHeld, baseOf, ctx, flagsOf, subtreeLdif, syncedCase, type HoldCase } from './hold-harness.ts';

let slapd: Slapd;

before(async () => {
  slapd = await startSlapd({
    ldif: subtreeLdif('n100', 100, 0) + subtreeLdif('n300', 300, 0) + subtreeLdif('custom', 100, 0) + subtreeLdif('absolute', 100, 0) + subtreeLdif('zero', 100, 0) + subtreeLdif('legacy', 100, 0),
  });
});

after(async () => {
  await slapd?.stop();
});

/** A filter that leaves out eng-0 … eng-(k-1); null (no filter) for k = 0. */
const excluding = (k: number): string | null => (k === 0 ? null : `(!(|${Array.from({ length: k }, (_, i) => `(uid=eng-${i})`).join('')}))`);

/**
 * The boundary of one connection with N synced users: excluding `allowed` users applies (they are
 * flagged), the filter put back restores them, excluding `allowed + 1` is held with nothing applied.
 */
async function boundary(c: HoldCase, n: number, allowed: number): Promise<void> {
  await c.edit({ customFilter: excluding(allowed) });
  const ok = await runSync(c.store, c.opts());
  assert.equal(ok.status, 'succeeded', `${allowed} of ${n} flagged must apply: ${ok.error ?? ''}`);
  assert.equal(ok.counts?.flagged, allowed);
  assert.equal((await c.pending()).length, allowed);

  await c.edit({ customFilter: null });
  const back = await runSync(c.store, c.opts());
  assert.equal(back.status, 'succeeded', 'restoring users is never held');
  assert.equal(back.counts?.restored, allowed);
  assert.deepEqual(await c.pending(), []);

  await c.edit({ customFilter: excluding(allowed + 1) });
  const before = await c.digest();
  const held = await runSync(c.store, c.opts());
  const plan = await assertHeld(c, held, before, allowed + 1);
  assert.equal(plan.syncedUserCount, n);
  assert.match(held.error ?? '', new RegExp(`flag or remove ${allowed + 1} of ${n} synced users`));
}

test('R41: default threshold, N = 100 (the count decides): 10 flagged applies, 11 is held', async () => {
  const c = await syncedCase(slapd, baseOf('n100'), 100);
  try {
    assert.deepEqual((await getConnection(c.store.db, c.tenant, 'main')).settings.holdThreshold, DEFAULT_HOLD_THRESHOLD);
    await boundary(c, 100, 10);
  } finally {
    await c.close();
  }
});

test('R41: default threshold, N = 300 (5 % decides): 15 flagged applies, 16 is held; approval applies exactly the 16', async () => {
  const c = await syncedCase(slapd, baseOf('n300'), 300);
  try {
    await boundary(c, 300, 15);
    const held = await c.store.db.selectFrom('runs').select('id').where('status', '=', 'held').executeTakeFirstOrThrow();
    const plan = await c.plan(held.id);
    assert.equal((await approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: held.id, ...ctx })).status, 'approved');
    assert.deepEqual(await c.pending(), flagsOf(plan));
  } finally {
    await c.close();
  }
});

test('R41: a per-connection threshold (more than 20 AND more than 30 %, N = 100): 30 applies, 31 is held', async () => {
  const t: HoldThreshold = { count: 20, percent: 30, absolute: 1000 };
  const c = await syncedCase(slapd, baseOf('custom'), 100, t);
  try {
    assert.deepEqual((await getConnection(c.store.db, c.tenant, 'main')).settings.holdThreshold, t);
    await boundary(c, 100, 30);
    assert.match((await c.store.db.selectFrom('runs').select('error').where('status', '=', 'held').executeTakeFirstOrThrow()).error ?? '',
      /more than 20 and more than 30 %, or more than 1000/);
  } finally {
    await c.close();
  }
});

test('R41: a per-connection absolute threshold alone (percent 100 never trips): 12 applies, 13 is held', async () => {
  const c = await syncedCase(slapd, baseOf('absolute'), 100, { count: 0, percent: 100, absolute: 12 });
  try {
    await boundary(c, 100, 12);
  } finally {
    await c.close();
  }
});

test('R41: zero eligible users while the store holds the connection\'s users is held even when the threshold allows everything', async () => {
  const c = await syncedCase(slapd, baseOf('zero'), 100, { count: 100_000, percent: 100, absolute: 100_000 });
  try {
    // The threshold allows a large deletion: 99 of 100 apply.
    await c.edit({ customFilter: '(uid=eng-99)' });
    const most = await runSync(c.store, c.opts());
    assert.equal(most.status, 'succeeded');
    assert.equal(most.counts?.flagged, 99);
    await c.edit({ customFilter: null });
    assert.equal((await runSync(c.store, c.opts())).counts?.restored, 99);
    // The last step to nothing eligible is held: entries are read, none is eligible.
    await c.edit({ customFilter: '(uid=nobody)' });
    const before = await c.digest();
    const r = await runSync(c.store, c.opts());
    assert.equal(r.counts?.eligible, 0);
    await assertHeld(c, r, before, 100);
    assert.match(r.error ?? '', /no eligible users while 100 users of this connection are synced/);
  } finally {
    await c.close();
  }
});

test('R41: a connection stored before the threshold existed (no holdThreshold in its JSON) is guarded by the defaults', async () => {
  const c = await syncedCase(slapd, baseOf('legacy'), 100, { count: 50, percent: 50, absolute: 50 });
  try {
    const row = await c.store.db.selectFrom('connections').select('settings').where('id', '=', c.conn.id).executeTakeFirstOrThrow();
    const old = JSON.parse(row.settings) as Record<string, unknown>;
    delete old['holdThreshold'];
    await c.store.db.updateTable('connections').set({ settings: JSON.stringify(old) }).where('id', '=', c.conn.id).execute();
    const shown = await getConnection(c.store.db, c.tenant, 'main');
    assert.deepEqual(shown.settings.holdThreshold, DEFAULT_HOLD_THRESHOLD);
    // Stored settings are edited straight in the row (as an old row would be), then read by runSync.
    const setFilter = async (f: string | null): Promise<void> => {
      const s = JSON.parse((await c.store.db.selectFrom('connections').select('settings').where('id', '=', c.conn.id).executeTakeFirstOrThrow()).settings) as Record<string, unknown>;
      await c.store.db.updateTable('connections').set({ settings: JSON.stringify({ ...s, customFilter: f }) }).where('id', '=', c.conn.id).execute();
    };
    await setFilter(excluding(10));
    assert.equal((await runSync(c.store, c.opts())).status, 'succeeded');
    await setFilter(null);
    assert.equal((await runSync(c.store, c.opts())).counts?.restored, 10);
    await setFilter(excluding(11));
    const before = await c.digest();
    await assertHeld(c, await runSync(c.store, c.opts()), before, 11);
  } finally {
    await c.close();
  }
});

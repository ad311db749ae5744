/**
 * R41 mass-deletion hold against a real slapd, through runSync, each from a synced store: a custom
 * filter that excludes an OU, an emptied OU, a base DN moved to an existing but empty container, and
 * an ACL that leaves the bind account seeing nothing under the base. Each run is held with its plan
 * and applies nothing (digest equal); approval then applies exactly that plan (the flagged users are
 * the plan's), rejection leaves the store as it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { ldifDelete } from '../fixtures/ldif.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { approveHeldRun, rejectHeldRun } from '../../src/sync/review-run.ts';
import { assertHeld, baseOf, ctx, flagsOf, subtreeLdif, syncedCase, userDnOf } from './hold-harness.ts';

const ENG = 60;
const SALES = 30;
const ALL = ENG + SALES;
let slapd: Slapd;

before(async () => {
  slapd = await startSlapd({ ldif: ['filter', 'emptied', 'basedn', 'acl', 'twice'].map((n) => subtreeLdif(n, ENG, SALES)).join('') });
});

after(async () => {
  await slapd?.stop();
});

test('R41 R2: a custom filter that excludes an OU is held with its plan; approval flags exactly the plan\'s users, once', async () => {
  const c = await syncedCase(slapd, baseOf('filter'), ALL);
  try {
    await c.edit({ customFilter: '(!(ou:dn:=sales))' });
    const before = await c.digest();
    const r = await runSync(c.store, c.opts());
    const plan = await assertHeld(c, r, before, SALES);
    assert.match(r.error ?? '', new RegExp(`flag or remove ${SALES} of ${ALL} synced users`));
    assert.equal(plan.syncedUserCount, ALL);
    // The plan flags the sales users and nobody else.
    const sales = await c.store.db.selectFrom('users').select('id').where('given_name', '=', 'sales').execute();
    assert.deepEqual(flagsOf(plan), sales.map((u) => u.id).sort());

    const approved = await approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx });
    assert.equal(approved.status, 'approved');
    assert.deepEqual(await c.pending(), flagsOf(plan), 'approval flagged exactly the plan\'s users');
    await assert.rejects(approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx }), /only a held run/);
    // The next run agrees with the approved plan: nothing more to flag, nothing held.
    const next = await runSync(c.store, c.opts());
    assert.equal(next.status, 'succeeded');
    assert.equal(next.counts?.flagged, 0);
    assert.deepEqual(await c.pending(), flagsOf(plan));
  } finally {
    await c.close();
  }
});

test('R41 R19: an emptied OU (its entries deleted) is held (a preview says it would be); rejection leaves the store as it was, and the next run is held again', async () => {
  const c = await syncedCase(slapd, baseOf('emptied'), ALL);
  try {
    let ldif = '';
    for (let i = 0; i < SALES; i++) ldif += ldifDelete(userDnOf('emptied', 'sales', i));
    await slapd.ldapModify(ldif);
    const before = await c.digest();
    // R19: the preview computes the same guard and says the real run would be held.
    const dry = await runSync(c.store, c.opts({ dryRun: true }));
    assert.equal(dry.status, 'previewed');
    assert.equal(dry.counts?.flagged, SALES);
    assert.match(dry.error ?? '', new RegExp(`a real run would be held for approval: the run would flag or remove ${SALES} of ${ALL}`));
    assert.equal(dry.errorCode, null);
    assert.equal(await c.digest(), before, 'a dry run changed the store');
    const r = await runSync(c.store, c.opts());
    await assertHeld(c, r, before, SALES);
    const rejected = await rejectHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx });
    assert.equal(rejected.status, 'rejected');
    assert.equal(await c.digest(), before, 'a rejected run changed the store');
    assert.deepEqual(await c.pending(), []);
    await assert.rejects(approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx }), /only a held run/);
    const again = await runSync(c.store, c.opts());
    await assertHeld(c, again, before, SALES);
  } finally {
    await c.close();
  }
});

test('R41: a base DN changed to an existing but empty container is held (no eligible users); approval flags every user of the plan', async () => {
  const c = await syncedCase(slapd, baseOf('basedn'), ALL);
  try {
    await c.edit({ baseDn: `ou=empty,${baseOf('basedn')}` });
    const before = await c.digest();
    const r = await runSync(c.store, c.opts());
    assert.equal(r.counts?.read, 0);
    assert.equal(r.counts?.eligible, 0);
    const plan = await assertHeld(c, r, before, ALL);
    assert.match(r.error ?? '', new RegExp(`no eligible users while ${ALL} users of this connection are synced`));
    const approved = await approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx });
    assert.equal(approved.status, 'approved');
    assert.equal(flagsOf(plan).length, ALL);
    assert.deepEqual(await c.pending(), flagsOf(plan));
  } finally {
    await c.close();
  }
});

test('R41 R5: an ACL that hides everything under the base from the bind account is held; rejection keeps the store; with the ACL gone, nothing is flagged', async () => {
  const c = await syncedCase(slapd, baseOf('acl'), ALL);
  const confFile = join(slapd.dir, 'slapd.conf');
  const conf = readFileSync(confFile, 'utf8');
  const open = '\naccess to * by dn.exact=';
  assert.ok(conf.includes(open), 'the harness config has its catch-all ACL');
  // Before the catch-all: the reader sees the base entry itself but none of its children.
  const hide = `\naccess to dn.children="${baseOf('acl')}" by dn.exact="${slapd.readerDn}" none by * break`;
  try {
    await slapd.halt();
    writeFileSync(confFile, conf.replace(open, `${hide}${open}`));
    await slapd.start();
    const before = await c.digest();
    const r = await runSync(c.store, c.opts());
    assert.equal(r.counts?.eligible, 0);
    await assertHeld(c, r, before, ALL);
    assert.match(r.error ?? '', /no eligible users/);
    const rejected = await rejectHeldRun(c.store.db, { tenantId: c.tenant.id, runId: r.id, ...ctx });
    assert.equal(rejected.status, 'rejected');
    assert.equal(await c.digest(), before, 'a rejected run changed the store');

    await slapd.halt();
    writeFileSync(confFile, conf);
    await slapd.start();
    const back = await runSync(c.store, c.opts());
    assert.equal(back.status, 'succeeded');
    assert.equal(back.counts?.flagged, 0);
    assert.equal(back.counts?.unchanged, ALL);
    assert.deepEqual(await c.pending(), []);
  } finally {
    if (readFileSync(confFile, 'utf8') !== conf) {
      await slapd.halt();
      writeFileSync(confFile, conf);
      await slapd.start();
    }
    await c.close();
  }
});

test('R41: two held runs of one connection — approving the older supersedes the newer (its plan was made against the store the approval changed); its flags are not re-stamped', async () => {
  const c = await syncedCase(slapd, baseOf('twice'), ALL);
  try {
    let ldif = '';
    for (let i = 0; i < SALES; i++) ldif += ldifDelete(userDnOf('twice', 'sales', i));
    await slapd.ldapModify(ldif);
    const before = await c.digest();
    const older = await runSync(c.store, c.opts());
    const newer = await runSync(c.store, c.opts({ now: '2026-11-23T10:00:00.000Z' }));
    const plan = await assertHeld(c, older, before, SALES);
    await assertHeld(c, newer, before, SALES);
    assert.equal((await approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: older.id, ...ctx })).status, 'approved');
    const applied = await c.digest();
    assert.deepEqual(await c.pending(), flagsOf(plan));
    await assert.rejects(
      approveHeldRun(c.store.db, { tenantId: c.tenant.id, runId: newer.id, actor: ctx.actor, now: '2026-11-23T10:00:00.000Z' }),
      (e: Error & { code?: string }) => e.code === 'conflict' && /superseded/.test(e.message),
    );
    assert.equal(await c.digest(), applied, 'the superseded plan changed the store');
    const stamps = await c.store.db.selectFrom('users').select('flagged_at').where('state', '=', 'pending_deletion').execute();
    assert.deepEqual([...new Set(stamps.map((u) => u.flagged_at))], [ctx.now], 'flags keep the approved plan\'s time');
  } finally {
    await c.close();
  }
});

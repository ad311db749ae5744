import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { seedTenant } from '../../../test/helpers/admin-fixtures.ts';
import type { Database } from '../schema.ts';
import { listRuns, showRun, summarizePlan } from './runs.ts';

async function insertRun(db: Kysely<Database>, tenantId: string, connectionId: string, over: Partial<Database['runs']>): Promise<string> {
  const id = over.id ?? crypto.randomUUID();
  await db
    .insertInto('runs')
    .values({
      id,
      tenant_id: tenantId,
      connection_id: connectionId,
      trigger: 'cli',
      actor: 'cli:test',
      dry_run: 0,
      status: 'succeeded',
      started_at: '2026-11-22T10:00:00.000Z',
      finished_at: '2026-11-22T10:00:02.000Z',
      duration_ms: 2000,
      clock_override: null,
      server_used: 'ldap://127.0.0.1:3890',
      counts: JSON.stringify({ read: 3, added: 2, skipped: 1, skippedByReason: { disabled: 1 } }),
      plan: null,
      error: null,
      error_code: null,
      ...over,
    })
    .execute();
  return id;
}

forEachDialect('admin runs', (open) => {
  test('R52 list: newest first, per connection, with status, trigger, duration, counts, error', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'hr'] });
    const c = s.connections.main!;
    await insertRun(db, s.tenantId, c, { started_at: '2026-11-22T09:00:00.000Z' });
    await insertRun(db, s.tenantId, c, { started_at: '2026-11-22T11:00:00.000Z', status: 'failed', error: 'connection refused', error_code: 'connect_failed', counts: null });
    await insertRun(db, s.tenantId, s.connections.hr!, {});
    const runs = await listRuns(db, s.tenantId, c);
    assert.deepEqual(runs.map((r) => [r.startedAt, r.status, r.errorCode]), [
      ['2026-11-22T11:00:00.000Z', 'failed', 'connect_failed'],
      ['2026-11-22T09:00:00.000Z', 'succeeded', null],
    ]);
    assert.equal(runs[1]?.durationMs, 2000);
    assert.equal(runs[1]?.counts?.added, 2);
    assert.equal(runs[1]?.dryRun, false);
    assert.equal((await listRuns(db, s.tenantId, c, { limit: 1 })).length, 1);
  });

  test('R52/D9 show: counts, server, clock override, skipped by reason, issues paged, plan summary or whole plan', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const plan = { ops: [{ op: 'add_user' }, { op: 'add_user' }, { op: 'flag_user' }], flagCount: 1, syncedUserCount: 10 };
    const id = await insertRun(db, s.tenantId, s.connections.main!, { status: 'held', clock_override: '2026-12-01T00:00:00.000Z', plan: JSON.stringify(plan) });
    const items = [
      { kind: 'skipped', code: 'disabled', anchor: 'a1', dn: 'uid=a', value: null, detail: null },
      { kind: 'skipped', code: 'unmanaged_domain', anchor: 'a2', dn: 'uid=b', value: 'b@other.test', detail: null },
      { kind: 'issue', code: 'invalid_address', anchor: 'a3', dn: 'uid=c', value: 'not an address', detail: null },
      { kind: 'issue', code: 'invalid_address', anchor: 'a4', dn: 'uid=d', value: 'x@', detail: null },
      { kind: 'issue', code: 'continuation_reference', anchor: null, dn: null, value: 'ldap://x/DC=DomainDnsZones', detail: null },
    ];
    await db.insertInto('run_items').values(items.map((i) => ({ ...i, run_id: id }))).execute();
    const d = await showRun(db, s.tenantId, id, { itemKind: 'issue', limit: 2, offset: 1 });
    assert.equal(d.status, 'held');
    assert.equal(d.serverUsed, 'ldap://127.0.0.1:3890');
    assert.equal(d.clockOverride, '2026-12-01T00:00:00.000Z');
    assert.deepEqual(d.skippedByReason, { disabled: 1, unmanaged_domain: 1 });
    assert.deepEqual(d.issuesByCode, { continuation_reference: 1, invalid_address: 2 });
    assert.equal(d.items.total, 3);
    assert.deepEqual(d.items.items.map((i) => i.value), ['x@', 'ldap://x/DC=DomainDnsZones']);
    assert.deepEqual(d.planSummary, { ops: { add_user: 2, flag_user: 1 }, flagCount: 1, syncedUserCount: 10 });
    assert.equal(d.plan, undefined);
    const withPlan = await showRun(db, s.tenantId, id, { withPlan: true });
    assert.deepEqual(withPlan.plan, plan);
    assert.equal(withPlan.items.total, 5);
    const other = await seedTenant(db, { tenant: 'globex', domains: ['globex.test'] });
    await assert.rejects(showRun(db, other.tenantId, id), { code: 'not_found' });
  });
});

test('summarizePlan passes a stored summary through and ignores junk', () => {
  assert.deepEqual(summarizePlan({ summary: true, ops: { add_user: 5 }, flagCount: 0 }), { ops: { add_user: 5 }, flagCount: 0, syncedUserCount: null });
  assert.equal(summarizePlan(null), null);
  assert.equal(summarizePlan('x'), null);
  assert.deepEqual(summarizePlan({ ops: [{ op: 'add_user' }, { op: 'add_user' }] })?.ops, { add_user: 2 });
});

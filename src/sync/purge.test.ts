import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { CTX, countRows, insertUserRow, seedTenant } from '../../test/helpers/admin-fixtures.ts';
import { listAudit } from '../store/admin/audit.ts';
import { addRule } from '../store/admin/rules.ts';
import { addArchive } from '../store/admin/archives.ts';
import { purgeExpired } from './purge.ts';

forEachDialect('purge', (open) => {
  test('R21 purge with the clock moved: expired purged with rules, archive kept unlinked; not yet expired and never kept; audited (R25)', async () => {
    const { db } = await open();
    const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const c = s.connections.main!;
    const flagged = { connectionId: c, state: 'pending_deletion', flagReason: 'missing', flaggedAt: '2026-11-01T00:00:00.000Z' };
    const expired = await insertUserRow(db, s.tenantId, { ...flagged, address: 'old@acme.test', aliases: ['old2@acme.test'], deleteAfter: '2026-11-08T00:00:00.000Z' });
    await insertUserRow(db, s.tenantId, { ...flagged, address: 'edge@acme.test', deleteAfter: '2026-11-22T10:00:00.000Z' });
    await insertUserRow(db, s.tenantId, { ...flagged, address: 'later@acme.test', deleteAfter: '2026-11-29T00:00:00.000Z' });
    await insertUserRow(db, s.tenantId, { ...flagged, address: 'never@acme.test', deleteAfter: null });
    await insertUserRow(db, s.tenantId, { address: 'active@acme.test', connectionId: c });
    await insertUserRow(db, s.tenantId, { address: 'deact@acme.test', state: 'deactivated', source: 'manual' });
    await addRule(db, s.tenantId, 'old@acme.test', { kind: 'allow', value: 'a@b.test' }, CTX);
    await addRule(db, s.tenantId, 'later@acme.test', { kind: 'allow', value: 'a@b.test' }, CTX);
    await addArchive(db, s.tenantId, 'old@acme.test', CTX);

    // now = T0 = 2026-11-22T10:00Z: 'old' and 'edge' (delete_after == now) are due
    const r = await purgeExpired(db, { now: CTX.now, actor: 'purge' });
    assert.deepEqual(r, { count: 2, addresses: ['edge@acme.test', 'old@acme.test'] });
    const left = await db.selectFrom('addresses').select('address').where('role', '=', 'primary').orderBy('address').execute();
    assert.deepEqual(left.map((x) => x.address), ['active@acme.test', 'deact@acme.test', 'later@acme.test', 'never@acme.test']);
    assert.equal(await countRows(db, 'rules'), 1, 'the purged user rules are gone, the others kept');
    const arch = await db.selectFrom('archives').selectAll().executeTakeFirstOrThrow();
    assert.equal(arch.address, 'old@acme.test');
    assert.equal(arch.user_id, null);
    const audit = await listAudit(db, { action: 'user.purge' });
    assert.equal(audit.length, 2);
    assert.ok(audit.every((a) => a.actor === 'purge' && a.at === CTX.now && a.after === null && a.tenantId === s.tenantId));
    assert.ok(audit.some((a) => a.objectId === expired));

    // a second purge at the same time does nothing; moving the clock a week on purges 'later'
    assert.deepEqual(await purgeExpired(db, { now: CTX.now, actor: 'purge' }), { count: 0, addresses: [] });
    const week = await purgeExpired(db, { now: '2026-11-29T00:00:00.000Z', actor: 'purge' });
    assert.deepEqual(week.addresses, ['later@acme.test']);
    assert.equal(await countRows(db, 'rules'), 0);
  });

  test('R24 purge runs with sync disabled, per tenant when asked, in batches', async () => {
    const { db } = await open();
    const a = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main'] });
    const b = await seedTenant(db, { tenant: 'globex', domains: ['globex.test'], connections: ['main'] });
    await db.updateTable('tenants').set({ sync_enabled: 0 }).execute();
    const due = { state: 'pending_deletion', flagReason: 'missing', flaggedAt: '2026-11-01T00:00:00.000Z', deleteAfter: '2026-11-08T00:00:00.000Z' };
    for (let i = 0; i < 7; i++) await insertUserRow(db, a.tenantId, { ...due, address: `u${i}@acme.test`, connectionId: a.connections.main! });
    await insertUserRow(db, b.tenantId, { ...due, address: 'g@globex.test', connectionId: b.connections.main! });
    const r = await purgeExpired(db, { now: CTX.now, actor: 'cli:test', tenantId: a.tenantId, batchSize: 3 });
    assert.equal(r.count, 7);
    assert.equal(await countRows(db, 'users'), 1);
    const r2 = await purgeExpired(db, { now: CTX.now, actor: 'cli:test' });
    assert.deepEqual(r2.addresses, ['g@globex.test']);
    await assert.rejects(purgeExpired(db, { now: 'yesterday', actor: 'x' }), { code: 'bad_input' });
  });
});

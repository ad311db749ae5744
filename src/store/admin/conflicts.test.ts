import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { CTX, countRows, insertUserRow, seedTenant } from '../../../test/helpers/admin-fixtures.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { listAudit } from './audit.ts';
import { addRule } from './rules.ts';
import { addArchive } from './archives.ts';
import { csvField, deactivateConflict, deleteConflict, exportConflictsCsv, ignoreConflict, listConflicts } from './conflicts.ts';
import { showUser } from './users.ts';

const FLAGGED = '2026-11-20T09:00:00.000Z';
const DUE = '2026-11-27T09:00:00.000Z';

async function seed(db: Kysely<Database>) {
  const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test'], connections: ['main', 'hr'] });
  const flagged = (address: string, connection: string, extra: object = {}) =>
    insertUserRow(db, s.tenantId, {
      address,
      connectionId: s.connections[connection]!,
      state: 'pending_deletion',
      flagReason: 'missing',
      flaggedAt: FLAGGED,
      deleteAfter: DUE,
      ...extra,
    });
  await flagged('gone@acme.test', 'main', { displayName: 'Gone, "The" One' });
  await flagged('dis@acme.test', 'hr', { flagReason: 'disabled', deleteAfter: null });
  await insertUserRow(db, s.tenantId, { address: 'ok@acme.test', connectionId: s.connections.main! });
  return s;
}

forEachDialect('admin conflicts', (open) => {
  test('R15/R22 list: pending_deletion users with reason, flagged at, delete after; per connection', async () => {
    const { db } = await open();
    const s = await seed(db);
    const all = await listConflicts(db, s.tenantId);
    assert.equal(all.total, 2);
    assert.deepEqual(
      all.conflicts.map((c) => [c.address, c.reason, c.flaggedAt, c.deleteAfter, c.connection]),
      [
        ['dis@acme.test', 'disabled', FLAGGED, null, 'hr'],
        ['gone@acme.test', 'missing', FLAGGED, DUE, 'main'],
      ],
    );
    const hr = await listConflicts(db, s.tenantId, { connectionId: s.connections.hr! });
    assert.deepEqual(hr.conflicts.map((c) => c.address), ['dis@acme.test']);
  });

  test('R22 delete: purged now with its rules, archive kept unlinked, audited; a non-conflict is refused', async () => {
    const { db } = await open();
    const s = await seed(db);
    await addRule(db, s.tenantId, 'gone@acme.test', { kind: 'deny', value: 'x@y.test' }, CTX);
    await addArchive(db, s.tenantId, 'gone@acme.test', CTX);
    const before = await deleteConflict(db, s.tenantId, 'gone@acme.test', CTX);
    assert.equal(before.state, 'pending_deletion');
    assert.equal(await countRows(db, 'users'), 2);
    assert.equal(await countRows(db, 'rules'), 0);
    const arch = await db.selectFrom('archives').select('user_id').executeTakeFirstOrThrow();
    assert.equal(arch.user_id, null);
    const audit = await listAudit(db, { action: 'conflict.delete' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.objectId, before.id);
    await assert.rejects(deleteConflict(db, s.tenantId, 'ok@acme.test', CTX), { code: 'conflict', message: 'user ok@acme.test is not a conflict (state active)' });
    assert.equal(await countRows(db, 'users'), 2);
  });

  test('R22 ignore: becomes manual, active, access on, flag fields cleared, audited with before/after', async () => {
    const { db } = await open();
    const s = await seed(db);
    const u = await ignoreConflict(db, s.tenantId, 'gone@acme.test', CTX);
    assert.deepEqual([u.source, u.state, u.access, u.flagReason, u.flaggedAt, u.deleteAfter], ['manual', 'active', true, null, null, null]);
    const row = await db.selectFrom('users').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'manual');
    assert.equal(Number(row.access_enabled), 1);
    assert.equal(row.delete_after, null);
    assert.ok(row.anchor !== null, 'the anchor stays: supplemental mode (R14) keeps updating details');
    const [a] = await listAudit(db, { action: 'conflict.ignore' });
    assert.equal((a?.before as { state: string }).state, 'pending_deletion');
    assert.equal((a?.after as { state: string }).state, 'active');
    assert.equal((await listConflicts(db, s.tenantId)).total, 1);
  });

  test('R22 deactivate: state deactivated, access off, no deletion date, source manual, audited', async () => {
    const { db } = await open();
    const s = await seed(db);
    await deactivateConflict(db, s.tenantId, 'gone@acme.test', CTX);
    const u = await showUser(db, s.tenantId, 'gone@acme.test');
    assert.deepEqual([u.source, u.state, u.access, u.deleteAfter], ['manual', 'deactivated', false, null]);
    assert.equal((await listAudit(db, { action: 'conflict.deactivate' })).length, 1);
    await assert.rejects(deactivateConflict(db, s.tenantId, 'gone@acme.test', CTX), { code: 'conflict' });
  });

  test('R22 export: RFC 4180 CSV with header, CRLF, quoting; keyset pages give every row once', async () => {
    const { db } = await open();
    const s = await seed(db);
    for (let i = 0; i < 5; i++) {
      await insertUserRow(db, s.tenantId, { address: `p${i}@acme.test`, connectionId: s.connections.main!, state: 'pending_deletion', flagReason: 'excepted', flaggedAt: FLAGGED, deleteAfter: DUE });
    }
    let csv = '';
    for await (const chunk of exportConflictsCsv(db, s.tenantId, {}, 2)) csv += chunk;
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'address,display name,reason,flagged at,delete after,connection');
    assert.equal(lines.at(-1), '');
    assert.equal(lines.length, 1 + 7 + 1);
    assert.equal(lines[1], `dis@acme.test,,disabled,${FLAGGED},,hr`);
    assert.equal(lines[2], `gone@acme.test,"Gone, ""The"" One",missing,${FLAGGED},${DUE},main`);
    assert.deepEqual(lines.slice(3, 8).map((l) => l.split(',')[0]), ['p0@acme.test', 'p1@acme.test', 'p2@acme.test', 'p3@acme.test', 'p4@acme.test']);
    assert.equal(csvField('a\nb'), '"a\nb"');
    assert.equal(csvField(null), '');
  });
});

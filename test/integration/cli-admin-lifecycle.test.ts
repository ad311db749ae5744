/**
 * `roster conflicts|exceptions|additions|runs|purge` as an operator runs them: exit codes,
 * stderr messages, --json shapes and the CSV export (R21, R22, R30, R31, R52, D4, D8).
 * Flagged users and run records are arranged directly in the store file, as a sync run leaves them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.ts';
import { startAdminCli, type AdminCli } from '../helpers/cli-admin.ts';

let cli: AdminCli;
const C = ['--tenant', 'acme', '--connection', 'main'];

/** Makes a user as a run that flagged it would leave it. */
function flag(address: string, reason: string, deleteAfter: string | null, displayName: string | null = null): void {
  cli.json(['users', 'add', address, '--tenant', 'acme']);
  cli.sql(
    `UPDATE users SET source = 'ldap', state = 'pending_deletion', access_enabled = 0, flag_reason = ?, flagged_at = ?,
       delete_after = ?, display_name = ?, anchor = lower(hex(randomblob(8))),
       connection_id = (SELECT id FROM connections WHERE name = 'main')
     WHERE id = (SELECT user_id FROM addresses WHERE address = ?)`,
    reason, '2026-11-15T10:00:00.000Z', deleteAfter, displayName, address,
  );
}

before(() => {
  cli = startAdminCli();
  flag('gone@acme.test', 'missing', '2026-11-22T10:00:00.000Z', 'Gone, Person');
  flag('later@acme.test', 'disabled', '2026-11-29T10:00:00.000Z');
  flag('keep@acme.test', 'excepted', '2026-11-29T10:00:00.000Z');
  flag('off@acme.test', 'missing', null);
});
after(() => cli?.cleanup());

test('R22 conflicts list --json and export CSV (stdout and --out)', () => {
  const r = cli.json<{ total: number; conflicts: Record<string, unknown>[] }>(['conflicts', 'list', ...C]);
  assert.equal(r.total, 4);
  assert.deepEqual(Object.keys(r.conflicts[0] ?? {}).sort(), ['address', 'connection', 'deleteAfter', 'displayName', 'flaggedAt', 'id', 'reason', 'source']);
  assert.deepEqual(r.conflicts.map((c) => c['address']), ['gone@acme.test', 'keep@acme.test', 'later@acme.test', 'off@acme.test']);
  const csv = cli.run(['conflicts', 'export', '--tenant', 'acme']);
  assert.equal(csv.code, 0);
  const lines = csv.stdout.split('\r\n');
  assert.equal(lines[0], 'address,display name,reason,flagged at,delete after,connection');
  assert.equal(lines[1], 'gone@acme.test,"Gone, Person",missing,2026-11-15T10:00:00.000Z,2026-11-22T10:00:00.000Z,main');
  assert.equal(lines[4], 'off@acme.test,,missing,2026-11-15T10:00:00.000Z,,main');
  assert.equal(lines.length, 6);
  const out = join(cli.dir, 'conflicts.csv');
  const j = cli.json<{ file: string; rows: number }>(['conflicts', 'export', '--tenant', 'acme', '--out', out]);
  assert.deepEqual(j, { file: out, rows: 4 });
  assert.equal(readFileSync(out, 'utf8'), csv.stdout);
  const noOut = cli.run(['conflicts', 'export', '--tenant', 'acme', '--json']);
  assert.equal(noOut.code, EXIT_CODES.bad_input);
  assert.equal(noOut.stdout, '');
});

test('R22 ignore, deactivate, delete; acting on a non-conflict is refused', () => {
  const ig = cli.json<{ source: string; state: string; access: boolean }>(['conflicts', 'ignore', 'keep@acme.test', '--tenant', 'acme']);
  assert.deepEqual([ig.source, ig.state, ig.access], ['manual', 'active', true]);
  const de = cli.json<{ source: string; state: string; access: boolean; deleteAfter: string | null }>(['conflicts', 'deactivate', 'later@acme.test', '--tenant', 'acme']);
  assert.deepEqual([de.source, de.state, de.access, de.deleteAfter], ['manual', 'deactivated', false, null]);
  const again = cli.run(['conflicts', 'ignore', 'keep@acme.test', '--tenant', 'acme']);
  assert.equal(again.code, EXIT_CODES.conflict);
  assert.equal(again.stderr, 'roster: user keep@acme.test is not a conflict (state active)\n');
  const del = cli.run(['conflicts', 'delete', 'off@acme.test', '--tenant', 'acme']);
  assert.equal(del.code, 0);
  assert.match(del.stdout, /conflict off@acme\.test deleted/);
  assert.equal(cli.json<{ total: number }>(['conflicts', 'list', '--tenant', 'acme']).total, 1);
});

test('R21 purge --json with the clock override: expired purged, the rest kept', () => {
  const r = cli.json<{ count: number; addresses: string[]; now: string }>(['purge', '--tenant', 'acme']);
  assert.deepEqual(r, { count: 1, addresses: ['gone@acme.test'], now: '2026-11-22T10:00:00.000Z' });
  const left = cli.json<{ users: { address: string }[] }>(['users', 'list', '--tenant', 'acme']).users.map((u) => u.address);
  assert.deepEqual(left, ['keep@acme.test', 'later@acme.test']);
  const unknown = cli.run(['purge', '--tenant', 'nope']);
  assert.equal(unknown.code, EXIT_CODES.not_found);
});

test('R30/D8 exceptions add/list/remove --json and input errors', () => {
  const u = cli.json<Record<string, unknown>>(['exceptions', 'add', ...C, '--user', '0A1B2C3D-0000-4000-8000-000000000001', '--dn', 'uid=x,dc=acme,dc=test']);
  assert.deepEqual(Object.keys(u).sort(), ['address', 'anchor', 'connectionId', 'createdAt', 'dn', 'id', 'kind']);
  assert.equal(u['anchor'], '0a1b2c3d-0000-4000-8000-000000000001');
  cli.json(['exceptions', 'add', ...C, '--alias', 'old@bücher.test']);
  const both = cli.run(['exceptions', 'add', ...C, '--user', 'a', '--group', 'b']);
  assert.equal(both.code, EXIT_CODES.bad_input);
  const dup = cli.run(['exceptions', 'add', ...C, '--alias', 'OLD@xn--bcher-kva.test']);
  assert.equal(dup.code, EXIT_CODES.conflict);
  const noConn = cli.run(['exceptions', 'list', '--tenant', 'acme', '--connection', 'nope']);
  assert.equal(noConn.code, EXIT_CODES.not_found);
  const list = cli.json<{ kind: string; anchor: string | null; address: string | null }[]>(['exceptions', 'list', ...C]);
  assert.deepEqual(list.map((e) => [e.kind, e.anchor ?? e.address]), [
    ['user', '0a1b2c3d-0000-4000-8000-000000000001'],
    ['alias', 'old@xn--bcher-kva.test'],
  ]);
  cli.json(['exceptions', 'remove', 'old@xn--bcher-kva.test', ...C]);
  assert.equal(cli.json<unknown[]>(['exceptions', 'list', ...C]).length, 1);
});

test('R31/D4 additions add/list/remove --json: user created at once, becomes ldap on removal', () => {
  const a = cli.json<Record<string, unknown>>(['additions', 'add', 'room@acme.test', ...C]);
  assert.deepEqual(Object.keys(a).sort(), ['address', 'connectionId', 'createdAt', 'id', 'user']);
  assert.deepEqual(a['user'] && Object.keys(a['user'] as object).sort(), ['id', 'source', 'state']);
  const u = cli.json<{ source: string; state: string; connection: string }>(['users', 'show', 'room@acme.test', '--tenant', 'acme']);
  assert.deepEqual([u.source, u.state, u.connection], ['addition', 'active', 'main']);
  const held = cli.run(['additions', 'add', 'keep@acme.test', ...C]);
  assert.equal(held.code, EXIT_CODES.conflict);
  assert.match(held.stderr, /already held by user keep@acme\.test/);
  const dom = cli.run(['additions', 'add', 'x@other.test', ...C]);
  assert.equal(dom.code, EXIT_CODES.bad_input);
  assert.equal(cli.json<unknown[]>(['additions', 'list', ...C]).length, 1);
  const r = cli.json<{ user: { source: string } }>(['additions', 'remove', 'room@acme.test', ...C]);
  assert.equal(r.user.source, 'ldap');
  assert.equal(cli.json<{ source: string }>(['users', 'show', 'room@acme.test', '--tenant', 'acme']).source, 'ldap');
  assert.equal(cli.json<unknown[]>(['additions', 'list', ...C]).length, 0);
});

test('R52 runs list/show --json: newest first, items paged, plan on request', () => {
  const ins = (id: string, started: string, status: string, plan: string | null) =>
    cli.sql(
      `INSERT INTO runs (id, tenant_id, connection_id, trigger, actor, dry_run, status, started_at, finished_at, duration_ms,
         clock_override, server_used, counts, plan, error, error_code)
       SELECT ?, tenant_id, id, 'cli', 'cli:test', 0, ?, ?, ?, 1500, NULL, 'ldap://127.0.0.1:1', ?, ?, NULL, NULL
       FROM connections WHERE name = 'main'`,
      id, status, started, started, JSON.stringify({ read: 4, added: 3, skipped: 1, skippedByReason: { disabled: 1 } }), plan,
    );
  ins('run-1', '2026-11-22T08:00:00.000Z', 'succeeded', JSON.stringify({ summary: true, ops: { add_user: 3 }, flagCount: 0, syncedUserCount: 0 }));
  ins('run-2', '2026-11-22T09:00:00.000Z', 'previewed', JSON.stringify({ ops: [{ op: 'add_user' }], flagCount: 0, syncedUserCount: 3 }));
  cli.sql(`INSERT INTO run_items (run_id, kind, code, anchor, dn, value, detail) VALUES ('run-1', 'skipped', 'disabled', 'a', 'uid=a', NULL, NULL)`);
  const runs = cli.json<{ id: string; status: string }[]>(['runs', 'list', ...C]);
  assert.deepEqual(runs.map((r) => r.id), ['run-2', 'run-1']);
  assert.deepEqual(Object.keys(runs[0] ?? {}).sort(), ['actor', 'connectionId', 'counts', 'dryRun', 'durationMs', 'error', 'errorCode', 'finishedAt', 'id', 'startedAt', 'status', 'trigger']);
  const show = cli.json<Record<string, unknown>>(['runs', 'show', 'run-1', '--tenant', 'acme']);
  assert.deepEqual(show['skippedByReason'], { disabled: 1 });
  assert.deepEqual(show['planSummary'], { ops: { add_user: 3 }, flagCount: 0, syncedUserCount: 0 });
  assert.equal(show['plan'], undefined);
  assert.equal((show['items'] as { total: number }).total, 1);
  const withPlan = cli.json<{ plan: { ops: unknown[] } }>(['runs', 'show', 'run-2', '--tenant', 'acme', '--plan']);
  assert.equal(withPlan.plan.ops.length, 1);
  const human = cli.run(['runs', 'show', 'run-1', '--tenant', 'acme']);
  assert.match(human.stdout, /counts: +read 4, added 3, skipped 1/);
  const missing = cli.run(['runs', 'show', 'nope', '--tenant', 'acme']);
  assert.equal(missing.code, EXIT_CODES.not_found);
  const items = cli.run(['runs', 'show', 'run-1', '--tenant', 'acme', '--items', 'all']);
  assert.equal(items.code, EXIT_CODES.bad_input);
});

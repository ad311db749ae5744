/**
 * The admin lifecycle end to end against a real slapd, through the CLI: a manual delete of a
 * synced user comes back at the next run (R23); a user that leaves the directory is flagged
 * (R15) and listed as a conflict, kept while its delay runs, purged when the clock passes it
 * (R21) with its rules, its archive kept and relinked when the user returns (R10).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { ldifAdd, ldifDelete, ldifEntry } from '../fixtures/ldif.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const T0 = '2026-11-22T10:00:00.000Z';
const person = (uid: string) => ({
  objectClass: ['inetOrgPerson'],
  uid,
  cn: `User ${uid}`,
  sn: uid,
  mail: [`${uid}@example.test`, `${uid}.alias@example.test`],
});

let slapd: Slapd;
let dir: string;

function roster(args: string[], now = T0): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--no-warnings', MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, ROSTER_DATA_DIR: dir, ROSTER_NOW: now },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function json<T = Record<string, unknown>>(args: string[], now = T0): T {
  const r = roster([...args, '--json'], now);
  assert.equal(r.code, 0, `roster ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
type User = { address: string; aliases: string[]; anchor: string | null; source: string; state: string; access: boolean; archives: string[]; ruleCount: number; flagReason: string | null; deleteAfter: string | null };
const show = (address: string) => json<User>(['users', 'show', address, '--tenant', 'acme']);
const sync = (now = T0) => json<{ status: string }>(['sync', 'acme', 'main'], now);

before(async () => {
  const ldif = [ldifEntry(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'people' }), ...['ann', 'bob', 'cy'].map((u) => ldifEntry(`uid=${u},${PEOPLE}`, person(u)))].join('');
  slapd = await startSlapd({ ldif });
  dir = mkdtempSync(join(tmpdir(), 'roster-admin-sync-'));
  const pw = join(dir, 'bind.pw');
  writeFileSync(pw, slapd.readerPassword + '\n', { mode: 0o600 });
  json(['tenants', 'add', 'acme']);
  json(['domains', 'add', 'example.test', '--tenant', 'acme']);
  json(['connections', 'add', 'main', '--tenant', 'acme', '--profile', 'openldap', '--server', `ldap://127.0.0.1:${slapd.port}`,
    '--allow-plain-bind', '--base-dn', BASE, '--bind-dn', slapd.readerDn, '--bind-password-file', pw]);
  json(['tenants', 'enable-sync', 'acme']);
  assert.equal(sync().status, 'succeeded');
});
after(async () => {
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('R23: a synced user deleted by hand loses its rules, keeps its archive, and comes back at the next run', () => {
  const before = show('ann@example.test');
  assert.equal(before.source, 'ldap');
  assert.ok(before.anchor);
  json(['rules', 'add', 'ann@example.test', 'deny', 'spam@evil.test', '--tenant', 'acme']);
  json(['archives', 'add', 'ann@example.test', '--tenant', 'acme']);
  const d = json<{ rulesDeleted: number; archivesUnlinked: string[] }>(['users', 'delete', 'ann.alias@example.test', '--tenant', 'acme']);
  assert.deepEqual([d.rulesDeleted, d.archivesUnlinked], [1, ['ann@example.test']]);
  assert.equal(roster(['users', 'show', 'ann@example.test', '--tenant', 'acme']).code, 3);
  assert.equal(sync().status, 'succeeded');
  const back = show('ann@example.test');
  assert.equal(back.anchor, before.anchor, 'the same directory entry');
  assert.deepEqual(back.aliases, ['ann.alias@example.test']);
  assert.equal(back.ruleCount, 0, 'rules went with the deleted record');
  assert.deepEqual(back.archives, ['ann@example.test'], 'R10: the kept archive is linked again');
});

test('R15/R21/R22: a user gone from the directory is a conflict until its delay passes, then purged; it returns with its archive', async () => {
  json(['rules', 'add', 'bob@example.test', 'allow', 'partner.test', '--tenant', 'acme']);
  json(['archives', 'add', 'bob@example.test', '--tenant', 'acme']);
  await slapd.ldapModify(ldifDelete(`uid=bob,${PEOPLE}`));
  assert.equal(sync().status, 'succeeded');
  const flagged = show('bob@example.test');
  assert.deepEqual([flagged.state, flagged.access, flagged.flagReason], ['pending_deletion', false, 'missing']);
  assert.equal(flagged.deleteAfter, '2026-11-29T10:00:00.000Z', 'default delay 7 days (R20)');
  const conflicts = json<{ conflicts: { address: string; reason: string }[] }>(['conflicts', 'list', '--tenant', 'acme', '--connection', 'main']);
  assert.deepEqual(conflicts.conflicts.map((c) => [c.address, c.reason]), [['bob@example.test', 'missing']]);

  // six days later nothing is due; at seven days the purge deletes it (sync state plays no part, R24)
  json(['tenants', 'disable-sync', 'acme']);
  assert.deepEqual(json(['purge'], '2026-11-28T10:00:00.000Z'), { count: 0, addresses: [], now: '2026-11-28T10:00:00.000Z' });
  assert.equal(show('bob@example.test').ruleCount, 1, 'rules kept while flagged (R15)');
  const purged = json<{ count: number; addresses: string[] }>(['purge'], '2026-11-29T10:00:00.000Z');
  assert.deepEqual(purged.addresses, ['bob@example.test']);
  assert.equal(roster(['users', 'show', 'bob@example.test', '--tenant', 'acme']).code, 3);
  const archives = json<{ address: string; user: string | null }[]>(['archives', 'list', '--tenant', 'acme', '--unlinked']);
  assert.deepEqual(archives.map((a) => a.address), ['bob@example.test']);

  // the user comes back to the directory: a new user, with the archive restored (R10)
  json(['tenants', 'enable-sync', 'acme'], '2026-11-30T10:00:00.000Z');
  await slapd.ldapModify(ldifAdd(`uid=bob,${PEOPLE}`, person('bob')));
  assert.equal(sync('2026-11-30T10:00:00.000Z').status, 'succeeded');
  const back = show('bob@example.test');
  assert.deepEqual([back.state, back.access, back.ruleCount, back.archives], ['active', true, 0, ['bob@example.test']]);
});

test('R22 ignore: a flagged directory user becomes manual and the next run does not flag it again', async () => {
  const later = '2026-12-01T10:00:00.000Z';
  await slapd.ldapModify(ldifDelete(`uid=cy,${PEOPLE}`));
  assert.equal(sync(later).status, 'succeeded');
  assert.equal(show('cy@example.test').state, 'pending_deletion');
  json(['conflicts', 'ignore', 'cy@example.test', '--tenant', 'acme'], later);
  assert.equal(sync(later).status, 'succeeded');
  const cy = show('cy@example.test');
  assert.deepEqual([cy.source, cy.state, cy.access, cy.flagReason], ['manual', 'active', true, null]);
});

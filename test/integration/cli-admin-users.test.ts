/**
 * `roster users|rules|archives` as an operator runs them: exit codes, stderr messages and the
 * --json shapes documented in docs/CLI.md (R14, R23, D2, D10, D11).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.ts';
import { startAdminCli, type AdminCli } from '../helpers/cli-admin.ts';

let cli: AdminCli;
before(() => {
  cli = startAdminCli();
});
after(() => cli?.cleanup());

const USER_KEYS = [
  'access', 'address', 'aliases', 'anchor', 'archives', 'connection', 'createdAt', 'deleteAfter', 'details', 'dn',
  'flagReason', 'flaggedAt', 'id', 'kind', 'ruleCount', 'source', 'state', 'updatedAt',
  // R63: duplicate findings and their consequences
  'duplicates', 'spoofingProtection', 'personalLists', 'personalArchiveView', 'personalArchiveViewReason',
].sort();

test('R14/D11 users add --json: manual user with punycode alias; humane text shows Unicode', () => {
  const u = cli.json<Record<string, unknown>>(['users', 'add', 'Ann@Acme.test', '--tenant', 'acme', '--alias', 'ann@bücher.test', '--display-name', 'Ann A']);
  assert.deepEqual(Object.keys(u).sort(), USER_KEYS);
  assert.equal(u['address'], 'ann@acme.test');
  assert.deepEqual(u['aliases'], ['ann@xn--bcher-kva.test']);
  assert.equal(u['source'], 'manual');
  assert.equal(u['access'], true);
  assert.equal(u['createdAt'], '2026-11-22T10:00:00.000Z', 'D5: the clock override drives timestamps');
  const show = cli.run(['users', 'show', 'ann@xn--bcher-kva.test', '--tenant', 'acme']);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /aliases: +ann@bücher\.test/);
  const smtp = cli.json<{ source: string }>(['users', 'add', 'bob@acme.test', '--tenant', 'acme', '--smtp']);
  assert.equal(smtp.source, 'smtp');
});

test('users add: bad address, unmanaged domain, held address and unknown tenant give codes and messages', () => {
  const bad = cli.run(['users', 'add', 'not-an-address', '--tenant', 'acme']);
  assert.equal(bad.code, EXIT_CODES.bad_input);
  assert.equal(bad.stderr, 'roster: not a valid mail address: "not-an-address"\n');
  const dom = cli.run(['users', 'add', 'x@other.test', '--tenant', 'acme']);
  assert.equal(dom.code, EXIT_CODES.bad_input);
  assert.match(dom.stderr, /domain other\.test is not managed by tenant acme/);
  const held = cli.run(['users', 'add', 'ANN@xn--bcher-kva.test', '--tenant', 'acme', '--json']);
  assert.equal(held.code, EXIT_CODES.conflict);
  const err = JSON.parse(held.stderr) as { error: { code: string; message: string } };
  assert.equal(err.error.code, 'conflict');
  assert.equal(err.error.message, 'address ann@xn--bcher-kva.test is already held by user ann@acme.test (as an alias)');
  assert.equal(held.stdout, '');
  const tenant = cli.run(['users', 'list', '--tenant', 'nope']);
  assert.equal(tenant.code, EXIT_CODES.not_found);
  const missing = cli.run(['users', 'show', 'ghost@acme.test', '--tenant', 'acme']);
  assert.equal(missing.code, EXIT_CODES.not_found);
  assert.equal(missing.stderr, 'roster: no user with address ghost@acme.test in tenant acme\n');
});

test('D11 users list --json: page shape, filters, search, bad --limit', () => {
  const page = cli.json<{ total: number; limit: number; offset: number; users: { address: string }[] }>(['users', 'list', '--tenant', 'acme']);
  assert.deepEqual(Object.keys(page).sort(), ['limit', 'offset', 'total', 'users']);
  assert.equal(page.total, 2);
  assert.deepEqual(page.users.map((u) => u.address), ['ann@acme.test', 'bob@acme.test']);
  const smtp = cli.json<{ users: { address: string }[] }>(['users', 'list', '--tenant', 'acme', '--source', 'smtp']);
  assert.deepEqual(smtp.users.map((u) => u.address), ['bob@acme.test']);
  const search = cli.json<{ users: { address: string }[] }>(['users', 'list', '--tenant', 'acme', '--search', 'ANN A']);
  assert.deepEqual(search.users.map((u) => u.address), ['ann@acme.test']);
  const lim = cli.run(['users', 'list', '--tenant', 'acme', '--limit', 'ten']);
  assert.equal(lim.code, EXIT_CODES.bad_input);
});

test('D10 users edit: manual details change; a directory user is read-only', () => {
  const u = cli.json<{ details: { company: string | null; displayName: string | null } }>(['users', 'edit', 'ann@acme.test', '--tenant', 'acme', '--company', 'Acme Ltd', '--display-name', '']);
  assert.equal(u.details.company, 'Acme Ltd');
  assert.equal(u.details.displayName, null);
  cli.sql(`UPDATE users SET source = 'ldap' WHERE id = (SELECT user_id FROM addresses WHERE address = 'bob@acme.test')`);
  const r = cli.run(['users', 'edit', 'bob@acme.test', '--tenant', 'acme', '--company', 'X']);
  assert.equal(r.code, EXIT_CODES.bad_input);
  assert.match(r.stderr, /comes from the directory \(source ldap\): its details are read-only/);
});

test('D2 rules add/list/delete --json and errors', () => {
  const r = cli.json<Record<string, unknown>>(['rules', 'add', 'ann@acme.test', 'deny', 'Spam@Evil.test', '--tenant', 'acme']);
  assert.deepEqual(Object.keys(r).sort(), ['createdAt', 'id', 'kind', 'user', 'value']);
  assert.equal(r['value'], 'spam@evil.test');
  cli.json(['rules', 'add', 'ann@xn--bcher-kva.test', 'allow', 'partner.test', '--tenant', 'acme']);
  const list = cli.json<{ kind: string; value: string }[]>(['rules', 'list', 'ann@acme.test', '--tenant', 'acme']);
  assert.deepEqual(list.map((x) => `${x.kind} ${x.value}`), ['allow partner.test', 'deny spam@evil.test']);
  const dup = cli.run(['rules', 'add', 'ann@acme.test', 'deny', 'spam@evil.test', '--tenant', 'acme']);
  assert.equal(dup.code, EXIT_CODES.conflict);
  const kind = cli.run(['rules', 'add', 'ann@acme.test', 'block', 'x', '--tenant', 'acme']);
  assert.equal(kind.code, EXIT_CODES.bad_input);
  cli.json(['rules', 'delete', 'ann@acme.test', 'allow', 'partner.test', '--tenant', 'acme']);
  assert.equal(cli.json<unknown[]>(['rules', 'list', 'ann@acme.test', '--tenant', 'acme']).length, 1);
});

test('D2 archives add/list and R23 users delete: rules go, archive stays unlinked', () => {
  const a = cli.json<Record<string, unknown>>(['archives', 'add', 'ann@acme.test', '--tenant', 'acme']);
  assert.deepEqual(Object.keys(a).sort(), ['address', 'createdAt', 'id', 'user']);
  assert.equal(a['user'], 'ann@acme.test');
  cli.json(['archives', 'add', 'gone@acme.test', '--tenant', 'acme']);
  const d = cli.json<Record<string, unknown>>(['users', 'delete', 'ann@acme.test', '--tenant', 'acme']);
  assert.deepEqual(Object.keys(d).sort(), ['address', 'archivesUnlinked', 'id', 'rulesDeleted', 'source']);
  assert.equal(d['rulesDeleted'], 1);
  assert.deepEqual(d['archivesUnlinked'], ['ann@acme.test']);
  const unlinked = cli.json<{ address: string; user: string | null }[]>(['archives', 'list', '--tenant', 'acme', '--unlinked']);
  assert.deepEqual(unlinked.map((x) => [x.address, x.user]), [['ann@acme.test', null], ['gone@acme.test', null]]);
  const ldap = cli.run(['users', 'delete', 'bob@acme.test', '--tenant', 'acme']);
  assert.equal(ldap.code, 0);
  assert.match(ldap.stdout, /next sync run brings it back \(R23\)/);
  assert.equal(cli.json<{ total: number }>(['users', 'list', '--tenant', 'acme']).total, 0);
});

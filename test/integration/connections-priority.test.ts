/**
 * R51 end to end with two real slapd trees in one tenant: the same address yielded by two
 * connections resolves by priority (lower number wins), stably across runs, and the second
 * connection on the same servers and base DN is refused. `branch` (priority 2) syncs first, then
 * `hq` (priority 1) arrives.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
type Person = [uid: string, mails: string[], uuid: string];

function tree(people: Person[]): string {
  let out = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  out += ldifEntry(PEOPLE, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  for (const [uid, mail, entryUUID] of people) {
    out += ldifEntry(`uid=${uid},${PEOPLE}`, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: `${uid} Person`, sn: 'Person', mail, entryUUID });
  }
  return out;
}

const HQ: Person[] = [
  ['ann', ['ann@example.test', 'sales@example.test'], '0000aaaa-0000-4000-8000-000000000001'],
  ['carl', ['carl@example.test'], '0000aaaa-0000-4000-8000-000000000002'],
];
const BRANCH: Person[] = [
  ['bob', ['bob@example.test', 'sales@example.test'], '0000bbbb-0000-4000-8000-000000000001'],
  ['carl', ['carl@example.test'], '0000bbbb-0000-4000-8000-000000000002'],
  ['dana', ['dana@example.test'], '0000bbbb-0000-4000-8000-000000000003'],
];

let hq: Slapd;
let branch: Slapd;
let s: Scenario;
const T0 = '2026-12-01T00:00:00.000Z';
const at = (h: number) => new Date(Date.parse(T0) + h * 3_600_000).toISOString();

async function runIssues(runId: string): Promise<Array<[string, string]>> {
  const r = await s.json(['runs', 'show', runId, '--tenant', 'acme', '--items', 'issue', '--limit', '1000']);
  return (r.items.items as any[]).map((i) => [i.code as string, String(i.value)] as [string, string]).sort();
}

let carlId: string;
let hqFirst: any;
let branchSecond: any;

before(async () => {
  [hq, branch] = await Promise.all([startSlapd({ ldif: tree(HQ) }), startSlapd({ ldif: tree(BRANCH) })]);
  s = await scenario({
    now: T0, domains: ['example.test'],
    connection: { name: 'branch', profile: 'openldap', server: branch.url, baseDn: BASE, bindDn: branch.readerDn, bindPassword: branch.readerPassword, extra: ['--priority', '2'] },
  });
  const first = await s.sync({ now: at(1), connection: 'branch' });
  assert.equal(first.status, 'succeeded');
  carlId = (await s.user('carl@example.test')).id;
  assert.deepEqual((await s.user('bob@example.test')).aliases, ['sales@example.test'], 'before hq exists, branch holds sales@');
  await s.json(['connections', 'add', 'hq', '--tenant', 'acme', '--profile', 'openldap', '--server', hq.url, '--base-dn', BASE,
    '--bind-dn', hq.readerDn, '--allow-plain-bind', '--priority', '1'], { env: { ROSTER_BIND_PASSWORD: hq.readerPassword } });
  hqFirst = await s.sync({ now: at(2), connection: 'hq' });
  branchSecond = await s.sync({ now: at(3), connection: 'branch' });
});

after(async () => {
  await Promise.all([hq?.stop(), branch?.stop()]);
  s?.cleanup();
});

test('R51 the higher-priority connection wins an alias the lower-priority one held, and the run says so', async () => {
  assert.equal(hqFirst.status, 'succeeded');
  assert.deepEqual((await s.user('ann@example.test')).aliases, ['sales@example.test']);
  assert.deepEqual((await s.user('bob@example.test')).aliases, []);
  const sales = await s.user('sales@example.test');
  assert.equal(sales.address, 'ann@example.test');
  assert.equal(sales.connection, 'hq');
  const issues = await runIssues(hqFirst.id);
  assert.ok(issues.some(([c, v]) => c === 'address_won_by_priority' && v === 'sales@example.test'), JSON.stringify(issues));
});

test('R51 a user both trees have is taken over by the higher-priority connection: same record, re-anchored, never flagged', async () => {
  const carl = await s.user('carl@example.test');
  assert.equal(carl.id, carlId, 'the same user record (rules and archive stay)');
  assert.equal(carl.connection, 'hq');
  assert.equal(carl.anchor, '0000aaaa-0000-4000-8000-000000000002');
  assert.equal(carl.state, 'active');
  assert.ok((await runIssues(hqFirst.id)).some(([c, v]) => c === 'user_taken_over' && v === 'carl@example.test'));
});

test('R51 the lower-priority connection then reports the clash and changes nothing (no ping-pong, no flag)', async () => {
  assert.equal(branchSecond.status, 'succeeded');
  assert.equal(branchSecond.counts.flagged, 0);
  assert.equal(branchSecond.counts.aliasesAdded, 0);
  assert.equal(branchSecond.counts.aliasesRemoved, 0);
  assert.equal(branchSecond.counts.skippedByReason.address_taken, 1, 'its carl entry: the address belongs to hq now');
  const issues = await runIssues(branchSecond.id);
  assert.ok(issues.some(([c, v]) => c === 'address_taken' && v === 'sales@example.test'), JSON.stringify(issues));
  assert.equal((await s.user('carl@example.test')).connection, 'hq');
  assert.equal((await s.user('dana@example.test')).state, 'active');
  const again = await s.sync({ now: at(4), connection: 'hq' });
  assert.deepEqual([again.counts.added, again.counts.updated, again.counts.aliasesAdded, again.counts.aliasesRemoved, again.counts.flagged], [0, 0, 0, 0, 0]);
});

test('R51 a second connection on the same servers and base DN (however spelled) is refused', async () => {
  const r = await s.cli(['connections', 'add', 'copy', '--tenant', 'acme', '--profile', 'openldap', '--server', hq.url,
    '--base-dn', 'DC=Example, DC=Test', '--bind-dn', hq.readerDn, '--allow-plain-bind', '--json'], { env: { ROSTER_BIND_PASSWORD: 'x' } });
  assert.notEqual(r.code, 0);
  const err = JSON.parse(r.stderr).error;
  assert.equal(err.code, 'conflict');
  assert.match(err.message, /connection "hq" .*already reads these servers and base DN/);
  const list = await s.json(['connections', 'list', '--tenant', 'acme']);
  assert.deepEqual((list.connections ?? list).map((c: any) => c.name).sort(), ['branch', 'hq']);
});

test('R51 R63 the clash is a duplicate finding listed for both connections (also after the winner ran again), and its users lose personal lists while it lasts', async () => {
  const findings = async (connection: string) =>
    (await s.json(['duplicates', 'list', 'acme', '--connection', connection, '--kind', 'address'])) as Array<{ value: string; objects: Array<{ kind: string; connectionName: string | null }> }>;
  for (const conn of ['hq', 'branch']) {
    const sales = (await findings(conn)).find((f) => f.value === 'sales@example.test');
    assert.ok(sales !== undefined, `${conn}: a finding for sales@example.test`);
    assert.deepEqual([...new Set(sales.objects.map((o) => o.connectionName))].sort(), ['branch', 'hq'], `${conn}: both connections named`);
  }
  const ann = await s.user('ann@example.test');
  assert.equal(ann.personalLists, false, 'R63: a duplicated address suspends personal allow/deny lists');
});

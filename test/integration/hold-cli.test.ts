/**
 * R41 through the `roster` CLI against a real slapd: the per-connection threshold flags of
 * `connections add|edit` (validated, saved, shown in text and JSON, edit changes only the part
 * given), and a held `sync`: exit 7, a message saying why and which command approves it, nothing
 * applied; the command it names applies exactly the stored plan.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { baseOf, DOMAIN, subtreeLdif } from './hold-harness.ts';

let slapd: Slapd;
let s: Scenario;

before(async () => {
  slapd = await startSlapd({ ldif: subtreeLdif('cli', 60, 30) + subtreeLdif('other', 1, 0) });
  s = await scenario({
    domains: [DOMAIN],
    now: '2026-11-22T10:00:00.000Z',
    connection: {
      profile: 'openldap', server: slapd.url, baseDn: baseOf('cli'), bindDn: slapd.readerDn, bindPassword: slapd.readerPassword,
      extra: ['--hold-count', '3', '--hold-percent', '20', '--hold-absolute', '40'],
    },
  });
});

after(async () => {
  s?.cleanup();
  await slapd?.stop();
});

const show = async (name = 'main'): Promise<any> => s.json(['connections', 'show', name, '--tenant', s.tenant]);

test('R41 CLI: --hold-count/--hold-percent/--hold-absolute are saved and shown; edit changes only the part given; bad values exit 2 and change nothing', async () => {
  assert.deepEqual((await show()).settings.holdThreshold, { count: 3, percent: 20, absolute: 40 });
  const text = await s.cli(['connections', 'show', 'main', '--tenant', s.tenant]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /hold threshold.*more than 3 users and more than 20 % of synced users, or more than 40/);

  const edited = await s.json(['connections', 'edit', 'main', '--tenant', s.tenant, '--hold-percent', '50']);
  assert.deepEqual(edited.settings.holdThreshold, { count: 3, percent: 50, absolute: 40 });

  for (const [flag, value, message] of [
    ['--hold-percent', '101', /percent must be a whole number from 0 to 100/],
    ['--hold-count', '1.5', /--hold-count must be a whole number/],
    ['--hold-absolute=-1', null, /--hold-absolute must be a whole number/],
    ['--hold-count', 'ten', /--hold-count must be a whole number/],
  ] as const) {
    const args = ['connections', 'edit', 'main', '--tenant', s.tenant, flag, ...(value === null ? [] : [value])];
    const r = await s.cli(args);
    assert.equal(r.code, 2, `${flag} ${value ?? ''}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual((await show()).settings.holdThreshold, { count: 3, percent: 50, absolute: 40 }, 'a refused edit changed the threshold');

  // A connection added without the flags gets R41's defaults.
  const added = await s.json(['connections', 'add', 'second', '--tenant', s.tenant, '--profile', 'openldap', '--server', slapd.url,
    '--base-dn', baseOf('other'), '--bind-dn', slapd.readerDn, '--allow-plain-bind'], { env: { ROSTER_BIND_PASSWORD: slapd.readerPassword } });
  assert.deepEqual(added.settings.holdThreshold, { count: 10, percent: 5, absolute: 500 });
  const back = await s.json(['connections', 'edit', 'main', '--tenant', s.tenant, '--hold-count', '10', '--hold-percent', '5', '--hold-absolute', '500']);
  assert.deepEqual(back.settings.holdThreshold, { count: 10, percent: 5, absolute: 500 });
});

test('R41 CLI: a held sync exits 7 saying why and how to approve, applies nothing; the approve command it gives applies exactly the plan', async () => {
  const first = await s.sync();
  assert.equal(first.status, 'succeeded');
  assert.equal(first.counts.added, 90);
  await s.json(['connections', 'edit', 'main', '--tenant', s.tenant, '--filter', '(!(ou:dn:=sales))']);

  const usersBefore = await s.users();
  const r = await s.cli(['sync', s.tenant, 'main']);
  assert.equal(r.code, 7, `held sync exit: ${r.code} ${r.stderr}`);
  const id = /run (\S+) of main: held/.exec(r.stdout)?.[1];
  assert.ok(id !== undefined, `the summary names the held run: ${r.stdout}`);
  assert.match(r.stderr, /held for approval/);
  assert.match(r.stderr, /flag or remove 30 of 90 synced users/, 'the message says why');
  const approve = `roster runs approve ${id} --tenant ${s.tenant}`;
  assert.ok(r.stderr.includes(approve), `the message says how to approve: ${r.stderr}`);
  assert.ok(r.stderr.includes(`roster runs reject ${id} --tenant ${s.tenant}`));
  assert.deepEqual(await s.users(), usersBefore, 'a held run changed users');

  const shown = await s.json(['runs', 'show', id, '--tenant', s.tenant, '--plan']);
  assert.equal(shown.status, 'held');
  const planFlags = (shown.plan.ops as any[]).filter((o) => o.op === 'flag_user').map((o) => o.userId as string).sort();
  assert.equal(planFlags.length, 30);

  // Run exactly the command the message gave (minus the program name).
  const approved = await s.cli([...approve.split(' ').slice(1), '--json']);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(approved.json.status, 'approved');
  const after = await s.users();
  const pending = [...after.values()].filter((u) => u.state === 'pending_deletion');
  assert.deepEqual(pending.map((u) => u.id as string).sort(), planFlags, 'approval flagged exactly the plan\'s users');
  assert.ok(pending.every((u) => /^sales-/.test(u.address)), 'only the excluded OU was flagged');
  const again = await s.cli([...approve.split(' ').slice(1)]);
  assert.equal(again.code, 4, 'a second approval is a conflict');
});

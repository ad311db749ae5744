/**
 * The `roster` CLI as a user runs it: bin/roster spawned with ROSTER_DATA_DIR in a temp dir.
 * Exit codes and messages for bad input, --json shapes, a sync against a real slapd, key
 * rotation, and the bind password never in any output nor in any DB row in clear (R42).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { generateOpenLdapLdif, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { EXIT_CODES } from '../../src/core/errors.ts';

const BIN = resolve(import.meta.dirname, '../../bin/roster');
const spec: GeneratorSpec = { seed: 11, users: 120, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
let slapd: Slapd;
let dir: string;
let pwFile: string;
const outputs: string[] = [];

function roster(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, ROSTER_DATA_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  outputs.push(r.stdout, r.stderr);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function json<T = Record<string, unknown>>(args: string[], env?: Record<string, string>): T {
  const r = roster([...args, '--json'], env);
  assert.equal(r.code, 0, `roster ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const connArgs = () => [
  '--tenant', 'acme', '--profile', 'openldap', '--server', `ldap://127.0.0.1:${slapd.port}`, '--allow-plain-bind',
  '--base-dn', spec.baseDn, '--bind-dn', slapd.readerDn, '--bind-password-file', pwFile,
];

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() });
  dir = mkdtempSync(join(tmpdir(), 'roster-cli-'));
  pwFile = join(dir, 'bind.pw');
  writeFileSync(pwFile, slapd.readerPassword + '\n', { mode: 0o600 });
});
after(async () => {
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('D1: tenants add creates the default provider; --json shapes of providers and tenants', () => {
  const t = json(['tenants', 'add', 'acme']);
  assert.deepEqual(Object.keys(t).sort(), ['createdAt', 'id', 'name', 'provider', 'syncEnabled', 'syncEnabledAt']);
  assert.equal(t['provider'], 'default');
  assert.equal(t['syncEnabled'], false);
  const ps = json<{ name: string; tenants: number }[]>(['providers', 'list']);
  assert.deepEqual(ps.map((p) => [p.name, p.tenants]), [['default', 1]]);
  const en = json(['tenants', 'enable-sync', 'acme']);
  assert.equal(en['syncEnabled'], true);
  assert.equal(typeof en['syncEnabledAt'], 'string');
});

test('unknown tenant: exit 3 with a clear message, JSON error on stderr with --json', () => {
  const r = roster(['domains', 'list', '--tenant', 'nosuch']);
  assert.equal(r.code, EXIT_CODES.not_found);
  assert.equal(r.stderr.trim(), 'roster: no tenant named "nosuch"');
  assert.equal(r.stdout, '');
  const j = roster(['tenants', 'show', 'nosuch', '--json']);
  assert.equal(j.code, 3);
  assert.deepEqual(JSON.parse(j.stderr), { error: { code: 'not_found', message: 'no tenant named "nosuch"' } });
});

test('domains: IDN stored as punycode; a domain held by another tenant is a conflict naming it', () => {
  const added = json<{ name: string; display: string }[]>(['domains', 'add', 'example.test', 'EXAMPLE.org', 'bücher.example', '--tenant', 'acme']);
  assert.deepEqual(added.map((d) => d.name), ['example.test', 'example.org', 'xn--bcher-kva.example']);
  assert.equal(added[2]!.display, 'bücher.example');
  json(['tenants', 'add', 'globex']);
  const r = roster(['domains', 'add', 'Example.Test', '--tenant', 'globex']);
  assert.equal(r.code, EXIT_CODES.conflict);
  assert.match(r.stderr, /example\.test is already managed by tenant "acme"/);
  assert.equal(roster(['domains', 'add', 'not a domain', '--tenant', 'globex']).code, EXIT_CODES.bad_input);
});

test('R2/R20/R43: bad filter, bad delay, plain bind without opt-in are refused before saving', () => {
  const base = connArgs();
  const f = roster(['connections', 'add', 'main', ...base, '--filter', '(&(ou=x)']);
  assert.equal(f.code, EXIT_CODES.bad_input);
  assert.match(f.stderr, /^roster: invalid filter at position \d+: .+/);
  const d = roster(['connections', 'add', 'main', ...base, '--deletion-delay', '3']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /deletion delay must be 7, 14, 30 or never/);
  const p = roster(['connections', 'add', 'main', ...base.filter((a) => a !== '--allow-plain-bind')]);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /--allow-plain-bind/);
  const u = roster(['connections', 'add', 'main', ...base, '--map', 'nonsense=mail']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown mapped field "nonsense"/);
  const n = roster(['connections', 'add', 'main', '--tenant', 'acme', '--profile', 'openldap', '--server', `ldap://127.0.0.1:${slapd.port}`, '--allow-plain-bind', '--base-dn', spec.baseDn, '--bind-dn', slapd.readerDn]);
  assert.equal(n.code, 2, 'no password source');
  assert.match(n.stderr, /no bind password/);
  assert.deepEqual(json<unknown[]>(['connections', 'list', '--tenant', 'acme']), [], 'nothing was saved');
  assert.equal(roster(['connections', 'add']).code, 2, 'commander usage errors are bad_input');
});

test('connections add/show/edit: --json shape, password never shown, R51 duplicate scope refused', () => {
  const c = json(['connections', 'add', 'main', ...connArgs(), '--filter', '(objectClass=inetOrgPerson)', '--map', 'department=departmentNumber', '--deletion-delay', '14']);
  assert.equal(c['hasBindPassword'], true);
  assert.equal(c['name'], 'main');
  const s = c['settings'] as Record<string, unknown>;
  assert.equal(s['deletionDelayDays'], 14);
  assert.deepEqual(s['attributeOverrides'], { department: 'departmentNumber' });
  assert.ok(!('bindPassword' in s) && !('bind_secret' in c));
  const shown = roster(['connections', 'show', 'main', '--tenant', 'acme']);
  assert.match(shown.stdout, /bind password: +set \(encrypted\)/);
  const e = json(['connections', 'edit', 'main', '--tenant', 'acme', '--deletion-delay', 'never', '--priority', '3']);
  assert.equal((e['settings'] as Record<string, unknown>)['deletionDelayDays'], null);
  assert.equal(e['priority'], 3);
  assert.equal((e['settings'] as Record<string, unknown>)['customFilter'], '(objectClass=inetOrgPerson)', 'edit keeps what is not given');
  const dup = roster(['connections', 'add', 'again', ...connArgs()]);
  assert.equal(dup.code, EXIT_CODES.conflict);
  assert.match(dup.stderr, /already reads these servers and base DN \(R51\)/);
});

test('sync: --dry-run then a real run print the run record; a second run adds nothing (R12, R19, R52)', () => {
  const dry = json(['sync', 'acme', 'main', '--dry-run']);
  assert.equal(dry['status'], 'previewed');
  assert.equal(dry['dryRun'], true);
  assert.equal((dry['counts'] as Record<string, number>)['added'], gen.manifest.eligible);
  const real = json(['sync', 'acme', 'main'], { ROSTER_NOW: '2026-11-22T10:00:00Z' });
  assert.equal(real['status'], 'succeeded');
  assert.equal(real['clockOverride'], '2026-11-22T10:00:00.000Z');
  assert.equal(real['startedAt'], '2026-11-22T10:00:00.000Z');
  for (const k of ['id', 'tenantId', 'connectionId', 'trigger', 'actor', 'serverUsed', 'durationMs', 'counts', 'error', 'errorCode', 'items']) assert.ok(k in real, k);
  assert.equal((real['counts'] as Record<string, number>)['added'], gen.manifest.eligible);
  assert.match(String(real['actor']), /^cli:/);
  const text = roster(['sync', 'acme', 'main']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /: succeeded/);
  assert.match(text.stdout, /added: +0/);
  const bad = roster(['sync', 'acme', 'main'], { ROSTER_NOW: 'tomorrow' });
  assert.equal(bad.code, EXIT_CODES.config);
  assert.match(bad.stderr, /ROSTER_NOW/);
});

test('R17: domains remove shows the count and needs --yes', () => {
  const pre = roster(['domains', 'remove', 'example.org', '--tenant', 'acme', '--json']);
  assert.equal(pre.code, EXIT_CODES.bad_input);
  const preview = JSON.parse(pre.stdout) as Record<string, unknown>;
  assert.equal(preview['removed'], false);
  assert.ok(Number(preview['users']) > 0, 'the generator puts some primaries in example.org');
  const db = new DatabaseSync(join(dir, 'roster.db'));
  const count = () => (db.prepare("select count(*) as n from addresses where role = 'primary' and address like '%@example.org'").get() as { n: number }).n;
  assert.equal(count(), preview['users']);
  const done = json(['domains', 'remove', 'example.org', '--tenant', 'acme', '--yes']);
  assert.equal(done['removed'], true);
  assert.equal(done['users'], preview['users']);
  assert.equal(count(), 0);
  assert.equal((db.prepare("select count(*) as n from addresses where address like '%@example.org'").get() as { n: number }).n, 0, 'aliases removed too');
  const audit = db.prepare("select actor from audit where action = 'domain.remove'").all() as { actor: string }[];
  assert.equal(audit.length, 1);
  assert.match(audit[0]!.actor, /^cli:/);
  db.close();
});

test('R42: secrets rotate re-encrypts under the new key, installs it, and sync still binds', () => {
  const before = readFileSync(join(dir, 'secret.key'), 'utf8');
  const r = json(['secrets', 'rotate', '--new-key-file', join(dir, 'new.key')]);
  assert.equal(r['rotated'], 1);
  assert.notEqual(r['newKeyId'], r['oldKeyId']);
  assert.notEqual(readFileSync(join(dir, 'secret.key'), 'utf8'), before);
  assert.ok(existsSync(join(dir, `secret.key.old-${String(r['oldKeyId'])}`)));
  const db = new DatabaseSync(join(dir, 'roster.db'));
  const stored = (db.prepare('select bind_secret from connections').get() as { bind_secret: string }).bind_secret;
  db.close();
  assert.ok(stored.startsWith(`v1:${String(r['newKeyId'])}:`));
  assert.equal(json(['sync', 'acme', 'main'])['status'], 'succeeded');
});

test('R5 via the CLI: directory down → exit 6 and the failed run record is printed', async () => {
  await slapd.halt();
  try {
    const r = roster(['sync', 'acme', 'main', '--json']);
    assert.equal(r.code, EXIT_CODES.connect_failed);
    assert.equal((JSON.parse(r.stdout) as Record<string, unknown>)['status'], 'failed');
    assert.equal((JSON.parse(r.stderr) as { error: { code: string } }).error.code, 'connect_failed');
  } finally {
    await slapd.start();
  }
});

test('R42: the bind password is in no output and in no DB row in clear', () => {
  assert.ok(outputs.length > 20);
  for (const o of outputs) assert.ok(!o.includes(slapd.readerPassword), `password printed: ${o.slice(0, 200)}`);
  const db = new DatabaseSync(join(dir, 'roster.db'));
  const tables = (db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((t) => t.name);
  for (const t of tables) {
    const rows = db.prepare(`select * from "${t}"`).all();
    assert.ok(!JSON.stringify(rows).includes(slapd.readerPassword), `password in table ${t}`);
  }
  db.close();
});

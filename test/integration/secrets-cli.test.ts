/**
 * R42 through the CLI against a real slapd over LDAPS: the bind password is stored encrypted
 * (AES-256-GCM, key outside the database) and never appears — as text, base64 (any alignment) or
 * hex — in any CLI output (human and --json, successful and failed commands, ROSTER_DEBUG=1), in
 * any store row of any table, in any file of the data dir. Key rotation (`roster secrets rotate
 * --new-key-file`) keeps syncs working with the new key, and the old key no longer decrypts; a
 * missing, wrong or malformed key gives a clear error (exit 8, config) and no run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { testPki } from '../helpers/tls.ts';
import { scenario, type Scenario, type CliRun } from '../helpers/cli.ts';
import { ldifEntry } from '../fixtures/ldif.ts';
import { decryptSecret, keyId } from '../../src/sync/secrets.ts';

const BASE = 'dc=example,dc=test';
const BIND_DN = `cn=sync-bind,${BASE}`;
// Unique per test process, so a hit can only be a leak of this very value.
const PASSWORD = `Pw!${randomBytes(9).toString('hex')}#Rq`;
const NEW_PASSWORD = `Np!${randomBytes(9).toString('hex')}#Zt`;
const WRONG_PASSWORD = `Wr!${randomBytes(9).toString('hex')}#Kx`;
const T0 = '2026-12-01T00:00:00.000Z';

/** Every form a careless encoder could leak a secret in. */
function leakForms(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('hex').toUpperCase()];
  // Base64 inside a longer string depends on the alignment: take the stable middle of each of the 3.
  for (const pad of ['', 'a', 'aa']) {
    for (const enc of ['base64', 'base64url'] as const) {
      const b = Buffer.from(pad + secret).toString(enc);
      forms.push(b.slice(pad.length === 0 ? 0 : 4, -4));
    }
  }
  return forms;
}

const SECRETS = [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD];
const outputs: Array<{ what: string; text: string }> = [];

function assertNoLeak(where: string, text: string | Buffer): void {
  const hay = typeof text === 'string' ? text : text.toString('latin1');
  for (const secret of SECRETS) {
    for (const form of leakForms(secret)) {
      assert.equal(hay.includes(form), false, `${where} contains the bind password (form "${form}")`);
    }
  }
}

let slapd: Slapd;
let s: Scenario;

/** Runs the CLI, keeps its output for the leak check, and asserts the exit code. */
async function run(args: string[], code: number, o: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  const r = await s.cli(args, o);
  outputs.push({ what: `roster ${args.join(' ')}`, text: r.stdout + r.stderr });
  assert.equal(r.code, code, `roster ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Every row of every table of the SQLite store, as text. */
function dumpStore(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, 'roster.db'), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    assert.ok(tables.length > 5, 'the store has its tables');
    let out = '';
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) {
        out += `${name}: ${JSON.stringify(row, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'bigint' ? String(v) : v))}\n`;
      }
    }
    return out;
  } finally {
    db.close();
  }
}

function storedSecrets(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, 'roster.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT bind_secret FROM connections WHERE bind_secret IS NOT NULL ORDER BY name').all() as Array<{ bind_secret: string }>).map((r) => r.bind_secret);
  } finally {
    db.close();
  }
}

/** Every file of the data dir (store, WAL, key files, anything else Roster wrote). */
function dataDirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...dataDirFiles(p));
    else out.push(p);
  }
  return out;
}

const keyOf = (file: string): Buffer => Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');

before(async () => {
  let ldif = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  ldif += ldifEntry(`ou=people,${BASE}`, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  ldif += ldifEntry(BIND_DN, { objectClass: ['top', 'person'], cn: 'sync-bind', sn: 'bind', userPassword: PASSWORD });
  for (let i = 1; i <= 3; i++) {
    ldif += ldifEntry(`uid=s${i},ou=people,${BASE}`, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid: `s${i}`, cn: `S ${i}`, sn: 'S', mail: `s${i}@example.test` });
  }
  slapd = await startSlapd({ ldif });
  s = await scenario({
    now: T0, domains: ['example.test'],
    connection: { profile: 'openldap', server: slapd.ldapsUrl, baseDn: BASE, bindDn: BIND_DN, bindPassword: PASSWORD, caFile: testPki().caFile },
  });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R42 the bind password never appears in CLI output, store rows or data files; it is stored AES-256-GCM under the key file', async () => {
  const pwFile = join(s.dataDir, '..', `roster-pw-${process.pid}`);
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    // connections add in human form, password from a file, for a second connection (other base).
    await run(['connections', 'add', 'people', '--tenant', 'acme', '--profile', 'openldap', '--server', slapd.ldapsUrl,
      '--base-dn', `ou=people,${BASE}`, '--bind-dn', BIND_DN, '--bind-password-file', pwFile, '--ca-file', testPki().caFile], 0);
  } finally {
    writeFileSync(pwFile, '');
  }
  for (const json of [[], ['--json']]) {
    await run(['connections', 'show', 'main', '--tenant', 'acme', ...json], 0);
    await run(['connections', 'list', '--tenant', 'acme', ...json], 0);
    await run(['connections', 'edit', 'main', '--tenant', 'acme', '--set-password', ...json], 0, { env: { ROSTER_BIND_PASSWORD: PASSWORD } });
    await run(['sync', 'acme', 'main', ...json], 0);
  }
  await run(['sync', 'acme', 'main', '--dry-run', '--json'], 0);
  const shown = JSON.parse((await run(['connections', 'show', 'main', '--tenant', 'acme', '--json'], 0)).stdout);
  assert.equal(shown.hasBindPassword, true);

  // A failed bind (wrong password), a failed connect (server down), also with ROSTER_DEBUG=1.
  await run(['connections', 'edit', 'people', '--tenant', 'acme', '--set-password', '--json'], 0, { env: { ROSTER_BIND_PASSWORD: WRONG_PASSWORD } });
  const badBind = await run(['sync', 'acme', 'people'], 6);
  assert.match(badBind.stderr, /invalid credentials/i);
  await run(['sync', 'acme', 'people', '--json'], 6, { env: { ROSTER_DEBUG: '1' } });
  await slapd.halt();
  try {
    await run(['sync', 'acme', 'main'], 6);
    await run(['sync', 'acme', 'main', '--json'], 6, { env: { ROSTER_DEBUG: '1' } });
  } finally {
    await slapd.start();
  }
  const runs = JSON.parse((await run(['runs', 'list', '--tenant', 'acme', '--connection', 'main', '--json'], 0)).stdout) as Array<{ id: string; status: string }>;
  assert.ok(runs.some((r) => r.status === 'failed') && runs.some((r) => r.status === 'succeeded'));
  // One run of each status, in both forms; the failed bind of the other connection too.
  for (const r of [runs.find((x) => x.status === 'failed')!, runs.find((x) => x.status === 'succeeded')!]) {
    await run(['runs', 'show', r.id, '--tenant', 'acme', '--plan', '--json'], 0);
    await run(['runs', 'show', r.id, '--tenant', 'acme', '--plan'], 0);
  }
  await run(['runs', 'list', '--tenant', 'acme', '--connection', 'people'], 0);
  const peopleRuns = JSON.parse((await run(['runs', 'list', '--tenant', 'acme', '--connection', 'people', '--json'], 0)).stdout) as Array<{ id: string }>;
  await run(['runs', 'show', peopleRuns[0]!.id, '--tenant', 'acme'], 0);
  await run(['users', 'list', '--tenant', 'acme', '--json'], 0);
  // The password changes: the new one must not leak either.
  await run(['connections', 'edit', 'main', '--tenant', 'acme', '--set-password'], 0, { env: { ROSTER_BIND_PASSWORD: NEW_PASSWORD } });
  await run(['sync', 'acme', 'main'], 6); // the directory still has the old password: a clean failure

  for (const o of outputs) assertNoLeak(o.what, o.text);
  assertNoLeak('the store rows (all tables)', dumpStore(s.dataDir));
  for (const f of dataDirFiles(s.dataDir)) assertNoLeak(f, readFileSync(f));

  // At rest: v1 AES-256-GCM envelopes under the data dir's key file, which decrypts them.
  const key = keyOf(join(s.dataDir, 'secret.key'));
  const stored = storedSecrets(s.dataDir);
  assert.equal(stored.length, 2);
  for (const v of stored) assert.match(v, new RegExp(`^v1:${keyId(key)}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$`));
  assert.deepEqual(stored.map((v) => decryptSecret(v, key)).sort(), [NEW_PASSWORD, WRONG_PASSWORD].sort());
  assert.equal(statSync(join(s.dataDir, 'secret.key')).mode & 0o077, 0, 'the key file is private (0600)');
  // Back to the working password for the rotation test.
  await run(['connections', 'edit', 'main', '--tenant', 'acme', '--set-password'], 0, { env: { ROSTER_BIND_PASSWORD: PASSWORD } });
});

test('R42 secrets rotate: syncs work with the new key, the old key no longer decrypts, the output names no secret', async () => {
  const keyFile = join(s.dataDir, 'secret.key');
  const oldKey = keyOf(keyFile);
  const newKeyFile = join(s.dataDir, '..', `roster-new-key-${process.pid}`);
  const rotated = JSON.parse((await run(['secrets', 'rotate', '--new-key-file', newKeyFile, '--json'], 0)).stdout);
  const newKey = keyOf(newKeyFile);
  assert.equal(rotated.rotated, 2);
  assert.equal(rotated.oldKeyId, keyId(oldKey));
  assert.equal(rotated.newKeyId, keyId(newKey));
  assert.ok(keyOf(keyFile).equals(newKey), 'the configured key file now holds the new key');
  assert.ok(keyOf(`${keyFile}.old-${keyId(oldKey)}`).equals(oldKey), 'the old key is kept beside it');

  for (const v of storedSecrets(s.dataDir)) {
    assert.throws(() => decryptSecret(v, oldKey), /encrypted with key/);
    assert.equal(typeof decryptSecret(v, newKey), 'string');
  }
  assert.equal(JSON.parse((await run(['sync', 'acme', 'main', '--json'], 0)).stdout).status, 'succeeded');

  // The old key, given as the configured key, is refused clearly; no run happens.
  const before = (JSON.parse((await run(['runs', 'list', '--tenant', 'acme', '--connection', 'main', '--json'], 0)).stdout) as unknown[]).length;
  const old = await run(['sync', 'acme', 'main'], 8, { env: { ROSTER_SECRET_KEY: oldKey.toString('base64') } });
  assert.match(old.stderr, new RegExp(`encrypted with key ${keyId(newKey)}.*configured key is ${keyId(oldKey)}`));
  assert.equal(old.stderr.includes(oldKey.toString('base64')), false, 'the key itself is never printed');
  const afterOld = JSON.parse((await run(['runs', 'list', '--tenant', 'acme', '--connection', 'main', '--json'], 0)).stdout) as Array<{ status: string; error: string | null }>;
  assert.ok(afterOld.length <= before + 1, 'at most one (failed) run record for the refused sync');
  if (afterOld.length === before + 1) {
    assert.equal(afterOld[0]!.status, 'failed');
    assert.match(String(afterOld[0]!.error), /encrypted with key/);
  }

  // A second rotation in human form, with the key from the environment this time.
  const third = join(s.dataDir, '..', `roster-third-key-${process.pid}`);
  const human = await run(['secrets', 'rotate', '--new-key-file', third], 0, { env: { ROSTER_SECRET_KEY_FILE: keyFile } });
  assert.match(human.stdout, /2 secrets re-encrypted/);
  assert.equal(JSON.parse((await run(['sync', 'acme', 'main', '--json'], 0)).stdout).status, 'succeeded');
  for (const o of outputs) assertNoLeak(o.what, o.text);
});

test('R42 a missing, wrong or malformed key file gives a clear config error (exit 8) and creates nothing', async () => {
  const missing = join(s.dataDir, 'no-such.key');
  const m = await run(['sync', 'acme', 'main'], 8, { env: { ROSTER_SECRET_KEY_FILE: missing } });
  assert.match(m.stderr, /cannot read key file .*no-such\.key/);
  assert.equal(existsSync(missing), false, 'a reader never creates a key file: a new key would orphan every secret');

  const wrong = join(s.dataDir, 'wrong.key');
  const wrongKey = randomBytes(32);
  writeFileSync(wrong, wrongKey.toString('base64'), { mode: 0o600 });
  const w = await run(['sync', 'acme', 'main'], 8, { env: { ROSTER_SECRET_KEY_FILE: wrong } });
  assert.match(w.stderr, new RegExp(`configured key is ${keyId(wrongKey)}`));
  const ws = await run(['connections', 'show', 'main', '--tenant', 'acme', '--json'], 0, { env: { ROSTER_SECRET_KEY_FILE: wrong } });
  assert.equal(JSON.parse(ws.stdout).hasBindPassword, true, 'reading settings needs no key');

  const short = join(s.dataDir, 'short.key');
  writeFileSync(short, 'dG9vIHNob3J0', { mode: 0o600 });
  const sh = await run(['sync', 'acme', 'main'], 8, { env: { ROSTER_SECRET_KEY_FILE: short } });
  assert.match(sh.stderr, /does not hold a 32-byte key/);

  const rot = await run(['secrets', 'rotate', '--new-key-file', join(s.dataDir, 'n.key')], 8, { env: { ROSTER_SECRET_KEY_FILE: wrong } });
  assert.match(rot.stderr, /encrypted with key/, 'a rotation with the wrong current key changes nothing');
  assert.equal(JSON.parse((await run(['sync', 'acme', 'main', '--json'], 0)).stdout).status, 'succeeded', 'the right key still works');
  for (const o of outputs) assertNoLeak(o.what, o.text);
});

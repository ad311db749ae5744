/**
 * R5/R57 faults through the `roster` CLI, as an operator meets them: a connection (made with
 * `connections add`, its operation timeout set with `connections edit --operation-timeout`) reads
 * a real slapd through the loopback fault proxy. A stalled stream and a cut stream make
 * `roster sync` exit with the read_incomplete code (5) and a message naming the fault; `runs show
 * --json` records the run as failed with that reason; the users list and the connection's cursor
 * (lastCompleteRunAt) are unchanged; after the fault clears, `roster sync` succeeds and a change
 * made meanwhile lands.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/tcp-fault.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { generateOpenLdapLdif, generateUser, ldifModify, type GeneratorSpec } from '../fixtures/directory-generator.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 53, users: 200, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const NOW = '2026-11-22T10:00:00.000Z';
let slapd: Slapd;
let proxy: FaultProxy;
let s: Scenario;
let picked = 0;

const cursor = async (): Promise<string | null> => {
  const list = await s.json(['connections', 'list', '--tenant', s.tenant]);
  return (list as { name: string; lastCompleteRunAt: string | null }[]).find((c) => c.name === s.connection)!.lastCompleteRunAt;
};

/** Renames the next eligible user; returns its primary address and new name. */
async function rename(tag: string): Promise<{ address: string; name: string }> {
  for (let i = picked; i < spec.users; i++) {
    const u = generateUser(spec, i);
    if (u.disabled || !u.managedPrimary || u.mails.length === 0) continue;
    picked = i + 1;
    const name = `Renamed ${tag}`;
    await slapd.ldapModify(ldifModify(u.dn, [{ op: 'replace', attr: 'displayName', values: [name] }]));
    return { address: u.mails[0]!.toLowerCase(), name };
  }
  throw new Error('no eligible user left');
}

before(async () => {
  slapd = await startSlapd({ ldif: generateOpenLdapLdif(spec).toString() });
  proxy = await startFaultProxy({ target: { host: slapd.host, port: slapd.port } });
  s = await scenario({
    domains: spec.managedDomains, now: NOW,
    connection: { profile: 'openldap', server: `ldap://127.0.0.1:${proxy.port}`, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword,
      extra: ['--page-size', '50'] },
  });
  const edited = await s.cli(['connections', 'edit', s.connection, '--tenant', s.tenant, '--operation-timeout', '1500', '--json']);
  assert.equal(edited.code, 0, `connections edit --operation-timeout: ${edited.stderr}`);
  const first = await s.sync();
  assert.equal(first.status, 'succeeded');
});

after(async () => {
  s?.cleanup();
  await proxy?.stop();
  await slapd?.stop();
});

const faults: { name: string; fault: Fault; error: RegExp }[] = [
  { name: 'the server stops answering in page 2 (R57)', fault: { kind: 'stall', atByte: 30_000 }, error: /timed out after 1500 ms/ },
  { name: 'the stream is cut in page 2', fault: { kind: 'cut', atByte: 30_000 }, error: /closed|reset|lost/i },
];

let hour = 0;
for (const f of faults) {
  test(`R5 (CLI): ${f.name} — sync exits 5 naming the fault, runs show records it, nothing changed; the next sync works`, async () => {
    const change = await rename(f.name);
    const users = await s.users();
    const cur = await cursor();
    const now = new Date(Date.parse(NOW) + ++hour * 3_600_000).toISOString();
    proxy.setFault(f.fault);
    const t0 = performance.now();
    let r;
    try {
      r = await s.cli(['sync', s.tenant, s.connection, '--json'], { now });
    } finally {
      proxy.setFault({ kind: 'none' });
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 20_000, `the sync did not hang (R57): ${Math.round(ms)} ms`);
    assert.equal(r.code, 5, `read_incomplete exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, f.error, 'the CLI names the fault');
    assert.ok(!r.stdout.includes(slapd.readerPassword) && !r.stderr.includes(slapd.readerPassword), 'no password printed (R42)');
    const runs = await s.json(['runs', 'list', '--tenant', s.tenant, '--connection', s.connection]);
    const id = (runs as { id: string }[])[0]!.id;
    const shown = await s.json(['runs', 'show', id, '--tenant', s.tenant]);
    assert.equal(shown.status, 'failed');
    assert.equal(shown.errorCode, 'read_incomplete');
    assert.match(shown.error, f.error);
    assert.deepEqual(await s.users(), users, 'the users list is unchanged (R5)');
    assert.equal(await cursor(), cur, 'the cursor did not move (R5)');

    const next = new Date(Date.parse(now) + 60_000).toISOString();
    const ok = await s.sync({ now: next });
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.counts.flagged, 0);
    assert.equal(await cursor(), next);
    const u = await s.user(change.address);
    assert.equal(u?.details?.displayName, change.name, 'the change made meanwhile landed');
  });
}

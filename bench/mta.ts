/**
 * The Postfix lookup server under load (R61, docs/POSTFIX.md): `roster postfix serve` runs as its
 * own process on a store; N persistent socketmap clients (this process) send lookups back to back
 * for a fixed time; we count lookups per second and each lookup's latency (p50, p99, max).
 *
 * Keys: a deterministic mix over the bench tenant's generated users — 60 % primaries, 20 % aliases,
 * 20 % unknown addresses in a managed domain — on the `recipient` map, answers checked against the
 * expectation (a wrong answer fails the bench: a fast wrong server is no result).
 *
 * Also `buildMtaStore()` (a 100k-user tenant written by the real pipeline: loadStoreState → planRun
 * → applyPlan, as bench/pipeline-only.ts) and `postmapBatch()` (Postfix's own client: `postmap -q -`
 * over K keys through any table, for side-by-side references such as an ldap: table on slapd).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeAddress } from '../src/core/address.ts';
import type { Address, DirUser, DirectorySnapshot, RunSettings } from '../src/core/model.ts';
import { connectSocketmap } from '../src/mta/client.ts';
import { showReply } from '../src/mta/socketmap.ts';
import { openStore } from '../src/store/db.ts';
import { claimRun } from '../src/sync/run-claim.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { readRunRecord } from '../src/sync/run-record.ts';
import { generateUser, type GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { startRosterServe } from '../test/helpers/postfix.ts';
import { seedBenchTenant } from './pipeline-only.ts';

export const MTA_SPEC = (users: number): GeneratorSpec => ({
  seed: 20261122, users, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'],
});

const NOW = '2026-11-22T10:00:00.000Z';

export interface LookupKey {
  key: string;
  /** The expected reply, as showReply() prints it. */
  expect: string;
}

/** The users the bench store holds: enabled, primary in a managed domain (what planRun makes eligible). */
function eligibleUsers(spec: GeneratorSpec): { primary: Address; aliases: Address[] }[] {
  const managed = new Set(spec.managedDomains);
  const out: { primary: Address; aliases: Address[] }[] = [];
  for (let i = 0; i < spec.users; i++) {
    const g = generateUser(spec, i);
    const mails = g.mails.map((m) => normalizeAddress(m)).filter((m): m is Address => m !== null);
    const primary = mails[0];
    if (g.disabled || primary === undefined || !managed.has(primary.slice(primary.indexOf('@') + 1))) continue;
    out.push({ primary, aliases: mails.slice(1).filter((a) => a !== primary && managed.has(a.slice(a.indexOf('@') + 1))) });
  }
  return out;
}

/** `count` keys: 60 % primaries, 20 % aliases, 20 % unknown, in a fixed pseudo-random order. */
export function lookupKeys(spec: GeneratorSpec, count: number): LookupKey[] {
  const users = eligibleUsers(spec);
  const withAlias = users.filter((u) => u.aliases.length > 0);
  let x = 0x9e3779b9;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const keys: LookupKey[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd(10);
    if (r < 6) {
      const u = users[rnd(users.length)]!;
      keys.push({ key: u.primary.toUpperCase(), expect: `OK ${u.primary}` });
    } else if (r < 8 && withAlias.length > 0) {
      const u = withAlias[rnd(withAlias.length)]!;
      const a = u.aliases[rnd(u.aliases.length)]!;
      keys.push({ key: a, expect: `OK ${a}` });
    } else {
      keys.push({ key: `nobody-${rnd(1_000_000)}@example.test`, expect: 'NOTFOUND' });
    }
  }
  return keys;
}

/** The snapshot the OpenLDAP profile maps from the generated users (no groups: lookups read addresses). */
function snapshotOf(spec: GeneratorSpec): DirectorySnapshot {
  const users: DirUser[] = [];
  for (let i = 0; i < spec.users; i++) {
    const g = generateUser(spec, i);
    const mails = g.mails.map((m) => normalizeAddress(m)).filter((m): m is Address => m !== null);
    const primary = mails[0] ?? null;
    users.push({
      anchor: g.entryUUID, dn: g.dn, kind: 'user', disabled: g.disabled, primary, primaryInvalid: false,
      aliases: [...new Set(mails.slice(1))].filter((a) => a !== primary).sort(),
      details: { givenName: g.givenName, surname: g.sn, displayName: g.displayName, homePhone: g.homePhone, mobile: g.mobile, company: g.o, department: g.ou, notes: g.description },
      kerberosName: null, ntlmName: null, issues: [],
    });
  }
  return { complete: true, users, groups: [], contacts: [], exceptedGroupsOutOfScope: [], references: [] };
}

/** Writes the bench tenant (`acme`, domains of the spec, connection `main`) into an empty store with one real run. */
export async function buildMtaStore(url: string, spec: GeneratorSpec): Promise<{ ms: number; users: number }> {
  const t0 = performance.now();
  const store = await openStore({ url });
  try {
    const db = store.db;
    await seedBenchTenant(db, spec.managedDomains);
    const settings: RunSettings = {
      tenantId: 'tenant-1', connectionId: 'conn-1', connectionPriority: 1, managedDomains: spec.managedDomains,
      options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: false }, deletionDelayDays: 30,
      exceptions: { userAnchors: [], groupAnchors: [], aliases: [] }, additions: [], flagUnanchored: true,
    };
    const run = await claimRun(db, { tenantId: 'tenant-1', connectionId: 'conn-1', connectionName: 'main', trigger: 'cli', actor: 'bench', dryRun: false, now: NOW, clockOverride: null });
    await reconcile(db, { runId: run.id, tenantId: 'tenant-1', connectionId: 'conn-1', dryRun: false, actor: 'sync:main', now: NOW, started: performance.now(), serverUsed: 'bench', snapshot: { current: snapshotOf(spec) }, settings });
    const rec = await readRunRecord(db, run.id);
    if (rec.status !== 'succeeded') throw new Error(`bench store run ended ${rec.status}`);
    const n = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { ms: performance.now() - t0, users: Number(n.n) };
  } finally {
    await store.close();
  }
}

export interface MtaRow {
  clients: number;
  lookups: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The server process's CPU time over the step (user + system), from /proc. */
  serverCpuPct: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** utime + stime of a process in seconds (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
}

/**
 * Starts `roster postfix serve` on the store at `url`, then for each client count runs that many
 * persistent connections for `seconds`, each sending its share of `keys` back to back.
 */
export async function benchMta(o: { url: string; keys: LookupKey[]; clients?: number[]; seconds?: number; dataDir: string; warmup?: number }): Promise<MtaRow[]> {
  const serve = await startRosterServe({ ROSTER_DATA_DIR: o.dataDir, ROSTER_DATABASE_URL: o.url }, ['--max-connections', '4096']);
  const rows: MtaRow[] = [];
  try {
    const pid = serve.pid;
    // Warm-up: caches of the store and of V8, one client.
    {
      await using c = await connectSocketmap({ port: serve.port, timeoutMs: 30_000 });
      for (let i = 0; i < (o.warmup ?? 2000); i++) await c.lookup('recipient', o.keys[i % o.keys.length]!.key);
    }
    for (const n of o.clients ?? [1, 8, 32]) {
      const clients = await Promise.all(Array.from({ length: n }, () => connectSocketmap({ port: serve.port, timeoutMs: 30_000 })));
      const latencies: number[] = [];
      let wrong = 0;
      const ms = (o.seconds ?? 5) * 1000;
      const cpu0 = await cpuSeconds(pid);
      const t0 = performance.now();
      await Promise.all(clients.map(async (c, k) => {
        let i = k * 7919;
        while (performance.now() - t0 < ms) {
          const key = o.keys[i++ % o.keys.length]!;
          const s = performance.now();
          const reply = showReply(await c.lookup('recipient', key.key));
          latencies.push(performance.now() - s);
          if (reply !== key.expect) wrong++;
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = (await cpuSeconds(pid)) - cpu0;
      await Promise.all(clients.map((c) => c.close()));
      if (wrong > 0) throw new Error(`${wrong} wrong answers with ${n} clients`);
      const sorted = Float64Array.from(latencies).sort();
      rows.push({
        clients: n, lookups: latencies.length, seconds, perSecond: latencies.length / seconds,
        p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted[sorted.length - 1] ?? NaN,
        serverCpuPct: (100 * cpu) / seconds,
      });
    }
  } finally {
    const r = await serve.stop();
    if (r.code !== 0) console.error(`roster postfix serve exited ${r.code}: ${r.stderr}`);
  }
  return rows;
}

/**
 * Postfix's own client over K keys in ONE process (`postmap -c <dir> -q - <table>`, keys on stdin):
 * wall seconds and how many keys were found. The same tool for a socketmap: and an ldap: table
 * makes a like-for-like reference.
 */
export async function postmapBatch(configDir: string, table: string, keys: string[], file: string): Promise<{ seconds: number; found: number; stderr: string }> {
  writeFileSync(file, keys.join('\n') + '\n');
  const t0 = performance.now();
  const child = spawn('sh', ['-c', `exec /usr/sbin/postmap -c '${configDir}' -q - '${table}' < '${file}'`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let found = 0;
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    found += lines.length;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number>((res) => child.once('close', (c) => res(c ?? -1)));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0 && code !== 1) throw new Error(`postmap ${table} exited ${code}: ${stderr.slice(0, 500)}`);
  return { seconds, found, stderr };
}

/** A config dir for postmap (-c): an empty main.cf and, when slapd is given, an ldap: table file. */
export function postmapConfig(work: string, slapd?: { url: string; readerDn: string; readerPassword: string; baseDn: string }): { dir: string; ldapTable?: string } {
  const dir = join(work, 'postfix');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.cf'), 'compatibility_level = 3.6\n');
  if (slapd === undefined) return { dir };
  const cf = join(dir, 'recipients-ldap.cf');
  writeFileSync(cf, [
    `server_host = ${slapd.url}`, `search_base = ${slapd.baseDn}`, 'version = 3', 'bind = yes',
    `bind_dn = ${slapd.readerDn}`, `bind_pw = ${slapd.readerPassword}`, 'query_filter = (mail=%s)', 'result_attribute = mail', '',
  ].join('\n'), { mode: 0o600 });
  return { dir, ldapTable: `ldap:${cf}` };
}

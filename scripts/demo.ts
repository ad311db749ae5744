/**
 * `npm run demo`: a private slapd with ~2,000 generated users, a throwaway SQLite store, the
 * same admin code the CLI uses, a sync with progress, a readable summary; then 3 directory
 * changes, a dry run showing the plan (R19), the real run, and what changed. Loopback only.
 * `--keep` keeps the store directory (printed) for poking at with bin/roster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSlapd } from '../test/helpers/slapd.ts';
import { generateOpenLdapLdif, generateUser, type GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { ldifModify, ldifDelete } from '../test/fixtures/ldif.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { addTenant, setTenantSync } from '../src/store/admin/tenants.ts';
import { addDomain } from '../src/store/admin/domains.ts';
import { addConnection } from '../src/store/admin/connections.ts';
import { encryptSecret } from '../src/sync/secrets.ts';
import { runSync } from '../src/sync/run-sync.ts';
import type { RunRecord } from '../src/sync/run-record.ts';
import { DEFAULT_CONNECTION_SETTINGS } from '../src/core/connection.ts';
import type { Plan, PlanOp } from '../src/core/model.ts';
import { createProgress } from '../src/cli/progress.ts';
import { summarize } from '../src/cli/commands/sync.ts';

const spec: GeneratorSpec = {
  seed: 2026, users: 2000, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'],
  withCycle: true,
};
const say = (s = '') => process.stdout.write(s + '\n');

async function sync(store: Store, ids: { tenantId: string; connectionId: string }, key: Buffer, dryRun = false): Promise<RunRecord> {
  const progress = createProgress(process.stderr.isTTY === true);
  try {
    return await runSync(store, { ...ids, dryRun, trigger: 'cli', actor: 'cli:demo', now: new Date().toISOString(), clockOverride: null, secretKey: key, onProgress: (p) => progress.update(p) });
  } finally {
    progress.end();
  }
}

async function samples(store: Store, n: number): Promise<void> {
  const users = await store.db.selectFrom('users').select(['id', 'display_name', 'department']).orderBy('display_name').limit(n).execute();
  for (const u of users) {
    const addrs = await store.db.selectFrom('addresses').select(['address', 'role']).where('user_id', '=', u.id).orderBy('role', 'desc').orderBy('address').execute();
    const primary = addrs.find((a) => a.role === 'primary')?.address ?? '?';
    const aliases = addrs.filter((a) => a.role === 'alias').map((a) => a.address);
    say(`  ${primary.padEnd(36)} ${(u.display_name ?? '').padEnd(22)} ${(u.department ?? '').padEnd(12)} ${aliases.length ? 'aliases: ' + aliases.join(', ') : ''}`);
  }
}

function describeOp(o: PlanOp, names: Map<string, string>): string | null {
  switch (o.op) {
    case 'update_user':
      return `update ${names.get(o.userId) ?? o.userId}: ${o.changes.map((c) => `${c.field} ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`).join('; ')}`;
    case 'add_alias':
      return `add alias ${o.address} to ${names.get(o.userId) ?? o.userId}`;
    case 'remove_alias':
      return `remove alias ${o.address} from ${names.get(o.userId) ?? o.userId}`;
    case 'flag_user':
      return `flag ${names.get(o.userId) ?? o.userId} for deletion (${o.reason}), delete after ${o.deleteAfter ?? 'never'}`;
    case 'add_user':
      return `add ${o.fields.primary}`;
    case 'restore_user':
      return `restore ${names.get(o.userId) ?? o.userId}`;
    default:
      return null;
  }
}

/** Issue 4 in a few lines: lookups answer from the store (the directory could be down), R60–R63. */
async function lookups(store: Store, tenantId: string, connectionId: string, renamed: string, departed: string, withAlias: string): Promise<void> {
  const { autocomplete, resolveAddress, expandGroup } = await import('../src/lookup/index.ts');
  const { countDuplicates } = await import('../src/store/duplicate-views.ts');
  const word = renamed.split(' ')[1] ?? renamed; // an accented surname such as "Müller"
  const query = word.normalize('NFD').replace(/\p{M}/gu, '').slice(0, 3).toUpperCase();
  const ac = await autocomplete(store.db, { tenantId, query, limit: 3 });
  say(`Autocomplete "${query}" (case- and accent-insensitive, R61): ${ac.results.map((h) => `${h.name ?? h.address} <${h.address}>`).join('; ')}`);
  for (const address of [withAlias, departed]) {
    const r = await resolveAddress(store.db, { address });
    say(`Resolve ${address}: ${r.holder === null ? 'nobody' : `${r.holder.kind}, ${'state' in r.holder ? String(r.holder.state) : ''}`} — recipient ${r.verdict.explanation}`);
  }
  const g = await store.db.selectFrom('groups').select('name').where('connection_id', '=', connectionId).orderBy('name').limit(1).executeTakeFirst();
  if (g !== undefined) {
    const x = await expandGroup(store.db, { tenantId, group: g.name });
    say(`Group "${g.name}" expands to ${x.counts.users} users through ${x.counts.groups} nested groups${x.cycles.length > 0 ? ` (${x.cycles.length} cycle edges cut)` : ''} (R61, R62).`);
  }
  say(`Duplicate findings of this connection (R63): ${await countDuplicates(store.db, connectionId)} — \`roster duplicates list acme\`.`);
  say('Recipient validation for Postfix answers from this same store: `roster postfix serve`, docs/POSTFIX.md.');
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const gen = generateOpenLdapLdif(spec);
  say(`Starting a private slapd with ${spec.users} generated users…`);
  const slapd = await startSlapd({ ldif: gen.toString() });
  const dir = mkdtempSync(join(tmpdir(), 'roster-demo-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  try {
    const ctx = { actor: 'cli:demo', now: new Date().toISOString() };
    const key = randomBytes(32);
    let tenant = await addTenant(store.db, { name: 'acme' }, ctx);
    for (const d of spec.managedDomains) await addDomain(store.db, tenant, d, ctx);
    tenant = await setTenantSync(store.db, tenant, true, ctx);
    const conn = await addConnection(store.db, tenant, {
      name: 'main', priority: 1, enabled: true, schedule: '30m',
      settings: {
        ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host: '127.0.0.1', port: slapd.ldapsPort, security: 'ldaps' }],
        caFile: slapd.caFile, bindDn: slapd.readerDn, baseDn: spec.baseDn, deletionDelayDays: 14,
      },
    }, encryptSecret(slapd.readerPassword, key), ctx);
    say(`Tenant acme manages ${spec.managedDomains.join(', ')}; connection main reads ${slapd.ldapsUrl} (LDAPS, verified against the test CA).`);
    say();

    const ids = { tenantId: tenant.id, connectionId: conn.id };
    const first = await sync(store, ids, key);
    say('First sync:');
    for (const l of summarize(first, conn.name)) say('  ' + l);
    const aliasCount = await store.db.selectFrom('addresses').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'alias').executeTakeFirstOrThrow();
    say(`  aliases held: ${Number(aliasCount.n)}`);
    say();
    say('A few users:');
    await samples(store, 5);
    say();

    // Three directory changes: a rename, a new alias, a departure.
    const eligible = Array.from({ length: spec.users }, (_, i) => generateUser(spec, i)).filter((u) => !u.disabled && u.managedPrimary);
    const [a, b, c] = [eligible[3]!, eligible[10]!, eligible[20]!];
    const newAlias = `${b.uid}.extra@example.org`;
    await slapd.ldapModify(
      ldifModify(a.dn, [{ op: 'replace', attr: 'displayName', values: [`${a.displayName} (Sales Lead)`] }]) +
        ldifModify(b.dn, [{ op: 'add', attr: 'mail', values: [newAlias] }]) +
        ldifDelete(c.dn),
    );
    say(`Directory changes: renamed ${a.mails[0]}, added alias ${newAlias} to ${b.mails[0]}, deleted ${c.mails[0]}.`);
    const dry = await sync(store, ids, key, true);
    const plan = JSON.parse((await store.db.selectFrom('runs').select('plan').where('id', '=', dry.id).executeTakeFirstOrThrow()).plan ?? '{}') as Plan;
    const rows = await store.db.selectFrom('addresses').select(['user_id', 'address']).where('role', '=', 'primary').execute();
    const names = new Map(rows.map((r) => [r.user_id ?? '', r.address]));
    say('Dry run (R19) — the plan, nothing applied yet:');
    for (const o of plan.ops) {
      const d = describeOp(o, names);
      if (d !== null) say('  ' + d);
    }
    const second = await sync(store, ids, key);
    say();
    say('Second sync:');
    for (const l of summarize(second, conn.name)) say('  ' + l);
    say();
    await lookups(store, tenant.id, conn.id, a.displayName, c.mails[0]!, b.mails[0]!);
  } finally {
    await store.close();
    await slapd.stop();
    if (keep) say(`\nStore kept in ${dir} (ROSTER_DATA_DIR=${dir} bin/roster tenants show acme; the secret key was not saved).`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * Runs the lookups benchmark (bench/lookups.ts) alone and prints a table: a store of N users
 * (default 100,000) built per dialect by a first sync without LDAP, then ≥ 2,000 autocomplete
 * queries and ≥ 2,000 resolves measured in-process. Target p99 < 5 ms.
 *
 *   node --no-warnings bench/lookups-main.ts [--users N] [--dialect sqlite|postgres|both] [--queries N] [--resolves N]
 *
 * PostgreSQL: ROSTER_BENCH_PG_URL, else the bench's own private cluster (bench/pg-server.ts).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openStore } from '../src/store/db.ts';
import { benchLookups, buildLookupStore, type LookupBenchResult } from './lookups.ts';
import { buildSnapshot, openBenchStore } from './pipeline-only.ts';

const { values: argv } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' }, dialect: { type: 'string', default: 'both' }, queries: { type: 'string', default: '2000' }, resolves: { type: 'string', default: '2000' },
    // Measure an existing store instead (bench/run.ts: a fresh process, so no other step's heap skews the latencies); prints JSON.
    url: { type: 'string' }, tenant: { type: 'string', default: 'acme' },
  },
  strict: false,
});
const USERS = Number(argv.users);
const TARGET_MS = 5;

async function one(dialect: 'sqlite' | 'postgres', snapshot: ReturnType<typeof buildSnapshot>): Promise<LookupBenchResult> {
  const { url, cleanup } = await openBenchStore(dialect, 'roster-lookups-');
  try {
    const t0 = performance.now();
    const store = await openStore({ url });
    try {
      await buildLookupStore(store, USERS, snapshot);
      // What autovacuum does within a minute of a bulk load: planner statistics and the visibility
      // map (index-only scans). Measured before it, PostgreSQL plans the range scans as bitmap scans
      // plus a sort (~7 ms each). SQLite's close runs PRAGMA optimize, its counterpart.
      if (dialect === 'postgres') await sql`vacuum analyze`.execute(store.db);
    } finally {
      await store.close();
    }
    console.log(`${dialect}: store of ${USERS} users built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return await benchLookups({ url, tenantId: 'tenant-1', queries: Number(argv.queries), resolves: Number(argv.resolves) });
  } finally {
    await cleanup();
  }
}

if (import.meta.main && argv.url !== undefined) {
  const url = String(argv.url);
  const store = await openStore({ url });
  const t = await store.db.selectFrom('tenants').select('id').where('name', '=', String(argv.tenant)).executeTakeFirst();
  await store.close();
  if (t === undefined) throw new Error(`no tenant ${String(argv.tenant)} in ${url}`);
  process.stdout.write(JSON.stringify(await benchLookups({ url, tenantId: t.id, queries: Number(argv.queries), resolves: Number(argv.resolves) })) + '\n');
} else if (import.meta.main) {
  const snapshot = buildSnapshot(USERS);
  const dialects = argv.dialect === 'both' ? (['sqlite', 'postgres'] as const) : [argv.dialect as 'sqlite' | 'postgres'];
  const rows: string[][] = [];
  let ok = true;
  for (const d of dialects) {
    const r = await one(d, snapshot);
    for (const [op, s, extra] of [['autocomplete', r.autocomplete, `${r.autocomplete.emptyResults} empty`], ['resolve', r.resolve, `${r.resolve.valid} valid`]] as const) {
      const pass = s.p99Ms < TARGET_MS;
      ok &&= pass;
      rows.push([d, op, String(s.n), s.p50Ms.toFixed(2), s.p99Ms.toFixed(2), s.maxMs.toFixed(2), s.meanMs.toFixed(2), pass ? 'met' : 'MISSED', extra]);
    }
    console.log(`${d} slowest autocompletes: ${r.autocomplete.slowest.map((x) => `${JSON.stringify(x.query)} ${x.ms.toFixed(1)} ms`).join(', ')}`);
  }
  const head = ['dialect', 'lookup', 'calls', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', `p99 < ${TARGET_MS} ms`, 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\nlookups at ${USERS} users (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  process.exitCode = ok ? 0 : 3;
}

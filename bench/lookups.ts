/**
 * R61 lookups benchmark, in-process: autocomplete and resolveAddress latency (p50 / p99 / max) on
 * a store holding one tenant of 100,000 users, built the way bench/pipeline-only.ts builds its
 * store — the generator's snapshot (test/fixtures/directory-generator.ts) planned and applied by
 * the real sync pipeline (reconcile), no LDAP. Target (issue 4): p99 < 5 ms for both.
 *
 * Queries are drawn from the store itself with a seeded generator: 1–4 character prefixes of real
 * name words (as stored: accents and capitals kept, e.g. "Mü", "Øv"), some folded or upper-cased,
 * some two-word ("Anna Sm"), some address prefixes ("anna.s"), some whole addresses. Resolves: real
 * primaries and aliases, unknown addresses in managed domains, addresses in unmanaged domains.
 */
import type { Kysely } from 'kysely';
import type { DirectorySnapshot } from '../src/core/model.ts';
import { foldText } from '../src/core/fold.ts';
import { openStore, type Store } from '../src/store/db.ts';
import type { Database } from '../src/store/schema.ts';
import { claimRun } from '../src/sync/run-claim.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { autocomplete } from '../src/lookup/autocomplete.ts';
import { resolveAddress } from '../src/lookup/resolve-address.ts';
import { benchSettings, buildSnapshot, seedBenchTenant } from './pipeline-only.ts';
import { rng } from '../src/core/test-fixtures.ts';

const NOW = '2026-11-22T10:00:00.000Z';

export interface LatencyStats {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface LookupBenchResult {
  users: number;
  /** `slowest`: the five slowest queries with their time (ms), for diagnosis. */
  autocomplete: LatencyStats & { emptyResults: number; slowest: Array<{ query: string; ms: number }> };
  resolve: LatencyStats & { valid: number };
}

export interface LookupBenchOptions {
  url: string;
  tenantId: string;
  /** At least 2,000 each (default 2,000). */
  queries?: number;
  resolves?: number;
  seed?: number;
  /** Calls before measuring (default 200). */
  warmup?: number;
}


function stats(samples: number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { n: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s[s.length - 1]!, meanMs: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Seeds a provider, tenant `tenant-1` and connection `conn-1` (the pipeline bench's), then runs a first sync of `users` users. */
export async function buildLookupStore(store: Store, users = 100_000, snapshot?: DirectorySnapshot): Promise<void> {
  const db = store.db;
  const settings = benchSettings();
  await seedBenchTenant(db, settings.managedDomains);
  const run = await claimRun(db, { tenantId: 'tenant-1', connectionId: 'conn-1', connectionName: 'main', trigger: 'cli', actor: 'bench', dryRun: false, now: NOW, clockOverride: null });
  await reconcile(db, {
    runId: run.id, tenantId: 'tenant-1', connectionId: 'conn-1', dryRun: false, actor: 'sync:main', now: NOW, started: performance.now(), serverUsed: 'bench',
    snapshot: { current: snapshot ?? buildSnapshot(users) }, settings,
  });
}

interface Sample {
  names: string[];
  addresses: string[];
  domains: string[];
}

async function sampleStore(db: Kysely<Database>, tenantId: string, pick: () => number): Promise<Sample & { users: number }> {
  const n = Number((await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const rows = await db
    .selectFrom('users as u')
    .innerJoin('addresses as a', 'a.user_id', 'u.id')
    .select(['u.display_name', 'u.given_name', 'u.surname', 'a.address'])
    .where('u.tenant_id', '=', tenantId)
    .limit(20_000)
    .execute();
  const names: string[] = [];
  const addresses: string[] = [];
  for (const r of rows) {
    if (r.given_name !== null && r.surname !== null) names.push(`${r.given_name} ${r.surname}`);
    else if (r.display_name !== null) names.push(r.display_name);
    addresses.push(r.address);
  }
  const groups = await db.selectFrom('groups').select('name').where('tenant_id', '=', tenantId).limit(1000).execute();
  for (const g of groups) if (pick() < 0.05) names.push(g.name);
  const domains = (await db.selectFrom('domains').select('name').where('tenant_id', '=', tenantId).execute()).map((d) => d.name);
  return { names, addresses, domains, users: n };
}

/** The autocomplete queries: prefixes of names and addresses as an administrator types them. */
export function makeQueries(s: Sample, count: number, pick: () => number): string[] {
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(pick() * xs.length)]!;
  const len = () => 1 + Math.floor(pick() * 4);
  const out: string[] = [];
  while (out.length < count) {
    const r = pick();
    const name = one(s.names);
    const words = name.split(/\s+/).filter((w) => w !== '');
    if (r < 0.45) {
      const w = one(words);
      const p = w.slice(0, len());
      out.push(pick() < 0.2 ? foldText(p) : pick() < 0.1 ? p.toUpperCase() : p);
    } else if (r < 0.65 && words.length >= 2) {
      out.push(`${words[0]!.slice(0, 1 + Math.floor(pick() * words[0]!.length))} ${words[1]!.slice(0, len())}`);
    } else if (r < 0.75) {
      // An accented word, when the name has one.
      const accented = words.find((w) => foldText(w) !== w.toLowerCase());
      out.push((accented ?? one(words)).slice(0, len()));
    } else if (r < 0.95) {
      out.push(one(s.addresses).slice(0, len() + Math.floor(pick() * 6)));
    } else {
      out.push(one(s.addresses));
    }
  }
  return out;
}

/** The resolve inputs: 60% held addresses (primaries and aliases), 25% unknown in a managed domain, 15% unmanaged. */
export function makeResolves(s: Sample, count: number, pick: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = pick();
    if (r < 0.6) out.push(s.addresses[Math.floor(pick() * s.addresses.length)]!);
    else if (r < 0.85) out.push(`nobody.${i}@${s.domains[Math.floor(pick() * s.domains.length)]}`);
    else out.push(`someone.${i}@unmanaged-${i % 7}.test`);
  }
  return out;
}

/** Measures autocomplete and resolve latencies, one call at a time, on the store at `url`. */
export async function benchLookups(o: LookupBenchOptions): Promise<LookupBenchResult> {
  const store = await openStore({ url: o.url });
  try {
    const db = store.db;
    const pick = rng(o.seed ?? 20261122);
    const sample = await sampleStore(db, o.tenantId, pick);
    const queries = makeQueries(sample, Math.max(2000, o.queries ?? 2000), pick);
    const resolves = makeResolves(sample, Math.max(2000, o.resolves ?? 2000), pick);
    const warm = o.warmup ?? 200;
    for (let i = 0; i < warm; i++) {
      await autocomplete(db, { tenantId: o.tenantId, query: queries[i % queries.length]! });
      await resolveAddress(db, { address: resolves[i % resolves.length]! });
    }
    const ac: number[] = [];
    let empty = 0;
    for (const query of queries) {
      const t0 = performance.now();
      const r = await autocomplete(db, { tenantId: o.tenantId, query });
      ac.push(performance.now() - t0);
      if (r.results.length === 0) empty++;
    }
    const rs: number[] = [];
    let valid = 0;
    for (const address of resolves) {
      const t0 = performance.now();
      const r = await resolveAddress(db, { address });
      rs.push(performance.now() - t0);
      if (r.verdict.valid) valid++;
    }
    const slowest = ac.map((ms, i) => ({ query: queries[i]!, ms })).sort((a, b) => b.ms - a.ms).slice(0, 5);
    return { users: sample.users, autocomplete: { ...stats(ac), emptyResults: empty, slowest }, resolve: { ...stats(rs), valid } };
  } finally {
    await store.close();
  }
}

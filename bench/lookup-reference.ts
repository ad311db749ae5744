/**
 * The reference for the lookup benchmarks (issue 4): the same addresses looked up in the directory
 * itself with `ldapsearch`, in the same run, on the same slapd.
 *
 * - one connection, one search per address: `ldapsearch -f addresses "(mail=%s)"` reads the file and
 *   performs one search per line over a single bound connection — what a lookup costs when every
 *   answer comes from the directory (latency = wall / n, a mean: ldapsearch reports no per-search time);
 * - throughput: `parallel` such processes, each over its share of the addresses, at once;
 * - one process per lookup (what a naive script does): p50/p99 over `spawnSample` spawns.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreReader } from './store-reader.ts';

export interface LdapTarget {
  url: string;
  bindDn: string;
  passwordFile: string;
  baseDn: string;
}

export interface ReferenceFigures {
  addresses: number;
  /** One connection, sequential: mean ms per lookup and lookups per second. */
  sequential: { wallS: number; meanMs: number; perSecond: number; found: number };
  /** `parallel` connections at once. */
  concurrent: { parallel: number; wallS: number; perSecond: number };
  /** One ldapsearch process per lookup. */
  perProcess: { n: number; p50Ms: number; p99Ms: number };
}

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.on('error', rej);
    c.on('close', (code) => res({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const base = (t: LdapTarget): string[] => ['ldapsearch', '-x', '-H', t.url, '-D', t.bindDn, '-y', t.passwordFile, '-LLL', '-b', t.baseDn, '-s', 'sub'];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** `n` primary addresses of the tenant's users (a primary is the entry's first `mail`), spread evenly over the sorted list (deterministic). */
export async function sampleAddresses(reader: StoreReader, tenant: string, n: number): Promise<string[]> {
  const rows = await reader.all(
    `SELECT a.address AS address FROM addresses a JOIN tenants t ON t.id = a.tenant_id WHERE t.name = ? AND a.role = 'primary' ORDER BY a.address`, [tenant]);
  const all = rows.map((r) => String(r.address));
  if (all.length === 0) throw new Error(`tenant ${tenant} holds no address`);
  const step = Math.max(1, Math.floor(all.length / n));
  const out: string[] = [];
  for (let i = 0; i < all.length && out.length < n; i += step) out.push(all[i]!);
  return out;
}

export async function ldapsearchLookups(t: LdapTarget, addresses: string[], work: string, o: { parallel?: number; spawnSample?: number } = {}): Promise<ReferenceFigures> {
  const parallel = o.parallel ?? 8;
  const file = join(work, 'lookup-addresses.txt');
  writeFileSync(file, addresses.join('\n') + '\n');
  const filter = '(mail=%s)';
  let t0 = process.hrtime.bigint();
  const seq = await run([...base(t), '-f', file, filter, '1.1']);
  const seqS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (seq.code !== 0) throw new Error(`ldapsearch -f exited ${seq.code}: ${seq.stderr.slice(-500)}`);
  const found = (seq.stdout.match(/^dn:/gm) ?? []).length;

  const parts: string[][] = Array.from({ length: parallel }, () => []);
  addresses.forEach((a, i) => parts[i % parallel]!.push(a));
  t0 = process.hrtime.bigint();
  const results = await Promise.all(parts.map((p, i) => {
    const f = join(work, `lookup-addresses-${i}.txt`);
    writeFileSync(f, p.join('\n') + '\n');
    return run([...base(t), '-f', f, filter, '1.1']);
  }));
  const parS = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const r of results) if (r.code !== 0) throw new Error(`ldapsearch -f (parallel) exited ${r.code}: ${r.stderr.slice(-500)}`);

  const n = Math.min(o.spawnSample ?? 200, addresses.length);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = addresses[Math.floor((i * addresses.length) / n)]!;
    const s0 = process.hrtime.bigint();
    const r = await run([...base(t), `(mail=${a})`, '1.1']);
    times.push(Number(process.hrtime.bigint() - s0) / 1e6);
    if (r.code !== 0) throw new Error(`ldapsearch exited ${r.code}: ${r.stderr.slice(-500)}`);
  }
  times.sort((x, y) => x - y);
  return {
    addresses: addresses.length,
    sequential: { wallS: seqS, meanMs: (seqS * 1000) / addresses.length, perSecond: addresses.length / seqS, found },
    concurrent: { parallel, wallS: parS, perSecond: addresses.length / parS },
    perProcess: { n, p50Ms: pct(times, 50), p99Ms: pct(times, 99) },
  };
}

/**
 * The PostgreSQL server the bench measures against. test/helpers/postgres.ts starts its private
 * cluster with fsync=off, synchronous_commit=off and full_page_writes=off (fine for tests, not
 * what a deployment runs), so the bench starts its OWN private cluster with PostgreSQL's default
 * durability (fsync on, synchronous_commit on), on a free 127.0.0.1 port, as the `postgres` OS
 * user; or, when ROSTER_BENCH_PG_URL is set, creates a fresh database on that server and drops
 * it at the end. A cluster that cannot start throws.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensurePackages } from '../test/helpers/debian.ts';
import { freePort, waitForPort } from '../test/helpers/ports.ts';

export interface BenchPostgres {
  /** URL of the fresh, empty database the bench's store uses. */
  url: string;
  /** What the server is, for the printed report. */
  describe: string;
  stop(): Promise<void>;
}

function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  throw new Error(`no PostgreSQL server binaries under ${base}`);
}

function asPostgres(bin: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

async function createDb(adminUrl: string): Promise<string> {
  const name = `roster_bench_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.href;
}

async function dropDb(adminUrl: string, dbUrl: string): Promise<void> {
  const name = new URL(dbUrl).pathname.slice(1);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Starts (or attaches to) the bench's PostgreSQL and returns a fresh database. */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const given = process.env.ROSTER_BENCH_PG_URL;
  if (given) {
    const url = await createDb(given);
    return { url, describe: `ROSTER_BENCH_PG_URL server (its own settings), fresh database ${new URL(url).pathname.slice(1)}`,
      stop: () => dropDb(given, url) };
  }
  ensurePackages('postgres');
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  const stopCluster = (): void => {
    spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'], { timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
    // Default durability: no fsync/synchronous_commit/full_page_writes overrides.
    const opts = [`-k ${dir}`, `-p ${port}`, '-c listen_addresses=127.0.0.1'].join(' ');
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
    await waitForPort(port, '127.0.0.1', 30_000);
  } catch (e) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    stopCluster();
    throw new Error(`bench PostgreSQL did not start: ${(e as Error).message}\n${tail}`);
  }
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const url = await createDb(admin);
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    url,
    describe: `private cluster (${version}) on 127.0.0.1:${port}, default durability (fsync=on, synchronous_commit=on)`,
    stop: async () => stopCluster(),
  };
}

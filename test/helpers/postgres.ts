/**
 * PostgreSQL for tests: either the server named by ROSTER_TEST_PG_URL (a fresh database per
 * createDatabase call, all dropped at stop), or a PRIVATE throwaway cluster (initdb + pg_ctl
 * as the `postgres` OS user, on a free 127.0.0.1 port, fsync off) that stop() removes.
 * Never the machine's system instance unless the environment variable names it.
 * A cluster that cannot start throws: the tests fail, they do not skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensurePackages } from './debian.ts';
import { freePort, waitForPort } from './ports.ts';

export interface TestPostgres {
  /** URL of a database of this server (no password: trust auth on loopback). */
  url(dbName: string): string;
  /** Creates a fresh, empty database with a random name and returns its URL. */
  createDatabase(): Promise<string>;
  /** Drops the databases made here; stops and deletes a private cluster. */
  stop(): Promise<void>;
}

function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  throw new Error(`no PostgreSQL server binaries under ${base}`);
}

function idOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function asPostgres(bin: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  }
}

interface Server {
  base: URL;
  stopServer(): Promise<void>;
}

async function startPrivateCluster(): Promise<Server> {
  ensurePackages('postgres');
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'roster-pg-'));
  const { uid, gid } = idOf('postgres');
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  let started = false;
  try {
    asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const opts = [
      `-k ${dir}`,
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      // Test speed: a test cluster is thrown away, durability does not matter here.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
    started = true;
    await waitForPort(port, '127.0.0.1', 30_000);
  } catch (e) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    if (started) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`private PostgreSQL did not start: ${(e as Error).message}\n${tail}`);
  }
  const stopNow = (): void => {
    spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], {
      timeout: 60_000,
    });
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that exits without calling stop() (a failed before hook) leaves no cluster behind.
  process.once('exit', stopNow);
  return {
    base: new URL(`postgres://postgres@127.0.0.1:${port}/postgres`),
    async stopServer() {
      process.removeListener('exit', stopNow);
      stopNow();
    },
  };
}

/**
 * Starts (or attaches to) a PostgreSQL server for a test file or a whole test run.
 * With ROSTER_TEST_PG_URL set, that server is used and left running.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const given = process.env.ROSTER_TEST_PG_URL;
  const server: Server = given
    ? { base: new URL(given), stopServer: async () => {} }
    : await startPrivateCluster();
  const url = (dbName: string): string => {
    const u = new URL(server.base.href);
    u.pathname = `/${dbName}`;
    return u.href;
  };
  const admin = new pg.Pool({ connectionString: server.base.href, max: 2 });
  admin.on('error', () => {});
  const made: string[] = [];
  return {
    url,
    async createDatabase() {
      const name = `roster_t_${randomBytes(8).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      made.push(name);
      return url(name);
    },
    async stop() {
      try {
        if (given) {
          for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }
      } finally {
        await admin.end();
        await server.stopServer();
      }
    },
  };
}

// `node test/helpers/postgres.ts` starts a private cluster, prints its URL and keeps it running
// until SIGINT/SIGTERM, then stops and removes it.
if (import.meta.main) {
  const p = await startPostgres();
  console.log(p.url('postgres'));
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = (): void => {
    clearInterval(keepAlive);
    void p.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

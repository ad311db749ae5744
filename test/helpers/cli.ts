/**
 * Drives the `roster` CLI as an operator would, for the end-to-end tests (test/integration/e2e-*.test.ts):
 * `node --no-warnings src/cli/main.ts …` with cwd = the repository root and an explicit environment
 * (ROSTER_DATA_DIR, ROSTER_DATABASE_URL, ROSTER_NOW, ROSTER_BIND_PASSWORD). Nothing is mocked: the CLI
 * opens the real store and talks to the real directory server the test started.
 *
 * `scenario()` builds the usual starting point: a tenant with managed domains, sync enabled, and one
 * connection to a given server, each made through the CLI itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(REPO_ROOT, 'src/cli/main.ts');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when `--json` was given and stdout parses; otherwise null. */
  json: any;
}

/**
 * Runs the CLI once. `env` is the whole ROSTER_* environment of the call (PATH and HOME are added);
 * `input` is written to stdin. Never throws for a non-zero exit: callers assert on `code`.
 */
export async function runCli(args: string[], opts: { env: Record<string, string>; input?: string }): Promise<CliRun> {
  const child = spawn(process.execPath, ['--no-warnings', MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: opts.env['ROSTER_DATA_DIR'] ?? tmpdir(), ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => { /* the CLI may exit before reading stdin */ });
  child.stdin.end(opts.input ?? '');
  const code = await new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c, signal) => res(c ?? (signal !== null ? 128 : -1)));
  });
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  let json: any = null;
  if (args.includes('--json') && stdout.trim() !== '') {
    try {
      json = JSON.parse(stdout);
    } catch {
      json = null;
    }
  }
  return { code, stdout, stderr, json };
}

export interface ScenarioOptions {
  tenant?: string;
  domains: string[];
  connection: {
    name?: string;
    profile: 'openldap' | 'active-directory';
    /** ldap://127.0.0.1:port or ldaps://… */
    server: string;
    baseDn: string;
    bindDn: string;
    /** Given to the CLI through ROSTER_BIND_PASSWORD, never on the command line. */
    bindPassword: string;
    caFile?: string;
    /** Further `connections add` flags, e.g. ['--deletion-delay', '7', '--read-contacts']. */
    extra?: string[];
  };
  /** ROSTER_DATABASE_URL; default the SQLite file in the data dir. */
  databaseUrl?: string;
  /** Initial ROSTER_NOW (D5). */
  now: string;
  /** Leave sync disabled (R18 tests enable it later). */
  syncDisabled?: boolean;
}

export interface Scenario {
  dataDir: string;
  tenant: string;
  connection: string;
  /** The environment of every call; `now` is ROSTER_NOW. */
  env(now?: string): Record<string, string>;
  /** runCli with this scenario's environment; `now` overrides ROSTER_NOW for this call. */
  cli(args: string[], o?: { now?: string; input?: string; env?: Record<string, string> }): Promise<CliRun>;
  /** Runs with --json, asserts exit 0 and returns the parsed document. */
  json(args: string[], o?: { now?: string; env?: Record<string, string> }): Promise<any>;
  /** `sync <tenant> <connection> --json` (optionally --dry-run); asserts exit `expectCode` (0). */
  sync(o?: { now?: string; dryRun?: boolean; expectCode?: number; connection?: string }): Promise<any>;
  /** Every user of the tenant (users list --json, up to 10,000), keyed by primary address. */
  users(o?: { now?: string; extra?: string[] }): Promise<Map<string, any>>;
  /** `users show <address> --json`, or null when the CLI answers not_found (exit 3). */
  user(address: string): Promise<any | null>;
  cleanup(): void;
}

/** Creates a data dir, tenant, domains and connection through the CLI; sync enabled unless asked. */
export async function scenario(o: ScenarioOptions): Promise<Scenario> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-e2e-'));
  const tenant = o.tenant ?? 'acme';
  const connection = o.connection.name ?? 'main';
  const baseEnv: Record<string, string> = { ROSTER_DATA_DIR: dataDir };
  if (o.databaseUrl !== undefined) baseEnv['ROSTER_DATABASE_URL'] = o.databaseUrl;
  const env = (now?: string): Record<string, string> => ({ ...baseEnv, ROSTER_NOW: now ?? o.now });
  const cli: Scenario['cli'] = (args, c = {}) =>
    runCli(args, { env: { ...env(c.now), ...(c.env ?? {}) }, ...(c.input !== undefined ? { input: c.input } : {}) });
  const json: Scenario['json'] = async (args, c = {}) => {
    const r = await cli([...args, '--json'], c);
    assert.equal(r.code, 0, `roster ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    assert.notEqual(r.json, null, `roster ${args.join(' ')} printed no JSON: ${r.stdout}`);
    return r.json;
  };
  const s: Scenario = {
    dataDir, tenant, connection, env, cli, json,
    async sync(so = {}) {
      const args = ['sync', tenant, so.connection ?? connection, '--json'];
      if (so.dryRun === true) args.push('--dry-run');
      const r = await cli(args, so.now !== undefined ? { now: so.now } : {});
      assert.equal(r.code, so.expectCode ?? 0, `sync exited ${r.code}: ${r.stderr} ${r.stdout.slice(0, 2000)}`);
      return r.json;
    },
    async users(uo = {}) {
      const page = await json(['users', 'list', '--tenant', tenant, '--limit', '10000', ...(uo.extra ?? [])], uo.now !== undefined ? { now: uo.now } : {});
      assert.ok(page.total <= 10_000, 'scenario.users() reads at most 10,000 users');
      return new Map((page.users as any[]).map((u) => [u.address as string, u]));
    },
    async user(address) {
      const r = await cli(['users', 'show', address, '--tenant', tenant, '--json']);
      if (r.code === 3) return null;
      assert.equal(r.code, 0, `users show ${address} exited ${r.code}: ${r.stderr}`);
      return r.json;
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
  try {
    await json(['tenants', 'add', tenant]);
    await json(['domains', 'add', ...o.domains, '--tenant', tenant]);
    const c = o.connection;
    const args = ['connections', 'add', connection, '--tenant', tenant, '--profile', c.profile, '--server', c.server,
      '--base-dn', c.baseDn, '--bind-dn', c.bindDn];
    if (c.caFile !== undefined) args.push('--ca-file', c.caFile);
    if (c.server.startsWith('ldap://')) args.push('--allow-plain-bind');
    args.push(...(c.extra ?? []));
    const added = await json(args, { env: { ROSTER_BIND_PASSWORD: c.bindPassword } });
    assert.equal(added.hasBindPassword, true);
    if (o.syncDisabled !== true) await json(['tenants', 'enable-sync', tenant]);
  } catch (e) {
    s.cleanup();
    throw e;
  }
  return s;
}

/** ISO time `days` (may be fractional) after `iso`. */
export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString();
}

/**
 * The real Roster CLI (bin/roster) as the bench drives it: one environment per store, set-up
 * commands run untimed through it, and the exact sync command line for timing and printing.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { shq } from './measure.ts';

export const ROSTER_BIN = resolve(import.meta.dirname, '../bin/roster');

export interface CliStore {
  label: string;
  /** Only the ROSTER_* variables the bench sets (printed with the command). */
  vars: Record<string, string>;
  /** The store URL, for the bench's own read-only checks. */
  url: string;
}

/** The full environment of a CLI process: inherited, minus any ROSTER_* from outside, plus the store's. */
export function cliEnv(store: CliStore): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ROSTER_')) env[k] = v;
  return { ...env, ...store.vars };
}

/** Runs one CLI command to completion and returns its --json output; throws with stderr on failure. */
export function cliJson<T = unknown>(store: CliStore, args: readonly string[]): T {
  const r = spawnSync(ROSTER_BIN, [...args, '--json'], { env: cliEnv(store), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`roster ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** The sync command as argv (without the environment) and as a printable shell line. */
export function syncCommand(store: CliStore, tenant: string, connection: string): { argv: string[]; line: string } {
  const argv = [ROSTER_BIN, 'sync', tenant, connection, '--json'];
  const vars = Object.entries(store.vars).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
  return { argv, line: `${vars} ${argv.map(shq).join(' ')}` };
}

export interface SetupInput {
  tenant: string;
  connection: string;
  domains: string[];
  serverUrl: string;
  baseDn: string;
  bindDn: string;
  passwordFile: string;
  plain: boolean;
  caFile?: string;
}

/** Tenant, managed domains, sync switch and connection, all through the CLI (untimed). Returns the connection's settings. */
export function setUpStore(store: CliStore, s: SetupInput): Record<string, unknown> {
  cliJson(store, ['tenants', 'add', s.tenant]);
  cliJson(store, ['domains', 'add', ...s.domains, '--tenant', s.tenant]);
  cliJson(store, ['tenants', 'enable-sync', s.tenant]);
  const conn = cliJson<{ settings: Record<string, unknown> }>(store, [
    'connections', 'add', s.connection, '--tenant', s.tenant, '--profile', 'openldap', '--server', s.serverUrl,
    ...(s.plain ? ['--allow-plain-bind'] : []), ...(s.caFile ? ['--ca-file', s.caFile] : []),
    '--base-dn', s.baseDn, '--bind-dn', s.bindDn, '--bind-password-file', s.passwordFile, '--deletion-delay', '14',
  ]);
  return conn.settings;
}

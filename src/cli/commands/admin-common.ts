/**
 * Pieces the admin command modules (users, rules, archives, conflicts, exceptions, additions,
 * runs, purge) share: the --tenant/--provider/--connection options and their lookup, numbers
 * from options, and addresses shown in Unicode to humans (JSON keeps punycode, D11).
 */
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { domainToDisplay } from '../../core/address.ts';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { getTenant, type TenantInfo } from '../../store/admin/tenants.ts';
import { getConnection } from '../../store/admin/connections.ts';

export interface TenantOpts {
  tenant: string;
  provider?: string;
}

export interface ConnectionOpts extends TenantOpts {
  connection: string;
}

/** Adds the required --tenant and the optional --provider. */
export function tenantOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider, when the tenant name is not unique');
}

/** Adds --tenant, --provider and a --connection that is required or optional. */
export function connectionOptions(cmd: Command, required: boolean): Command {
  const c = tenantOptions(cmd);
  return required ? c.requiredOption('--connection <name>', 'connection') : c.option('--connection <name>', 'only this connection');
}

export function resolveTenant(db: Kysely<Database>, o: TenantOpts): Promise<TenantInfo> {
  return getTenant(db, o.tenant, o.provider);
}

/** The tenant and, when named, the connection's id. */
export async function resolveScope(
  db: Kysely<Database>,
  o: TenantOpts & { connection?: string },
): Promise<{ tenant: TenantInfo; connectionId: string | undefined }> {
  const tenant = await resolveTenant(db, o);
  const connectionId = o.connection === undefined ? undefined : (await getConnection(db, tenant, o.connection)).id;
  return { tenant, connectionId };
}

/** Parses a non-negative integer option ('bad_input' otherwise). */
export function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new RosterError('bad_input', `--${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A stored (punycode) address as a human reads it. */
export function showAddress(a: string | null): string {
  if (a === null) return '-';
  const at = a.lastIndexOf('@');
  return at < 0 ? a : a.slice(0, at + 1) + domainToDisplay(a.slice(at + 1));
}

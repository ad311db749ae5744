/** `roster tenants add|list|show|enable-sync|disable-sync` (D1, R18, R24). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addTenant, listTenants, showTenant, getTenant, setTenantSync } from '../../store/admin/tenants.ts';
import { domainToDisplay } from '../../core/address.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table, fields } from '../output.ts';

interface ProviderOpt {
  provider?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('tenants').description('tenants (customers) and their sync switch');
  cmd
    .command('add <name>')
    .description('create a tenant (in provider "default" unless --provider is given)')
    .option('--provider <name>', 'provider of the tenant')
    .action(async (name: string, o: ProviderOpt) => {
      const t = await withStore(ctx, (s) => addTenant(s.db, { name, ...(o.provider === undefined ? {} : { provider: o.provider }) }, adminCtx(ctx)));
      ctx.emit(t, `tenant ${t.name} created in provider ${t.provider} (sync disabled)`);
    });
  cmd
    .command('list')
    .option('--provider <name>', 'only this provider')
    .action(async (o: ProviderOpt) => {
      const ts = await withStore(ctx, (s) => listTenants(s.db, o));
      ctx.emit(ts, table(['TENANT', 'PROVIDER', 'SYNC', 'SINCE'], ts.map((t) => [t.name, t.provider, t.syncEnabled ? 'on' : 'off', t.syncEnabledAt])));
    });
  cmd
    .command('show <name>')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (name: string, o: ProviderOpt) => {
      const t = await withStore(ctx, (s) => showTenant(s.db, name, o.provider));
      ctx.emit(t, [
        ...fields([
          ['tenant', t.name],
          ['provider', t.provider],
          ['sync', t.syncEnabled ? `on since ${t.syncEnabledAt}` : 'off'],
          ['domains', t.domains.map(domainToDisplay).join(', ') || '-'],
          ['connections', t.connections.map((c) => c.name + (c.enabled ? '' : ' (disabled)')).join(', ') || '-'],
          ['users', `${t.users.total} (active ${t.users.active}, pending deletion ${t.users.pendingDeletion}, deactivated ${t.users.deactivated})`],
        ]),
      ]);
    });
  for (const [verb, on] of [['enable-sync', true], ['disable-sync', false]] as const) {
    cmd
      .command(`${verb} <name>`)
      .description(on ? 'turn directory sync on (R18: unanchored ldap users are flagged once every connection has run)' : 'turn sync off: users stay, flagged users are still purged (R24)')
      .option('--provider <name>', 'provider, when the tenant name is not unique')
      .action(async (name: string, o: ProviderOpt) => {
        const t = await withStore(ctx, async (s) => setTenantSync(s.db, await getTenant(s.db, name, o.provider), on, adminCtx(ctx)));
        ctx.emit(t, `sync ${on ? 'enabled' : 'disabled'} for tenant ${t.name}`);
      });
  }
}

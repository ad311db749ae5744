/** `roster purge [--tenant t]` — deletes users whose deletion delay has passed (R21, R24). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { purgeExpired } from '../../sync/purge.ts';
import { withStore } from '../with-store.ts';
import { showAddress } from './admin-common.ts';
import { getTenant } from '../../store/admin/tenants.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('purge')
    .description('delete users pending deletion whose delete-after time has passed (whether or not sync is enabled)')
    .option('--tenant <name>', 'only this tenant')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (o: { tenant?: string; provider?: string }) => {
      const now = ctx.now();
      const r = await withStore(ctx, async (s) => {
        const tenantId = o.tenant === undefined ? undefined : (await getTenant(s.db, o.tenant, o.provider)).id;
        return purgeExpired(s.db, { now, actor: ctx.actor, ...(tenantId !== undefined ? { tenantId } : {}) });
      });
      ctx.emit({ ...r, now }, [`purged ${r.count} users (as of ${now})`, ...r.addresses.map((a) => `  ${showAddress(a)}`)]);
    });
}

/** `roster domains add|list|remove --tenant t` (BEHAVIOR §1, R17). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import { addDomain, listDomains, previewDomainRemoval, removeDomain } from '../../store/admin/domains.ts';
import { RosterError } from '../../core/errors.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';

interface TenantOpt {
  tenant: string;
  provider?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('domains').description('mail domains a tenant manages');
  cmd
    .command('add <domain...>')
    .description('manage one or more domains (unique across the system; IDNs accepted)')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (domains: string[], o: TenantOpt) => {
      const added = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, o.tenant, o.provider);
        const out = [];
        for (const d of domains) out.push(await addDomain(s.db, t, d, adminCtx(ctx)));
        return out;
      });
      ctx.emit(added, added.map((d) => `domain ${d.display} added to tenant ${o.tenant}`));
    });
  cmd
    .command('list')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (o: TenantOpt) => {
      const ds = await withStore(ctx, async (s) => listDomains(s.db, await getTenant(s.db, o.tenant, o.provider)));
      ctx.emit(ds, table(['DOMAIN', 'ASCII', 'ADDED'], ds.map((d) => [d.display, d.name, d.createdAt])));
    });
  cmd
    .command('remove <domain>')
    .description('stop managing a domain: users whose primary is in it are REMOVED at once (R17); shows the count unless --yes')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .option('--yes', 'confirm the removal')
    .action(async (domain: string, o: TenantOpt & { yes?: boolean }) => {
      await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, o.tenant, o.provider);
        if (o.yes !== true) {
          const p = await previewDomainRemoval(s.db, t, domain);
          ctx.emit({ ...p, removed: false }, [
            `removing ${p.domain} from tenant ${t.name} would remove ${p.users} users (with ${p.rules} rules; ${p.archivesUnlinked} archives kept, unlinked),`,
            `${p.aliases} aliases of remaining users and ${p.additions} additions.`,
          ]);
          throw new RosterError('bad_input', `nothing removed: run again with --yes to remove ${p.domain} and its ${p.users} users`);
        }
        const r = await removeDomain(s.db, t, domain, adminCtx(ctx));
        ctx.emit({ ...r, removed: true }, `domain ${r.domain} removed from tenant ${t.name}: ${r.users} users and ${r.aliases} aliases removed, ${r.archivesUnlinked} archives unlinked`);
      });
    });
}

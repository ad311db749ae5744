/** `roster providers add|list` (D1). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addProvider, listProviders } from '../../store/admin/tenants.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('providers').description('providers (MSPs) that administer tenants');
  cmd
    .command('add <name>')
    .description('create a provider')
    .action(async (name: string) => {
      const p = await withStore(ctx, (s) => addProvider(s.db, name, adminCtx(ctx)));
      ctx.emit(p, `provider ${p.name} created`);
    });
  cmd
    .command('list')
    .description('list providers with their tenant counts')
    .action(async () => {
      const ps = await withStore(ctx, (s) => listProviders(s.db));
      ctx.emit(ps, table(['PROVIDER', 'TENANTS', 'CREATED'], ps.map((p) => [p.name, p.tenants, p.createdAt])));
    });
}

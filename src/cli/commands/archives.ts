/** `roster archives add|list` — archives kept by address, linked to a user by primary address (D2, R21). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addArchive, listArchives } from '../../store/admin/archives.ts';
import { RosterError } from '../../core/errors.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';
import { intOption, resolveTenant, showAddress, tenantOptions, type TenantOpts } from './admin-common.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('archives').description("a tenant's mail archives (they outlive users)");
  tenantOptions(cmd.command('add <address>').description('record an archive; linked to the user whose primary address it is')).action(
    async (address: string, o: TenantOpts) => {
      const a = await withStore(ctx, async (s) => addArchive(s.db, (await resolveTenant(s.db, o)).id, address, adminCtx(ctx)));
      ctx.emit(a, `archive ${showAddress(a.address)} added${a.user === null ? ' (no user holds it: unlinked)' : `, linked to ${showAddress(a.user)}`}`);
    },
  );
  tenantOptions(cmd.command('list'))
    .option('--linked', 'only archives linked to a user')
    .option('--unlinked', 'only archives with no user')
    .option('--limit <n>', 'page size (default 1000)')
    .option('--offset <n>', 'skip this many')
    .action(async (o: TenantOpts & { linked?: boolean; unlinked?: boolean; limit?: string; offset?: string }) => {
      if (o.linked === true && o.unlinked === true) throw new RosterError('bad_input', 'give --linked or --unlinked, not both');
      const as = await withStore(ctx, async (s) => {
        const limit = intOption('limit', o.limit);
        const offset = intOption('offset', o.offset);
        return listArchives(s.db, (await resolveTenant(s.db, o)).id, {
          ...(o.linked === true ? { linked: true } : o.unlinked === true ? { linked: false } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
      });
      ctx.emit(as, table(['ARCHIVE', 'USER', 'ADDED'], as.map((a) => [showAddress(a.address), a.user === null ? null : showAddress(a.user), a.createdAt]), '(no archives)'));
    });
}

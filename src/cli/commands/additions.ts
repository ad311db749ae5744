/** `roster additions add|remove|list --tenant t --connection c` — addresses synced by hand (R31, D4). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addAddition, listAdditions, removeAddition } from '../../store/admin/additions.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';
import { connectionOptions, resolveScope, showAddress, type ConnectionOpts } from './admin-common.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('additions').description("a connection's additions: addresses added to the sync by hand");
  connectionOptions(cmd.command('add <address>').description('add an address (managed domain, not held by anything); its user is created at once'), true).action(
    async (address: string, o: ConnectionOpts) => {
      const a = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        return addAddition(s.db, tenant.id, connectionId ?? '', address, adminCtx(ctx));
      });
      ctx.emit(a, `${showAddress(a.address)} added to the additions of ${o.connection}; user created (source addition, active)`);
    },
  );
  connectionOptions(cmd.command('remove <address>').description('take an address off the list: its user becomes an ordinary directory user'), true).action(
    async (address: string, o: ConnectionOpts) => {
      const a = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        return removeAddition(s.db, tenant.id, connectionId ?? '', address, adminCtx(ctx));
      });
      ctx.emit(a, [
        `${showAddress(a.address)} removed from the additions of ${o.connection}`,
        a.user === null ? 'no user held it' : `its user is now source ${a.user.source}: the next run flags it if the directory lacks it`,
      ]);
    },
  );
  connectionOptions(cmd.command('list'), true).action(async (o: ConnectionOpts) => {
    const as = await withStore(ctx, async (s) => {
      const { tenant, connectionId } = await resolveScope(s.db, o);
      return listAdditions(s.db, tenant.id, connectionId ?? '');
    });
    ctx.emit(as, table(['ADDRESS', 'USER SOURCE', 'USER STATE', 'ADDED'], as.map((a) => [showAddress(a.address), a.user?.source ?? null, a.user?.state ?? null, a.createdAt]), '(no additions)'));
  });
}

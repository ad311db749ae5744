/** `roster exceptions add|list|remove --tenant t --connection c` — directory objects kept out of sync (R30, D8). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { RosterError } from '../../core/errors.ts';
import { addException, listExceptions, removeException, type NewException } from '../../store/admin/exceptions.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';
import { connectionOptions, resolveScope, showAddress, type ConnectionOpts } from './admin-common.ts';

type AddOpts = ConnectionOpts & { user?: string; group?: string; alias?: string; dn?: string };

function newException(o: AddOpts): NewException {
  const given = [o.user, o.group, o.alias].filter((v) => v !== undefined).length;
  if (given !== 1) throw new RosterError('bad_input', 'give exactly one of --user <anchor>, --group <anchor>, --alias <address>');
  if (o.alias !== undefined) {
    if (o.dn !== undefined) throw new RosterError('bad_input', '--dn goes with --user or --group, not --alias');
    return { kind: 'alias', address: o.alias };
  }
  const dn = o.dn ?? null;
  return o.user !== undefined ? { kind: 'user', anchor: o.user, dn } : { kind: 'group', anchor: o.group ?? '', dn };
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('exceptions').description("objects a connection must not sync: users, groups (with their members), aliases");
  connectionOptions(cmd.command('add').description('except a user or group by anchor (objectGUID / entryUUID), or an alias by address'), true)
    .option('--user <anchor>', "the user's anchor")
    .option('--group <anchor>', "the group's anchor (its members are excepted too)")
    .option('--alias <address>', 'an alias address never attached to its user')
    .option('--dn <dn>', 'the entry DN, kept for display only')
    .action(async (o: AddOpts) => {
      const input = newException(o);
      const e = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        return addException(s.db, tenant.id, connectionId ?? '', input, adminCtx(ctx));
      });
      ctx.emit(e, `exception added on ${o.connection}: ${e.kind} ${e.anchor ?? showAddress(e.address)}${e.dn === null ? '' : ` (${e.dn})`}`);
    });
  connectionOptions(cmd.command('list'), true).action(async (o: ConnectionOpts) => {
    const es = await withStore(ctx, async (s) => {
      const { tenant, connectionId } = await resolveScope(s.db, o);
      return listExceptions(s.db, tenant.id, connectionId ?? '');
    });
    ctx.emit(es, table(['KIND', 'ANCHOR / ADDRESS', 'DN', 'ID'], es.map((e) => [e.kind, e.anchor ?? showAddress(e.address), e.dn, e.id]), '(no exceptions)'));
  });
  connectionOptions(cmd.command('remove <key>').description('remove an exception named by its id, anchor or alias address'), true).action(
    async (key: string, o: ConnectionOpts) => {
      const e = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        return removeException(s.db, tenant.id, connectionId ?? '', key, adminCtx(ctx));
      });
      ctx.emit(e, `exception removed from ${o.connection}: ${e.kind} ${e.anchor ?? showAddress(e.address)} (the next run syncs it again)`);
    },
  );
}

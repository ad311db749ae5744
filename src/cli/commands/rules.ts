/** `roster rules add|list|delete <address> …` — a user's allow and deny lists (D2). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addRule, deleteRule, listRules } from '../../store/admin/rules.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';
import { resolveTenant, showAddress, tenantOptions, type TenantOpts } from './admin-common.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('rules').description("a user's personal allow and deny rules");
  tenantOptions(cmd.command('add <address> <kind> <value>').description('add a rule: kind is allow or deny')).action(
    async (address: string, kind: string, value: string, o: TenantOpts) => {
      const r = await withStore(ctx, async (s) => addRule(s.db, (await resolveTenant(s.db, o)).id, address, { kind, value }, adminCtx(ctx)));
      ctx.emit(r, `rule ${r.kind} ${r.value} added to ${showAddress(r.user)}`);
    },
  );
  tenantOptions(cmd.command('list <address>')).action(async (address: string, o: TenantOpts) => {
    const rs = await withStore(ctx, async (s) => listRules(s.db, (await resolveTenant(s.db, o)).id, address));
    const why = rs[0]?.suspendedBecause ?? null; // R63: the same for every rule of the user
    ctx.emit(rs, [...table(['KIND', 'VALUE', 'ADDED', 'STATUS'], rs.map((r) => [r.kind, r.value, r.createdAt, r.suspended ? 'suspended' : 'active']), '(no rules)'),
      ...(why === null ? [] : [`suspended while a ${why}`])]);
  });
  tenantOptions(cmd.command('delete <address> <kind> <value>')).action(async (address: string, kind: string, value: string, o: TenantOpts) => {
    const r = await withStore(ctx, async (s) => deleteRule(s.db, (await resolveTenant(s.db, o)).id, address, { kind, value }, adminCtx(ctx)));
    ctx.emit(r, `rule ${r.kind} ${r.value} deleted from ${showAddress(r.user)}`);
  });
}

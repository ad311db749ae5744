/** `roster cache show` — the directory cache of each connection: age, state, contents (R60). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { withStore } from '../with-store.ts';
import { cacheStatus, humanAge, type CacheStatus } from '../../store/admin/cache.ts';
import { connectionOptions, resolveScope, type ConnectionOpts } from './admin-common.ts';
import { table } from '../output.ts';

function stateText(c: CacheStatus): string {
  if (c.state === 'empty') return 'empty (no complete read yet)';
  const age = `read ${humanAge(c.ageSeconds ?? 0)} ago`;
  if (c.state === 'fresh') return `fresh, ${age}`;
  const s = c.since;
  if (c.state === 'held') return `${age}; a newer read is held for approval (run ${s?.runId ?? '?'})`;
  return `STALE, ${age}; ${s?.status ?? 'failed'} since ${s?.startedAt ?? '?'}: ${s?.error ?? 'no reason recorded'} — lookups and recipient validation keep serving this cache`;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('cache').description('the directory cache each connection keeps for lookups (R60)');
  connectionOptions(cmd.command('show').description('age, state and contents of the cache of each connection'), false)
    .action(async (o: ConnectionOpts) => {
      const now = ctx.now();
      const rows = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        return cacheStatus(s.db, tenant, now, connectionId);
      });
      ctx.emit({ now, connections: rows }, [
        ...table(
          ['CONNECTION', 'PRIO', 'LAST COMPLETE READ', 'USERS', 'ADDRESSES', 'GROUPS', 'MEMBERSHIPS', 'CONTACTS'],
          rows.map((c) => [c.connection + (c.enabled ? '' : ' (disabled)'), c.priority, c.lastCompleteReadAt, c.users, c.addresses, c.groups, c.memberships, c.contacts]),
          '(no connections)',
        ),
        ...rows.map((c) => `${c.connection}: ${stateText(c)}`),
      ]);
    });
}

/** `roster runs list|show|approve|reject` — sync runs per connection (R52, D9), held runs (R41). */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { RosterError } from '../../core/errors.ts';
import { listRuns, showRun, type RunSummary } from '../../store/admin/runs.ts';
import { adminCtx, withStore } from '../with-store.ts';
import { approveHeldRun, rejectHeldRun } from '../../sync/review-run.ts';
import { fields, table } from '../output.ts';
import { duplicatesWarning } from './sync.ts';
import { connectionOptions, intOption, resolveScope, resolveTenant, tenantOptions, type ConnectionOpts, type TenantOpts } from './admin-common.ts';

/** "added 3, updated 1, flagged 2" — the non-zero headline counts. */
export function countsLine(c: RunSummary['counts']): string {
  if (c === null) return '-';
  const keys = ['read', 'added', 'updated', 'flagged', 'restored', 'removed', 'skipped'] as const;
  const parts = keys.filter((k) => typeof c[k] === 'number' && c[k] !== 0).map((k) => `${k} ${c[k]}`);
  return parts.join(', ') || 'no changes';
}

function duration(ms: number | null): string | null {
  return ms === null ? null : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('runs').description('sync runs of a connection');
  connectionOptions(cmd.command('list').description('runs, newest first'), true)
    .option('--limit <n>', 'how many (default 50)')
    .option('--offset <n>', 'skip this many')
    .action(async (o: ConnectionOpts & { limit?: string; offset?: string }) => {
      const runs = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        const limit = intOption('limit', o.limit);
        const offset = intOption('offset', o.offset);
        return listRuns(s.db, tenant.id, connectionId ?? '', {
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
      });
      ctx.emit(
        runs,
        table(
          ['ID', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION', 'COUNTS', 'ERROR'],
          runs.map((r) => [r.id, r.status + (r.dryRun ? ' (dry run)' : ''), r.trigger, r.startedAt, duration(r.durationMs), countsLine(r.counts), r.error]),
          '(no runs)',
        ),
      );
    });
  tenantOptions(cmd.command('show <id>').description('one run: counts, server, skipped by reason, items, plan'))
    .option('--plan', 'include the whole stored plan')
    .option('--items <kind>', 'only skipped or issue items')
    .option('--limit <n>', 'items per page (default 100)')
    .option('--offset <n>', 'skip this many items')
    .action(async (id: string, o: TenantOpts & { plan?: boolean; items?: string; limit?: string; offset?: string }) => {
      if (o.items !== undefined && o.items !== 'skipped' && o.items !== 'issue') {
        throw new RosterError('bad_input', `--items is skipped or issue, not ${JSON.stringify(o.items)}`);
      }
      const itemKind = o.items as 'skipped' | 'issue' | undefined;
      const r = await withStore(ctx, async (s) => {
        const limit = intOption('limit', o.limit);
        const offset = intOption('offset', o.offset);
        return showRun(s.db, (await resolveTenant(s.db, o)).id, id, {
          withPlan: o.plan === true,
          ...(itemKind !== undefined ? { itemKind } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
      });
      const byReason = Object.entries(r.skippedByReason).map(([k, n]) => `${k} ${n}`).join(', ');
      const issues = Object.entries(r.issuesByCode).map(([k, n]) => `${k} ${n}`).join(', ');
      const ops = r.planSummary === null ? null : Object.entries(r.planSummary.ops).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
      ctx.emit(r, [
        ...fields([
          ['run', r.id],
          ['status', r.status + (r.dryRun ? ' (dry run)' : '')],
          ['trigger', `${r.trigger} by ${r.actor}`],
          ['started', r.startedAt],
          ['finished', r.finishedAt],
          ['duration', duration(r.durationMs)],
          ['clock override', r.clockOverride],
          ['server', r.serverUsed],
          ['servers tried', r.serverAttempts.length === 0 ? null : r.serverAttempts.map((a) => `${a.server} ${a.ok ? 'ok' : `failed (${a.error ?? 'error'})`} ${a.ms} ms${a.wasUnhealthy === true ? ' [was unhealthy]' : ''}`).join('; ')],
          ['counts', countsLine(r.counts)],
          ['skipped', byReason || null],
          ['issues', issues || null],
          ['plan', ops],
          ['error', r.error === null ? null : `${r.error} (${r.errorCode ?? 'error'})`],
        ]),
        '',
        ...table(['KIND', 'CODE', 'VALUE', 'DN'], r.items.items.map((i) => [i.kind, i.code, i.value, i.dn]), '(no items)'),
        `${r.items.items.length} of ${r.items.total} items (offset ${r.items.offset})`,
        ...(r.plan === undefined ? [] : ['', JSON.stringify(r.plan, null, 2)]),
      ]);
    });
  for (const verb of ['approve', 'reject'] as const) {
    const what = verb === 'approve'
      ? 'apply the plan of a held run, exactly and once (R41)'
      : 'discard the plan of a held run; nothing is applied (R41)';
    tenantOptions(cmd.command(`${verb} <id>`).description(what)).action(async (id: string, o: TenantOpts) => {
      const { r, warning } = await withStore(ctx, async (s) => {
        const tenant = await resolveTenant(s.db, o);
        const input = { tenantId: tenant.id, runId: id, ...adminCtx(ctx) };
        if (verb === 'reject') return { r: await rejectHeldRun(s.db, input), warning: [] };
        const r = await approveHeldRun(s.db, input);
        // R63: an approved plan refreshed the connection's findings, as a sync does: the same warning line.
        const conn = await s.db.selectFrom('connections').select('name').where('id', '=', r.connectionId).executeTakeFirst();
        return { r, warning: conn !== undefined ? await duplicatesWarning(s.db, tenant.name, r.connectionId, conn.name) : [] };
      });
      ctx.emit(r, [`run ${r.id} ${r.status}: ${countsLine(r.counts)}`, ...warning]);
    });
  }
}

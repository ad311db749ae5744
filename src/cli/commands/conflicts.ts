/**
 * `roster conflicts list|delete|ignore|deactivate|export` (R15, R22): users flagged for
 * deletion and what the admin does about them. Export writes RFC 4180 CSV to stdout or --out.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { RosterError } from '../../core/errors.ts';
import {
  deactivateConflict,
  deleteConflict,
  exportConflictsCsv,
  ignoreConflict,
  listConflicts,
} from '../../store/admin/conflicts.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table } from '../output.ts';
import { connectionOptions, intOption, resolveScope, resolveTenant, showAddress, tenantOptions, type TenantOpts } from './admin-common.ts';

type ScopeOpts = TenantOpts & { connection?: string };

/** Writes the chunks to a stream, waiting when it is full; returns the number of data rows. */
async function pump(chunks: AsyncIterable<string>, out: NodeJS.WritableStream): Promise<number> {
  let lines = -1; // the header is not a row
  for await (const chunk of chunks) {
    lines++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  return Math.max(lines, 0);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('conflicts').description('users flagged for deletion (pending_deletion) and the actions on them');

  connectionOptions(cmd.command('list'), false)
    .option('--limit <n>', 'page size (default 1000)')
    .option('--offset <n>', 'skip this many')
    .action(async (o: ScopeOpts & { limit?: string; offset?: string }) => {
      const r = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        const limit = intOption('limit', o.limit);
        const offset = intOption('offset', o.offset);
        return listConflicts(s.db, tenant.id, {
          ...(connectionId !== undefined ? { connectionId } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
      });
      ctx.emit(r, [
        ...table(
          ['ADDRESS', 'REASON', 'FLAGGED AT', 'DELETE AFTER', 'CONNECTION', 'DISPLAY NAME'],
          r.conflicts.map((c) => [showAddress(c.address), c.reason, c.flaggedAt, c.deleteAfter ?? 'never', c.connection, c.displayName]),
          '(no conflicts)',
        ),
        `${r.conflicts.length} of ${r.total} conflicts`,
      ]);
    });

  const actions = [
    ['delete', deleteConflict, 'delete the user now, with its rules; archives stay unlinked', 'deleted'],
    ['ignore', ignoreConflict, 'keep the user: it becomes manual and active, never flagged again', 'kept as a manual, active user'],
    ['deactivate', deactivateConflict, 'keep the user with access disabled (state deactivated, source manual, no deletion date)', 'deactivated'],
  ] as const;
  for (const [verb, fn, description, done] of actions) {
    tenantOptions(cmd.command(`${verb} <address>`).description(description)).action(async (address: string, o: TenantOpts) => {
      const u = await withStore(ctx, async (s) => fn(s.db, (await resolveTenant(s.db, o)).id, address, adminCtx(ctx)));
      ctx.emit(u, `conflict ${showAddress(u.address)} ${done}`);
    });
  }

  connectionOptions(cmd.command('export').description('the conflicts as CSV (address, display name, reason, flagged at, delete after, connection)'), false)
    .option('--out <file>', 'write the CSV to this file instead of stdout')
    .action(async (o: ScopeOpts & { out?: string }) => {
      if (ctx.json() && o.out === undefined) {
        throw new RosterError('bad_input', 'conflicts export with --json needs --out <file>: the CSV itself is not JSON');
      }
      const rows = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        const chunks = exportConflictsCsv(s.db, tenant.id, connectionId !== undefined ? { connectionId } : {});
        if (o.out === undefined) return pump(chunks, process.stdout);
        const file = createWriteStream(o.out, { flags: 'w', mode: 0o600 });
        try {
          await once(file, 'open');
        } catch (e) {
          throw new RosterError('bad_input', `cannot write ${o.out}: ${(e as Error).message}`, { cause: e });
        }
        try {
          const n = await pump(chunks, file);
          file.end();
          await once(file, 'finish');
          return n;
        } finally {
          if (!file.writableFinished) file.destroy();
        }
      });
      if (o.out !== undefined) ctx.emit({ file: o.out, rows }, `${rows} conflicts written to ${o.out}`);
    });
}

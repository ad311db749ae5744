/**
 * `roster sync <tenant> <connection> [--dry-run]` (R19, R41, R52, R53): progress on stderr
 * when it is a terminal, a summary of counts at the end; --json prints the run record.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import { getConnection } from '../../store/admin/connections.ts';
import { loadConfig } from '../../config/config.ts';
import { loadSecretKey } from '../../config/secret-key.ts';
import { readRunRecord, type RunRecord } from '../../sync/run-record.ts';
import { RosterError, isRosterError } from '../../core/errors.ts';
import { withStore } from '../with-store.ts';
import { createProgress } from '../progress.ts';
import { fields } from '../output.ts';
import { countDuplicates } from '../../store/duplicate-views.ts';

/** R63: the connection's duplicate findings after an applied read, as one warning line pointing at the list (none: no line). */
export async function duplicatesWarning(db: Parameters<typeof countDuplicates>[0], tenantName: string, connectionId: string, connectionName: string): Promise<string[]> {
  const n = await countDuplicates(db, connectionId);
  return n === 0 ? [] : [`warning: ${n} duplicate finding${n === 1 ? '' : 's'} — roster duplicates list ${tenantName} --connection ${connectionName}`];
}

/** The human summary of a run (R52 counts). */
export function summarize(r: RunRecord, connection: string): string[] {
  const c = r.counts;
  const lines = [`run ${r.id} of ${connection}: ${r.status}${r.dryRun ? ' (dry run: nothing applied)' : ''}`];
  if (c !== null) {
    const skipped = Object.entries(c.skippedByReason).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(
      ...fields([
        ['read', c.read],
        ['eligible', c.eligible],
        ['added', c.added],
        ['updated', c.updated],
        ['unchanged', c.unchanged],
        ['aliases', `+${c.aliasesAdded} -${c.aliasesRemoved}`],
        ['flagged', c.flagged],
        ['restored', c.restored],
        ['removed', c.removed],
        ['skipped', c.skipped + (skipped ? ` (${skipped})` : '')],
        ['groups', c.groups],
        ['contacts', c.contacts],
      ]),
    );
  }
  lines.push(...fields([['server', r.serverUsed], ['duration', r.durationMs === null ? null : `${r.durationMs} ms`]]));
  if (r.clockOverride !== null) lines.push(`clock overridden: ${r.clockOverride}`);
  if (r.error !== null) lines.push(`${r.status === 'previewed' ? 'note' : 'error'}: ${r.error}`);
  return lines;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('sync <tenant> <connection>')
    .description('read one connection and reconcile the tenant (R10–R19)')
    .option('--dry-run', 'compute and store the plan, apply nothing (R19)')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (tenantName: string, connName: string, o: { dryRun?: boolean; provider?: string }) => {
      const config = loadConfig();
      const key = loadSecretKey(config, false);
      await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, tenantName, o.provider);
        const c = await getConnection(s.db, t, connName);
        const progress = createProgress(ctx.interactive && !ctx.json());
        let record: RunRecord;
        try {
          // Loaded on demand: the LDAP stack is not needed by the other commands.
          const { runSync } = await import('../../sync/run-sync.ts');
          record = await runSync(s, {
            tenantId: t.id,
            connectionId: c.id,
            dryRun: o.dryRun === true,
            trigger: 'cli',
            actor: ctx.actor,
            now: ctx.now(),
            clockOverride: ctx.clockOverride,
            secretKey: key,
            onProgress: (p) => progress.update(p),
          });
        } catch (e) {
          progress.end();
          // A failed run still has a record: show it, then let main print the error and exit.
          const runId = isRosterError(e) ? e.details?.['runId'] : undefined;
          if (typeof runId === 'string') {
            const failed = await readRunRecord(s.db, runId);
            ctx.emit(failed, summarize(failed, c.name));
          }
          throw e;
        }
        progress.end();
        // R63: the duplicates this applied read left, as one warning line pointing at the list.
        const warning = record.status === 'succeeded' ? await duplicatesWarning(s.db, t.name, c.id, c.name) : [];
        ctx.emit(record, [...summarize(record, c.name), ...warning]);
        if (record.status === 'held') {
          // R41 alert: why it was held and the exact commands that settle it.
          const why = (record.error ?? '').replace(/^held for approval:\s*/, '') || 'mass-deletion threshold';
          const scope = `--tenant ${t.name}${o.provider === undefined ? '' : ` --provider ${o.provider}`}`;
          throw new RosterError(
            'held',
            `run ${record.id} is held for approval (R41), nothing applied: ${why}. ` +
              `Review it with \`roster runs show ${record.id} ${scope} --plan\`, then apply exactly that plan with ` +
              `\`roster runs approve ${record.id} ${scope}\` or discard it with \`roster runs reject ${record.id} ${scope}\``,
            { details: { runId: record.id } },
          );
        }
      });
    });
}

/**
 * The shared state of one applyPlan call: the transaction, the context, the audit rows waiting
 * to be written, and the progress counter behind `onBatch`.
 */
import type { Kysely } from 'kysely';
import type { Plan } from '../core/model.ts';
import { bulkInsert, type BulkColumns } from './batch.ts';
import type { Database } from './schema.ts';

const AUDIT_COLUMNS: BulkColumns = [
  ['at', 'text'], ['actor', 'text'], ['action', 'text'], ['tenant_id', 'text'], ['object_kind', 'text'], ['object_id', 'text'],
  ['before', 'text'], ['after', 'text'],
];

export interface ApplyContext {
  runId: string;
  /** Who applies: 'sync:<connection>' or 'cli:<os user>' (audit actor). */
  actor: string;
  /** The lifecycle clock (D5): created_at / updated_at / audit time. */
  now: string;
  tenantId: string;
  /** Called between batches INSIDE the transaction with ops done so far and plan.ops.length. */
  onBatch?: (done: number, total: number) => Promise<void> | void;
  /**
   * Last statements of the SAME transaction (the run record's final status, the connection's
   * cursor), so a crash never leaves a plan applied with its run still 'running'.
   */
  finalize?: (trx: Kysely<Database>) => Promise<void>;
}

/** Ops per progress step: each batch of ops is written with a few bulk statements. */
export const OPS_PER_BATCH = 1_000;

export class ApplyRun {
  readonly trx: Kysely<Database>;
  readonly ctx: ApplyContext;
  readonly plan: Plan;
  auditRows = 0;
  #pending: (string | null)[][] = [];
  #done = 0;

  constructor(trx: Kysely<Database>, plan: Plan, ctx: ApplyContext) {
    this.trx = trx;
    this.plan = plan;
    this.ctx = ctx;
  }

  /** Queues one audit row (R25) at ctx.now by ctx.actor; written at the end of the batch. */
  audit(action: string, objectKind: string, objectId: string, before: unknown, after: unknown): void {
    this.#pending.push([
      this.ctx.now,
      this.ctx.actor,
      action,
      this.ctx.tenantId,
      objectKind,
      objectId,
      before === null ? null : JSON.stringify(before),
      after === null ? null : JSON.stringify(after),
    ]);
  }

  /** Runs `fn` over `ops` in batches of OPS_PER_BATCH; after each, writes its audit rows and reports progress. */
  async inBatches<T>(ops: readonly T[], fn: (batch: T[]) => Promise<void>): Promise<void> {
    for (let i = 0; i < ops.length; i += OPS_PER_BATCH) {
      const batch = ops.slice(i, i + OPS_PER_BATCH);
      await fn(batch);
      await this.flushAudit();
      this.#done += batch.length;
      await this.ctx.onBatch?.(this.#done, this.plan.ops.length);
    }
  }

  async flushAudit(): Promise<void> {
    const rows = this.#pending;
    this.#pending = [];
    await bulkInsert(this.trx, 'audit', AUDIT_COLUMNS, rows);
    this.auditRows += rows.length;
  }
}

/**
 * One sync run of one connection (DESIGN: the imperative shell around planRun):
 * claim → decrypt → settings → read, with the store state loading beside it → plan → guard → store / apply.
 * Dry runs (R19) take the same path and stop before applying. Any failure marks the run
 * 'failed' with its code and changes nothing else (R5): applyPlan is one transaction.
 */
import type { Store } from '../store/db.ts';
import { holdThresholdOf, type ConnectionSettings } from '../core/connection.ts';
import { RosterError, isRosterError, type ErrorCode } from '../core/errors.ts';
import { readDirectory, type ReadResult } from '../directory/read-directory.ts';
import type { DirectorySnapshot, StoreState } from '../core/model.ts';
import { loadStoreState } from '../store/load-state.ts';
import { serverKey } from '../directory/server-health.ts';
import { decryptSecret } from './secrets.ts';
import { claimRun } from './run-claim.ts';
import { loadRunSettings } from './load-run-settings.ts';
import { readRunRecord, type RunRecord } from './run-record.ts';
import { finishRun, reconcile, type SyncProgress } from './reconcile.ts';
import { selectServers, type ServerSelection } from './server-selection.ts';
import { saveServerAttempts } from './server-health-store.ts';

export type { SyncPhase, SyncProgress } from './reconcile.ts';

export interface RunSyncOptions {
  tenantId: string;
  connectionId: string;
  dryRun: boolean;
  trigger: 'cli' | 'schedule' | 'api';
  actor: string;
  /** Lifecycle clock (D5). */
  now: string;
  /** The override in force, recorded on the run (D5), or null. */
  clockOverride: string | null;
  /** The key that decrypts the bind password (R42). */
  secretKey: Buffer;
  onProgress?: (p: SyncProgress) => void;
}

/** Pulls an entry count out of the reader's progress events, whatever their exact shape. */
function entriesOf(p: unknown): number | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const o = p as Record<string, unknown>;
  for (const k of ['entries', 'read', 'count', 'total']) if (typeof o[k] === 'number') return o[k];
  return undefined;
}

/**
 * Runs one sync and returns its record. Refuses ('conflict') while another run of the
 * connection is running, and a real run while the tenant's sync is disabled (R24).
 * Failures are recorded on the run AND rethrown as RosterError (the CLI maps the code).
 */
export async function runSync(store: Store, o: RunSyncOptions): Promise<RunRecord> {
  const db = store.db;
  const conn = await db.selectFrom('connections').selectAll().where('id', '=', o.connectionId).where('tenant_id', '=', o.tenantId).executeTakeFirst();
  if (!conn) throw new RosterError('not_found', 'no such connection for this tenant');
  const tenant = await db.selectFrom('tenants').select(['name', 'sync_enabled']).where('id', '=', o.tenantId).executeTakeFirstOrThrow();
  if (!o.dryRun && tenant.sync_enabled !== 1) {
    throw new RosterError('conflict', `sync is disabled for tenant "${tenant.name}": enable it with \`roster tenants enable-sync ${tenant.name}\`, or use --dry-run`);
  }
  if (!o.dryRun && conn.enabled !== 1) throw new RosterError('conflict', `connection "${conn.name}" is disabled`);
  const settings = JSON.parse(conn.settings) as ConnectionSettings;
  const started = performance.now();
  o.onProgress?.({ phase: 'claim' });
  const run = await claimRun(db, { ...o, connectionName: conn.name });
  let serverUsed: string | null = null;
  // R55: servers (listed or SRV-discovered) ordered healthy first; attempts recorded on the run.
  let selection: ServerSelection | null = null;
  let state: Promise<StoreState> | undefined;
  const saveAttempts = async (): Promise<void> => {
    if (selection !== null) await saveServerAttempts(db, { runId: run.id, connectionId: conn.id, attempts: selection.attempts, nowMs: Date.now() });
  };
  try {
    const password = conn.bind_secret === null ? null : decryptSecret(conn.bind_secret, o.secretKey);
    const runSettings = await loadRunSettings(db, { id: conn.id, tenantId: o.tenantId, name: conn.name, priority: conn.priority, settings });
    o.onProgress?.({ phase: 'read', entries: 0 });
    selection = await selectServers(db, conn.id, settings, Date.now());
    // The store is loaded while the read waits on the directory server (about half of a big read is
    // waiting): the same snapshot of the store, one read transaction, taken before the read instead
    // of after it. Nothing is planned before the read is complete (R5).
    state = loadStoreState(db, o.tenantId, o.connectionId, { cooperative: true });
    state.catch(() => {}); // awaited by reconcile, or below when the read fails
    // reconcile takes the snapshot over and lets it go once planned (peak memory at 100k users).
    const snapshot = { current: null as DirectorySnapshot | null };
    {
      const read = await readWithFailover(selection, password, {
        exceptedGroupAnchors: runSettings.exceptions.groupAnchors,
        onProgress: (p: unknown) => o.onProgress?.({ phase: 'read', entries: entriesOf(p) ?? 0 }),
      });
      serverUsed = read.serverUsed;
      snapshot.current = read.snapshot;
    }
    await saveAttempts();
    await reconcile(db, {
      runId: run.id,
      tenantId: o.tenantId,
      connectionId: o.connectionId,
      dryRun: o.dryRun,
      actor: o.actor,
      now: o.now,
      started,
      serverUsed,
      snapshot,
      state,
      settings: runSettings,
      holdThreshold: holdThresholdOf(settings),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    });
    return readRunRecord(db, run.id);
  } catch (e) {
    // A load still going holds SQLite's one connection: let it end before the run is recorded.
    await state?.catch(() => {});
    const code: ErrorCode = isRosterError(e) ? e.code : 'internal';
    const message = e instanceof Error ? e.message : String(e);
    await finishRun(db, run.id, started, { status: 'failed', server_used: serverUsed, error: message, error_code: code });
    if (serverUsed === null) await saveAttempts().catch(() => undefined);
    if (isRosterError(e)) throw new RosterError(e.code, e.message, { cause: e, details: { ...e.details, runId: run.id } });
    throw new RosterError('internal', `run failed: ${message}`, { cause: e, details: { runId: run.id } });
  }
}

/**
 * R55 for failures after the connect: a server that connects and then fails in the middle of the
 * read is marked failed (so unhealthy for a while) and the WHOLE read starts again on the next
 * server. Only a complete read from one server is ever used (R5): nothing of the broken read is kept.
 */
async function readWithFailover(
  selection: ServerSelection,
  password: string | null,
  opts: { exceptedGroupAnchors: string[]; onProgress: (p: unknown) => void },
): Promise<ReadResult> {
  let servers = selection.settings.servers;
  for (;;) {
    const started = performance.now();
    try {
      return await readDirectory({ ...selection.settings, servers }, password, { ...opts, connect: selection.connect });
    } catch (e) {
      if (!isRosterError(e) || e.code !== 'read_incomplete') throw e;
      // The server that was connected is the last one whose connect succeeded.
      const used = [...selection.attempts].reverse().find((a) => a.ok);
      const at = used === undefined ? -1 : servers.findIndex((sv) => serverKey(sv) === used.server);
      if (used === undefined || at < 0 || at === servers.length - 1) throw e;
      selection.attempts.push({ server: used.server, ok: false, ms: Math.round(performance.now() - started), error: e.message });
      servers = servers.slice(at + 1);
    }
  }
}

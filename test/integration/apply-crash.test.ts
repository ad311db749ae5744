/**
 * A run killed in the middle of applyPlan leaves the store exactly as before (one transaction),
 * on both dialects: a child process applies a 20,000-user plan, pauses inside the transaction
 * at the middle batch, and is SIGKILLed; the store is reopened and compared by digest.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../helpers/dialects.ts';
import { bigAddPlan, seedTenant, TENANT } from '../fixtures/store-data.ts';
import { openStore } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';
import type { Database } from '../../src/store/schema.ts';

const N = 20_000;
const CHILD = join(import.meta.dirname, '..', 'fixtures', 'apply-plan-child.ts');
const work = mkdtempSync(join(tmpdir(), 'roster-crash-'));
const planFile = join(work, 'plan.json');
const plan = bigAddPlan(N);
const aliasCount = plan.ops.reduce((n, op) => n + (op.op === 'add_user' ? op.aliases.length : 0), 0);
writeFileSync(planFile, JSON.stringify(plan));
after(() => rmSync(work, { recursive: true, force: true }));

async function counts(db: Kysely<Database>): Promise<{ users: number; addresses: number; audit: number }> {
  const n = async (t: 'users' | 'addresses' | 'audit') =>
    Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { users: await n('users'), addresses: await n('addresses'), audit: await n('audit') };
}

/** Runs the child; resolves with its stdout once it exits. `onLine` sees each stdout line as it comes. */
function runChild(url: string, mode: 'pause' | 'full', onLine: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', CHILD, url, planFile, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine(line, () => child.kill('SIGKILL'));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

forEachDialect('apply crash', (_open, factory) => {
  test(`a SIGKILL in the middle of applying ${N} adds leaves the store as before; a full apply equals a fresh apply`, async (t) => {
    const url = await factory.newUrl();
    let store = await openStore({ url });
    await seedTenant(store.db);
    const before = await digestStore(store.db, TENANT);
    const countsBefore = await counts(store.db);

    let seenWhilePaused: { users: number } | undefined;
    let pausedAt = '';
    const killed = await runChild(url, 'pause', (line, kill) => {
      if (!line.startsWith('PAUSED')) return;
      pausedAt = line;
      // Uncommitted rows of the child are invisible from outside; then kill it mid-transaction.
      void counts(store.db).then((c) => (seenWhilePaused = c)).finally(kill);
    });
    assert.equal(killed.signal, 'SIGKILL', `the child was killed while paused (stderr: ${killed.err})`);
    const [, done, total] = pausedAt.split(' ').map(Number);
    assert.equal(total, N);
    assert.ok(done !== undefined && done >= N / 2 && done < N, `paused in the middle: ${pausedAt}`);
    assert.equal(seenWhilePaused?.users, 0);
    await store.close();

    store = await openStore({ url });
    assert.equal(await digestStore(store.db, TENANT), before, 'nothing of the killed apply is left');
    assert.deepEqual(await counts(store.db), countsBefore);
    await store.close();

    const full = await runChild(url, 'full', () => {});
    assert.equal(full.code, 0, full.err);
    assert.match(full.out, /DONE/);
    store = await openStore({ url });
    const afterDigest = await digestStore(store.db, TENANT);
    assert.deepEqual(await counts(store.db), { users: N, addresses: N + aliasCount, audit: N + 1 });
    await store.close();

    // The same plan applied to a fresh store gives the same content.
    const freshUrl = await factory.newUrl();
    const fresh = await openStore({ url: freshUrl });
    await seedTenant(fresh.db);
    await fresh.close();
    const freshRun = await runChild(freshUrl, 'full', () => {});
    assert.equal(freshRun.code, 0, freshRun.err);
    const again = await openStore({ url: freshUrl });
    assert.equal(await digestStore(again.db, TENANT), afterDigest);
    assert.notEqual(afterDigest, before);
    await again.close();
    t.diagnostic(`${factory.dialect}: killed at ${pausedAt}; ${N} users, ${aliasCount} aliases after the full apply`);
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PlanOp } from '../core/model.ts';
import { addUser, ctx, plan, seedTenant } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { openStore } from './db.ts';

const CHILD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'apply-plan-child.ts');

test('sqlite: a plan applied by another process while this one holds the write lock waits, then succeeds (BEGIN IMMEDIATE)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-lock-'));
  try {
    const url = `sqlite:${join(dir, 'roster.db')}`;
    await using store = await openStore({ url });
    await seedTenant(store.db);
    await applyPlan(store.db, plan([addUser('a-1', 'one@example.com'), addUser('a-2', 'two@example.com')]), ctx());
    const ids = (await store.db.selectFrom('users').select('id').orderBy('id').execute()).map((r) => r.id);
    // The child's plan reads first (the flag's "before" values), then writes: with a deferred
    // BEGIN its read snapshot would be stale once we commit, and SQLite would refuse the write.
    const flags: PlanOp[] = ids.map((id) => ({ op: 'flag_user', userId: id, reason: 'missing', flaggedAt: '2026-11-23T00:00:00.000Z', deleteAfter: null }));
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan(flags)));

    const child = spawn(process.execPath, ['--no-warnings', CHILD, url, planFile, 'ready'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('READY')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
    });
    // Hold the write transaction for 1.5 s while the child starts its own.
    await applyPlan(store.db, plan([addUser('a-3', 'three@example.com')]), {
      ...ctx({ runId: 'run-2' }),
      onBatch: () => new Promise((resolve) => setTimeout(resolve, 1500)),
    });
    assert.equal(await exited, 0, `the child's apply succeeded after waiting: ${err}`);
    const states = await store.db.selectFrom('users').select(['anchor', 'state']).orderBy('anchor').execute();
    assert.deepEqual(states, [
      { anchor: 'a-1', state: 'pending_deletion' },
      { anchor: 'a-2', state: 'pending_deletion' },
      { anchor: 'a-3', state: 'active' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

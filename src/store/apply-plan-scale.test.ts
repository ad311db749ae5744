import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { bigAddPlan, ctx, seedTenant, TENANT, CONN } from '../../test/fixtures/store-data.ts';
import { applyPlan } from './apply-plan.ts';
import { digestStore } from './digest.ts';
import { loadStoreState } from './load-state.ts';

const N = 100_000;

/** This process's CPU time in ms: on a busy machine wall time says little, CPU time (of the client) more. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

forEachDialect('store at 100,000 users', (open) => {
  test('apply a 100k add plan (30 % with aliases), load it back, digest it — timings as diagnostics', async (t) => {
    const { db, dialect } = await open();
    await seedTenant(db);
    const plan = bigAddPlan(N);
    const aliases = plan.ops.reduce((n, op) => n + (op.op === 'add_user' ? op.aliases.length : 0), 0);

    let t0 = performance.now();
    let c0 = cpuMs();
    const r = await applyPlan(db, plan, ctx());
    const applyMs = performance.now() - t0;
    const applyCpu = cpuMs() - c0;
    assert.equal(r.byKind.add_user, N);
    assert.equal(r.auditRows, N + 1);

    t0 = performance.now();
    c0 = cpuMs();
    const state = await loadStoreState(db, TENANT, CONN);
    const loadMs = performance.now() - t0;
    const loadCpu = cpuMs() - c0;
    assert.equal(state.users.length, N);
    assert.equal(state.users.reduce((n, u) => n + u.aliases.length, 0), aliases);
    const u = state.users.find((x) => x.anchor === 'anchor-u000001');
    assert.deepEqual(u?.aliases, ['u000001.a@example.org', 'u000001.b@example.org']);

    t0 = performance.now();
    const digest = await digestStore(db, TENANT);
    const digestMs = performance.now() - t0;
    assert.match(digest, /^[0-9a-f]{64}$/);

    const where = dialect === 'sqlite' ? 'in process' : 'client only; the server works besides';
    t.diagnostic(`${dialect}: applyPlan ${N} users + ${aliases} aliases: ${applyMs.toFixed(0)} ms wall, ${applyCpu.toFixed(0)} ms CPU ${where} (target sqlite < 2500, postgres < 4000)`);
    t.diagnostic(`${dialect}: loadStoreState ${N} users: ${loadMs.toFixed(0)} ms wall, ${loadCpu.toFixed(0)} ms CPU (target sqlite < 500)`);
    t.diagnostic(`${dialect}: digestStore: ${digestMs.toFixed(0)} ms`);
  });
});

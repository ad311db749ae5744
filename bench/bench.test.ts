/**
 * Keeps the benchmark from rotting: runs the whole harness (bench/run.ts) as a process at a tiny
 * size (2,000 users, real slapd, real PostgreSQL, the real CLI) and checks the table has all
 * five steps, that (d) wrote no user/alias/group rows (R12, counted by the databases) and that
 * all ten changes of (e) landed in both stores (R10, R11, R12, R13, R13a, R15, D7). Timing
 * targets are not asserted here: at this size process start-up dominates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface BenchJson {
  users: number;
  dumped: number;
  failed: number;
  steps: Array<{ id: string; label: string; wallS: number; peakRssMb: number; conditions: Array<{ what: string; ok: boolean }> }>;
  checks: Record<string, Array<{ name: string; ok: boolean; detail: string }>>;
  lookups: {
    stores: Array<{ label: string; lookups: { autocomplete: { n: number; p99Ms: number; emptyResults: number }; resolve: { n: number; p99Ms: number; valid: number } };
      mta: Array<{ clients: number; lookups: number; perSecond: number }>; postmap: { keys: number; found: number } }>;
    postmapLdap: { keys: number; found: number };
    ldapsearch: { addresses: number; sequential: { found: number } };
  };
}

test('bench at 2,000 users: five steps, lookups and socketmap figures beside ldapsearch and an ldap: table (R61), R12 zero directory rows in (d), all ten changes of (e) land (R10, R11, R13a, R15, D7)', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-test-'));
  try {
    const md = join(dir, 'table.md');
    const json = join(dir, 'result.json');
    const r = spawnSync(process.execPath, ['--no-warnings', resolve(import.meta.dirname, 'run.ts'), '--users', '2000', '--out', md, '--json', json],
      { encoding: 'utf8', timeout: 280_000 });
    assert.equal(r.status, 0, `bench exited ${r.status ?? r.signal}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const out = JSON.parse(readFileSync(json, 'utf8')) as BenchJson;
    assert.equal(out.users, 2000);
    assert.deepEqual([...new Set(out.steps.map((s) => s.id))], ['a', 'b', 'c', 'd', 'e']);
    for (const s of out.steps) {
      assert.ok(s.wallS > 0, `${s.label}: wall time measured`);
      assert.ok(s.peakRssMb > 0, `${s.label}: peak RSS sampled`);
    }
    // 2,000 users + the generator's groups (ceil(2000/100) + the two cycle groups).
    assert.equal(out.dumped, 2000 + 20 + 2, 'the reference dump returns the users and groups the sync reads');
    for (const s of out.steps.filter((x) => x.id === 'd')) {
      assert.deepEqual(s.conditions, [{ what: 'full read', ok: true }, { what: '0 dir rows', ok: true }], `${s.label}: a full read, no user, alias or group row written`);
    }
    for (const s of out.steps.filter((x) => x.id === 'e')) assert.deepEqual(s.conditions, [{ what: 'full read', ok: true }, { what: 'all landed', ok: true }], s.label);
    assert.equal(out.failed, 0);
    assert.deepEqual(Object.keys(out.checks).sort(), ['PostgreSQL', 'SQLite']);
    for (const [store, list] of Object.entries(out.checks)) {
      assert.equal(list.length, 10, `${store}: ten changes checked`);
      for (const k of list) assert.ok(k.ok, `${store}: ${k.name} — ${k.detail}`);
    }
    // Issue 4 figures: both stores measured, the socketmap answers what the ldap: table on slapd answers.
    assert.deepEqual(out.lookups.stores.map((x) => x.label), ['SQLite', 'PostgreSQL']);
    for (const x of out.lookups.stores) {
      assert.ok(x.lookups.autocomplete.n >= 2000 && x.lookups.resolve.n >= 2000, `${x.label}: 2,000 calls each`);
      assert.ok(x.lookups.autocomplete.emptyResults < x.lookups.autocomplete.n / 2, `${x.label}: autocomplete finds things`);
      assert.ok(x.lookups.resolve.valid > 0, `${x.label}: resolve finds valid recipients`);
      assert.deepEqual(x.mta.map((m) => m.clients), [1, 8, 32]);
      for (const m of x.mta) assert.ok(m.lookups > 0 && m.perSecond > 0, `${x.label}: ${m.clients} clients answered`);
      assert.equal(x.postmap.found, out.lookups.postmapLdap.found, `${x.label}: the socketmap finds what the ldap: table finds`);
    }
    assert.ok(out.lookups.postmapLdap.found > 0);
    assert.equal(out.lookups.ldapsearch.sequential.found, out.lookups.ldapsearch.addresses, 'every sampled address is in slapd');
    const table = readFileSync(md, 'utf8');
    assert.match(table, /## Lookups and recipient validation \(issue 4\)/);
    assert.match(table, /\| autocomplete p50 \/ p99 \/ max ms/);
    for (const id of ['a', 'b', 'c', 'd', 'e']) assert.match(table, new RegExp(`^\\| \\(${id}\\) `, 'm'));
    assert.match(table, /ldapsearch .*-E pr=1000\/noprompt/);
    assert.match(table, /bin\/roster sync acme main/);
    assert.doesNotMatch(r.stdout + table, /reader-secret/, 'the bind password is never printed (R42)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

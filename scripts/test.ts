/**
 * The whole test suite, as `./dev test` and CI run it:
 *   1. type check (tsc --noEmit);
 *   2. a private PostgreSQL for the store tests (or ROSTER_TEST_PG_URL when given);
 *   3. every test file under src/ and test/ with node:test (unit, store on both dialects, integration against real
 *      OpenLDAP and Samba AD processes the helpers start on loopback);
 *   4. the per-dialect count: fails when PostgreSQL ran fewer store tests than SQLite.
 * Arguments narrow the files: `./dev test src/core` runs the files under src/core only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { startPostgres } from '../test/helpers/postgres.ts';

const root = join(import.meta.dirname, '..');
process.chdir(root);

function testFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== 'node_modules') walk(join(p, e));
    } else if (p.endsWith('.test.ts')) out.push(relative(root, p));
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return out.sort();
}

function typecheck(): void {
  console.log('# type check: tsc --noEmit');
  const r = spawnSync(join(root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log('type check failed');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const args = process.argv.slice(2);
const files = testFiles(args.length > 0 ? args : ['src', 'test', 'bench', 'scripts']);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

typecheck();

const work = mkdtempSync(join(tmpdir(), 'roster-test-'));
const countsFile = join(work, 'dialect-counts.jsonl');
const tapFile = join(work, 'results.tap');

let pg: Awaited<ReturnType<typeof startPostgres>> | null = null;
let pgUrl = process.env.ROSTER_TEST_PG_URL;
if (!pgUrl) {
  pg = await startPostgres();
  pgUrl = pg.url('postgres');
  console.log(`# private PostgreSQL for this run: ${pgUrl}`);
}

const concurrency = Number(process.env.ROSTER_TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const child = spawn(
  process.execPath,
  [
    '--no-warnings',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  {
    stdio: 'inherit',
    env: { ...process.env, ROSTER_TEST_COUNTS: countsFile, ROSTER_TEST_PG_URL: pgUrl },
  },
);
const code: number = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (pg) await pg.stop();

const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const num = (re: RegExp): number => Number(re.exec(tap)?.[1] ?? 0);
const passed = num(/^# pass (\d+)$/m);
const failed = num(/^# fail (\d+)$/m) + num(/^# cancelled (\d+)$/m);
const skipped = num(/^# skipped (\d+)$/m) + num(/^# todo (\d+)$/m);

// Per-dialect store tests (test/helpers/dialects.ts appends one line per passed test).
const perDialect: Record<string, number> = { sqlite: 0, postgres: 0 };
if (existsSync(countsFile)) {
  for (const line of readFileSync(countsFile, 'utf8').split('\n')) {
    if (!line) continue;
    const d = (JSON.parse(line) as { dialect: string }).dialect;
    perDialect[d] = (perDialect[d] ?? 0) + 1;
  }
}
let dialectFail = 0;
console.log(`\n# store tests passed per dialect: sqlite ${perDialect.sqlite}, postgres ${perDialect.postgres}`);
if (args.length === 0 && ((perDialect.postgres ?? 0) < (perDialect.sqlite ?? 0) || (perDialect.sqlite ?? 0) === 0)) {
  console.log('# FAIL: PostgreSQL ran fewer store tests than SQLite (or none ran)');
  dialectFail = 1;
}
if (skipped > 0) console.log(`# ${skipped} tests were skipped or todo: they do not count as passed`);

console.log(`tests: ${passed} passed, ${failed + dialectFail} failed`);
process.exit(code !== 0 || failed > 0 || dialectFail > 0 ? 1 : 0);

/**
 * Runs the same store tests on SQLite and on PostgreSQL (Kysely's practice: every test on
 * every dialect). Each test opens fresh stores through `open()`; they are closed after it.
 * Every PASSED test appends one JSON line to ROSTER_TEST_COUNTS so that the test runner can
 * fail when PostgreSQL ran fewer store tests than SQLite.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, afterEach, before, describe } from 'node:test';
import { openStore, type Dialect, type Store } from '../../src/store/db.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

/** Where passed store tests are counted (one JSON line per test and dialect). */
export function countsFile(): string {
  return process.env.ROSTER_TEST_COUNTS ?? '/tmp/roster-test-counts.jsonl';
}

/** Hands out fresh store URLs of one dialect: temp SQLite files, or fresh PostgreSQL databases. */
export interface StoreFactory {
  dialect: Dialect;
  /** A URL of a new, empty store (not opened). */
  newUrl(): Promise<string>;
}

/**
 * Registers `describe("<name> [sqlite]")` and `describe("<name> [postgres]")`, each calling
 * `fn(open, factory)` to register its tests with node:test's `test`. `open()` returns a fresh,
 * migrated, empty store; stores opened during a test are closed after it. The PostgreSQL
 * server (one per test file and describe) starts in `before` and stops in `after`; if it
 * cannot start, the tests fail.
 */
export function forEachDialect(
  name: string,
  fn: (open: () => Promise<Store>, factory: StoreFactory) => void,
): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      let pgServer: TestPostgres | undefined;
      let dir: string | undefined;
      let n = 0;
      const opened: Store[] = [];
      const factory: StoreFactory = {
        dialect,
        async newUrl() {
          if (dialect === 'sqlite') {
            dir ??= mkdtempSync(join(tmpdir(), 'roster-sqlite-'));
            return `sqlite:${join(dir, `store-${++n}.db`)}`;
          }
          if (pgServer === undefined) throw new Error('PostgreSQL did not start (see the before hook)');
          return pgServer.createDatabase();
        },
      };
      before(async () => {
        if (dialect === 'postgres') pgServer = await startPostgres();
      });
      afterEach(async (t) => {
        const toClose = opened.splice(0);
        await Promise.all(toClose.map((s) => s.close()));
        // `passed` is set by node:test before afterEach hooks run (not yet in @types/node).
        if ((t as { passed?: boolean }).passed === true) {
          const file = 'filePath' in t && t.filePath ? relative(process.cwd(), t.filePath) : (process.argv[1] ?? '');
          appendFileSync(countsFile(), `${JSON.stringify({ dialect, file, test: t.fullName })}\n`);
        }
      });
      after(async () => {
        await Promise.all(opened.splice(0).map((s) => s.close()));
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        await pgServer?.stop();
      });
      const open = async (): Promise<Store> => {
        const store = await openStore({ url: await factory.newUrl() });
        opened.push(store);
        return store;
      };
      fn(open, factory);
    });
  }
}

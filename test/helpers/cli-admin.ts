/**
 * Runs `node src/cli/main.ts` as an operator would, with ROSTER_DATA_DIR in a temp dir, for the
 * admin command tests (test/integration/cli-admin-*.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface AdminCli {
  dir: string;
  run(args: string[], env?: Record<string, string>): CliResult;
  /** Runs with --json, asserts exit 0, parses stdout. */
  json<T = Record<string, unknown>>(args: string[], env?: Record<string, string>): T;
  /** The store file, for arranging states a directory run would produce (flags, runs). */
  sql(text: string, ...params: (string | number | null)[]): void;
  cleanup(): void;
}

/** A fresh data dir with tenant acme (domains acme.test, bücher.test) and connection main. */
export function startAdminCli(now = '2026-11-22T10:00:00.000Z'): AdminCli {
  const dir = mkdtempSync(join(tmpdir(), 'roster-cli-admin-'));
  const run = (args: string[], env: Record<string, string> = {}): CliResult => {
    const r = spawnSync(process.execPath, ['--no-warnings', MAIN, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ROSTER_DATA_DIR: dir, ROSTER_NOW: now, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const json = <T>(args: string[], env?: Record<string, string>): T => {
    const r = run([...args, '--json'], env);
    assert.equal(r.code, 0, `roster ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const pw = join(dir, 'bind.pw');
  writeFileSync(pw, 'not-used-secret\n', { mode: 0o600 });
  for (const args of [
    ['tenants', 'add', 'acme'],
    ['domains', 'add', 'acme.test', 'bücher.test', '--tenant', 'acme'],
    ['connections', 'add', 'main', '--tenant', 'acme', '--profile', 'openldap', '--server', 'ldap://127.0.0.1:1',
      '--allow-plain-bind', '--base-dn', 'dc=acme,dc=test', '--bind-dn', 'cn=reader,dc=acme,dc=test', '--bind-password-file', pw],
  ]) {
    const r = run(args);
    assert.equal(r.code, 0, `setup ${args.join(' ')}: ${r.stderr}`);
  }
  const sql = (text: string, ...params: (string | number | null)[]): void => {
    const db = new DatabaseSync(join(dir, 'roster.db'));
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      db.prepare(text).run(...params);
    } finally {
      db.close();
    }
  };
  return { dir, run, json, sql, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

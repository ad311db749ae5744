/**
 * Diagnostic child process of the bench (not a target of the issue): how much of a sync is the
 * read alone. `node bench/read-floor.ts ldapts|roster-read JOB.json` reads the connection's
 * directory once and prints `{"entries": N}`:
 *   - `ldapts`: the same searches as (a) with ldapts' searchPaginated, entries discarded — the
 *     floor of any Node client on this stack (process start, BER decoding, page round trips);
 *   - `roster-read`: the product's readDirectory() (paging, mapping, range handling), no store.
 * The JSON job holds the connection settings and the password FILE (the password is never an
 * argument or printed).
 *
 * Like bin/roster, the process uses Node's compile cache (the CLI sets NODE_COMPILE_CACHE): the
 * modules are loaded after enabling it, so a warm cache spares type stripping and compiling at
 * start-up as it does for a sync.
 */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSettings } from '../src/core/connection.ts';

export interface FloorJob {
  url: string;
  bindDn: string;
  passwordFile: string;
  settings: ConnectionSettings;
}

async function ldaptsRead(job: FloorJob, password: string): Promise<number> {
  const { Client } = await import('ldapts');
  const { searchesOf } = await import('./reference-dump.ts');
  const client = new Client({ url: job.url, timeout: 60_000, connectTimeout: 10_000 });
  let n = 0;
  try {
    await client.bind(job.bindDn, password);
    for (const s of searchesOf(job.settings)) {
      const pages = client.searchPaginated(job.settings.baseDn, { scope: 'sub', filter: s.filter, attributes: s.attrs, paged: { pageSize: job.settings.pageSize } });
      for await (const page of pages) n += page.searchEntries.length;
    }
  } finally {
    await client.unbind();
  }
  return n;
}

async function rosterRead(job: FloorJob, password: string): Promise<number> {
  const { readDirectory } = await import('../src/directory/read-directory.ts');
  const r = await readDirectory(job.settings, password);
  return r.snapshot.users.length + r.snapshot.groups.length + r.snapshot.contacts.length;
}

if (import.meta.main) {
  enableCompileCache(process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), `roster-node-compile-cache-${process.getuid?.() ?? 0}`));
  const [mode, file] = process.argv.slice(2);
  if ((mode !== 'ldapts' && mode !== 'roster-read') || file === undefined) {
    process.stderr.write('usage: node bench/read-floor.ts ldapts|roster-read JOB.json\n');
    process.exit(2);
  }
  const job = JSON.parse(readFileSync(file, 'utf8')) as FloorJob;
  const password = readFileSync(job.passwordFile, 'utf8');
  const entries = mode === 'ldapts' ? await ldaptsRead(job, password) : await rosterRead(job, password);
  process.stdout.write(`${JSON.stringify({ entries })}\n`);
}

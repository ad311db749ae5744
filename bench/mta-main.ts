/**
 * `node --no-warnings bench/mta-main.ts [--users 100000] [--dialect sqlite|postgres|both] [--clients 1,8,32]
 *  [--seconds 5] [--reference] [--ref-keys 20000]`
 *
 * Builds a store with one tenant of N users per dialect (the real pipeline), runs bench/mta.ts
 * against `roster postfix serve` on it and prints a table. With --reference, also the same keys
 * through Postfix's own client (`postmap -q -`, one process, one persistent connection) against
 * our socketmap server and against an ldap: table (Debian's postfix-ldap) on a private slapd
 * loaded with the same generated directory — the lookup Postfix would otherwise make.
 * PostgreSQL: ROSTER_BENCH_PG_URL, else the bench's own private cluster (default durability).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchMta, buildMtaStore, lookupKeys, MTA_SPEC, postmapBatch, postmapConfig, type MtaRow } from './mta.ts';
import { startBenchPostgres } from './pg-server.ts';
import { writeLdif } from '../test/fixtures/directory-generator.ts';
import { startSlapd } from '../test/helpers/slapd.ts';
import { ensurePackages } from '../test/helpers/debian.ts';
import { startRosterServe } from '../test/helpers/postfix.ts';

const { values: argv } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    dialect: { type: 'string', default: 'both' },
    clients: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '5' },
    reference: { type: 'boolean', default: false },
    'ref-keys': { type: 'string', default: '20000' },
  },
});
const spec = MTA_SPEC(Number(argv.users));
const clients = argv.clients.split(',').map(Number);
const keys = lookupKeys(spec, 50_000);
const work = mkdtempSync(join(tmpdir(), 'roster-bench-mta-'));
const f = (n: number, d = 0): string => n.toFixed(d);

interface Section {
  dialect: string;
  buildMs: number;
  users: number;
  rows: MtaRow[];
  reference?: { keys: number; socketmap: { seconds: number; found: number }; ldap?: { seconds: number; found: number } };
}

async function withStore<T>(dialect: 'sqlite' | 'postgres', fn: (url: string) => Promise<T>): Promise<T> {
  if (dialect === 'sqlite') {
    const dir = join(work, 'sqlite');
    mkdirSync(dir, { recursive: true });
    return fn(`sqlite:${join(dir, 'roster.db')}`);
  }
  const pg = await startBenchPostgres();
  try {
    return await fn(pg.url);
  } finally {
    await pg.stop();
  }
}

async function main(): Promise<void> {
  ensurePackages('postfix');
  const load0 = loadavg()[0]!;
  const sections: Section[] = [];
  let slapd: Awaited<ReturnType<typeof startSlapd>> | undefined;
  if (argv.reference) {
    const ldif = join(work, 'directory.ldif');
    const t = performance.now();
    await writeLdif(spec, ldif);
    slapd = await startSlapd({ ldifFile: ldif });
    console.log(`reference slapd: ${spec.users} users loaded in ${f((performance.now() - t) / 1000, 1)} s`);
  }
  try {
    for (const dialect of argv.dialect === 'both' ? (['sqlite', 'postgres'] as const) : [argv.dialect as 'sqlite' | 'postgres']) {
      await withStore(dialect, async (url) => {
        const built = await buildMtaStore(url, spec);
        console.log(`${dialect}: store with ${built.users} users built in ${f(built.ms / 1000, 1)} s`);
        const rows = await benchMta({ url, keys, clients, seconds: Number(argv.seconds), dataDir: work });
        const section: Section = { dialect, buildMs: built.ms, users: built.users, rows };
        if (argv.reference) {
          const refKeys = keys.slice(0, Number(argv['ref-keys'])).map((k) => k.key.toLowerCase());
          const cfg = postmapConfig(work, slapd === undefined ? undefined : { url: slapd.url, readerDn: slapd.readerDn, readerPassword: slapd.readerPassword, baseDn: slapd.baseDn });
          const serve = await startRosterServe({ ROSTER_DATA_DIR: work, ROSTER_DATABASE_URL: url });
          try {
            const socketmap = await postmapBatch(cfg.dir, `socketmap:inet:127.0.0.1:${serve.port}:recipient`, refKeys, join(work, 'keys.txt'));
            section.reference = { keys: refKeys.length, socketmap };
          } finally {
            await serve.stop();
          }
          if (cfg.ldapTable !== undefined && section.reference !== undefined) {
            section.reference.ldap = await postmapBatch(cfg.dir, cfg.ldapTable, refKeys, join(work, 'keys.txt'));
          }
        }
        sections.push(section);
        for (const r of rows) console.log(`  ${dialect} clients=${r.clients}: ${f(r.perSecond)} lookups/s, p50 ${f(r.p50Ms, 2)} ms, p99 ${f(r.p99Ms, 2)} ms`);
      });
    }
  } finally {
    await slapd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const lines = [
    `## Postfix socketmap lookups — ${spec.users} users, ${argv.seconds} s per step, load avg ${f(load0, 2)} → ${f(loadavg()[0]!, 2)}`,
    '',
    '| store | clients | lookups/s | p50 ms | p99 ms | max ms | server CPU % |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...sections.flatMap((s) => s.rows.map((r) => `| ${s.dialect} | ${r.clients} | ${f(r.perSecond)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.maxMs, 1)} | ${f(r.serverCpuPct)} |`)),
  ];
  const refs = sections.filter((s) => s.reference !== undefined);
  if (refs.length > 0) {
    lines.push('', '### Reference: Postfix\'s own client, `postmap -q -` (one process, sequential)', '', '| table | keys | found | s | lookups/s |', '|---|---:|---:|---:|---:|');
    for (const s of refs) {
      const r = s.reference!;
      lines.push(`| socketmap → roster (${s.dialect}) | ${r.keys} | ${r.socketmap.found} | ${f(r.socketmap.seconds, 2)} | ${f(r.keys / r.socketmap.seconds)} |`);
    }
    const ldap = refs[0]!.reference!.ldap;
    if (ldap !== undefined) lines.push(`| ldap: → slapd (mail=%s, indexed) | ${refs[0]!.reference!.keys} | ${ldap.found} | ${f(ldap.seconds, 2)} | ${f(refs[0]!.reference!.keys / ldap.seconds)} |`);
  }
  console.log(lines.join('\n'));
}

await main();

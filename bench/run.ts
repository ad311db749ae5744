/**
 * `npm run bench` (./dev bench): Roster's sync against a 100,000-user OpenLDAP directory, each
 * step timed as a whole process with the peak RSS of its process tree, as ratios to a plain
 * paged `ldapsearch` dump of the same entries in the same run. See bench/README.md.
 *
 *   node --no-warnings bench/run.ts [--users N] [--seed S] [--out FILE.md] [--json FILE] [--strict] [--profile DIR]
 *
 * Exit codes: 0 done (targets may be MISSED: see the table; --strict makes a miss exit 3),
 * 1 a step failed or a landing check of (e) failed.
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ConnectionSettings } from '../src/core/connection.ts';
import { startSlapd } from '../test/helpers/slapd.ts';
import { generateOpenLdapLdif, type GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { ldapModify } from '../test/helpers/ldap-tools.ts';
import { measure, shq, type Measured } from './measure.ts';
import { cliEnv, setUpStore, syncCommand, type CliStore } from './cli.ts';
import { dumpScript, ldapsearchArgv, searchesOf, type DumpTarget } from './reference-dump.ts';
import { startBenchPostgres } from './pg-server.ts';
import { diffCounts, installSqliteCounters, readPgCounters, readSqliteCounters, splitCounts, type RowCounts } from './row-counts.ts';
import { checkChanges, planChanges, readBefore, type Check } from './changes.ts';
import { openStoreReader } from './store-reader.ts';
import { renderTable, verdictOf, type StepResult } from './table.ts';
import { renderProfile } from './profile-summary.ts';
import { renderLookupTable, runLookupSteps } from './lookup-steps.ts';

const { values: argv } = parseArgs({ options: {
  users: { type: 'string', default: '100000' }, seed: { type: 'string', default: '20261122' },
  out: { type: 'string' }, json: { type: 'string' }, strict: { type: 'boolean', default: false }, profile: { type: 'string' },
} });
const USERS = Number(argv.users);
const SEED = Number(argv.seed);
const FULL = USERS === 100_000;
const outFile = argv.out ?? (FULL && argv.profile === undefined ? resolve(import.meta.dirname, 'results/latest.md') : undefined);
const say = (s = ''): void => { process.stdout.write(`${s}\n`); };
const secs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

const spec: GeneratorSpec = {
  seed: SEED, users: USERS, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'],
  // ≥ 100,000 member values at full size (the issue), nested groups, plus one A⇄B cycle.
  groupMemberValues: Math.ceil(USERS * 1.2), withCycle: true,
};

interface SyncRecord { status: string; durationMs: number | null; counts: { read: number; added: number; updated: number; unchanged: number; flagged: number; groups: number; aliasesAdded: number; aliasesRemoved: number } | null }

function mustSucceed(what: string, m: Measured): void {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code ?? m.signal}: ${m.stderr.trim().slice(-2000)}`);
}

async function timedSync(store: CliStore, step: string): Promise<{ m: Measured; rec: SyncRecord }> {
  const cmd = syncCommand(store, 'acme', 'main');
  const env = cliEnv(store);
  // --profile: a V8 CPU profile of each sync process (it slows the run: the table is then diagnostic only).
  const profDir = argv.profile === undefined ? undefined : resolve(argv.profile, step);
  if (profDir !== undefined) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim();
  const m = await measure(cmd.argv[0]!, cmd.argv.slice(1), { env });
  mustSucceed(`sync (${store.label})`, m);
  if (profDir !== undefined) for (const f of readdirSync(profDir)) for (const l of renderProfile(join(profDir, f), 12)) say(l);
  const rec = JSON.parse(m.stdout) as SyncRecord;
  if (rec.status !== 'succeeded') throw new Error(`sync (${store.label}) ended ${rec.status}`);
  return { m, rec };
}

const countsNote = (r: SyncRecord): string => {
  const c = r.counts;
  const inRun = r.durationMs === null ? '' : `run record ${(r.durationMs / 1000).toFixed(2)} s; `;
  return inRun + (c ? `read ${c.read}, added ${c.added}, updated ${c.updated}, unchanged ${c.unchanged}, flagged ${c.flagged}, aliases +${c.aliasesAdded}/-${c.aliasesRemoved}, groups ${c.groups}` : '');
};
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'roster-bench-'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(work, { recursive: true, force: true })];
  try {
    const loadStart = load();
    say(`Roster bench: ${USERS} users, seed ${SEED}, ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadStart}`);
    // Directory: generated from the seed, loaded offline.
    let t0 = process.hrtime.bigint();
    const gen = generateOpenLdapLdif(spec);
    const ldifFile = join(work, 'directory.ldif');
    await gen.write(ldifFile);
    const genS = secs(t0);
    const mf = gen.manifest;
    say(`Directory: ${mf.users} users (${(100 * mf.withAliases / mf.users).toFixed(1)} % with aliases, ${mf.aliasValues} alias values, ` +
      `${(100 * mf.disabled / mf.users).toFixed(1)} % disabled, ${(100 * mf.unmanaged / mf.users).toFixed(1)} % in unmanaged domains), ` +
      `${mf.groups} groups with ${mf.memberValues} member values (${mf.nestedEdges} nested), ${mf.eligible} eligible; generated in ${genS.toFixed(2)} s`);
    t0 = process.hrtime.bigint();
    const slapd = await startSlapd({ ldifFile });
    cleanups.push(() => slapd.stop());
    say(`slapd: slapadd -q + start in ${secs(t0).toFixed(2)} s, ${slapd.url}`);

    t0 = process.hrtime.bigint();
    const pgServer = await startBenchPostgres();
    cleanups.push(() => pgServer.stop());
    say(`PostgreSQL: ${pgServer.describe}, ready in ${secs(t0).toFixed(2)} s`);

    // Transport for (a) and every sync: plain LDAP on loopback, the harness's reader account.
    const pwFile = join(work, 'reader.pw');
    writeFileSync(pwFile, slapd.readerPassword, { mode: 0o600 });
    say(`Transport: LDAP (plain, loopback) ${slapd.url} bound as ${slapd.readerDn} (connection has --allow-plain-bind, R43)`);
    const sqliteDir = join(work, 'sqlite');
    const pgDir = join(work, 'pg');
    mkdirSync(sqliteDir);
    mkdirSync(pgDir);
    const stores = {
      sqlite: { label: 'SQLite', vars: { ROSTER_DATA_DIR: sqliteDir }, url: `sqlite:${join(sqliteDir, 'roster.db')}` },
      pg: { label: 'PostgreSQL', vars: { ROSTER_DATA_DIR: pgDir, ROSTER_DATABASE_URL: pgServer.url }, url: pgServer.url },
    } satisfies Record<string, CliStore>;
    const setup = { tenant: 'acme', connection: 'main', domains: spec.managedDomains, serverUrl: slapd.url, baseDn: spec.baseDn,
      bindDn: slapd.readerDn, passwordFile: pwFile, plain: true };
    const settings = setUpStore(stores.sqlite, setup) as unknown as ConnectionSettings;
    setUpStore(stores.pg, setup);
    say('Stores set up through the CLI (tenants add, domains add, tenants enable-sync, connections add).');

    // (a) the reference dump; an identical untimed run first warms slapd's cache and counts entries.
    const target: DumpTarget = { url: slapd.url, bindDn: slapd.readerDn, passwordFile: pwFile, baseDn: spec.baseDn, pageSize: settings.pageSize };
    const searches = searchesOf(settings);
    const countFile = join(work, 'dump.ldif');
    const warm = await measure('sh', ['-c', dumpScript(target, searches, countFile, true)]);
    mustSucceed('warm-up dump', warm);
    const dumped = (readFileSync(countFile, 'utf8').match(/^dn::? /gm) ?? []).length;
    const scriptA = dumpScript(target, searches);
    // Three timed runs, the median is the reference: one short step is the most exposed to a busy machine.
    const aRuns: Measured[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await measure('sh', ['-c', scriptA]);
      mustSucceed('(a) ldapsearch', m);
      aRuns.push(m);
    }
    const a = [...aRuns].sort((x, y) => x.wallS - y.wallS)[1]!;
    say(`(a) ${a.wallS.toFixed(2)} s (median of ${aRuns.map((m) => m.wallS.toFixed(2)).join(', ')}) — ${dumped} entries (${searches.map((s) => s.what).join(' + ')})`);

    // Diagnostics (no target): the read alone, in a bare Node process with ldapts, and the product's reader.
    const floorJob = join(work, 'floor.json');
    writeFileSync(floorJob, JSON.stringify({ url: slapd.url, bindDn: slapd.readerDn, passwordFile: pwFile, settings }));
    const floors: Array<{ label: string; m: Measured }> = [];
    for (const [mode, label] of [['ldapts', 'ldapts searchPaginated, same searches, bare Node'], ['roster-read', 'product readDirectory() only, no store']] as const) {
      const m = await measure(process.execPath, ['--no-warnings', resolve(import.meta.dirname, 'read-floor.ts'), mode, floorJob]);
      mustSucceed(`read floor ${mode}`, m);
      const n = (JSON.parse(m.stdout) as { entries: number }).entries;
      if (n !== dumped) throw new Error(`read floor ${mode} read ${n} entries, (a) dumped ${dumped}`);
      floors.push({ label, m });
      say(`    diagnostic: ${label}: ${m.wallS.toFixed(2)} s (${(m.wallS / a.wallS).toFixed(2)}× (a)), peak RSS ${m.peakRssMb.toFixed(0)} MB`);
    }

    const b = await timedSync(stores.sqlite, 'b-sqlite');
    say(`(b) ${b.m.wallS.toFixed(2)} s — ${countsNote(b.rec)}`);
    if (b.rec.counts && b.rec.counts.read + b.rec.counts.groups !== dumped) {
      throw new Error(`(a) dumped ${dumped} entries but the sync read ${b.rec.counts.read} users + ${b.rec.counts.groups} groups: not the same entries`);
    }
    const c = await timedSync(stores.pg, 'c-pg');
    say(`(c) ${c.m.wallS.toFixed(2)} s — ${countsNote(c.rec)}`);

    // (d) on both stores, rows written counted by the database.
    const sqliteFile = stores.sqlite.url.slice('sqlite:'.length);
    installSqliteCounters(sqliteFile);
    const before: { sqlite: RowCounts; pg: RowCounts } = { sqlite: readSqliteCounters(sqliteFile), pg: await readPgCounters(pgServer.url) };
    const d = await timedSync(stores.sqlite, 'd-sqlite');
    const dRows = splitCounts(diffCounts(before.sqlite, readSqliteCounters(sqliteFile)));
    say(`(d) SQLite ${d.m.wallS.toFixed(2)} s — ${countsNote(d.rec)}; rows written (triggers): directory ${dRows.directory}, other ${dRows.rest} (${dRows.detail})`);
    const dp = await timedSync(stores.pg, 'd-pg');
    const dpRows = splitCounts(diffCounts(before.pg, await readPgCounters(pgServer.url)));
    say(`(d) PostgreSQL ${dp.m.wallS.toFixed(2)} s — ${countsNote(dp.rec)}; rows written (pg_stat_user_tables): directory ${dpRows.directory}, other ${dpRows.rest} (${dpRows.detail})`);

    const readers = { sqlite: await openStoreReader(stores.sqlite.url), pg: await openStoreReader(stores.pg.url) };
    cleanups.push(async () => { await readers.sqlite.close(); await readers.pg.close(); });

    // Issue 4: lookups and recipient validation on the stores as the sync left them (the directory
    // still equals the generator's), with the same questions asked of slapd in the same run.
    const lookups = await runLookupSteps({
      spec, work, say,
      stores: [{ label: 'SQLite', url: stores.sqlite.url, reader: readers.sqlite }, { label: 'PostgreSQL', url: stores.pg.url, reader: readers.pg }],
      slapd: { url: slapd.url, bindDn: slapd.readerDn, passwordFile: pwFile, baseDn: spec.baseDn, readerPassword: slapd.readerPassword },
    });
    const lookupTable = renderLookupTable(lookups);

    // (e) ten named changes, then a sync of each store, then the checks.
    const plan = planChanges(spec);
    const pre = { sqlite: await readBefore(readers.sqlite, plan), pg: await readBefore(readers.pg, plan) };
    await ldapModify(slapd.admin, plan.ldif);
    say('Directory changes (ldapmodify):');
    for (const n of plan.names) say(`  - ${n}`);
    const e = await timedSync(stores.sqlite, 'e-sqlite');
    const ep = await timedSync(stores.pg, 'e-pg');
    const checks: Record<string, Check[]> = {
      SQLite: await checkChanges(readers.sqlite, plan, pre.sqlite), PostgreSQL: await checkChanges(readers.pg, plan, pre.pg),
    };
    let failed = 0;
    for (const [store, list] of Object.entries(checks)) {
      say(`(e) ${store}: changes landed?`);
      for (const k of list) {
        say(`  ${k.ok ? 'ok    ' : 'FAILED'} ${k.name} — ${k.detail}`);
        if (!k.ok) failed++;
      }
    }
    const okCount = (l: Check[]): string => `${l.filter((k) => k.ok).length}/${l.length} changes landed`;

    // (d) and (e) must do the same full read as (b): every user entry read again (one deleted, one added in (e)).
    const fullRead = (r: SyncRecord): { what: string; ok: boolean } => ({ what: 'full read', ok: r.counts?.read === USERS });
    const steps: StepResult[] = [
      { id: 'a', label: 'ldapsearch paged dump', wallS: a.wallS, peakRssMb: a.peakRssMb, maxRatio: null, maxRssMb: null, conditions: [], note: `${dumped} entries, median of 3` },
      { id: 'b', label: 'sync → empty SQLite', wallS: b.m.wallS, peakRssMb: b.m.peakRssMb, maxRatio: 5, maxRssMb: 300, conditions: [], note: `added ${b.rec.counts?.added}` },
      { id: 'c', label: 'sync → empty PostgreSQL', wallS: c.m.wallS, peakRssMb: c.m.peakRssMb, maxRatio: 7, maxRssMb: null, conditions: [], note: `added ${c.rec.counts?.added}` },
      { id: 'd', label: 'no-change sync, SQLite', wallS: d.m.wallS, peakRssMb: d.m.peakRssMb, maxRatio: 3, maxRssMb: null,
        conditions: [fullRead(d.rec), { what: '0 dir rows', ok: dRows.directory === 0 }], note: `rows: dir ${dRows.directory}, other ${dRows.rest}` },
      { id: 'd', label: 'no-change sync, PostgreSQL', wallS: dp.m.wallS, peakRssMb: dp.m.peakRssMb, maxRatio: 3, maxRssMb: null,
        conditions: [fullRead(dp.rec), { what: '0 dir rows', ok: dpRows.directory === 0 }], note: `rows: dir ${dpRows.directory}, other ${dpRows.rest}` },
      { id: 'e', label: '10 changes, SQLite', wallS: e.m.wallS, peakRssMb: e.m.peakRssMb, maxRatio: 3, maxRssMb: null,
        conditions: [fullRead(e.rec), { what: 'all landed', ok: checks.SQLite!.every((k) => k.ok) }], note: okCount(checks.SQLite!) },
      { id: 'e', label: '10 changes, PostgreSQL', wallS: ep.m.wallS, peakRssMb: ep.m.peakRssMb, maxRatio: 3, maxRssMb: null,
        conditions: [fullRead(ep.rec), { what: 'all landed', ok: checks.PostgreSQL!.every((k) => k.ok) }], note: okCount(checks.PostgreSQL!) },
    ];
    const table = renderTable(steps);
    const syncs: Array<[string, SyncRecord]> = [['b', b.rec], ['c', c.rec], ['d SQLite', d.rec], ['d PostgreSQL', dp.rec], ['e SQLite', e.rec], ['e PostgreSQL', ep.rec]];
    const cmdA = `sh -c ${shq(scriptA)}`;
    const cmdB = syncCommand(stores.sqlite, 'acme', 'main').line;
    const loadEnd = load();
    say();
    say(`Load average at start ${loadStart}, at end ${loadEnd} (other work on the machine slows the longer steps more than (a)).`);
    say(table);
    say();
    say('Lookups and recipient validation (issue 4), same stores, same slapd:');
    for (const l of lookupTable) say(l);
    say();
    say(`(a) command: ${cmdA}`);
    say(`(b) command: ${cmdB}`);
    say(`(c)/(d)/(e): the same sync command; PostgreSQL runs add ROSTER_DATABASE_URL=<bench database>.`);
    const missed = steps.filter((s) => s.id !== 'a' && !verdictOf(s, a.wallS).ok).length;
    if (outFile !== undefined) {
      mkdirSync(dirname(outFile), { recursive: true });
      writeFileSync(outFile, [
        `# Roster bench — ${USERS} users, seed ${SEED}`, '', `Measured ${new Date().toISOString()} on ${cpus().length} cores, ` +
        `Node ${process.version}, load average ${loadStart} at start and ${loadEnd} at end. ` +
        `Store durability as shipped (SQLite WAL + synchronous=NORMAL; PostgreSQL: ${pgServer.describe}). ` +
        `Transport: plain LDAP on loopback, reader bind, page size ${settings.pageSize}.`, '',
        table, '', '## Lookups and recipient validation (issue 4)', '',
        'On the stores the syncs above filled (100,000 users read, the directory unchanged), before the changes of (e). ' +
        'In-process calls one at a time (bench/lookups.ts); the socketmap server as its own process with persistent clients (bench/mta.ts); ' +
        'references on the same slapd: Postfix\'s `postmap -q -` through an `ldap:` table, and `ldapsearch -f` (bench/lookup-reference.ts).', '',
        ...lookupTable, '', `- (a), one timed process: \`${cmdA}\``, '', '  i.e. back to back:', '', '  ```sh',
        ...searches.map((x) => `  ${ldapsearchArgv(target, x).map(shq).join(' ')} > /dev/null`), '  ```', '', `- (b): \`${cmdB}\``, `- (c), (d), (e): the same; PostgreSQL runs add \`ROSTER_DATABASE_URL=<bench database>\`.`,
        '- Diagnostics, no target (each a whole process, same transport and searches as (a)):',
        ...floors.map((f) => `  - ${f.label}: ${f.m.wallS.toFixed(2)} s = ${(f.m.wallS / a.wallS).toFixed(2)}× (a), peak RSS ${f.m.peakRssMb.toFixed(0)} MB`),
        '- Run records of the syncs:', ...syncs.map(([k, x]) => `  - (${k}) ${countsNote(x)}`), `- Directory changes for (e):`, ...plan.names.map((n) => `  - ${n}`), '',
        `Rows written in (d), counted by the database: SQLite triggers ${dRows.detail}; PostgreSQL pg_stat_user_tables ${dpRows.detail}.`, '',
      ].join('\n'));
      say(`Table written to ${outFile}`);
    }
    if (argv.json !== undefined) {
      writeFileSync(argv.json, JSON.stringify({ users: USERS, dumped, lookups, steps: steps.map((s) => ({ ...s, verdict: verdictOf(s, a.wallS) })), checks, failed, missed }, null, 2));
    }
    if (failed > 0) { say(`${failed} landing check(s) FAILED`); return 1; }
    if (missed > 0) say(`${missed} target(s) MISSED`);
    return missed > 0 && argv.strict ? 3 : 0;
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => say(`cleanup: ${(e as Error).message}`));
  }
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  return 1;
});

/**
 * The directory read alone, for tuning src/directory (diagnostic, no target): starts the bench's
 * directory once (same generator, seed and slapd as bench/run.ts), then times, as whole processes
 * with peak RSS (measure.ts), the (a) ldapsearch dump, bare ldapts searchPaginated and the
 * product's readDirectory() (bench/read-floor.ts), interleaved, several rounds; prints medians.
 *
 *   node --no-warnings bench/read-only.ts [--users N] [--rounds R] [--serve] [--job FILE] [--modes a,ldapts,roster-read]
 *
 * `--serve` keeps slapd running after the rounds and prints the floor job file, so that
 * `node bench/read-floor.ts roster-read JOB` can be re-run (or profiled) against it; SIGINT ends it.
 * `--job FILE` measures against such a running directory instead of starting one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../src/core/connection.ts';
import { startSlapd } from '../test/helpers/slapd.ts';
import { generateOpenLdapLdif } from '../test/fixtures/directory-generator.ts';
import { measure, type Measured } from './measure.ts';
import { dumpScript, searchesOf } from './reference-dump.ts';

const { values: argv } = parseArgs({ options: {
  users: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' }, serve: { type: 'boolean', default: false },
  job: { type: 'string' }, modes: { type: 'string', default: 'a,ldapts,roster-read' },
  // As bin/roster runs the CLI: its compile cache and V8 flags (e.g. --max-semi-space-size=64).
  'compile-cache': { type: 'boolean', default: false }, 'node-flags': { type: 'string', default: '' },
} });
const USERS = Number(argv.users);
const say = (s = ''): void => { process.stdout.write(`${s}\n`); };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Job { url: string; bindDn: string; passwordFile: string; settings: ConnectionSettings }

/** Rounds of the chosen modes, interleaved; prints each round and the medians. */
async function rounds(jobFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as Job;
  const script = dumpScript({ url: job.url, bindDn: job.bindDn, passwordFile: job.passwordFile, baseDn: job.settings.baseDn, pageSize: job.settings.pageSize },
    searchesOf(job.settings));
  await measure('sh', ['-c', script]); // warm slapd's cache
  const floor = resolve(import.meta.dirname, 'read-floor.ts');
  const modes = argv.modes.split(',');
  const flags = argv['node-flags'].split(' ').filter((f) => f !== '');
  const env = { ...process.env, ...(argv['compile-cache'] ? { NODE_COMPILE_CACHE: join(tmpdir(), 'roster-read-only-compile-cache') } : {}) };
  const runs: Record<string, Measured[]> = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < Number(argv.rounds); i++) {
    for (const mode of modes) {
      const m = mode === 'a' ? await measure('sh', ['-c', script])
        : await measure(process.execPath, ['--no-warnings', ...flags, floor, mode, jobFile], { env });
      if (m.code !== 0) throw new Error(`${mode} exited ${m.code}: ${m.stderr.slice(-2000)}`);
      runs[mode]!.push(m);
    }
    say(`round ${i + 1}: ` + Object.entries(runs).map(([k, v]) => `${k} ${v.at(-1)!.wallS.toFixed(2)} s ${v.at(-1)!.peakRssMb.toFixed(0)} MB`).join(', ') +
      ` (load ${loadavg()[0]!.toFixed(2)})`);
  }
  const a = runs.a === undefined ? NaN : median(runs.a.map((m) => m.wallS));
  for (const [k, v] of Object.entries(runs)) {
    const w = median(v.map((m) => m.wallS));
    say(`${k.padEnd(12)} median ${w.toFixed(2)} s = ${(w / a).toFixed(2)}× (a), peak RSS median ${median(v.map((m) => m.peakRssMb)).toFixed(0)} MB; ${v[0]!.stdout.trim()}`);
  }
}

if (argv.job !== undefined) {
  await rounds(argv.job);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'roster-read-only-'));
const gen = generateOpenLdapLdif({
  seed: 20261122, users: USERS, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'],
  unmanagedDomains: ['other.test'], groupMemberValues: Math.ceil(USERS * 1.2), withCycle: true,
});
const ldifFile = join(work, 'directory.ldif');
await gen.write(ldifFile);
const slapd = await startSlapd({ ldifFile });
try {
  const pwFile = join(work, 'reader.pw');
  writeFileSync(pwFile, slapd.readerPassword, { mode: 0o600 });
  const settings: ConnectionSettings = {
    ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host: slapd.host, port: slapd.port, security: 'plain' }],
    allowPlainBind: true, bindDn: slapd.readerDn, baseDn: 'dc=example,dc=test', deletionDelayDays: 14,
  };
  const job = join(work, 'floor.json');
  writeFileSync(job, JSON.stringify({ url: slapd.url, bindDn: slapd.readerDn, passwordFile: pwFile, settings }));
  await rounds(job);
  if (argv.serve) {
    say(`serving: node --no-warnings bench/read-floor.ts roster-read ${job}`);
    await new Promise<void>((r) => { process.once('SIGINT', r); process.once('SIGTERM', r); });
  }
} finally {
  await slapd.stop();
  rmSync(work, { recursive: true, force: true });
}

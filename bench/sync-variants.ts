/**
 * Diagnostic: one 100k directory, then for each NODE_OPTIONS variant a first sync into a fresh
 * SQLite store (b) and no-change syncs (d), each a whole `bin/roster sync` process with wall time
 * and peak RSS of its tree (bench/measure.ts). Used to choose V8 flags and memory changes.
 *
 *   node --no-warnings bench/sync-variants.ts [--users N] [--rounds R] [--variants 'A|B|...'] [--nochange K]
 *
 * Variants are NODE_OPTIONS strings separated by '|' ('' = none). Rounds interleave variants so a
 * busy machine affects them alike; medians are printed.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSlapd } from '../test/helpers/slapd.ts';
import { generateOpenLdapLdif, type GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { measure } from './measure.ts';
import { cliEnv, setUpStore, syncCommand, type CliStore } from './cli.ts';

const { values: argv } = parseArgs({ options: {
  users: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '2' },
  variants: { type: 'string', default: '' }, nochange: { type: 'string', default: '1' },
} });
const USERS = Number(argv.users);
const spec: GeneratorSpec = {
  seed: 20261122, users: USERS, baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'],
  groupMemberValues: Math.ceil(USERS * 1.2), withCycle: true,
};
const variants = (argv.variants ?? '').split('|');
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; };

const work = mkdtempSync(join(tmpdir(), 'roster-variants-'));
const gen = generateOpenLdapLdif(spec);
await gen.write(join(work, 'directory.ldif'));
const slapd = await startSlapd({ ldifFile: join(work, 'directory.ldif') });
try {
  const pwFile = join(work, 'reader.pw');
  writeFileSync(pwFile, slapd.readerPassword, { mode: 0o600 });
  const res = new Map<string, { b: number[]; bRss: number[]; d: number[]; dRss: number[] }>();
  let n = 0;
  for (let r = 0; r < Number(argv.rounds); r++) {
    for (const v of variants) {
      const dir = join(work, `s${n++}`);
      mkdirSync(dir);
      const store: CliStore = { label: 'SQLite', vars: { ROSTER_DATA_DIR: dir }, url: `sqlite:${join(dir, 'roster.db')}` };
      setUpStore(store, { tenant: 'acme', connection: 'main', domains: spec.managedDomains, serverUrl: slapd.url, baseDn: spec.baseDn,
        bindDn: slapd.readerDn, passwordFile: pwFile, plain: true });
      const cmd = syncCommand(store, 'acme', 'main');
      const env = { ...cliEnv(store), NODE_OPTIONS: v };
      const e = res.get(v) ?? { b: [], bRss: [], d: [], dRss: [] };
      res.set(v, e);
      const b = await measure(cmd.argv[0]!, cmd.argv.slice(1), { env });
      if (b.code !== 0) throw new Error(`sync failed: ${b.stderr.slice(-1000)}`);
      e.b.push(b.wallS); e.bRss.push(b.peakRssMb);
      const ds: string[] = [];
      for (let k = 0; k < Number(argv.nochange); k++) {
        const d = await measure(cmd.argv[0]!, cmd.argv.slice(1), { env });
        if (d.code !== 0) throw new Error(`sync failed: ${d.stderr.slice(-1000)}`);
        e.d.push(d.wallS); e.dRss.push(d.peakRssMb);
        ds.push(`${d.wallS.toFixed(2)} s ${d.peakRssMb.toFixed(0)} MB`);
      }
      process.stdout.write(`[${JSON.stringify(v)}] b ${b.wallS.toFixed(2)} s ${b.peakRssMb.toFixed(0)} MB; d ${ds.join(', ')}\n`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [v, e] of res) {
    process.stdout.write(`median [${JSON.stringify(v)}]: b ${median(e.b).toFixed(2)} s ${median(e.bRss).toFixed(0)} MB; d ${median(e.d).toFixed(2)} s ${median(e.dRss).toFixed(0)} MB\n`);
  }
} finally {
  await slapd.stop();
  rmSync(work, { recursive: true, force: true });
}

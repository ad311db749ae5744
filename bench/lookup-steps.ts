/**
 * Issue 4's figures inside `npm run bench`, on the stores the sync steps just filled (100,000 users
 * of tenant `acme`, the directory unchanged since the read), side by side with the directory itself
 * answering the same questions in the same run:
 *
 * - in-process lookups (bench/lookups.ts): autocomplete and resolve p50/p99/max, target p99 < 5 ms;
 * - recipient validation over the MTA protocol (bench/mta.ts): `roster postfix serve` with 1, 8, 32
 *   persistent socketmap clients — lookups/s and latency;
 * - Postfix's own client (`postmap -q -`, one process) over the same keys through our socketmap and
 *   through an `ldap:` table on the same slapd (what Postfix would otherwise ask);
 * - ldapsearch on the same slapd (bench/lookup-reference.ts): one connection with -f, 8 at once, one
 *   process per lookup.
 */
import { join } from 'node:path';
import type { GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { ensurePackages } from '../test/helpers/debian.ts';
import { startRosterServe } from '../test/helpers/postfix.ts';
import { spawnSync } from 'node:child_process';
import type { LookupBenchResult } from './lookups.ts';
import { benchMta, lookupKeys, postmapBatch, postmapConfig, type MtaRow } from './mta.ts';
import { ldapsearchLookups, sampleAddresses, type LdapTarget, type ReferenceFigures } from './lookup-reference.ts';
import type { StoreReader } from './store-reader.ts';

export interface LookupStore {
  label: string;
  url: string;
  reader: StoreReader;
}

export interface LookupFigures {
  stores: Array<{ label: string; lookups: LookupBenchResult; mta: MtaRow[]; postmap: { keys: number; seconds: number; found: number } }>;
  postmapLdap: { keys: number; seconds: number; found: number };
  ldapsearch: ReferenceFigures;
}

export async function runLookupSteps(o: {
  spec: GeneratorSpec; work: string; stores: LookupStore[];
  slapd: LdapTarget & { readerPassword: string }; say: (s: string) => void;
}): Promise<LookupFigures> {
  ensurePackages('postfix');
  const keys = lookupKeys(o.spec, 50_000);
  const refKeys = keys.slice(0, 20_000).map((k) => k.key.toLowerCase());
  const cfg = postmapConfig(o.work, { url: o.slapd.url, readerDn: o.slapd.bindDn, readerPassword: o.slapd.readerPassword, baseDn: o.slapd.baseDn });
  const stores: LookupFigures['stores'] = [];
  for (const s of o.stores) {
    // In-process = the library called in a process of its own (bench/lookups-main.ts --url), not in this one,
    // whose heap holds the whole benchmark and would lengthen every GC pause.
    const child = spawnSync(process.execPath, ['--no-warnings', join(import.meta.dirname, 'lookups-main.ts'), '--url', s.url, '--tenant', 'acme'], { encoding: 'utf8', timeout: 600_000 });
    if (child.status !== 0) throw new Error(`lookups bench (${s.label}) exited ${child.status ?? child.signal}: ${child.stderr.slice(-1500)}`);
    const lookups = JSON.parse(child.stdout) as LookupBenchResult;
    o.say(`(lookups) ${s.label}: autocomplete p50 ${lookups.autocomplete.p50Ms.toFixed(2)} ms, p99 ${lookups.autocomplete.p99Ms.toFixed(2)} ms; ` +
      `resolve p50 ${lookups.resolve.p50Ms.toFixed(2)} ms, p99 ${lookups.resolve.p99Ms.toFixed(2)} ms (${lookups.autocomplete.n} + ${lookups.resolve.n} calls); ` +
      `slowest autocompletes: ${lookups.autocomplete.slowest.map((x) => `${JSON.stringify(x.query)} ${x.ms.toFixed(1)} ms`).join(', ')}`);
    const mta = await benchMta({ url: s.url, keys, clients: [1, 8, 32], seconds: 3, dataDir: join(o.work, 'mta') });
    for (const r of mta) o.say(`(socketmap) ${s.label}, ${r.clients} clients: ${r.perSecond.toFixed(0)} lookups/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
    const serve = await startRosterServe({ ROSTER_DATA_DIR: join(o.work, 'mta'), ROSTER_DATABASE_URL: s.url });
    let postmap: { seconds: number; found: number };
    try {
      postmap = await postmapBatch(cfg.dir, `socketmap:inet:127.0.0.1:${serve.port}:recipient`, refKeys, join(o.work, 'postmap-keys.txt'));
    } finally {
      await serve.stop();
    }
    o.say(`(postmap -q -) socketmap → ${s.label}: ${refKeys.length} keys in ${postmap.seconds.toFixed(2)} s, ${postmap.found} found`);
    stores.push({ label: s.label, lookups, mta, postmap: { keys: refKeys.length, seconds: postmap.seconds, found: postmap.found } });
  }
  const ldapTable = cfg.ldapTable;
  if (ldapTable === undefined) throw new Error('postmap ldap: table not configured');
  const pl = await postmapBatch(cfg.dir, ldapTable, refKeys, join(o.work, 'postmap-keys.txt'));
  o.say(`(postmap -q -) ldap: table on slapd: ${refKeys.length} keys in ${pl.seconds.toFixed(2)} s, ${pl.found} found`);
  for (const s of stores) if (s.postmap.found !== pl.found) throw new Error(`postmap found ${s.postmap.found} keys through ${s.label} but ${pl.found} through ldap: — not the same answers`);
  const sample = await sampleAddresses(o.stores[0]!.reader, 'acme', 2000);
  const ldapsearch = await ldapsearchLookups(o.slapd, sample, o.work);
  o.say(`(ldapsearch) one connection: ${ldapsearch.sequential.meanMs.toFixed(3)} ms per lookup, ${ldapsearch.sequential.perSecond.toFixed(0)}/s ` +
    `(${ldapsearch.sequential.found}/${ldapsearch.addresses} found); ${ldapsearch.concurrent.parallel} at once ${ldapsearch.concurrent.perSecond.toFixed(0)}/s; ` +
    `one process per lookup p50 ${ldapsearch.perProcess.p50Ms.toFixed(1)} ms, p99 ${ldapsearch.perProcess.p99Ms.toFixed(1)} ms`);
  return { stores, postmapLdap: { keys: refKeys.length, seconds: pl.seconds, found: pl.found }, ldapsearch };
}

/** The markdown table of issue 4's figures. */
export function renderLookupTable(f: LookupFigures): string[] {
  const [a, b] = [f.stores[0], f.stores[1]];
  const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
  const rate = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
  const verdict = (p99: number | undefined) => (p99 === undefined ? '-' : p99 < 5 ? 'met' : 'MISSED');
  const ls = f.ldapsearch;
  const rows: string[][] = [
    ['autocomplete p50 / p99 / max ms', `${ms(a?.lookups.autocomplete.p50Ms)} / ${ms(a?.lookups.autocomplete.p99Ms)} / ${ms(a?.lookups.autocomplete.maxMs)}`,
      `${ms(b?.lookups.autocomplete.p50Ms)} / ${ms(b?.lookups.autocomplete.p99Ms)} / ${ms(b?.lookups.autocomplete.maxMs)}`, '-', `p99 < 5 ms: ${verdict(a?.lookups.autocomplete.p99Ms)} / ${verdict(b?.lookups.autocomplete.p99Ms)}`],
    ['resolve p50 / p99 / max ms', `${ms(a?.lookups.resolve.p50Ms)} / ${ms(a?.lookups.resolve.p99Ms)} / ${ms(a?.lookups.resolve.maxMs)}`,
      `${ms(b?.lookups.resolve.p50Ms)} / ${ms(b?.lookups.resolve.p99Ms)} / ${ms(b?.lookups.resolve.maxMs)}`,
      `ldapsearch, one connection: ${ls.sequential.meanMs.toFixed(2)} mean; one process each: ${ls.perProcess.p50Ms.toFixed(1)} / ${ls.perProcess.p99Ms.toFixed(1)}`, `p99 < 5 ms: ${verdict(a?.lookups.resolve.p99Ms)} / ${verdict(b?.lookups.resolve.p99Ms)}`],
  ];
  for (const [i, n] of [1, 8, 32].entries()) {
    const ra = a?.mta[i];
    const rb = b?.mta[i];
    rows.push([`socketmap, ${n} client${n > 1 ? 's' : ''}: lookups/s (p99 ms)`, `${rate(ra?.perSecond)} (${ms(ra?.p99Ms)})`, `${rate(rb?.perSecond)} (${ms(rb?.p99Ms)})`,
      n === 1 ? `ldapsearch -f, one connection: ${ls.sequential.perSecond.toFixed(0)}/s` : n === 8 ? `ldapsearch -f, ${ls.concurrent.parallel} connections: ${ls.concurrent.perSecond.toFixed(0)}/s` : '-', '-']);
  }
  const pm = (x: { keys: number; seconds: number } | undefined) => (x === undefined ? '-' : `${(x.keys / x.seconds).toFixed(0)}/s`);
  rows.push([`postmap -q - (Postfix's client), ${f.postmapLdap.keys} keys`, pm(a?.postmap), pm(b?.postmap), `ldap: table on slapd ${pm(f.postmapLdap)}`, 'same keys found']);
  const head = ['measure', a?.label ?? 'SQLite', b?.label ?? 'PostgreSQL', 'reference on the same slapd', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

/**
 * R5 fault suite with the PostgreSQL store (the same contract as on SQLite): slapd killed
 * mid-read, a hard size limit that leaves 3 entries unread (R41 would not catch it: R5 must), and
 * the stream reset exactly between two pages by the loopback fault proxy. Each faulted run is
 * recorded as failed naming the fault, changes nothing in PostgreSQL, leaves the cursor, and the
 * next run works.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { generateOpenLdapLdif, generateUser, ldifEntry, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { startFaultBed, openldapBedSettings, generatedRenamer, type FaultBed, type FaultCase } from './faults-harness.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 41, users: 250, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
const SIZE_LIMIT = spec.users - 3;
const LIMITED = `cn=limit-size,${BASE}`;
const LIMITED_PW = 'pw-limit-size-secret';

let pg: TestPostgres;
let slapd: Slapd;
let bed: FaultBed;


let rename: (tag: string) => FaultCase['change'];

before(async () => {
  pg = await startPostgres();
  const account = ldifEntry(LIMITED, { objectClass: ['top', 'person'], cn: 'limit-size', sn: 'limit', userPassword: LIMITED_PW });
  slapd = await startSlapd({ ldif: gen.toString() + account, extraConfig: `limits dn.exact="${LIMITED}" size=${SIZE_LIMIT}` });
  rename = generatedRenamer(spec, slapd);
  bed = await startFaultBed({
    databaseUrl: await pg.createDatabase(),
    domains: spec.managedDomains,
    target: { host: slapd.host, port: slapd.port },
    settings: openldapBedSettings(slapd, BASE, 40),
    bindPassword: slapd.readerPassword,
  });
});

after(async () => {
  await bed?.close();
  await slapd?.stop();
  await pg?.stop();
});

test('R5 (PostgreSQL): slapd killed mid-read — failed run, nothing changed, next run works', async () => {
  let killed = false;
  await bed.expectFaultChangesNothing({
    change: rename('kill'),
    onProgress: (p) => { if (!killed && p.phase === 'read' && (p.entries ?? 0) >= 80) { killed = true; slapd.kill(); } },
    clear: () => slapd.start(),
    error: /closed|reset|lost/i,
  });
  assert.ok(killed);
});

test('R5/R41 (PostgreSQL): a size limit leaving 3 entries unread fails the run and flags nobody', async () => {
  const unread = Array.from({ length: 3 }, (_, k) => generateUser(spec, SIZE_LIMIT + k)).filter((u) => !u.disabled && u.managedPrimary);
  assert.ok(unread.length >= 1, 'some unread entries are eligible users a naive reader would flag');
  const { failed } = await bed.expectFaultChangesNothing({
    change: rename('size'),
    settings: { bindDn: LIMITED }, bindPassword: LIMITED_PW,
    error: /size limit exceeded/i,
  });
  assert.equal(failed.status, 'failed');
  const flagged = await bed.store.db.selectFrom('users').select('id').where('state', '!=', 'active').execute();
  assert.equal(flagged.length, 0, 'nobody is flagged');
});

test('R5 (PostgreSQL): the stream reset exactly between pages 1 and 2 — failed run, nothing changed', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('reset'),
    inject: async () => {
      const conn = bed.proxy.connections + 1;
      assert.equal((await runSync(bed.store, bed.opts({ dryRun: true }))).status, 'previewed');
      const w = bed.proxy.clientWrites.filter((x) => x.conn === conn);
      assert.ok(w.length >= 3);
      bed.proxy.setFault({ kind: 'reset', atByte: w[2]!.toClientAt });
    },
    clear: () => bed.proxy.setFault({ kind: 'none' }),
    error: /reset|closed|lost/i,
  });
});

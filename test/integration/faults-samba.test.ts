/**
 * R5 fault suite on a real Samba AD DC (SQLite store), through the loopback fault proxy in front
 * of the DC's LDAP port: the stream cut (FIN) and reset (RST) mid-read after the first page, the
 * DC that stops answering mid-read (R57 operation timeout), a failed bind, and a search base that
 * does not exist. Each faulted run fails naming the fault, changes nothing, leaves the cursor,
 * and the next run works. Reads from the domain root, so every search also meets Samba's three
 * continuation references (normal: R5).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { MANAGED_DOMAINS } from '../helpers/samba-fixture.ts';
import { ldifModify } from '../fixtures/directory-generator.ts';
import { startFaultBed, displayNameChange, type FaultBed, type FaultCase } from './faults-harness.ts';
import type { SyncProgress } from '../../src/sync/run-sync.ts';
import type { Fault } from '../helpers/tcp-fault.ts';

let dc: SambaDc;
let bed: FaultBed;
let picked = 0;

/** Renames the next bulk user (enabled, primary bulkNNN@example.test). */
function rename(tag: string): FaultCase['change'] {
  const u = dc.fixture.bulk[picked++]!;
  return displayNameChange((name) => dc.ldapModify(ldifModify(u.dn, [{ op: 'replace', attr: 'displayName', values: [name] }])), { address: u.expectedPrimary! }, `Renamed ${tag}`);
}

/** Sets `fault` on the proxy once the read has streamed at least `after` entries (mid-read, between pages). */
function faultAfter(after: number, fault: Fault): { onProgress: (p: SyncProgress) => void; fired: () => boolean } {
  let set = false;
  return {
    onProgress: (p) => {
      if (!set && p.phase === 'read' && (p.entries ?? 0) >= after) { set = true; bed.proxy.setFault(fault); }
    },
    fired: () => set,
  };
}

before(async () => {
  dc = await startSamba();
  bed = await startFaultBed({
    domains: [...MANAGED_DOMAINS],
    target: { host: dc.host, port: dc.ldapPort },
    settings: {
      profile: 'active-directory', caFile: null, allowPlainBind: true, bindDn: `CN=Administrator,CN=Users,${dc.baseDn}`, baseDn: dc.baseDn,
      customFilter: null, attributeOverrides: {}, publicFolderClass: null, netbiosDomain: null,
      options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: true },
      deletionDelayDays: 7, pageSize: 50, connectTimeoutMs: 3000, operationTimeoutMs: 8000,
    },
    bindPassword: dc.password,
  });
});

after(async () => {
  await bed?.close();
  await dc?.stop();
});

for (const kind of ['cut', 'reset'] as const) {
  test(`R5 (Samba): the connection is ${kind === 'cut' ? 'closed' : 'reset'} mid-read after the first page — failed run, nothing changed, next run works`, async () => {
    const f = faultAfter(50, { kind, atByte: 0 });
    const { failed } = await bed.expectFaultChangesNothing({
      change: rename(kind), onProgress: f.onProgress,
      clear: () => bed.proxy.setFault({ kind: 'none' }),
      error: /closed|reset|lost/i,
    });
    assert.ok(f.fired(), 'the fault was set during the read');
    assert.match(failed.error ?? '', /after [1-9]\d* entries/, 'the read had got entries when it broke');
  });
}

test('R5/R57 (Samba): the DC stops answering mid-read — the run times out and fails, nothing changed', async () => {
  const f = faultAfter(50, { kind: 'stall', atByte: 0 });
  await bed.expectFaultChangesNothing({
    change: rename('stall'), onProgress: f.onProgress, settings: { operationTimeoutMs: 1500 },
    clear: () => bed.proxy.setFault({ kind: 'none' }),
    error: /timed out/i, withinMs: 20_000,
  });
  assert.ok(f.fired());
});

test('R5 (Samba): the bind fails (wrong password) — connect_failed, nothing changed', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('bind'), bindPassword: 'Wrong!Passw0rd',
    error: /invalid credentials/i, codes: ['connect_failed'],
  });
});

test('R5 (Samba): the search base does not exist (noSuchObject) — failed run, nothing changed', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('nosuch'), settings: { baseDn: `OU=Gone,${dc.baseDn}` },
    error: /no such object/i,
  });
});

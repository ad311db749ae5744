/**
 * R5 fault suite, transport: a loopback TCP fault injector (test/helpers/tcp-fault.ts) between
 * Roster and a real slapd cuts (FIN), resets (RST), stalls or corrupts the stream at chosen bytes:
 * inside the bind response, in the middle of the first page, exactly between two pages, and in
 * the client's request for the second page. Offsets come from the trace of a clean dry run through
 * the same proxy just before the faulted run (message boundaries of the very data the faulted run
 * reads), so each fault lands where its name says. Every faulted
 * run fails naming the fault, changes nothing, leaves the cursor; the next run works (R57: a
 * stalled stream ends at the operation timeout).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import type { Fault } from '../helpers/tcp-fault.ts';
import { generateOpenLdapLdif, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { startFaultBed, openldapBedSettings, generatedRenamer, type FaultBed, type FaultCase } from './faults-harness.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 31, users: 200, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
const TIMEOUT_MS = 1500;

let slapd: Slapd;
let bed: FaultBed;
/** Byte offsets (server → client) of the end of the bind response and of the first page; client → server offset of the page-2 request. */
let at: { bindEnd: number; page1End: number; page2Request: number; idTag: number; idValue: number; page1Code: number; groupsAt: number };

/** Offset of the resultCode of the last message before `end` (a SearchResultDone), walking messages from `from`. */
function lastResultCode(bytes: Buffer, from: number, end: number): number {
  const hdr = (o: number): { content: number; end: number } => {
    const l = bytes[o + 1]!;
    if (l < 0x80) return { content: o + 2, end: o + 2 + l };
    let len = 0;
    for (let i = 0; i < (l & 0x7f); i++) len = len * 256 + bytes[o + 2 + i]!;
    return { content: o + 2 + (l & 0x7f), end: o + 2 + (l & 0x7f) + len };
  };
  let o = from;
  let last = from;
  while (o < end) { last = o; o = hdr(o).end; }
  assert.equal(o, end, 'messages tile the page');
  const c = hdr(last).content;
  const op = c + 2 + bytes[c + 1]!; // after messageID
  assert.equal(bytes[op], 0x65, 'the page ends with a SearchResultDone');
  const rc = hdr(op).content;
  assert.deepEqual([bytes[rc], bytes[rc + 1], bytes[rc + 2]], [0x0a, 0x01, 0x00], 'resultCode ENUMERATED success');
  return rc + 2;
}


let rename: (tag: string) => FaultCase['change'];

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() });
  rename = generatedRenamer(spec, slapd);
  bed = await startFaultBed({
    domains: spec.managedDomains,
    target: { host: slapd.host, port: slapd.port },
    settings: openldapBedSettings(slapd, BASE),
    bindPassword: slapd.readerPassword,
  });
});

/**
 * Message boundaries of the directory as it is now: a clean dry run through the proxy (its own
 * connection: bind, page 1 request, page 2 request…). A dry run applies nothing (R19), and the
 * faulted run that follows reads exactly the same bytes.
 */
async function measure(): Promise<void> {
  bed.proxy.setFault({ kind: 'none' });
  const conn = bed.proxy.connections + 1;
  const dry = await runSync(bed.store, bed.opts({ dryRun: true }));
  assert.equal(dry.status, 'previewed');
  const w = bed.proxy.clientWrites.filter((x) => x.conn === conn);
  assert.ok(w.length >= 4, `a clean run sends a bind and several page requests (${w.length} writes)`);
  const page1End = w[2]!.toClientAt;
  // The first message of page 2: SEQUENCE header, then messageID INTEGER (tag 0x02, length, value).
  const bytes = bed.proxy.captured(conn);
  assert.ok(bytes.length > page1End + 16, 'the capture reaches page 2');
  assert.equal(bytes[page1End], 0x30);
  const lenByte = bytes[page1End + 1]!;
  const idTag = page1End + 2 + (lenByte < 0x80 ? 0 : lenByte & 0x7f);
  assert.equal(bytes[idTag], 0x02, 'messageID INTEGER tag');
  assert.equal(bytes[idTag + 1], 0x01, 'a one-byte message ID');
  // The groups search follows the user pages: the first request of another length than a page request.
  const groups = w.slice(3).find((x) => x.length !== w[2]!.length);
  assert.ok(groups, 'a groups search follows the user pages');
  at = { bindEnd: w[1]!.toClientAt, page1End, page2Request: w[2]!.at, idTag, idValue: idTag + 2,
    page1Code: lastResultCode(bytes, w[1]!.toClientAt, page1End), groupsAt: groups.toClientAt };
  assert.ok(at.bindEnd > 5 && at.bindEnd < 100, `bind response ends at ${at.bindEnd}`);
  assert.ok(at.page1End - at.bindEnd > 5000, `page 1 spans ${at.bindEnd}…${at.page1End}`);
}

after(async () => {
  await bed?.close();
  await slapd?.stop();
});

interface Case { name: string; fault: () => Fault; error: RegExp; codes: string[] }
const ANY = ['read_incomplete', 'connect_failed'];
const CLOSED = /closed|reset|lost/i;
const mid = (): number => at.bindEnd + Math.floor((at.page1End - at.bindEnd) / 2);
const cases: Case[] = [
  { name: 'cut inside the bind response', fault: () => ({ kind: 'cut', atByte: 5 }), error: CLOSED, codes: ['connect_failed'] },
  { name: 'reset inside the bind response', fault: () => ({ kind: 'reset', atByte: 5 }), error: CLOSED, codes: ['connect_failed'] },
  { name: 'stall inside the bind response', fault: () => ({ kind: 'stall', atByte: 5 }), error: /timed out/i, codes: ['connect_failed'] },
  // Byte 5 is the BindResponse tag [APPLICATION 1] (0x61): the answer becomes an unknown operation.
  { name: 'corrupt the bind response operation tag', fault: () => ({ kind: 'corrupt', atByte: 5 }), error: /./, codes: ANY },
  { name: 'corrupt the bind result code into 49', fault: () => ({ kind: 'corrupt', atByte: 9, bytes: [49] }), error: /invalid credentials/i, codes: ['connect_failed'] },
  { name: 'cut in the middle of the first page', fault: () => ({ kind: 'cut', atByte: mid() }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'reset in the middle of the first page', fault: () => ({ kind: 'reset', atByte: mid() }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'stall in the middle of the first page', fault: () => ({ kind: 'stall', atByte: mid() }), error: /timed out/i, codes: ['read_incomplete'] },
  { name: 'corrupt the tag of the first entry', fault: () => ({ kind: 'corrupt', atByte: at.bindEnd }), error: /./, codes: ['read_incomplete'] },
  { name: 'corrupt the length of the first entry', fault: () => ({ kind: 'corrupt', atByte: at.bindEnd + 1, bytes: [0x84, 0x7f, 0xff, 0xff, 0xff] }), error: /./, codes: ['read_incomplete'] },
  { name: 'cut exactly between pages 1 and 2', fault: () => ({ kind: 'cut', atByte: at.page1End }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'reset exactly between pages 1 and 2', fault: () => ({ kind: 'reset', atByte: at.page1End }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'stall exactly between pages 1 and 2', fault: () => ({ kind: 'stall', atByte: at.page1End }), error: /timed out/i, codes: ['read_incomplete'] },
  { name: 'corrupt the first message of page 2', fault: () => ({ kind: 'corrupt', atByte: at.page1End }), error: /./, codes: ['read_incomplete'] },
  // The server's own verdict on page 1 turned into a failure code (R5 lists each).
  { name: 'page 1 ends with busy (51)', fault: () => ({ kind: 'corrupt', atByte: at.page1Code, bytes: [51] }), error: /busy/i, codes: ['read_incomplete'] },
  { name: 'page 1 ends with unavailable (52)', fault: () => ({ kind: 'corrupt', atByte: at.page1Code, bytes: [52] }), error: /unavailable/i, codes: ['read_incomplete'] },
  { name: 'page 1 ends with unwilling to perform (53)', fault: () => ({ kind: 'corrupt', atByte: at.page1Code, bytes: [53] }), error: /unwilling/i, codes: ['read_incomplete'] },
  { name: 'page 1 ends with size limit exceeded (4)', fault: () => ({ kind: 'corrupt', atByte: at.page1Code, bytes: [4] }), error: /size limit/i, codes: ['read_incomplete'] },
  { name: 'cut as the groups are read, after every user page', fault: () => ({ kind: 'cut', atByte: at.groupsAt + 20 }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'cut the client\'s request for page 2', fault: () => ({ kind: 'cut', atByte: at.page2Request + 3, direction: 'toServer' }), error: CLOSED, codes: ['read_incomplete'] },
  { name: 'stall the client\'s request for page 2', fault: () => ({ kind: 'stall', atByte: at.page2Request, direction: 'toServer' }), error: /timed out/i, codes: ['read_incomplete'] },
  // The protocol-op tag of an entry (0x64) turned into another op: never a shorter complete read.
  { name: 'the first entry of page 2 turned into a SearchResultDone (op tag 0x65)', fault: () => ({ kind: 'corrupt', atByte: at.idTag + 3, bytes: [0x65] }), error: /./, codes: ['read_incomplete'] },
  { name: 'the first entry of page 2 turned into a SearchResultReference (op tag 0x73)', fault: () => ({ kind: 'corrupt', atByte: at.idTag + 3, bytes: [0x73] }), error: /./, codes: ['read_incomplete'] },
  { name: 'the first entry of page 2 given an unknown op tag (0x7e)', fault: () => ({ kind: 'corrupt', atByte: at.idTag + 3, bytes: [0x7e] }), error: /./, codes: ['read_incomplete'] },
  // Last, as they fail today (a user gets flagged), so that they cannot disturb the cases above.
  // R44/R5: an entry whose messageID is damaged cannot be matched to the search; dropping it would
  // make the page look complete with one user missing (then flagged). The read must fail instead.
  { name: 'corrupt the messageID tag of the first entry of page 2 (entry unroutable)', fault: () => ({ kind: 'corrupt', atByte: at.idTag, bytes: [0x7f] }), error: /./, codes: ['read_incomplete'] },
  { name: 'corrupt the messageID of the first entry of page 2 into an unknown ID', fault: () => ({ kind: 'corrupt', atByte: at.idValue, bytes: [0x7f] }), error: /./, codes: ['read_incomplete'] },
];

for (const c of cases) {
  test(`R5/R57: the proxy faults the stream — ${c.name}: failed run naming the fault, nothing changed, next run works`, async () => {
    const firedBefore = bed.proxy.fired.length;
    const { failed } = await bed.expectFaultChangesNothing({
      change: rename(c.name),
      settings: { operationTimeoutMs: TIMEOUT_MS },
      inject: async () => {
        await measure();
        bed.proxy.setFault(c.fault());
      },
      clear: () => bed.proxy.setFault({ kind: 'none' }),
      error: c.error,
      codes: c.codes,
      withinMs: 20_000,
    });
    assert.ok(bed.proxy.fired.length > firedBefore, 'the fault fired during the run');
    assert.ok((failed.error ?? '').length > 10, `a reason is recorded: ${failed.error}`);
  });
}

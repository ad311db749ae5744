/**
 * The reader's own entry decoder (src/directory/ber-entry.ts, fed by the tap of entry-tap.ts)
 * against real servers. Each search is read twice on the same connection — through the product's
 * paging and decoder, and through ldapts' own parser (searchPaginated + toRawEntry, the path the
 * reader used before) — and both must give the same entries, values and references: UTF-8 and
 * non-ASCII text, R44 invalid UTF-8 (bytes, then an `invalid_utf8` issue), binary objectGUID,
 * AD ranged member windows, R5 continuation references, an entry larger than many socket chunks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { generateOpenLdapLdif } from '../fixtures/directory-generator.ts';
import { ldifEntry } from '../fixtures/ldif.ts';
import { pagedSearch } from '../../src/directory/safe-paging.ts';
import { compileFilter } from '../../src/directory/filter-compile.ts';
import { toRawEntry, type RawEntry } from '../../src/directory/values.ts';
import { resolveProfile, userAttributes, groupAttributes, contactAttributes } from '../../src/directory/profiles.ts';
import { readDirectory } from '../../src/directory/read-directory.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../../src/core/connection.ts';

interface SearchUnderTest {
  base: string;
  filter: string;
  attributes: string[];
  /** As the server spells them (ldapts matches explicitBufferAttributes case-sensitively). */
  binaryAttrs: string[];
  pageSize: number;
}
interface Read {
  /** dn → attribute key → values, each `s:<text>` or `b:<hex>`. */
  entries: Map<string, Map<string, string[]>>;
  references: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One value for comparison. ldapts turned a whole attribute into bytes when one value was not
 * UTF-8, the decoder only that value: both read the same once decoded (what readStrings does), so
 * valid UTF-8 bytes of a non-binary attribute compare as their text.
 */
function show(v: string | Uint8Array, binary: boolean): string {
  if (typeof v === 'string') return binary ? `text in a binary attribute: ${v}` : `s:${v}`;
  if (!binary) {
    try {
      return `s:${utf8.decode(v)}`;
    } catch { /* stays bytes */ }
  }
  return `b:${Buffer.from(v).toString('hex')}`;
}

function add(out: Read, e: RawEntry, binary: Set<string>): void {
  const attrs = new Map<string, string[]>();
  for (const [k, values] of e.attrs) attrs.set(k, values.map((v) => show(v, binary.has(k.split(';')[0] ?? k))));
  out.entries.set(e.dn, attrs);
}

async function readWithDecoder(client: Client, s: SearchUnderTest): Promise<Read> {
  const out: Read = { entries: new Map(), references: [] };
  const binary = new Set(s.binaryAttrs.map((a) => a.toLowerCase()));
  for await (const page of pagedSearch(client, { base: s.base, scope: 'sub', filter: compileFilter(s.filter), attributes: s.attributes,
    binaryAttrs: s.binaryAttrs, pageSize: s.pageSize })) {
    for (const e of page.entries) add(out, e, binary);
    out.references.push(...page.references);
  }
  return out;
}

async function readWithLdapts(client: Client, s: SearchUnderTest): Promise<Read> {
  const out: Read = { entries: new Map(), references: [] };
  const binary = new Set(s.binaryAttrs.map((a) => a.toLowerCase()));
  const pages = client.searchPaginated(s.base, { scope: 'sub', filter: s.filter, attributes: s.attributes,
    explicitBufferAttributes: s.binaryAttrs, paged: { pageSize: s.pageSize } });
  for await (const page of pages) {
    for (const e of page.searchEntries) add(out, toRawEntry(e), binary);
    out.references.push(...page.searchReferences);
  }
  return out;
}

/** Both reads as sorted plain objects. ldapts' placeholders (empty lists for requested attributes the server did not send) are dropped. */
async function bothReads(client: Client, s: SearchUnderTest): Promise<{ decoder: unknown; ldapts: unknown; entries: number }> {
  const mine = await readWithDecoder(client, s);
  const theirs = await readWithLdapts(client, s);
  for (const [dn, attrs] of theirs.entries) {
    const m = mine.entries.get(dn);
    for (const [k, v] of attrs) if (v.length === 0 && !m?.has(k)) attrs.delete(k);
  }
  const plain = (r: Read): unknown => ({
    entries: [...r.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([dn, attrs]) => [dn, Object.fromEntries([...attrs].sort())]),
    references: [...r.references].sort(),
  });
  return { decoder: plain(mine), ldapts: plain(theirs), entries: mine.entries.size };
}

const BAD_UTF8 = Buffer.from([0xc3, 0x28]); // a lead byte without its continuation

describe('entry decoder on OpenLDAP', () => {
  const spec = { seed: 11, users: 400, baseDn: 'dc=example,dc=test', managedDomains: ['example.test'], unmanagedDomains: ['else.test'], withCycle: true };
  const BIG_MEMBERS = 5000; // one entry of about 200 kB: many socket chunks
  const extra = [
    // userPassword has Octet String syntax: slapd stores bytes that are not UTF-8 as they are.
    `dn: uid=odd,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\nuid: odd\ncn: Odd Bytes\nsn: Bytes\n` +
    `mail: odd@example.test\ndescription: Grüße aus Zürich ✓\nuserPassword:: ${BAD_UTF8.toString('base64')}\nuserPassword: fine\n\n`,
    ldifEntry('cn=big,dc=example,dc=test', { objectClass: ['groupOfNames'], cn: 'big',
      member: Array.from({ length: BIG_MEMBERS }, (_, i) => `uid=member${i},ou=people,dc=example,dc=test`) }),
    ldifEntry('cn=unique,dc=example,dc=test', { objectClass: ['groupOfUniqueNames'], cn: 'unique',
      uniqueMember: ["uid=a,ou=people,dc=example,dc=test#'0101'B", 'uid=b,ou=people,dc=example,dc=test'] }),
  ].join('');
  let s: Slapd;
  let admin: Client;
  const ol = resolveProfile({ profile: 'openldap', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
  before(async () => {
    s = await startSlapd({ ldif: generateOpenLdapLdif(spec).toString() + extra });
    admin = new Client({ url: s.url, timeout: 20_000, connectTimeout: 5000 });
    await admin.bind(s.adminDn, s.adminPassword);
  });
  after(async () => {
    await admin?.unbind().catch(() => undefined);
    await s?.stop();
  });

  test('R1 user entries decode exactly as ldapts parses them (non-ASCII, several mail values, invalid UTF-8 as bytes), pages of 37', async () => {
    const r = await bothReads(admin, { base: s.baseDn, filter: '(objectClass=inetOrgPerson)', attributes: [...userAttributes(ol), 'userPassword'],
      binaryAttrs: [], pageSize: 37 });
    assert.equal(r.entries, 401);
    assert.deepEqual(r.decoder, r.ldapts);
    const odd = (r.decoder as { entries: [string, Record<string, string[]>][] }).entries.find(([dn]) => dn.startsWith('uid=odd,'))?.[1];
    assert.deepEqual(odd?.userpassword, ['b:c328', 's:fine'], 'the invalid value stays bytes, the valid one is text');
    assert.deepEqual(odd?.description, ['s:Grüße aus Zürich ✓']);
    assert.equal(odd?.objectclass?.includes('s:inetOrgPerson'), true);
  });

  test('R1 group entries decode as ldapts parses them, including one entry of 5000 members spread over many socket chunks', async () => {
    const r = await bothReads(admin, { base: s.baseDn, filter: ol.groupFilter, attributes: groupAttributes(ol), binaryAttrs: [], pageSize: 5 });
    assert.deepEqual(r.decoder, r.ldapts);
    const big = (r.decoder as { entries: [string, Record<string, string[]>][] }).entries.find(([dn]) => dn === 'cn=big,dc=example,dc=test')?.[1];
    assert.equal(big?.member?.length, BIG_MEMBERS);
  });

  test('R44 through readDirectory: invalid UTF-8 is dropped with invalid_utf8, valid non-ASCII kept, big group complete', async () => {
    const settings: ConnectionSettings = { ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host: '127.0.0.1', port: s.port, security: 'plain' }],
      allowPlainBind: true, bindDn: s.adminDn, baseDn: s.baseDn, pageSize: 50, attributeOverrides: { notes: 'userPassword', company: 'description' } };
    const r = await readDirectory(settings, s.adminPassword);
    const odd = r.snapshot.users.find((u) => u.dn.startsWith('uid=odd,'));
    assert.ok(odd);
    assert.equal(odd.details.notes, 'fine');
    assert.equal(odd.details.company, 'Grüße aus Zürich ✓');
    assert.deepEqual(odd.issues, [{ code: 'invalid_utf8', value: 'c328', detail: 'userPassword: not valid UTF-8' }]);
    assert.equal(r.snapshot.groups.find((g) => g.name === 'big')?.memberDns.length, BIG_MEMBERS);
    assert.deepEqual(r.snapshot.groups.find((g) => g.name === 'unique')?.memberDns,
      ['uid=a,ou=people,dc=example,dc=test', 'uid=b,ou=people,dc=example,dc=test']);
  });
});

describe('entry decoder on Samba AD', () => {
  let dc: SambaDc;
  let client: Client;
  const ad = resolveProfile({ profile: 'active-directory', attributeOverrides: {}, publicFolderClass: null, customFilter: null });
  before(async () => {
    dc = await startSamba();
    client = new Client({ url: `ldaps://${dc.host}:636`, tlsOptions: { ca: readFileSync(dc.caFile) }, timeout: 20_000, connectTimeout: 5000 });
    await client.bind(dc.bindDn, dc.password);
  });
  after(async () => {
    await client?.unbind().catch(() => undefined);
    await dc?.stop();
  });

  test('R1 users over LDAPS from the domain root: binary objectGUID and objectSid, proxyAddresses; R5 references as ldapts sees them', async () => {
    const r = await bothReads(client, { base: dc.baseDn, filter: ad.userFilter, attributes: [...userAttributes(ad), 'objectSid'],
      binaryAttrs: ['objectGUID', 'objectSid'], pageSize: 25 });
    assert.ok(r.entries >= dc.fixture.counts.allFixtureUsers, `${r.entries} users`);
    assert.deepEqual(r.decoder, r.ldapts);
    const entries = (r.decoder as { entries: [string, Record<string, string[]>][]; references: string[] });
    assert.ok(entries.entries.every(([, a]) => a.objectguid?.length === 1 && /^b:[0-9a-f]{32}$/.test(a.objectguid[0] ?? '')), 'objectGUID is 16 bytes');
    assert.equal(entries.references.length, 3, 'continuation references to the other partitions');
  });

  test('R1 groups with ranged member windows (member;range=0-39) and contacts decode as ldapts parses them', async () => {
    const groups = await bothReads(client, { base: dc.baseDn, filter: ad.groupFilter, attributes: groupAttributes(ad, ['member;range=0-39']),
      binaryAttrs: ['objectGUID'], pageSize: 10 });
    assert.deepEqual(groups.decoder, groups.ldapts);
    const big = (groups.decoder as { entries: [string, Record<string, string[]>][] }).entries
      .find(([dn]) => dn.toLowerCase() === dc.fixture.groups.bigGroup.dn.toLowerCase())?.[1];
    assert.equal(big?.['member;range=0-39']?.length, 40, 'the server answered with a 40-value window');
    const contacts = await bothReads(client, { base: dc.baseDn, filter: ad.contactFilter!, attributes: contactAttributes(ad), binaryAttrs: ['objectGUID'], pageSize: 10 });
    assert.equal(contacts.entries, dc.fixture.counts.contacts);
    assert.deepEqual(contacts.decoder, contacts.ldapts);
  });
});

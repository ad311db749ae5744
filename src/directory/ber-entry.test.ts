/**
 * R5/R44 unit tests of the entry decoder on hand-built BER (the real-server comparison with
 * ldapts' parser is test/integration/directory-decoder.test.ts): binary attributes stay bytes even
 * when they look like text, invalid UTF-8 stays bytes per value, unwanted attributes are skipped,
 * empty value sets are kept, and every malformed element throws instead of yielding an entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerEntryError, EntryDecoder } from './ber-entry.ts';

/** One BER element: tag, definite length (short or long form), content. */
function tlv(tag: number, content: Buffer, longForm = false): Buffer {
  const n = content.length;
  const len = !longForm && n < 0x80 ? Buffer.from([n]) : Buffer.from([0x84, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const str = (s: string | Buffer): Buffer => tlv(0x04, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
const attr = (type: string, values: (string | Buffer)[], longForm = false): Buffer =>
  tlv(0x30, Buffer.concat([str(type), tlv(0x31, Buffer.concat(values.map(str)), longForm)]));
/** The content of a SearchResultEntry op (what the tap hands to the decoder). */
const entry = (dn: string, attrs: Buffer[]): Buffer => Buffer.concat([str(dn), tlv(0x30, Buffer.concat(attrs))]);

const decode = (b: Buffer, o: ConstructorParameters<typeof EntryDecoder>[0] = { binaryAttrs: ['objectGUID'] }) =>
  new EntryDecoder(o).decode(b, 0, b.length);

test('R1 values: text as strings, binary attributes as bytes even when ASCII, keys lower case', () => {
  const guid = Buffer.from('AAAABBBBCCCCDDDD'); // 16 bytes that happen to be ASCII
  const e = decode(entry('uid=ä,dc=x', [attr('objectGUID', [guid]), attr('mail', ['a@x.test', 'B@x.test']), attr('cn', ['Zoë'])]));
  assert.equal(e.dn, 'uid=ä,dc=x');
  assert.deepEqual([...e.attrs.keys()], ['objectguid', 'mail', 'cn']);
  const g = e.attrs.get('objectguid')?.[0];
  assert.ok(g instanceof Uint8Array && typeof g !== 'string');
  assert.deepEqual(Buffer.from(g), guid);
  assert.deepEqual(e.attrs.get('mail'), ['a@x.test', 'B@x.test']);
  assert.deepEqual(e.attrs.get('cn'), ['Zoë']);
});

test('R44 a value that is not UTF-8 stays bytes, the other values of the attribute stay text', () => {
  const e = decode(entry('cn=x', [attr('description', [Buffer.from([0xc3, 0x28]), 'ok'])]));
  const [bad, ok] = e.attrs.get('description') ?? [];
  assert.ok(bad instanceof Uint8Array);
  assert.deepEqual([...bad], [0xc3, 0x28]);
  assert.equal(ok, 'ok');
});

test('R1 ;binary options are bytes, long-form lengths decode, empty value sets are kept, repeated types merge', () => {
  const e = decode(entry('cn=x', [attr('userCertificate;binary', ['abc']), attr('member;range=1500-*', [], true),
    attr('Mail', ['a@x.test']), attr('mail', ['b@x.test'])]));
  assert.ok(e.attrs.get('usercertificate;binary')?.[0] instanceof Uint8Array);
  assert.deepEqual(e.attrs.get('member;range=1500-*'), []);
  assert.deepEqual(e.attrs.get('mail'), ['a@x.test', 'b@x.test']);
});

test('only the wanted attributes are decoded (objectClass requested, not mapped)', () => {
  const e = decode(entry('cn=x', [attr('objectClass', ['top', 'person']), attr('cn', ['x']), attr('member;range=0-1', ['a', 'b'])]),
    { binaryAttrs: [], only: ['cn', 'MEMBER'] });
  assert.deepEqual([...e.attrs.keys()], ['cn', 'member;range=0-1']);
});

test('R5 malformed entries throw BerEntryError, never a partial entry', () => {
  const good = entry('cn=x', [attr('cn', ['x'])]);
  const cases: [string, Buffer][] = [
    ['no DN', Buffer.concat([tlv(0x30, Buffer.alloc(0))])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['value of the wrong tag', entry('cn=x', [tlv(0x30, Buffer.concat([str('cn'), tlv(0x31, tlv(0x02, Buffer.from([1])))]))])],
    ['set that is no set', entry('cn=x', [tlv(0x30, Buffer.concat([str('cn'), tlv(0x30, str('x'))]))])],
    ['indefinite length', Buffer.concat([str('cn=x'), Buffer.from([0x30, 0x80, 0x00, 0x00])])],
    ['length past the end', Buffer.concat([str('cn=x'), Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])])],
    ['bytes after the attribute list', Buffer.concat([good, Buffer.from([0x04, 0x00])])],
  ];
  for (const [what, b] of cases) assert.throws(() => decode(b), BerEntryError, what);
});

test('shared attributes: every value decodes exactly as without sharing (repeats, hash collisions, non-ASCII, long, invalid UTF-8)', () => {
  const plain = new EntryDecoder({ binaryAttrs: [] });
  const sharing = new EntryDecoder({ binaryAttrs: [], shared: ['O', 'givenName'] });
  const pick = ['Example Labs', 'Example Logistics', 'Zoë', 'x'.repeat(65), 'x'.repeat(64), '', 'a', 'b', 'ab', 'ba'];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 20_000; i++) {
    // Many distinct short values: some land in the same slot of the table and replace each other.
    const o = rand(3) === 0 ? pick[rand(pick.length)]! : `org ${rand(9000)}`;
    const given: (string | Buffer)[] = [pick[rand(pick.length)]!, `n${rand(50)}`];
    if (rand(50) === 0) given.push(Buffer.from([0xc3, 0x28]));
    const b = entry(`cn=${i}`, [attr('o', [o]), attr('givenName', given), attr('sn', [`s${rand(20)}`])]);
    assert.deepEqual(sharing.decode(b, 0, b.length), plain.decode(b, 0, b.length));
  }
});

test('decodeView answers every key exactly as decode() does, also past the slot bound and for keys spelled in another case', () => {
  const decoder = new EntryDecoder({ binaryAttrs: ['objectGUID'] });
  const reference = new EntryDecoder({ binaryAttrs: ['objectGUID'] });
  const check = (b: Buffer, keys: string[]): void => {
    const want = reference.decode(b, 0, b.length);
    const got = decoder.decodeView(b, 0, b.length);
    assert.equal(got.dn, want.dn);
    for (const k of [...keys, ...want.attrs.keys()]) assert.deepEqual(got.attrs.get(k), want.attrs.get(k), k);
  };
  const guid = Buffer.from('AAAABBBBCCCCDDDD');
  check(entry('cn=a', [attr('objectGUID', [guid]), attr('Mail', ['a@x.test']), attr('mail', ['b@x.test']), attr('member;range=1500-*', [])]),
    ['mail', 'objectguid', 'member;range=1500-*', 'cn', 'MAIL']);
  // Other entries: attributes absent, reordered, new ones; 300 distinct names overflow the slots.
  check(entry('cn=b', [attr('cn', ['b']), attr('MAIL', ['c@x.test'])]), ['mail', 'objectguid', 'cn']);
  const many = Array.from({ length: 300 }, (_, i) => attr(`x-attr-${i}`, [`v${i}`, `w${i}`]));
  check(entry('cn=c', [...many, attr('mail', ['d@x.test'])]), ['x-attr-0', 'x-attr-299', 'mail', 'cn']);
  check(entry('cn=d', [attr('x-attr-299', ['again']), attr('x-attr-5', [])]), ['x-attr-299', 'x-attr-5', 'x-attr-6', 'mail']);
});

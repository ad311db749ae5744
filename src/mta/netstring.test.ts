import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NetstringDecoder, NetstringError, encodeNetstring, type Decoded } from './netstring.ts';
import { formatReply, parseReply, parseRequest } from './socketmap.ts';

const text = (d: Decoded): string[] => {
  if (d.error !== null) throw d.error;
  return d.frames.map((b) => b.toString('utf8'));
};

describe('netstrings (socketmap framing)', () => {
  test('encodes the byte length, not the character count', () => {
    assert.equal(encodeNetstring('recipient a@b.test').toString(), '18:recipient a@b.test,');
    assert.equal(encodeNetstring('').toString(), '0:,');
    assert.equal(encodeNetstring('ü').toString('latin1'), '2:\xc3\xbc,');
  });

  test('decodes several netstrings in one chunk and one netstring split at every byte', () => {
    const d = new NetstringDecoder(100);
    assert.deepEqual(text(d.push(Buffer.from('3:abc,0:,5:he,lo,'))), ['abc', '', 'he,lo']);
    const whole = encodeNetstring('recipient ann@acme.test');
    const out: string[] = [];
    for (const byte of whole) out.push(...text(d.push(Buffer.from([byte]))));
    assert.deepEqual(out, ['recipient ann@acme.test']);
    assert.equal(d.buffered, 0);
  });

  test('a payload of exactly the limit passes; one byte more fails as soon as the length is read', () => {
    const d = new NetstringDecoder(10);
    assert.deepEqual(text(d.push(encodeNetstring('x'.repeat(10)))), ['x'.repeat(10)]);
    // Only the length has arrived: the decoder refuses before waiting for 11 bytes.
    assert.throws(() => text(new NetstringDecoder(10).push(Buffer.from('11:'))), /longer than 10 bytes/);
    // A length with more digits than the limit fails before its colon arrives.
    assert.throws(() => text(new NetstringDecoder(10).push(Buffer.from('100'))), /longer than 10 bytes/);
    assert.throws(() => text(new NetstringDecoder(8192).push(Buffer.from('99999999999999999999999'))), /longer than 8192 bytes/);
  });

  for (const [name, bytes, message] of [
    ['no length', ':abc,', /no length/],
    ['a sign', '+3:abc,', /does not start with a digit/],
    ['a leading zero', '03:abc,', /leading zero/],
    ['a space in the length', '3 :abc,', /bad character/],
    ['no comma after the payload', '3:abcd', /does not end with a comma/],
    ['a line instead of a netstring', 'recipient a@b.test\n', /does not start with a digit/],
  ] as const) {
    test(`rejects ${name}`, () => {
      assert.throws(() => text(new NetstringDecoder(100).push(Buffer.from(bytes))), (e: Error) => e instanceof NetstringError && message.test(e.message));
    });
  }

  test('a failed decoder stays failed (the connection cannot be resynchronized)', () => {
    const d = new NetstringDecoder(100);
    const first = d.push(Buffer.from('x'));
    assert.ok(first.error instanceof NetstringError);
    assert.deepEqual(d.push(Buffer.from('3:abc,')), { frames: [], error: first.error });
  });

  test('frames completed before a framing error in the same chunk are returned with the error', () => {
    const d = new NetstringDecoder(100);
    const r = d.push(Buffer.from('1:a,1:b,1:c;3:xyz,'));
    assert.deepEqual(r.frames.map(String), ['a', 'b']);
    assert.match(r.error?.message ?? '', /does not end with a comma/);
  });
});

describe('socketmap messages', () => {
  test('a request is "<map> <key>"; the key may hold spaces; no space, an empty map or bad UTF-8 → null', () => {
    assert.deepEqual(parseRequest(Buffer.from('recipient ann@acme.test')), { map: 'recipient', key: 'ann@acme.test' });
    assert.deepEqual(parseRequest(Buffer.from('recipient a b')), { map: 'recipient', key: 'a b' });
    assert.deepEqual(parseRequest(Buffer.from('recipient ')), { map: 'recipient', key: '' });
    assert.deepEqual(parseRequest(Buffer.from('domain bücher.test')), { map: 'domain', key: 'bücher.test' });
    assert.equal(parseRequest(Buffer.from('recipient')), null);
    assert.equal(parseRequest(Buffer.from(' ann@acme.test')), null);
    assert.equal(parseRequest(Buffer.from([0x72, 0x20, 0xff, 0xfe])), null);
  });

  test('replies: OK value, "NOTFOUND ", TEMP/PERM reason without control characters; parse round-trips', () => {
    assert.equal(formatReply({ kind: 'OK', value: 'ann@acme.test' }), 'OK ann@acme.test');
    assert.equal(formatReply({ kind: 'NOTFOUND' }), 'NOTFOUND ');
    assert.equal(formatReply({ kind: 'TEMP', reason: 'store\r\ndown' }), 'TEMP store??down');
    assert.equal(Buffer.byteLength(formatReply({ kind: 'PERM', reason: 'é'.repeat(1000) })) <= 505, true);
    for (const r of [{ kind: 'OK', value: 'a@b.test' }, { kind: 'NOTFOUND' }, { kind: 'TEMP', reason: 'x y' }, { kind: 'PERM', reason: 'z' }] as const) {
      assert.deepEqual(parseReply(formatReply(r)), r);
    }
    assert.equal(parseReply('MAYBE x'), null);
  });
});

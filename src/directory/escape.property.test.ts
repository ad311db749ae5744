/**
 * Property-based tests (fast-check) for R2/R44 escaping: every value Roster puts into a filter
 * (RFC 4515) or a DN (RFC 4514) round-trips through an independent unescape written here, never
 * contains an unescaped special character, and an escaped value always makes a filter that
 * validateFilter accepts and compileFilter turns into exactly the original bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EqualityFilter } from 'ldapts';
import { escapeDnValue, escapeFilterValue } from './escape.ts';
import { validateFilter } from './filter.ts';
import { compileFilter } from './filter-compile.ts';
import { normalizeDn } from '../core/dn.ts';

const RUNS = { numRuns: 2000 };
/** Hostile text: specials of both RFCs, NUL, controls, non-ASCII, astral, leading # and spaces. */
const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom('*', '(', ')', '\\', '\u0000', '#', ' ', ',', '+', '"', '<', '>', ';', '=', 'a', 'é', 'Ж', '😀', '\n'), { maxLength: 20 }).map((a) => a.join('')),
);

/** RFC 4515 unescape, written independently of the product: `\xx` is one byte, the rest UTF-8. */
function unescapeFilterValue(v: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      assert.match(v.slice(i + 1, i + 3), /^[0-9a-fA-F]{2}$/, `a backslash starts a hex pair at ${i} in ${JSON.stringify(v)}`);
      out.push(Buffer.from([parseInt(v.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else {
      const cp = v.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
    }
  }
  return Buffer.concat(out);
}

/** RFC 4514 §3 unescape of one attribute value (string form): `\special`, `\ `, `\#`, `\xx` hex bytes. */
function unescapeDnValue(v: string): string {
  const bytes: Buffer[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') {
      const next = v.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(next)) {
        bytes.push(Buffer.from([parseInt(next, 16)]));
        i += 2;
      } else {
        const n = v[i + 1];
        assert.ok(n !== undefined && ' "#+,;<=>\\'.includes(n), `bad DN escape at ${i} in ${JSON.stringify(v)}`);
        bytes.push(Buffer.from(n, 'utf8'));
        i += 1;
      }
    } else {
      assert.ok(!',+";<>\u0000'.includes(c), `unescaped special ${JSON.stringify(c)} at ${i} in ${JSON.stringify(v)}`);
      const ch = String.fromCodePoint(v.codePointAt(i)!);
      bytes.push(Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
    }
  }
  return Buffer.concat(bytes).toString('utf8');
}

test('R2 R44 escapeFilterValue round-trips any text and leaves no unescaped * ( ) \\ NUL', () => {
  fc.assert(fc.property(hostile, (v) => {
    const e = escapeFilterValue(v);
    assert.doesNotMatch(e.replace(/\\[0-9a-f]{2}/g, ''), /[*()\\\u0000]/);
    assert.deepEqual(unescapeFilterValue(e), Buffer.from(v, 'utf8'));
  }), RUNS);
});

test('R2 R44 escapeFilterValue of bytes (objectGUID) is plain ASCII hex pairs that decode to the same bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 32 }), (b) => {
    const e = escapeFilterValue(b);
    assert.match(e, /^(?:\\[0-9a-f]{2})*$/);
    assert.deepEqual(unescapeFilterValue(e), Buffer.from(b));
  }), RUNS);
});

test('R2 R44 an escaped value always makes a valid filter whose compiled value is exactly the original bytes', () => {
  fc.assert(fc.property(fc.oneof(hostile, fc.uint8Array({ maxLength: 24 })), (v) => {
    const f = `(description=${escapeFilterValue(v)})`;
    const r = validateFilter(f);
    assert.ok(r.ok, `${f}: ${r.ok ? '' : r.message}`);
    assert.equal(r.normalized, f);
    const c = compileFilter(f);
    assert.ok(c instanceof EqualityFilter);
    const expected = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    const got = (c as EqualityFilter).value;
    assert.deepEqual(Buffer.isBuffer(got) ? got : Buffer.from(String(got), 'utf8'), expected);
  }), RUNS);
});

test('R2 R44 escapeDnValue round-trips through an RFC 4514 unescape; leading # or space and trailing space are escaped', () => {
  fc.assert(fc.property(hostile, (v) => {
    const e = escapeDnValue(v);
    assert.equal(unescapeDnValue(e), v);
    if (v.startsWith('#') || v.startsWith(' ')) assert.ok(e.startsWith('\\'), `leading ${JSON.stringify(v[0])} escaped: ${e}`);
    if (v.endsWith(' ') && v.length > 0) assert.ok(e.endsWith('\\ '), `trailing space escaped: ${JSON.stringify(e)}`);
  }), RUNS);
});

test('R44 an escaped RDN value keeps one RDN: normalizeDn never splits it and stays idempotent', () => {
  fc.assert(fc.property(hostile, hostile, (a, b) => {
    const dn = `cn=${escapeDnValue(a)}+uid=${escapeDnValue(b)},ou=People,dc=example,dc=test`;
    const n = normalizeDn(dn);
    assert.equal(normalizeDn(n), n, 'idempotent');
    // The RDN still has exactly one unescaped '+' and the DN three unescaped ','.
    const bare = n.replace(/\\(?:[0-9a-f]{2}|.)/gsu, 'x');
    assert.equal(bare.split('+').length, 2, `one '+' in ${n}`);
    assert.equal(bare.split(',').length, 4, `three ',' in ${n}`);
  }), RUNS);
});

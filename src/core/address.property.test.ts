/**
 * Property-based tests (fast-check) for R4 address normalization and R1 proxyAddresses parsing:
 * never throws, idempotent, lower-case, accepts what it outputs, rejects anything without exactly
 * one '@', and splits SMTP:/smtp: values exactly as R1 says whatever else is in the list.
 */
import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import fc from 'fast-check';
import { normalizeAddress, parseProxyAddresses } from './address.ts';

const RUNS = { numRuns: 2000 };

/** Any text, including astral characters, controls, and the characters addresses are made of. */
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.stringMatching(/^[ a-zA-Z0-9@.\-_+'"()<>\[\]\\,;:Ü\u00e9\u0130\u200b\t]{0,40}$/),
);
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/).filter((l) => !/^..--/.test(l));
const tld = fc.stringMatching(/^[a-z]{2,6}$/);
const local = fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,20}(?:\.[a-zA-Z0-9_+-]{1,10}){0,2}$/);
/** Plausible valid ASCII addresses in any case, with surrounding blanks. */
const validAddress = fc.tuple(fc.constantFrom('', ' ', '\t'), local, fc.array(label, { minLength: 1, maxLength: 3 }), tld, fc.boolean())
  .map(([pad, l, labels, t, upper]) => {
    const a = `${l}@${[...labels, t].join('.')}`;
    return pad + (upper ? a.toUpperCase() : a) + pad;
  });

test('R4 normalizeAddress never throws and its output is a fixed point: lower-case, trimmed, exactly one @', () => {
  fc.assert(fc.property(fc.oneof(anyText, validAddress), (raw) => {
    const n = normalizeAddress(raw);
    if (n === null) return;
    assert.equal(normalizeAddress(n), n, 'idempotent');
    assert.equal(n, n.toLowerCase(), 'lower-case');
    assert.equal(n, n.trim(), 'trimmed');
    assert.equal(n.split('@').length, 2, 'exactly one @');
    assert.ok(n.length <= 254);
    assert.doesNotMatch(n, /[\s\u0000-\u001f]/, 'no blanks or controls');
    assert.match(n.slice(n.indexOf('@') + 1), /^[a-z0-9.-]+$/, 'domain in ASCII (punycode) form');
  }), RUNS);
});

test('R4 strings without exactly one @ are rejected', () => {
  const noAt = anyText.map((s) => s.replaceAll('@', ''));
  const manyAt = fc.tuple(anyText, anyText, anyText).map(([a, b, c]) => `${a}@${b}@${c}`);
  fc.assert(fc.property(fc.oneof(noAt, manyAt), (raw) => {
    assert.equal(normalizeAddress(raw), null, JSON.stringify(raw));
  }), RUNS);
});

test('R4 valid ASCII addresses are accepted case-insensitively and compare equal in any case', () => {
  fc.assert(fc.property(validAddress, (raw) => {
    const n = normalizeAddress(raw);
    assert.notEqual(n, null, JSON.stringify(raw));
    assert.equal(n, raw.trim().toLowerCase());
    assert.equal(normalizeAddress(raw.toUpperCase()), n);
  }), RUNS);
});

/** proxyAddresses values: SMTP/smtp/SmTp prefixes, other types, untyped, garbage. */
const proxyValue = fc.oneof(
  fc.tuple(fc.constantFrom('SMTP:', 'smtp:', 'Smtp:', 'sMTP:', ' SMTP:', 'SMTP: '), fc.oneof(validAddress, anyText)).map(([p, a]) => p + a),
  fc.tuple(fc.constantFrom('X500:', 'SIP:', 'X400:', 'EUM:', 'smtp', 'SMTP;', ''), fc.oneof(validAddress, anyText)).map(([p, a]) => p + a),
  anyText,
);

test('R1 R4 parseProxyAddresses never throws; SMTP: values are primaries, other smtp: casings aliases, others ignored', () => {
  fc.assert(fc.property(fc.array(proxyValue, { maxLength: 12 }), (values) => {
    const r = parseProxyAddresses(values);
    for (const list of [r.primaries, r.aliases]) {
      assert.deepEqual(list, [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'deduplicated and sorted');
      for (const a of list) assert.equal(normalizeAddress(a), a, 'normalized');
    }
    // Each input value lands in exactly the place R1 says.
    const expectPrimaries = new Set<string>();
    const expectAliases = new Set<string>();
    const expectInvalid: string[] = [];
    for (const v of values) {
      const t = v.trim();
      if (t.indexOf(':') !== 4 || t.slice(0, 4).toLowerCase() !== 'smtp') continue;
      const n = normalizeAddress(t.slice(5));
      if (n === null) expectInvalid.push(v);
      else (t.startsWith('SMTP') ? expectPrimaries : expectAliases).add(n);
    }
    assert.deepEqual(new Set(r.primaries), expectPrimaries);
    assert.deepEqual(new Set(r.aliases), expectAliases);
    assert.deepEqual(r.invalid, expectInvalid, 'invalid SMTP values kept as read, in order');
    for (const v of r.invalid) assert.ok(values.includes(v));
  }), RUNS);
});

test('R1 a list of only non-SMTP types yields nothing at all', () => {
  const other = fc.tuple(fc.constantFrom('X500:', 'SIP:', 'X400:', 'EUM:', 'FAX:'), fc.oneof(validAddress, anyText)).map(([p, a]) => p + a);
  fc.assert(fc.property(fc.array(other, { maxLength: 8 }), (values) => {
    assert.deepEqual(parseProxyAddresses(values), { primaries: [], aliases: [], invalid: [] });
  }), RUNS);
});

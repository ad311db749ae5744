/**
 * Property-based tests (fast-check) for R4 address normalization and R1 proxyAddresses parsing:
 * never throws, idempotent, lower-case, accepts what it outputs, rejects anything without exactly
 * one '@', and splits SMTP:/smtp: values exactly as R1 says whatever else is in the list.
 */
import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import fc from 'fast-check';
import { normalizeAddress, normalizeDomain, parseProxyAddresses } from './address.ts';

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

/**
 * The normalizers as they were before their ASCII fast paths (every domain through the URL
 * parser): the fast paths must give exactly their results, valid or not (R4).
 */
const REF_BREAKERS = /[\s\u0000-\u001f\u007f-\u009f/\\?#@:[\]%<>"'`^{}|,;()*+=!$&~]/u;
function referenceDomain(domain: string): string | null {
  const d = domain.trim();
  if (d === '' || d.length > 1024 || REF_BREAKERS.test(d)) return null;
  let host: string;
  try {
    host = new URL('http://x@' + d + '/').hostname;
  } catch {
    return null;
  }
  if (host === '' || host.length > 253 || host.endsWith('.')) return null;
  const labels = host.split('.');
  for (const l of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) return null;
    if (l.startsWith('xn--') && normalizeDomain(l) === null) return null; // punycode validity, as URL checked it
    if (l.length >= 4 && l[2] === '-' && l[3] === '-' && !l.startsWith('xn--')) return null;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return null;
  return host;
}
function referenceAddress(raw: string): string | null {
  const s = raw.trim();
  if (s === '' || s.length > 1024) return null;
  const at = s.indexOf('@');
  if (at <= 0 || at !== s.lastIndexOf('@')) return null;
  const local = s.slice(0, at).toLowerCase();
  if (local.length > 64 || !/^[\p{L}\p{N}\p{M}!#$%&'*+\-/=?^_`{|}~.]+$/u.test(local)) return null;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  const domainRaw = s.slice(at + 1);
  if (domainRaw.trim() !== domainRaw) return null;
  const domain = referenceDomain(domainRaw);
  if (domain === null || !domain.includes('.')) return null;
  const address = local + '@' + domain;
  return address.length > 254 ? null : address;
}

/** ASCII host-like text: labels of letters, digits and hyphens, numbers, 0x, xn--, stray dots. */
const hostPart = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9-]{0,8}$/),
  fc.constantFrom('xn--bcher-kva', 'XN--zz', 'xn--', '0x', '0X1f', '0xg', '08', '255', '1', 'ab--c', '-a', 'a-', 'é', '_', ' '),
  fc.stringMatching(/^[a-z]{60,66}$/),
);
const hostLike = fc.array(hostPart, { minLength: 1, maxLength: 5 }).chain((parts) =>
  fc.constantFrom('', '.', '..').map((tail) => parts.join('.') + tail));
const localLike = fc.oneof(local, fc.stringMatching(/^[a-zA-Z0-9.!#_+-]{0,70}$/), fc.constantFrom('', '.a', 'a.', 'a..b', 'ü', 'a b', '"a"'));

test('R4 the ASCII fast paths give exactly what the URL parser path gives, for domains and addresses', () => {
  fc.assert(fc.property(fc.oneof(hostLike, anyText), (d) => {
    assert.equal(normalizeDomain(d), referenceDomain(d), JSON.stringify(d));
  }), { numRuns: 5000 });
  const address = fc.oneof(
    fc.tuple(localLike, hostLike, fc.constantFrom('', ' ', '\t')).map(([l, h, pad]) => pad + l + '@' + h + pad),
    validAddress, anyText,
  );
  fc.assert(fc.property(address, (raw) => {
    assert.equal(normalizeAddress(raw), referenceAddress(raw), JSON.stringify(raw));
  }), { numRuns: 5000 });
});

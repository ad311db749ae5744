import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { domainOf, domainToDisplay, normalizeAddress, normalizeDomain, parseProxyAddresses } from './address.ts';
import type { Address } from './model.ts';

test('R4 domains: trimmed, lower-cased, IDN stored as punycode', () => {
  const cases: [string, string | null][] = [
    ['Example.COM', 'example.com'],
    ['  example.com\t', 'example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.DE', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['ＥＸＡＭＰＬＥ．ｃｏｍ', 'example.com'], // full-width forms map under UTS #46
    ['sub.example.co.uk', 'sub.example.co.uk'],
    ['localhost', 'localhost'], // a host name; the dot is required only for mail addresses
  ];
  for (const [input, expected] of cases) assert.equal(normalizeDomain(input), expected, input);
});

test('R4 domains: invalid forms are null', () => {
  for (const input of [
    '', ' ', 'a..b', '.a.com', 'a.com.', '-a.com', 'a-.com', 'ab--c.com', 'exa_mple.com', 'a b.com', '1.2.3.4',
    'example.123', 'xn--zz.com', 'a/b.com', 'a@b.com', 'a:25.com', '[::1]', 'a%41.com', 'x'.repeat(64) + '.com',
    ('a'.repeat(60) + '.').repeat(5) + 'com',
  ]) {
    assert.equal(normalizeDomain(input), null, JSON.stringify(input));
  }
});

test('R4 domains are shown in Unicode', () => {
  assert.equal(domainToDisplay('xn--bcher-kva.de'), 'bücher.de');
  assert.equal(domainToDisplay('xn--r8jz45g.xn--zckzah'), '例え.テスト');
  assert.equal(domainToDisplay('example.com'), 'example.com');
  assert.equal(domainToDisplay('xn--zz.com'), 'xn--zz.com'); // undecodable label kept, display never fails
  for (const d of ['münchen.de', 'café.example', 'ελληνικά.gr', 'россия.рф']) {
    const ascii = normalizeDomain(d);
    assert.ok(ascii !== null && /^[\x00-\x7f]+$/.test(ascii), d);
    assert.equal(domainToDisplay(ascii), d);
  }
});

test('R4 addresses: trimmed and lower-cased, domain in ASCII form', () => {
  const cases: [string, string][] = [
    [' John.Doe@Example.COM ', 'john.doe@example.com'],
    ['a+tag@example.com', 'a+tag@example.com'],
    ["o'brien@example.com", "o'brien@example.com"],
    ['Jörg@Bücher.de', 'jörg@xn--bcher-kva.de'],
    ['info@xn--bcher-kva.de', 'info@xn--bcher-kva.de'],
    ['x'.repeat(64) + '@example.com', 'x'.repeat(64) + '@example.com'],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeAddress(input), expected, input);
});

test('R4 addresses: invalid forms are null, never thrown', () => {
  for (const input of [
    '', '   ', 'plain', '@example.com', 'a@', 'a@@example.com', 'a@b@example.com', 'a b@example.com',
    'a@exa mple.com', 'a@ example.com', 'a\u0000@example.com', 'a\n@example.com', 'a@localhost', 'a@1.2.3.4',
    '.a@example.com', 'a.@example.com', 'a..b@example.com', '"a"@example.com', 'a,b@example.com',
    'x'.repeat(65) + '@example.com', 'x'.repeat(10) + '@' + ('b'.repeat(61) + '.').repeat(4) + 'com' /* domain ok, address > 254 */, '<a@example.com>',
  ]) {
    assert.equal(normalizeAddress(input), null, JSON.stringify(input));
  }
});

test('R4 domainOf returns the ASCII domain', () => {
  assert.equal(domainOf(normalizeAddress('A@Bücher.de') as Address), 'xn--bcher-kva.de');
  assert.equal(domainOf('x@example.com' as Address), 'example.com');
});

test('R1/R4 proxyAddresses: SMTP: is primary, smtp: any case is alias, other types ignored', () => {
  const r = parseProxyAddresses([
    'SMTP:John@Example.com',
    'smtp:j.doe@example.com',
    'Smtp:jd@example.com',
    'sMTP:jd2@example.com',
    'X500:/o=Org/ou=Exchange/cn=Recipients/cn=john',
    'SIP:john@example.com',
    'X400:c=US;a= ;p=Org;o=Exchange;s=Doe;',
    'eum:1234;phone-context=example.com',
    'john@example.com', // no type: ignored
    'smtp:not-an-address',
    'SMTP:',
    'smtp:j.doe@EXAMPLE.com', // duplicate after normalization
  ]);
  assert.deepEqual(r.primaries, ['john@example.com']);
  assert.deepEqual(r.aliases, ['j.doe@example.com', 'jd2@example.com', 'jd@example.com']);
  assert.deepEqual(r.invalid, ['smtp:not-an-address', 'SMTP:']);
});

test('R4 proxyAddresses: several SMTP: primaries are all returned, sorted, for the mapper to choose and report', () => {
  const r = parseProxyAddresses(['SMTP:zed@example.com', 'SMTP:Amy@example.com']);
  assert.deepEqual(r.primaries, ['amy@example.com', 'zed@example.com']);
  assert.deepEqual(r.aliases, []);
  assert.deepEqual(r.invalid, []);
});

test('R4 proxyAddresses: IDN values normalized, empty input gives empty result', () => {
  assert.deepEqual(parseProxyAddresses(['smtp:info@bücher.de']).aliases, ['info@xn--bcher-kva.de']);
  assert.deepEqual(parseProxyAddresses([]), { primaries: [], aliases: [], invalid: [] });
});

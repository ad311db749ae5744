import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeDnValue, escapeFilterValue } from './escape.ts';

test('R2 escapeFilterValue escapes the RFC 4515 specials in strings', () => {
  assert.equal(escapeFilterValue('a*b(c)d\\e\u0000f'), 'a\\2ab\\28c\\29d\\5ce\\00f');
  assert.equal(escapeFilterValue('plain value'), 'plain value');
  assert.equal(escapeFilterValue(''), '');
});

test('R2 escapeFilterValue keeps UTF-8 text as characters', () => {
  assert.equal(escapeFilterValue('Jürgen Ωmega'), 'Jürgen Ωmega');
});

test('R2 escapeFilterValue escapes every byte of binary values', () => {
  assert.equal(escapeFilterValue(new Uint8Array([0x00, 0x2a, 0x41, 0xff])), '\\00\\2a\\41\\ff');
  assert.equal(escapeFilterValue(new Uint8Array([])), '');
});

test('R2 escapeFilterValue output never contains unescaped specials (hostile input)', () => {
  const hostile = ')(|(objectClass=*))(cn=*\\';
  const out = escapeFilterValue(hostile);
  assert.doesNotMatch(out, /[()*]/);
  // every backslash starts a two-digit hex escape
  assert.match(out, /^(?:[^\\]|\\[0-9a-f]{2})*$/);
});

test('R2 escapeDnValue escapes RFC 4514 specials', () => {
  assert.equal(escapeDnValue('Smith, John'), 'Smith\\, John');
  assert.equal(escapeDnValue('a+b"c\\d<e>f;g=h'), 'a\\+b\\"c\\\\d\\<e\\>f\\;g\\=h');
  assert.equal(escapeDnValue('nul\u0000x'), 'nul\\00x');
});

test('R2 escapeDnValue escapes a leading # or space and a trailing space only', () => {
  assert.equal(escapeDnValue('#hash'), '\\#hash');
  assert.equal(escapeDnValue('a#b'), 'a#b');
  assert.equal(escapeDnValue(' lead'), '\\ lead');
  assert.equal(escapeDnValue('trail '), 'trail\\ ');
  assert.equal(escapeDnValue('in side'), 'in side');
  assert.equal(escapeDnValue(' '), '\\ ');
  assert.equal(escapeDnValue(''), '');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AndFilter, EqualityFilter, ExtensibleFilter, NotFilter, OrFilter, PresenceFilter, SubstringFilter } from 'ldapts';
import { compileFilter, valueBytes } from './filter-compile.ts';

test('R2 D8 escaped bytes are sent as exactly those bytes (binary objectGUID, escaped UTF-8)', () => {
  const g = compileFilter('(objectGUID=\\e0\\04\\25\\3f)');
  assert.ok(g instanceof EqualityFilter);
  assert.deepEqual(g.value, Buffer.from([0xe0, 0x04, 0x25, 0x3f]));
  const sn = compileFilter('(sn=Lu\\c4\\8di\\c4\\87)');
  assert.ok(sn instanceof EqualityFilter);
  assert.equal((sn.value as Buffer).toString('utf8'), 'Lučić');
  const lit = compileFilter('(sn=Lučić)');
  assert.deepEqual((lit as EqualityFilter).value, Buffer.from('Lučić', 'utf8'));
  assert.deepEqual(valueBytes('a\\2ab'), Buffer.from('a*b'));
});

test('R2 every filter form compiles to the matching ldapts filter', () => {
  const f = compileFilter('(&(objectClass=user)(|(mail=*)(cn=ab*c\\c4\\8d*d))(!(uid=x))(memberOf:1.2.840.113556.1.4.1941:=CN=G,DC=x))');
  assert.ok(f instanceof AndFilter);
  const [oc, or, not, ext] = f.filters;
  assert.ok(oc instanceof EqualityFilter);
  assert.ok(or instanceof OrFilter);
  assert.ok(or.filters[0] instanceof PresenceFilter);
  const sub = or.filters[1];
  assert.ok(sub instanceof SubstringFilter);
  assert.equal(sub.initial, 'ab');
  assert.deepEqual(sub.any, ['cč']);
  assert.equal(sub.final, 'd');
  assert.ok(not instanceof NotFilter);
  assert.ok(ext instanceof ExtensibleFilter);
  assert.equal(ext.rule, '1.2.840.113556.1.4.1941');
  assert.equal(ext.matchType, 'memberOf');
  assert.equal(ext.value, 'CN=G,DC=x');
});

test('R44 invalid filters and binary escapes outside equality are refused as bad_input', () => {
  assert.throws(() => compileFilter('(&)'), (e: Error & { code?: string }) => e.code === 'bad_input');
  assert.throws(() => compileFilter('(cn>=\\ff)'), (e: Error & { code?: string }) => e.code === 'bad_input' && /only in an equality match/.test(e.message));
});

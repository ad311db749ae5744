import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AndFilter, BerWriter, EqualityFilter, ExtensibleFilter, GreaterThanEqualsFilter, NotFilter, OrFilter, PresenceFilter, SubstringFilter } from 'ldapts';
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

test('R44 invalid filters are refused as bad_input', () => {
  assert.throws(() => compileFilter('(&)'), (e: Error & { code?: string }) => e.code === 'bad_input');
});

test('R2 escapes that are not UTF-8 outside equality are sent as exactly those bytes (RFC 4511 BER)', () => {
  const ber = (f: string): string => {
    const w = new BerWriter();
    compileFilter(f).write(w);
    return w.buffer.toString('hex');
  };
  // [5] greaterOrEqual { "cn", 0xff }
  assert.equal(ber('(cn>=\\ff)'), 'a5070402636e0401ff');
  // [8] approxMatch and [6] lessOrEqual keep their tags
  assert.equal(ber('(cn~=\\80)'), 'a8070402636e040180');
  assert.equal(ber('(cn<=a\\80)'), 'a6080402636e04026180');
  // [4] substrings { "cn", { [0] "a", [1] 0x80, [2] "z" } }
  assert.equal(ber('(cn=a*\\80*z)'), 'a40f0402636e300980016181018082017a');
  // [9] extensibleMatch { [1] rule, [2] type, [3] 0xff, [4] dnAttributes }
  assert.equal(ber('(cn:dn:2.5.13.2:=\\ff)'), 'a91481' + '08' + Buffer.from('2.5.13.2').toString('hex') + '8202636e8301ff8401ff');
  // Text stays with ldapts' own filter classes.
  assert.ok(compileFilter('(cn>=b)') instanceof GreaterThanEqualsFilter);
});

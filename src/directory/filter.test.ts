import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterParser } from 'ldapts';
import { validateFilter, MAX_FILTER_DEPTH } from './filter.ts';

function ok(f: string): string {
  const r = validateFilter(f);
  assert.ok(r.ok, `expected ${JSON.stringify(f)} to be valid, got ${JSON.stringify(r)}`);
  return r.normalized;
}

function bad(f: string): { message: string; position: number } {
  const r = validateFilter(f);
  assert.ok(!r.ok, `expected ${JSON.stringify(f)} to be invalid`);
  return { message: r.message, position: r.position };
}

test('R2 validateFilter accepts every RFC 4515 form and normalizes', () => {
  const cases: [string, string][] = [
    ['(cn=Babs Jensen)', '(cn=Babs Jensen)'],
    ['(!(cn=Tim Howes))', '(!(cn=Tim Howes))'],
    ['(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))', '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))'],
    ['(o=univ*of*mich*)', '(o=univ*of*mich*)'],
    ['(seeAlso=)', '(seeAlso=)'],
    ['(cn:caseExactMatch:=Fred Flintstone)', '(cn:caseExactMatch:=Fred Flintstone)'],
    ['(cn:=Betty Rubble)', '(cn:=Betty Rubble)'],
    ['(sn:dn:2.4.6.8.10:=Barney Rubble)', '(sn:dn:2.4.6.8.10:=Barney Rubble)'],
    ['(o:dn:=Ace Industry)', '(o:dn:=Ace Industry)'],
    ['(:1.2.3:=Wilma Flintstone)', '(:1.2.3:=Wilma Flintstone)'],
    ['(:DN:2.4.6.8.10:=Dino)', '(:dn:2.4.6.8.10:=Dino)'],
    ['(o=Parens R Us \\28for all your parenthetical needs\\29)', '(o=Parens R Us \\28for all your parenthetical needs\\29)'],
    ['(cn=*\\2A*)', '(cn=*\\2a*)'],
    ['(filename=C:\\5cMyFile)', '(filename=C:\\5cMyFile)'],
    ['(bin=\\00\\00\\00\\04)', '(bin=\\00\\00\\00\\04)'],
    ['(sn=Lu\\c4\\8di\\c4\\87)', '(sn=Lu\\c4\\8di\\c4\\87)'],
    ['(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)', '(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)'],
    ['(mail=*)', '(mail=*)'],
    ['(uid~=jon)', '(uid~=jon)'],
    ['(uidNumber>=1000)', '(uidNumber>=1000)'],
    ['(uidNumber<=1000)', '(uidNumber<=1000)'],
    ['(userCertificate;binary=*)', '(userCertificate;binary=*)'],
    ['(memberOf:1.2.840.113556.1.4.1941:=CN=Staff,DC=example,DC=test)', '(memberOf:1.2.840.113556.1.4.1941:=CN=Staff,DC=example,DC=test)'],
    ['(userAccountControl:1.2.840.113556.1.4.803:=2)', '(userAccountControl:1.2.840.113556.1.4.803:=2)'],
    ['(cn=Jürgen)', '(cn=Jürgen)'],
    ['mail=*', '(mail=*)'],
    ['  ( & (mail=*) ( ! (cn=x) ) )  ', '(&(mail=*)(!(cn=x)))'],
    ['(cn=a b )', '(cn=a b )'],
    ['(cn=*start)', '(cn=*start)'],
    ['(cn=end*)', '(cn=end*)'],
  ];
  for (const [input, normalized] of cases) assert.equal(ok(input), normalized, input);
});

test('R2 normalized filters are accepted by the LDAP client library', () => {
  for (const f of ['(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))', '(o=univ*of*mich*)', '(cn:caseExactMatch:=x)', '(!(cn=\\2a))', 'mail=*']) {
    const n = ok(f);
    assert.doesNotThrow(() => FilterParser.parseString(n), n);
  }
});

test('R44 validateFilter names unbalanced parentheses with their position', () => {
  assert.deepEqual(bad('(&(objectClass=user)(mail=*)'), { message: 'unbalanced parenthesis at 0', position: 0 });
  assert.deepEqual(bad('(cn=x))'), { message: 'unbalanced parenthesis at 6', position: 6 });
  assert.deepEqual(bad('(cn=x'), { message: 'unbalanced parenthesis at 0', position: 0 });
  assert.equal(bad('(cn=a(b)').message, 'unescaped "(" in a value at 5');
  assert.equal(bad('cn=a)').message, 'unbalanced parenthesis at 4');
  assert.equal(bad('(').message, 'unbalanced parenthesis at 0');
  assert.equal(bad('(!').message, 'unbalanced parenthesis at 0');
});

test('R44 validateFilter refuses empty AND, OR, NOT and items', () => {
  assert.deepEqual(bad('(&)'), { message: 'empty AND at 1', position: 1 });
  assert.deepEqual(bad('(|(&)(cn=x))'), { message: 'empty AND at 3', position: 3 });
  assert.deepEqual(bad('(|)'), { message: 'empty OR at 1', position: 1 });
  assert.equal(bad('(!)').message, 'NOT needs one filter at 1');
  assert.equal(bad('(!(cn=a)(cn=b))').message, 'NOT takes exactly one filter at 8');
  assert.equal(bad('()').message, 'empty filter at 0');
  assert.equal(bad('').message, 'empty filter');
  assert.equal(bad('   ').message, 'empty filter');
});

test('R44 validateFilter refuses bad escapes, attributes and substrings', () => {
  assert.deepEqual(bad('(cn=abc\\zz)'), { message: 'invalid escape \\zz at 7', position: 7 });
  assert.equal(bad('(cn=abc\\4)').message, 'invalid escape \\4 at 7');
  assert.equal(bad('(cn=abc\\)').message, 'invalid escape \\ at 7');
  assert.equal(bad('(=x)').message, 'missing attribute name at 1');
  assert.equal(bad('(c n=x)').message, 'invalid attribute name "c n" at 1');
  assert.equal(bad('(1cn=x)').message, 'invalid attribute name "1cn" at 1');
  assert.equal(bad('(cn)').message, 'missing "=" in the item at 1');
  assert.equal(bad('(cn=a**b)').message, 'empty substring between "*" at 5');
  assert.equal(ok('(cn:=)'), '(cn:=)');
  assert.equal(bad('(:=x)').message, 'extensible match without attribute needs a matching rule at 1');
  assert.equal(bad('(cn:dn:dn:=x)').message, 'invalid extensible match "cn:dn:dn:=" at 1');
  assert.equal(bad('(cn=a\u0000b)').message, 'NUL character in a value at 5');
  assert.equal(bad('(cn=x)(sn=y)').message, 'unexpected text after the filter at 6');
  assert.equal(bad('(cn=x) junk').message, 'unexpected text after the filter at 7');
});

test('R44 validateFilter survives hostile input: deep nesting, huge strings', () => {
  const deep = '(&'.repeat(5000) + '(cn=x)' + ')'.repeat(5000);
  const r = validateFilter(deep);
  assert.ok(!r.ok);
  assert.match(r.message, new RegExp(`nested deeper than ${MAX_FILTER_DEPTH}`));
  const okDeep = '(!'.repeat(MAX_FILTER_DEPTH) + '(cn=x)' + ')'.repeat(MAX_FILTER_DEPTH);
  assert.equal(validateFilter(okDeep).ok, true);
  const huge = '(cn=' + 'a'.repeat(100_000) + ')';
  const h = validateFilter(huge);
  assert.ok(!h.ok);
  assert.match(h.message, /longer than/);
  for (const junk of ['\\', ')', ')(', '((((', '(cn=*)(', '(&(cn=x)', '*', '=', '(*=x)', '(cn=\\', '(|(cn=x)garbage)']) {
    const j = validateFilter(junk);
    assert.equal(j.ok, false, junk);
    if (!j.ok) assert.ok(j.position >= 0 && j.position <= junk.length, `${junk}: position ${j.position}`);
  }
});

import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { normalizeDn } from './dn.ts';

test('D7 normalizeDn: case and spaces around separators do not matter', () => {
  const cases: [string, string][] = [
    ['CN=John Doe,OU=Users,DC=Example,DC=Com', 'cn=john doe,ou=users,dc=example,dc=com'],
    ['cn = John Doe , ou=Users , dc=example,dc=com', 'cn=john doe,ou=users,dc=example,dc=com'],
    ['  uid=a;ou=b  ', 'uid=a,ou=b'],
    ['cn=a + uid=b,dc=x', 'cn=a+uid=b,dc=x'],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeDn(input), expected, input);
});

test('D7 normalizeDn: escapes and quoted values are kept', () => {
  assert.equal(normalizeDn('CN=Doe\\, John,DC=X'), 'cn=doe\\, john,dc=x');
  assert.equal(normalizeDn('cn=trailing\\ ,dc=x'), 'cn=trailing\\ ,dc=x');
  assert.equal(normalizeDn('cn=Doe\\2C John,dc=x'), 'cn=doe\\, john,dc=x');
  assert.equal(normalizeDn('cn=a\\=b , dc=x'), 'cn=a\\=b,dc=x');
  assert.equal(normalizeDn('cn="Doe, John" ,dc=x'), 'cn="doe, john",dc=x');
});

test('D7 normalizeDn is idempotent and keeps inner spaces', () => {
  for (const dn of ['CN=John  Doe , OU=A B,DC=x', 'cn=a\\ ,dc=x', 'cn="x , y",dc=z', 'cn=a+sn=b']) {
    const once = normalizeDn(dn);
    assert.equal(normalizeDn(once), once, dn);
  }
  assert.equal(normalizeDn('CN=John  Doe'), 'cn=john  doe');
});

test('D7 R30 normalizeDn: the two spellings of an escaped character are one (RFC 4514)', () => {
  const same: [string, string][] = [
    ['cn=Doe\\, John,dc=x', 'CN=Doe\\2C John,DC=x'],
    ['cn=Ren\\c3\\a9,dc=x', 'cn=René,dc=x'],
    ['cn=a\\20b,dc=x', 'cn=a b,dc=x'],
    ['cn=\\23tag,dc=x', 'cn=\\#tag,dc=x'],
    ['cn=x\\20,dc=y', 'cn=x\\ ,dc=y'],
    ['cn=a\\3Db\\2Bc,dc=x', 'cn=a\\=b\\+c,dc=x'],
  ];
  for (const [a, b] of same) assert.equal(normalizeDn(a), normalizeDn(b), `${a} vs ${b}`);
  assert.notEqual(normalizeDn('cn=x\\20,dc=y'), normalizeDn('cn=x,dc=y'), 'an escaped trailing space is part of the value');
  assert.equal(normalizeDn('cn=bad\\ff\\fe,dc=x'), 'cn=bad\\ff\\fe,dc=x', 'bytes that are not UTF-8 stay hex');
  for (const dn of same.flat()) assert.equal(normalizeDn(normalizeDn(dn)), normalizeDn(dn), `idempotent: ${dn}`);
});

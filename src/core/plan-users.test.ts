import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { DETAIL_FIELDS, type UserDetails } from './model.ts';
import { sameDetails } from './plan-users.ts';
import { details } from './test-fixtures.ts';

test('R12 sameDetails compares every detail field (an unchanged user costs no diff, a changed one is seen)', () => {
  const base = details({ displayName: 'A', mobile: '1' });
  assert.equal(sameDetails(base, { ...base }), true);
  for (const f of DETAIL_FIELDS) {
    const changed: UserDetails = { ...base, [f]: base[f] === null ? 'x' : null };
    assert.equal(sameDetails(base, changed), false, f);
    assert.equal(sameDetails(changed, base), false, f);
  }
  assert.deepEqual(Object.keys(base).sort(), [...DETAIL_FIELDS].sort(), 'DETAIL_FIELDS lists every field of UserDetails');
});

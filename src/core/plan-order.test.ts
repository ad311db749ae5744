import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { cmp } from './plan-context.ts';
import { sortByKey } from './plan-order.ts';
import { rng } from './test-fixtures.ts';

test('R19 sortByKey orders as a stable comparator sort does (ties in the packed prefix, equal keys, prefixes, empty and non-ASCII keys)', () => {
  const r = rng(7);
  const alphabet = ['a', 'b', '0', '-', 'z', '\u007e', '\u0001'];
  for (const n of [0, 1, 2, 63, 64, 65, 200, 1000, 5000, 70000]) {
    for (const variant of ['ascii', 'shared-prefix', 'non-ascii'] as const) {
      const items = Array.from({ length: n }, (_, i) => {
        const len = Math.floor(r() * 9);
        let key = variant === 'shared-prefix' ? 'same-prefix-' : '';
        for (let j = 0; j < len; j++) key += alphabet[Math.floor(r() * alphabet.length)];
        if (variant === 'non-ascii' && r() < 0.01) key = `é${key}`;
        return { key, i };
      });
      const expected = items.slice().sort((a, b) => cmp(a.key, b.key));
      const got = sortByKey(items, (x) => x.key);
      assert.equal(got, items, 'sorts in place');
      assert.deepEqual(got.map((x) => x.i), expected.map((x) => x.i), `n=${n} ${variant}`);
    }
  }
});

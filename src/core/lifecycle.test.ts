import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { computeDeleteAfter, selectPurgeable } from './lifecycle.ts';

test('R15/R20 computeDeleteAfter adds the delay in days; never → null', () => {
  assert.equal(computeDeleteAfter('2026-11-22T10:00:00.000Z', 7), '2026-11-29T10:00:00.000Z');
  assert.equal(computeDeleteAfter('2026-12-20T23:30:00.000Z', 14), '2027-01-03T23:30:00.000Z');
  assert.equal(computeDeleteAfter('2026-02-15T00:00:00.000Z', 30), '2026-03-17T00:00:00.000Z');
  assert.equal(computeDeleteAfter('2026-11-22T10:00:00.000Z', null), null);
  assert.throws(() => computeDeleteAfter('not a time', 7), RangeError);
});

test('R21 selectPurgeable picks pending users whose deleteAfter has passed (<= now), nothing else', () => {
  const now = '2026-11-29T10:00:00.000Z';
  const users = [
    { id: 'due', state: 'pending_deletion' as const, deleteAfter: '2026-11-29T10:00:00.000Z' },
    { id: 'past', state: 'pending_deletion' as const, deleteAfter: '2026-11-01T00:00:00.000Z' },
    { id: 'future', state: 'pending_deletion' as const, deleteAfter: '2026-11-29T10:00:00.001Z' },
    { id: 'never', state: 'pending_deletion' as const, deleteAfter: null },
    { id: 'active', state: 'active' as const, deleteAfter: '2026-11-01T00:00:00.000Z' },
    { id: 'deactivated', state: 'deactivated' as const, deleteAfter: null },
  ];
  assert.deepEqual(selectPurgeable(users, now).map((u) => u.id), ['due', 'past']);
});

test('R21/D5 selectPurgeable compares instants, not strings (offsets)', () => {
  const users = [{ state: 'pending_deletion' as const, deleteAfter: '2026-11-29T11:00:00.000+02:00' }];
  assert.equal(selectPurgeable(users, '2026-11-29T09:00:00.000Z').length, 1);
  assert.equal(selectPurgeable(users, '2026-11-29T08:59:59.999Z').length, 0);
});

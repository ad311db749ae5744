import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { expandMembers } from './groups.ts';

const edges = new Map<string, string[]>([
  ['g1', ['u1', 'g2']],
  ['g2', ['u2', 'g3']],
  ['g3', ['u3', 'g1']], // cycle g1 → g2 → g3 → g1
  ['g4', ['u4']],
  ['empty', []],
]);

test('R30/R61 expandMembers is transitive and cycle-safe', () => {
  const r = expandMembers('g1', edges);
  assert.deepEqual([...r.members].sort(), ['g1', 'g2', 'g3', 'u1', 'u2', 'u3']);
  assert.equal(r.truncated, false);
});

test('R61 expandMembers honours maxDepth and says when it stopped early', () => {
  const one = expandMembers('g1', edges, { maxDepth: 1 });
  assert.deepEqual([...one.members].sort(), ['g2', 'u1']);
  assert.equal(one.truncated, true);
  const two = expandMembers('g1', edges, { maxDepth: 2 });
  assert.deepEqual([...two.members].sort(), ['g2', 'g3', 'u1', 'u2']);
  assert.equal(expandMembers('g4', edges, { maxDepth: 1 }).truncated, false);
});

test('R30 expandMembers of several groups at once is their union; unknown or empty groups give nothing', () => {
  assert.deepEqual([...expandMembers(['g4', 'g2'], edges).members].sort(), ['g1', 'g2', 'g3', 'u1', 'u2', 'u3', 'u4']);
  assert.equal(expandMembers('nope', edges).members.size, 0);
  assert.equal(expandMembers('empty', edges).members.size, 0);
});

test('R61 expandMembers handles a deep chain without recursion limits', () => {
  const chain = new Map<string, string[]>();
  for (let i = 0; i < 50_000; i++) chain.set(`g${i}`, [`g${i + 1}`, `u${i}`]);
  const r = expandMembers('g0', chain);
  assert.equal(r.members.size, 100_000); // g1…g50000 and u0…u49999
});

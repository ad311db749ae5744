import { describe, test, assert } from '../../test/helpers/unit.ts';
import { cycleEdges } from './cycles.ts';

describe('cycleEdges (R61 expansion: report cycles, not diamonds)', () => {
  test('a 3-cycle and a self-loop are reported; tree and diamond edges are not', () => {
    const edges = [['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'd'], ['d', 'e'], ['a', 'e'], ['f', 'f'], ['b', 'c']] as const;
    assert.deepEqual(cycleEdges(edges), [['a', 'b'], ['b', 'c'], ['c', 'a'], ['f', 'f']]);
  });
  test('no edges, no cycles; a long chain does not overflow the stack', () => {
    assert.deepEqual(cycleEdges([]), []);
    const chain = Array.from({ length: 50_000 }, (_, i) => [`g${i}`, `g${i + 1}`] as const);
    assert.deepEqual(cycleEdges(chain), []);
    assert.equal(cycleEdges([...chain, ['g50000', 'g0']]).length, 50_001);
  });
});

/**
 * Which group→group membership edges lie on a cycle (PURE). An edge u→v is on a cycle iff v
 * reaches u: both ends in one strongly connected component (Tarjan, iterative), or u = v. A group
 * reached twice without a cycle (a diamond) is not reported.
 */

export type Edge = readonly [from: string, to: string];

/** The edges of `edges` that lie on a cycle, in input order (duplicates dropped). */
export function cycleEdges(edges: readonly Edge[]): Edge[] {
  const out = new Map<string, Edge[]>();
  for (const [u, v] of edges) {
    const list = out.get(u);
    if (list === undefined) out.set(u, [[u, v]]);
    else list.push([u, v]);
  }
  const comp = sccOf(out);
  const seen = new Set<string>();
  const result: Edge[] = [];
  for (const e of edges) {
    const key = `${e[0]}\n${e[1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (e[0] === e[1] || comp.get(e[0]) === comp.get(e[1])) result.push(e);
  }
  return result;
}

/** Component id of every node (Tarjan's algorithm without recursion: deep nesting must not overflow). */
function sccOf(adj: ReadonlyMap<string, readonly Edge[]>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comp = new Map<string, number>();
  let next = 0;
  let comps = 0;
  const nodes = new Set<string>();
  for (const [u, es] of adj) {
    nodes.add(u);
    for (const [, v] of es) nodes.add(v);
  }
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: [node: string, edge: number][] = [[root, 0]];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [u, i] = frame;
      const es = adj.get(u) ?? [];
      if (i < es.length) {
        frame[1] = i + 1;
        const v = es[i]![1];
        if (!index.has(v)) {
          index.set(v, next);
          low.set(v, next++);
          stack.push(v);
          onStack.add(v);
          work.push([v, 0]);
        } else if (onStack.has(v)) {
          low.set(u, Math.min(low.get(u)!, index.get(v)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(u)!));
      if (low.get(u) === index.get(u)) {
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.set(w, comps);
        } while (w !== u);
        comps++;
      }
    }
  }
  return comp;
}

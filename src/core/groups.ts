/**
 * Nested group expansion (R30 exceptions now, R61/R62 lookups later). PURE.
 * Membership can nest and contain cycles (§1 Objects): expansion visits each anchor once.
 */

/** Direct members per group anchor (members are anchors of users, contacts or groups). */
export type MemberEdges = ReadonlyMap<string, readonly string[]>;

export interface ExpandResult {
  /** Every anchor reachable through membership, excluding the start group(s) unless a cycle leads back. */
  members: Set<string>;
  /** True when maxDepth stopped the walk while some group still had unvisited members. */
  truncated: boolean;
}

/**
 * Transitive members of one group, or of several at once (a single breadth-first walk, so
 * expanding many excepted groups costs O(reachable edges), not O(groups × size)).
 * Depth 1 = direct members. Cycle-safe: an anchor is expanded at most once. A start group that
 * is reached again through a cycle is reported as its own member (it is one, transitively).
 */
export function expandMembers(
  groupAnchor: string | readonly string[],
  edges: MemberEdges,
  options: { maxDepth?: number } = {},
): ExpandResult {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const members = new Set<string>();
  const expanded = new Set<string>();
  let frontier: string[] = typeof groupAnchor === 'string' ? [groupAnchor] : [...groupAnchor];
  for (const g of frontier) expanded.add(g);
  let truncated = false;
  for (let depth = 1; frontier.length > 0; depth++) {
    if (depth > maxDepth) {
      truncated = frontier.some((g) => (edges.get(g) ?? []).some((m) => !members.has(m)));
      break;
    }
    const next: string[] = [];
    for (const g of frontier) {
      for (const m of edges.get(g) ?? []) {
        members.add(m);
        if (!expanded.has(m) && edges.has(m)) {
          expanded.add(m);
          next.push(m);
        }
      }
    }
    frontier = next;
  }
  return { members, truncated };
}

/**
 * The documented order of Plan.ops (model.ts): removals first, then update_user, flag_user,
 * restore_user, add_user, add_alias, upsert_group, set_members, upsert_contact; within a kind by
 * userId / anchor, then address. Apply relies on removals coming before inserts.
 */
import type { PlanOp, PlanOpKind, RunIssue, SkippedEntry } from './model.ts';
import { cmp } from './plan-context.ts';

const RANK: Record<PlanOpKind, number> = {
  remove_alias: 0,
  remove_group: 1,
  remove_contact: 2,
  update_user: 3,
  flag_user: 4,
  restore_user: 5,
  add_user: 6,
  add_alias: 7,
  upsert_group: 8,
  set_members: 9,
  upsert_contact: 10,
};

function keyOf(op: PlanOp): [string, string] {
  switch (op.op) {
    case 'add_alias':
    case 'remove_alias':
      return [op.userId, op.address];
    case 'update_user':
    case 'flag_user':
    case 'restore_user':
      return [op.userId, ''];
    case 'add_user':
    case 'upsert_group':
    case 'remove_group':
    case 'upsert_contact':
    case 'remove_contact':
      return [op.anchor, ''];
    case 'set_members':
      return [op.groupAnchor, ''];
  }
}

/** Sorts ops in place into the documented order and returns them. */
export function sortOps(ops: PlanOp[]): PlanOp[] {
  const keyed = ops.map((op) => ({ op, rank: RANK[op.op], key: keyOf(op) }));
  keyed.sort((a, b) => a.rank - b.rank || cmp(a.key[0], b.key[0]) || cmp(a.key[1], b.key[1]));
  for (let i = 0; i < keyed.length; i++) ops[i] = (keyed[i] as (typeof keyed)[number]).op;
  return ops;
}

/** Issues by anchor (null first), dn, code, value, detail. */
export function sortIssues(issues: RunIssue[]): RunIssue[] {
  return issues.sort(
    (a, b) =>
      cmp(a.anchor ?? '', b.anchor ?? '') ||
      cmp(a.dn ?? '', b.dn ?? '') ||
      cmp(a.code, b.code) ||
      cmp(a.value, b.value) ||
      cmp(a.detail ?? '', b.detail ?? ''),
  );
}

export function sortSkipped(skipped: SkippedEntry[]): SkippedEntry[] {
  return skipped.sort((a, b) => cmp(a.anchor, b.anchor) || cmp(a.dn, b.dn));
}

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

const byUserId = (op: PlanOp): string => (op as { userId: string }).userId;
const byAnchor = (op: PlanOp): string => (op as { anchor: string }).anchor;
const byGroupAnchor = (op: PlanOp): string => (op as { groupAnchor: string }).groupAnchor;
/** Alias ops: by user id, then address. */
const byUserAddress = (a: PlanOp, b: PlanOp): number =>
  cmp(byUserId(a), byUserId(b)) || cmp((a as { address: string }).address, (b as { address: string }).address);

/** The single sort key of each kind but the alias ops (null: byUserAddress). */
const KEY: Record<PlanOpKind, ((op: PlanOp) => string) | null> = {
  remove_alias: null,
  remove_group: byAnchor,
  remove_contact: byAnchor,
  update_user: byUserId,
  flag_user: byUserId,
  restore_user: byUserId,
  add_user: byAnchor,
  add_alias: null,
  upsert_group: byAnchor,
  set_members: byGroupAnchor,
  upsert_contact: byAnchor,
};

/**
 * Sorts ops in place into the documented order and returns them: bucketed by kind (in RANK
 * order), each bucket sorted by its keys (stable) — no per-op key objects (a first run has ~100,000 ops).
 */
export function sortOps(ops: PlanOp[]): PlanOp[] {
  const buckets: PlanOp[][] = Object.values(RANK).map(() => []);
  for (const op of ops) (buckets[RANK[op.op]] as PlanOp[]).push(op);
  let i = 0;
  for (const bucket of buckets) {
    if (bucket.length > 1) {
      const key = KEY[(bucket[0] as PlanOp).op];
      if (key === null) bucket.sort(byUserAddress);
      else sortByKey(bucket, key);
    }
    for (const op of bucket) ops[i++] = op;
  }
  return ops;
}

/** Shorter lists, and lists with a key character of U+007F or above early on, sort with a comparator. */
const PACKED_MIN = 64;

/**
 * Sorts `items` in place by `key` (code units, stable): the result of
 * `items.sort((a, b) => cmp(key(a), key(b)))`, faster for long lists. A comparator called ~1.7
 * million times sorted 100,000 ops in 150 ms; here each item's position is packed, with a number
 * made of its key's first characters (7 bits each, 0 past the end), into one float64, the floats
 * are sorted natively, and only runs that share those first characters go through the comparator
 * (the position, in the low bits, keeps equal keys in input order).
 */
export function sortByKey<T>(items: T[], key: (item: T) => string): T[] {
  const n = items.length;
  const byKey = (a: T, b: T): number => cmp(key(a), key(b));
  if (n < PACKED_MIN) return items.sort(byKey);
  const posBits = 32 - Math.clz32(n - 1);
  const chars = Math.floor((53 - posBits) / 7);
  const scale = 2 ** posBits;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = key(items[i] as T);
    let v = 0;
    for (let j = 0; j < chars; j++) {
      let m = 0;
      if (j < k.length) {
        const c = k.charCodeAt(j);
        if (c >= 127) return items.sort(byKey);
        m = c + 1;
      }
      v = v * 128 + m;
    }
    packed[i] = v * scale + i;
  }
  packed.sort();
  const copy = items.slice();
  let runStart = 0;
  let runPrefix = -1;
  for (let r = 0; r < n; r++) {
    const v = packed[r] as number;
    const prefix = Math.floor(v / scale);
    items[r] = copy[v - prefix * scale] as T;
    if (prefix !== runPrefix) {
      if (r - runStart > 1) sortRun(items, runStart, r, byKey);
      runStart = r;
      runPrefix = prefix;
    }
  }
  if (n - runStart > 1) sortRun(items, runStart, n, byKey);
  return items;
}

function sortRun<T>(items: T[], from: number, to: number, byKey: (a: T, b: T) => number): void {
  const run = items.slice(from, to).sort(byKey);
  for (let i = 0; i < run.length; i++) items[from + i] = run[i] as T;
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

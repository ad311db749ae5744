/**
 * Every sync rule from R10 to R31 must be proven by at least one test that cites it in its name and asserts on
 * stored state — that is, a test in a file that works on a real store (store tests, integration and CLI tests).
 * Planner unit tests alone do not count: they prove the plan, not what lands in the database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const RULES = ['R10', 'R11', 'R12', 'R13', 'R13a', 'R14', 'R15', 'R16', 'R17', 'R18', 'R19',
  'R20', 'R21', 'R22', 'R23', 'R24', 'R25', 'R30', 'R31'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** A file "asserts on stored state" when it opens a store or drives the CLI against one. */
const STORE_MARKERS = [/openStore\(/, /forEachDialect\(/, /runCli\(/, /bin\/roster/, /src\/cli\/main\.ts/];

export function citedRules(source: string): Set<string> {
  const cited = new Set<string>();
  const title = /\b(?:test|it|describe)\(\s*(['"`])((?:(?!\1).)*)\1/g;
  for (const m of source.matchAll(title)) {
    for (const r of (m[2] ?? '').matchAll(/\bR(\d+a?)\b/g)) cited.add(`R${r[1]}`);
  }
  return cited;
}

test('citedRules reads rule ids from test titles only', () => {
  const src = "test('R12 a run that changes nothing writes nothing', () => {}); // R99\ndescribe(`R13a and R14`, () => {});";
  assert.deepEqual([...citedRules(src)].sort(), ['R12', 'R13a', 'R14']);
});

test('every rule R10–R31 has a test that cites it and works on a real store', () => {
  const covered = new Set<string>();
  for (const f of [...files(join(root, 'src')), ...files(join(root, 'test'))]) {
    if (f === import.meta.filename) continue;
    const src = readFileSync(f, 'utf8');
    if (!STORE_MARKERS.some((m) => m.test(src))) continue;
    for (const r of citedRules(src)) covered.add(r);
  }
  const missing = RULES.filter((r) => !covered.has(r));
  assert.deepEqual(missing, [], `rules without a store-level test citing them: ${missing.join(', ')} (searched ${relative(root, join(root, 'src'))} and test)`);
});

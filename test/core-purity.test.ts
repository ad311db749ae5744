import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Convention 1 (DESIGN.md): src/core is pure — its unit tests too, which take the runner and assertions
// from test/helpers/unit.ts, so that a plain grep of src/core (the before-stop hook's) finds no I/O module.
const FORBIDDEN = /^(node:|fs$|path$|os$|crypto$|ldapts|kysely|pg$|pg\/|pg-|fastify|@fastify)/;
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

test('DESIGN convention 1: no file of src/core imports node:*, ldapts, kysely, pg or fastify', () => {
  const dir = join(import.meta.dirname, '..', 'src', 'core');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('plan.ts') && files.includes('model.ts'), 'the scan sees the core files');
  const offences: string[] = [];
  for (const f of files) {
    for (const spec of specifiers(readFileSync(join(dir, f), 'utf8'))) {
      if (FORBIDDEN.test(spec)) offences.push(`${f}: ${spec}`);
    }
  }
  assert.deepEqual(offences, []);
});

test('the purity scan recognises forbidden imports (so it can fail)', () => {
  const sample = [
    "import { readFileSync } from 'node:fs';",
    "import type { Client } from 'ldapts';",
    "export { sql } from 'kysely';",
    "const pg = await import('pg');",
    "import 'fastify';",
    "import { x } from './model.ts';",
  ].join('\n');
  const found = specifiers(sample).filter((s) => FORBIDDEN.test(s));
  assert.deepEqual(found, ['node:fs', 'ldapts', 'kysely', 'pg', 'fastify']);
});

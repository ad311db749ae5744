/**
 * Property-based tests (fast-check) for R2/R44 custom filter validation: validateFilter never
 * throws on any input; it accepts every filter an arbitrary RFC 4515 generator builds (with
 * whitespace between components, escaped hostile values, every item type), its normalized form is
 * a fixed point, and every filter it accepts compiles (compileFilter) — a filter saved as valid
 * must never fail at sync time. Damaged filters are rejected with a position inside the string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateFilter } from './filter.ts';
import { compileFilter } from './filter-compile.ts';
import { escapeFilterValue } from './escape.ts';

const RUNS = { numRuns: 1500 };

const attr = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/),
  fc.constantFrom('objectClass', 'mail', 'cn', 'sn', 'memberOf', '2.5.4.3', 'userAccountControl', 'cn;lang-de'),
);
/** A value as an admin may type it: any text escaped, or bytes escaped (binary attributes). */
const value = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(escapeFilterValue),
  fc.array(fc.constantFrom('a', 'é', '*', '(', ')', '\\', '\u0000', ' ', '#', 'Ж'), { maxLength: 8 }).map((a) => escapeFilterValue(a.join(''))),
  fc.uint8Array({ maxLength: 8 }).map(escapeFilterValue),
);
/** Values that are text (UTF-8 once unescaped): the only kind substring, ordering, approximate and extensible matches take. */
const textValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(escapeFilterValue),
  fc.array(fc.constantFrom('a', 'é', '*', '(', ')', '\\', '\u0000', ' ', '#', 'Ж'), { maxLength: 8 }).map((a) => escapeFilterValue(a.join(''))),
);
const nonEmpty = textValue.filter((v) => v !== '');
const ws = fc.constantFrom('', '', ' ', '\n  ');

/** Filters as text, built from RFC 4515's grammar (bytes only where Roster can send them: equality). */
const filterOf = (anyBytes: boolean) => fc.letrec<{ f: string; item: string }>((tie) => ({
  item: fc.oneof(
    fc.tuple(attr, value).map(([a, v]) => `(${a}=${v})`),
    fc.tuple(attr, fc.constantFrom('~=', '>=', '<='), anyBytes ? value : textValue).map(([a, op, v]) => `(${a}${op}${v})`),
    attr.map((a) => `(${a}=*)`),
    fc.tuple(attr, fc.option(nonEmpty), fc.array(nonEmpty, { maxLength: 3 }), fc.option(nonEmpty))
      .filter(([, i, any, f]) => i !== null || any.length > 0 || f !== null)
      .map(([a, i, any, f]) => `(${a}=${i ?? ''}*${any.map((x) => `${x}*`).join('')}${f ?? ''})`),
    fc.tuple(attr, fc.boolean(), fc.constantFrom(null, '1.2.840.113556.1.4.803', 'caseIgnoreMatch'), anyBytes ? value : textValue)
      .map(([a, dn, rule, v]) => `(${a}${dn ? ':dn' : ''}${rule === null ? '' : `:${rule}`}:=${v})`),
  ),
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('item'),
    fc.tuple(fc.constantFrom('&', '|'), fc.array(fc.tuple(ws, tie('f')), { minLength: 1, maxLength: 4 }), ws)
      .map(([op, parts, w]) => `(${op}${parts.map(([s, p]) => s + p).join('')}${w})`),
    fc.tuple(ws, tie('f')).map(([w, p]) => `(!${w}${p})`),
  ),
})).f;
const filter = filterOf(false);
/** Also byte escapes in every item: validateFilter may refuse some, but what it accepts must compile. */
const anyFilter = filterOf(true);

test('R2 R44 validateFilter never throws, whatever the input', () => {
  const junk = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.array(fc.constantFrom('(', ')', '&', '|', '!', '=', '*', '\\', 'a', '~', '>', '<', ':', ' ', '0', 'f', '\u0000'), { maxLength: 40 }).map((a) => a.join('')),
    filter.map((f) => f.slice(0, Math.max(0, f.length - 1))),
  );
  fc.assert(fc.property(junk, (s) => {
    const r = validateFilter(s);
    if (!r.ok) {
      assert.equal(typeof r.message, 'string');
      assert.ok(r.position >= 0 && r.position <= s.length, `position ${r.position} inside ${JSON.stringify(s)}`);
    }
  }), RUNS);
});

test('R2 every generated RFC 4515 filter is accepted; its normalized form is a fixed point', () => {
  fc.assert(fc.property(filter, (f) => {
    const r = validateFilter(f);
    assert.ok(r.ok, `${f} rejected: ${r.ok ? '' : `${r.message} @${r.position}`}`);
    const again = validateFilter(r.normalized);
    assert.ok(again.ok);
    assert.equal(again.normalized, r.normalized);
    assert.doesNotMatch(r.normalized, /\)\s+\(/, 'no whitespace between components');
  }), RUNS);
});

test('R2 R44 a filter accepted before saving also compiles at sync time', () => {
  fc.assert(fc.property(anyFilter, (f) => {
    const r = validateFilter(f);
    if (r.ok) assert.doesNotThrow(() => compileFilter(f), `validateFilter accepts ${f} but compileFilter throws`);
    else assert.match(r.message, /not UTF-8 text are allowed only in an equality match/, `${f} refused for another reason: ${r.message}`);
  }), RUNS);
});

test('R44 removing the last ")" or adding a stray one is always rejected with a position', () => {
  fc.assert(fc.property(filter, fc.boolean(), (f, cut) => {
    const bad = cut ? f.slice(0, -1) : `${f})`;
    const r = validateFilter(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.ok(r.position >= 0 && r.position <= bad.length);
  }), RUNS);
});

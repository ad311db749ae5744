/**
 * Attribute values as read from LDAP, decoded defensively (R44): UTF-8 only, bounded size.
 * A RawEntry is what the LDAP layer hands to the pure mapping: attribute names lower-cased,
 * every value either a string (valid UTF-8, as ldapts decoded it) or bytes.
 */
import type { EntryIssue } from '../core/model.ts';

export type RawValue = string | Uint8Array;

export interface RawEntry {
  dn: string;
  /** Keys are attribute descriptions in lower case, options included (`member;range=0-1499`). */
  attrs: Map<string, RawValue[]>;
}

/**
 * What the mapping reads of an entry: its DN and the values of an attribute by its lower-case key
 * (undefined when absent). A RawEntry is one; the decoder's lighter form for entries mapped as they
 * arrive (EntryDecoder.decodeView) is another.
 */
export interface EntryView {
  dn: string;
  attrs: { get(key: string): RawValue[] | undefined };
}

/** R44: values larger than this are dropped with issue `value_too_large`. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** EntryIssue.value is truncated to this many characters. */
export const MAX_ISSUE_VALUE = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Builds a RawEntry from plain attribute objects (ldapts entries or test fixtures). */
export function toRawEntry(entry: { dn: string; [attr: string]: unknown }): RawEntry {
  const attrs = new Map<string, RawValue[]>();
  for (const [name, v] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const list = Array.isArray(v) ? v : [v];
    const values: RawValue[] = [];
    for (const one of list) {
      if (typeof one === 'string' || one instanceof Uint8Array) values.push(one);
    }
    // Empty lists are kept: an empty final range window (`member;range=1500-*`) is an answer.
    const key = name.toLowerCase();
    const prev = attrs.get(key);
    attrs.set(key, prev ? prev.concat(values) : values);
  }
  return { dn: String(entry.dn), attrs };
}

export function truncateIssueValue(v: string): string {
  return v.length > MAX_ISSUE_VALUE ? v.slice(0, MAX_ISSUE_VALUE) : v;
}

function hexPrefix(b: Uint8Array): string {
  let s = '';
  for (const x of b.subarray(0, 64)) s += x.toString(16).padStart(2, '0');
  return b.length > 64 ? s + '…' : s;
}

/**
 * The values of `attr` as strings, in directory order. A value that is not valid UTF-8 is dropped
 * with issue `invalid_utf8` (value: hex of its first bytes); a value over MAX_VALUE_BYTES is
 * dropped with `value_too_large` (value: its first characters). Never throws.
 */
export function readStrings(e: EntryView, attr: string, issues: EntryIssue[]): string[] {
  const raw = e.attrs.get(attr.toLowerCase());
  if (!raw) return [];
  const out: string[] = [];
  for (const v of raw) {
    let s: string;
    let bytes: number;
    if (typeof v === 'string') {
      s = v;
      bytes = s.length * 3 > MAX_VALUE_BYTES ? encoder.encode(s).length : s.length; // cheap bound first
    } else {
      bytes = v.length;
      if (bytes > MAX_VALUE_BYTES) {
        issues.push({ code: 'value_too_large', value: truncateIssueValue(hexPrefix(v)), detail: `${attr}: ${bytes} bytes` });
        continue;
      }
      try {
        s = utf8.decode(v);
      } catch {
        issues.push({ code: 'invalid_utf8', value: hexPrefix(v), detail: `${attr}: not valid UTF-8` });
        continue;
      }
    }
    if (bytes > MAX_VALUE_BYTES) {
      issues.push({ code: 'value_too_large', value: truncateIssueValue(s), detail: `${attr}: ${bytes} bytes` });
      continue;
    }
    out.push(s);
  }
  return out;
}

/** Longest string that is certainly within MAX_VALUE_BYTES (a UTF-16 unit is at most 3 UTF-8 bytes). */
const SHORT = Math.floor(MAX_VALUE_BYTES / 3);

/**
 * readStrings for the hot path: `key` is the attribute's lower-case name, `attr` its name for
 * issues. When every value is a string short enough to be within MAX_VALUE_BYTES (nearly always),
 * the entry's own list is returned without a copy — callers must not modify it; otherwise the
 * result and the issues are exactly readStrings'.
 */
export function stringsOf(e: EntryView, key: string, attr: string, issues: EntryIssue[]): readonly string[] {
  const raw = e.attrs.get(key);
  if (raw === undefined) return EMPTY_STRINGS;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (typeof v !== 'string' || v.length > SHORT) return readStrings(e, attr, issues);
  }
  return raw as string[];
}

export const EMPTY_STRINGS: readonly string[] = Object.freeze([]);

/** Blank: empty or only white space (what String.prototype.trim removes). */
export function isBlank(v: string): boolean {
  const c = v.charCodeAt(0);
  return c > 0x20 && c < 0x7f ? false : v.trim() === '';
}

/** readFirst for the hot path (see stringsOf): the first non-blank value, or null. */
export function firstValue(e: EntryView, key: string, attr: string, issues: EntryIssue[]): string | null {
  const values = stringsOf(e, key, attr, issues);
  for (let i = 0; i < values.length; i++) if (!isBlank(values[i]!)) return values[i]!;
  return null;
}

/** The first value of `attr` that is not blank, or null (empty directory values are null). */
export function readFirst(e: EntryView, attr: string | null, issues: EntryIssue[]): string | null {
  if (attr === null) return null;
  for (const v of readStrings(e, attr, issues)) if (v.trim() !== '') return v;
  return null;
}

/** The raw bytes of the first value of `attr` (binary attributes such as objectGUID), or null. */
export function readBytes(e: EntryView, attr: string): Uint8Array | null {
  const v = e.attrs.get(attr.toLowerCase())?.[0];
  if (v === undefined) return null;
  return typeof v === 'string' ? encoder.encode(v) : v;
}

/**
 * Formats a 16-byte objectGUID as the usual GUID string, lower case, in Microsoft byte order
 * (the first three groups little-endian). Null when the value is not 16 bytes.
 */
export function guidToString(b: Uint8Array): string | null {
  if (b.length !== 16) return null;
  const h = (i: number): string => (b[i] ?? 0).toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}

/** The inverse of guidToString: the 16 bytes in Microsoft order, or null when `s` is no GUID. */
export function guidToBytes(s: string): Uint8Array | null {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(s.trim());
  if (!m) return null;
  const hex = (m[1] ?? '') + (m[2] ?? '') + (m[3] ?? '') + (m[4] ?? '') + (m[5] ?? '');
  const raw: number[] = [];
  for (let i = 0; i < 32; i += 2) raw.push(parseInt(hex.slice(i, i + 2), 16));
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return new Uint8Array(order.map((i) => raw[i] ?? 0));
}

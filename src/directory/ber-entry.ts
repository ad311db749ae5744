/**
 * Decodes one LDAP SearchResultEntry (RFC 4511 §4.5.2) straight from the BER bytes into a RawEntry,
 * without ldapts' object model (SearchEntry → Attribute → toObject), which cost more than the rest
 * of the read together at 100,000 entries.
 *
 * Value rules are those the ldapts path had (values.ts then judges them, R44): a value of a binary
 * attribute (objectGUID…, or any `;binary` option) is bytes; any other value is a string when it is
 * valid UTF-8 and stays bytes otherwise (readStrings reports it as `invalid_utf8`). The DN is decoded
 * as UTF-8 leniently, as ldapts did. Attributes the caller does not want are skipped undecoded.
 * Malformed BER throws BerEntryError: the caller fails the read (R5), never skips the entry.
 */
import type { EntryView, RawEntry, RawValue } from './values.ts';

export class BerEntryError extends Error {
  override name = 'BerEntryError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Buffer's own latin1Slice skips toString's argument handling (measurably cheaper for 1.5 million
 * short values); it is not in Node's typings, so it is used only when present.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, s: number, e: number) => string }).latin1Slice;
const latin1: (buf: Buffer, s: number, e: number) => string = typeof latin1Slice === 'function'
  ? (buf, s, e) => latin1Slice.call(buf, s, e)
  : (buf, s, e) => buf.toString('latin1', s, e);

/** What to do with an attribute's values: skip them, decode as text, or keep the bytes. */
const SKIP = 0;
const TEXT = 1;
const BYTES = 2;
type Mode = typeof SKIP | typeof TEXT | typeof BYTES;

export interface EntryDecodeOptions {
  /** Attribute names (any case, no options) whose values are bytes, e.g. objectGUID. */
  binaryAttrs: readonly string[];
  /** When set, only these attributes (any case, no options) are decoded; others are skipped. */
  only?: readonly string[] | undefined;
  /**
   * Attributes (any case, no options) whose values repeat across entries: a short ASCII value equal
   * to one decoded recently is the same string, not a new one (fewer strings made and collected).
   */
  shared?: readonly string[] | undefined;
}

/** Slots of the table of recent shared values (a power of two); values longer than SHARED_MAX are not shared. */
const SHARED_SLOTS = 4096;
const SHARED_MAX = 64;

/**
 * A decoder for the entries of one search. It remembers how each returned attribute type is
 * handled (a search returns the same few types again and again), so a type costs one short
 * string and one map lookup per entry.
 */
export class EntryDecoder {
  readonly #binary: Set<string>;
  readonly #only: Set<string> | null;
  readonly #shared: Set<string>;
  /** Recent values of shared attributes by a hash of their bytes (direct-mapped: a collision replaces). */
  readonly #recent: (string | undefined)[] = new Array<string | undefined>(SHARED_SLOTS).fill(undefined);
  readonly #types = new Map<string, AttrType>();
  /** Attribute key → its slot in a decodeView entry (bounded; keys past the bound go to a Map). */
  readonly #slotOf = new Map<string, number>();
  /** The same types by a hash of their bytes: a known type costs no string at all. */
  readonly #byBytes = new Map<number, AttrType[]>();
  /**
   * The type found at each position of the previous entry: a server returns the attributes of
   * similar entries in the same order, so comparing the bytes with it usually settles the type
   * without hashing (bounded: positions past 64 always hash).
   */
  readonly #lastAt: (AttrType | undefined)[] = [];

  constructor(o: EntryDecodeOptions) {
    this.#binary = new Set(o.binaryAttrs.map((a) => a.toLowerCase()));
    this.#only = o.only === undefined ? null : new Set(o.only.map((a) => a.toLowerCase()));
    this.#shared = new Set((o.shared ?? []).map((a) => a.toLowerCase()));
  }

  /** text() for a value of a shared attribute: the same string for the same short ASCII bytes. */
  #sharedText(buf: Buffer, s: number, e: number): RawValue {
    if (e - s > SHARED_MAX) return text(buf, s, e, false);
    let h = e - s;
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return text(buf, s, e, false);
      h = (Math.imul(h, 31) + b) | 0;
    }
    const slot = (h ^ (h >>> 12)) & (SHARED_SLOTS - 1);
    const known = this.#recent[slot];
    if (known !== undefined && known.length === e - s) {
      let i = 0;
      while (i < known.length && known.charCodeAt(i) === buf[s + i]) i++;
      if (i === known.length) return known;
    }
    const v = latin1(buf, s, e);
    this.#recent[slot] = v;
    return v;
  }

  /** The attribute type at `buf[s, e)`, the `index`-th attribute of its entry. */
  #typeAt(buf: Buffer, s: number, e: number, index: number): AttrType {
    const last = this.#lastAt[index];
    if (last !== undefined && sameBytes(last.raw, buf, s, e)) return last;
    const t = this.#lookUp(buf, s, e);
    if (index < 64) this.#lastAt[index] = t;
    return t;
  }

  #lookUp(buf: Buffer, s: number, e: number): AttrType {
    let h = e - s;
    for (let i = s; i < e; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const known = this.#byBytes.get(h);
    if (known !== undefined) {
      for (const t of known) if (sameBytes(t.raw, buf, s, e)) return t;
    }
    const t = this.#typeOf(buf.toString('latin1', s, e));
    if (this.#types.size < 512) {
      if (known === undefined) this.#byBytes.set(h, [t]);
      else known.push(t);
    }
    return t;
  }

  #typeOf(raw: string): AttrType {
    let t = this.#types.get(raw);
    if (t !== undefined) return t;
    const key = raw.toLowerCase();
    const semi = key.indexOf(';');
    const base = semi < 0 ? key : key.slice(0, semi);
    const mode: Mode = this.#only !== null && !this.#only.has(base) ? SKIP
      : this.#binary.has(base) || /;binary(?:;|$)/.test(key) ? BYTES : TEXT;
    let slot = mode === SKIP ? -1 : (this.#slotOf.get(key) ?? -1);
    if (slot < 0 && mode !== SKIP && this.#slotOf.size < MAX_SLOTS) this.#slotOf.set(key, (slot = this.#slotOf.size));
    t = { key, mode, shared: mode === TEXT && this.#shared.has(base), slot, raw: Buffer.from(raw, 'latin1') };
    // A server cannot grow this without bound: past a few hundred distinct types, stop remembering.
    if (this.#types.size < 512) this.#types.set(raw, t);
    return t;
  }

  /**
   * Decodes the content of a SearchResultEntry protocol op: `buf[start, end)` holds objectName and
   * the attribute list (the bytes after the [APPLICATION 4] tag and length).
   */
  decode(buf: Buffer, start: number, end: number): RawEntry {
    return this.#decode(buf, start, end, false) as RawEntry;
  }

  /**
   * decode() for an entry that is used at once and dropped (mapped as it arrives): the same values,
   * held by slot instead of in a Map of its own (the Map's growth was most of what decoding
   * allocated). Only `get` is offered; `attrs.get(key)` answers exactly as decode()'s Map would.
   */
  decodeView(buf: Buffer, start: number, end: number): EntryView {
    return this.#decode(buf, start, end, true);
  }

  #decode(buf: Buffer, start: number, end: number, slotted: boolean): RawEntry | EntryView {
    let o = start;
    // objectName LDAPDN
    if (buf[o] !== 0x04) throw new BerEntryError(`malformed search entry: expected the DN (0x04), got 0x${hex(buf[o])}`);
    let len = readLength(buf, o + 1, end);
    o = lengthEnd;
    const dn = text(buf, o, o + len, true) as string;
    o += len;
    // attributes PartialAttributeList ::= SEQUENCE OF SEQUENCE { type, vals SET OF value }
    if (buf[o] !== 0x30) throw new BerEntryError(`malformed search entry ${dn}: expected the attribute list (0x30), got 0x${hex(buf[o])}`);
    len = readLength(buf, o + 1, end);
    o = lengthEnd;
    const listEnd = o + len;
    if (listEnd !== end) throw new BerEntryError(`malformed search entry ${dn}: the attribute list does not end with the entry`);
    // Slotted: values by AttrType.slot, a Map only for types without a slot (past MAX_SLOTS keys).
    const slots: (RawValue[] | undefined)[] | null = slotted ? new Array<RawValue[] | undefined>(this.#slotOf.size) : null;
    let attrs: Map<string, RawValue[]> | null = slotted ? null : new Map<string, RawValue[]>();
    for (let index = 0; o < listEnd; index++) {
      if (buf[o] !== 0x30) throw new BerEntryError(`malformed search entry ${dn}: expected an attribute (0x30), got 0x${hex(buf[o])}`);
      len = readLength(buf, o + 1, listEnd);
      o = lengthEnd;
      const attrEnd = o + len;
      if (buf[o] !== 0x04) throw new BerEntryError(`malformed search entry ${dn}: expected an attribute type (0x04), got 0x${hex(buf[o])}`);
      len = readLength(buf, o + 1, attrEnd);
      o = lengthEnd;
      const { key, mode, shared, slot } = this.#typeAt(buf, o, o + len, index);
      const bySlot = slots !== null && slot >= 0;
      o += len;
      if (mode === SKIP) {
        o = attrEnd;
        continue;
      }
      if (buf[o] !== 0x31) throw new BerEntryError(`malformed search entry ${dn}: expected the values of ${key} (0x31), got 0x${hex(buf[o])}`);
      len = readLength(buf, o + 1, attrEnd);
      o = lengthEnd;
      const setEnd = o + len;
      if (setEnd !== attrEnd) throw new BerEntryError(`malformed search entry ${dn}: the values of ${key} do not end with the attribute`);
      let values = bySlot ? slots[slot] : (attrs ??= new Map<string, RawValue[]>()).get(key);
      while (o < setEnd) {
        if (buf[o] !== 0x04) throw new BerEntryError(`malformed search entry ${dn}: expected a value of ${key} (0x04), got 0x${hex(buf[o])}`);
        len = readLength(buf, o + 1, setEnd);
        o = lengthEnd;
        // Bytes are copied: a view would keep the whole socket chunk alive.
        const v = mode === BYTES ? new Uint8Array(buf.subarray(o, o + len)) : shared ? this.#sharedText(buf, o, o + len) : text(buf, o, o + len, false);
        o += len;
        // `[v]` holds exactly one value: most attributes have one, and `[]` + push would reserve 16.
        if (values === undefined) {
          values = [v];
          if (bySlot) slots[slot] = values;
          else attrs!.set(key, values);
        } else values.push(v);
      }
      // Empty lists are kept: an empty final range window (`member;range=1500-*`) is an answer.
      if (values === undefined) {
        if (bySlot) slots[slot] = [];
        else attrs!.set(key, []);
      }
    }
    if (slots === null) return { dn, attrs: attrs! };
    return { dn, attrs: new SlotAttrs(this.#slotOf, slots, attrs) };
  }
}

/** Past this many distinct decoded attribute keys, further keys are held in a Map per entry. */
const MAX_SLOTS = 256;

/** The values of a decodeView entry by key: its slot's, or the overflow Map's. */
class SlotAttrs {
  readonly #slotOf: ReadonlyMap<string, number>;
  readonly #slots: (RawValue[] | undefined)[];
  readonly #overflow: ReadonlyMap<string, RawValue[]> | null;

  constructor(slotOf: ReadonlyMap<string, number>, slots: (RawValue[] | undefined)[], overflow: ReadonlyMap<string, RawValue[]> | null) {
    this.#slotOf = slotOf;
    this.#slots = slots;
    this.#overflow = overflow;
  }

  get(key: string): RawValue[] | undefined {
    const i = this.#slotOf.get(key);
    return i === undefined ? this.#overflow?.get(key) : this.#slots[i];
  }
}

interface AttrType {
  /** Lower case, options included: the RawEntry key. */
  key: string;
  mode: Mode;
  /** Equal short values share one string (EntryDecodeOptions.shared). */
  shared: boolean;
  /** Where decodeView holds its values; -1: skipped, or in the overflow Map. */
  slot: number;
  /** The type's bytes as the server sent them. */
  raw: Uint8Array;
}

function sameBytes(a: Uint8Array, buf: Buffer, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[s + i]) return false;
  return true;
}

function hex(b: number | undefined): string {
  return b === undefined ? '(end)' : b.toString(16).padStart(2, '0');
}

/** Set by readLength: the offset just after the length octets. */
let lengthEnd = 0;

/**
 * Reads a BER definite length at `o` (just after a tag); sets `lengthEnd` and returns the length.
 * Throws when the length is indefinite, longer than 4 octets, or runs past `limit`.
 */
export function readLength(buf: Buffer, o: number, limit: number): number {
  if (o >= limit) throw new BerEntryError('malformed search entry: truncated length');
  const first = buf[o]!;
  let len: number;
  if (first < 0x80) {
    len = first;
    o += 1;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new BerEntryError(`malformed search entry: unsupported length form 0x${hex(first)}`);
    if (o + 1 + n > limit) throw new BerEntryError('malformed search entry: truncated length');
    len = 0;
    for (let i = 1; i <= n; i++) len = len * 256 + buf[o + i]!;
    o += 1 + n;
  }
  if (o + len > limit) throw new BerEntryError('malformed search entry: an element runs past its container');
  lengthEnd = o;
  return len;
}

/**
 * `buf[s, e)` as a string: ASCII is copied as one-byte characters (the common case, the cheapest
 * string V8 makes); otherwise strict UTF-8, and bytes when that fails (`lenient`: U+FFFD instead).
 */
function text(buf: Buffer, s: number, e: number, lenient: boolean): RawValue {
  for (let i = s; i < e; i++) {
    if (buf[i]! >= 0x80) {
      if (lenient) return buf.toString('utf8', s, e);
      try {
        return utf8.decode(buf.subarray(s, e));
      } catch {
        return new Uint8Array(buf.subarray(s, e));
      }
    }
  }
  return latin1(buf, s, e);
}

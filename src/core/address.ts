/**
 * Mail address and domain normalization (R4, R1 proxyAddresses). PURE: no node:* imports; IDN
 * conversion to ASCII uses the global WHATWG URL parser (UTS #46), the way back is a small
 * RFC 3492 punycode decoder below.
 */
import type { Address } from './model.ts';

/** Characters that would make the URL parser read something other than a host, or that no domain has. */
const HOST_BREAKERS = /[\s\u0000-\u001f\u007f-\u009f/\\?#@:[\]%<>"'`^{}|,;()*+=!$&~]/u;
/** One ASCII label after IDN conversion: letters, digits, hyphens; no leading/trailing hyphen. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Unquoted local part characters: RFC 5322 atext, plus letters/digits/marks of any script (RFC 6531). */
const LOCAL_CHARS = /^[\p{L}\p{N}\p{M}!#$%&'*+\-/=?^_`{|}~.]+$/u;

/**
 * Normalizes a mail domain: trims, lower-cases, converts an IDN to its ASCII (punycode) form.
 * Returns null when the value is not a valid DNS host name (empty label, bad characters, label over
 * 63 or name over 253 octets, trailing dot, numeric top-level label such as an IPv4 address).
 * Does not require a dot: normalizeAddress adds that condition for mail domains.
 */
export function normalizeDomain(domain: string): string | null {
  const d = domain.trim();
  if (d === '' || d.length > 1024) return null;
  let host: string;
  if (isPlainAsciiHost(d)) {
    host = d.toLowerCase(); // exactly what the URL parser returns for such a host (see isPlainAsciiHost)
  } else {
    if (HOST_BREAKERS.test(d)) return null;
    try {
      // The userinfo keeps the parser from treating anything as a port or a path.
      host = new URL('http://x@' + d + '/').hostname;
    } catch {
      return null;
    }
  }
  if (host === '' || host.length > 253 || host.endsWith('.')) return null;
  const labels = host.split('.');
  for (const label of labels) {
    if (!LDH_LABEL.test(label)) return null;
    // "xn--" labels must decode (URL already checks, this guards a lenient parser).
    if (label.startsWith('xn--') && decodePunycode(label.slice(4)) === null) return null;
    // Labels with hyphens in positions 3-4 other than xn-- are reserved (RFC 5891 §4.2.3.1).
    if (label.length >= 4 && label[2] === '-' && label[3] === '-' && !label.startsWith('xn--')) return null;
  }
  const last = labels[labels.length - 1] ?? '';
  if (/^[0-9]+$/.test(last)) return null; // an IPv4 address or a numeric TLD is no mail domain
  return host;
}

/**
 * True when the WHATWG URL parser would return `d` lower-cased as the host, so that it need not
 * run (it was most of the cost of normalizing 100,000 addresses): `d` is made of ASCII letters,
 * digits, hyphens and dots only (UTS #46 maps these to themselves, lower-cased, and finds nothing
 * to reject with CheckHyphens and UseSTD3ASCIIRules off), has no `xn--` label (those are decoded
 * and validated by the parser), and does not "end in a number" (the parser reads those as IPv4).
 * Anything else takes the URL parser.
 */
function isPlainAsciiHost(d: string): boolean {
  let labelStart = 0;
  for (let i = 0; i <= d.length; i++) {
    const c = i < d.length ? d.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      // A label starting with xn-- (any case).
      if (i - labelStart >= 4 && (d.charCodeAt(labelStart) | 0x20) === 0x78 && (d.charCodeAt(labelStart + 1) | 0x20) === 0x6e &&
        d.charCodeAt(labelStart + 2) === 0x2d && d.charCodeAt(labelStart + 3) === 0x2d) return false;
      labelStart = i + 1;
      continue;
    }
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return false;
  }
  return !endsInANumber(d);
}

/** The URL standard's "ends in a number checker" for an ASCII host. */
function endsInANumber(d: string): boolean {
  // The parts are d split on dots; an empty last part is dropped (d is not empty: there are two).
  const end = d.charCodeAt(d.length - 1) === 0x2e ? d.length - 1 : d.length;
  if (end === 0) return false;
  return isNumberLabel(d, d.lastIndexOf('.', end - 1) + 1, end);
}

/**
 * `s[start, end)` is a number to the URL parser: only ASCII digits, or `0x`/`0X` and zero or more
 * hex digits (not empty).
 */
function isNumberLabel(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  let i = start;
  let hex = false;
  if (end - start >= 2 && s.charCodeAt(start) === 0x30 && (s.charCodeAt(start + 1) | 0x20) === 0x78) {
    hex = true;
    i += 2;
  }
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) continue;
    if (hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) continue;
    return false;
  }
  return true;
}

/**
 * Shows an ASCII domain in Unicode: every `xn--` label is decoded; a label that does not decode is
 * kept as is (display must never fail). Input is expected to come from normalizeDomain.
 */
export function domainToDisplay(asciiDomain: string): string {
  return asciiDomain
    .split('.')
    .map((label) => {
      if (!label.toLowerCase().startsWith('xn--')) return label;
      const decoded = decodePunycode(label.slice(4).toLowerCase());
      return decoded ?? label;
    })
    .join('.');
}

/**
 * R4: normalizes one address. Trims, lower-cases, requires exactly one '@', a local part of 1–64
 * characters (dot-atom: no leading, trailing or doubled dot; no spaces, control characters or
 * quoting), and a valid domain with at least one dot (ASCII form, via normalizeDomain). The whole
 * address is at most 254 characters. Returns null when invalid; never throws.
 */
export function normalizeAddress(raw: string): Address | null {
  const plain = plainAsciiAddress(raw);
  if (plain !== null) return plain;
  const s = raw.trim();
  if (s === '' || s.length > 1024) return null;
  const at = s.indexOf('@');
  if (at <= 0 || at !== s.lastIndexOf('@')) return null;
  const local = s.slice(0, at).toLowerCase();
  if (local.length > 64 || !LOCAL_CHARS.test(local)) return null;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  const domainRaw = s.slice(at + 1);
  if (domainRaw.trim() !== domainRaw) return null; // "a@ b.com": a space inside the value
  const domain = normalizeDomain(domainRaw);
  if (domain === null || !domain.includes('.')) return null;
  const address = local + '@' + domain;
  if (address.length > 254) return null;
  return address as Address;
}

/** Unquoted local part characters of RFC 5322 atext other than letters and digits, plus the dot. */
const ATEXT = new Uint8Array(128);
for (const c of "!#$%&'*+-/=?^_`{|}~.") ATEXT[c.charCodeAt(0)] = 1;

/**
 * The fast path of normalizeAddress for the common address (nearly every directory value): ASCII
 * without blanks, a dot-atom local part, an LDH domain with a dot, no `xn--` or other `??--`
 * label, not ending in a number. Returns what the full path returns for it — the value
 * lower-cased, and `raw` itself when it is already lower case — or null when the value is not of
 * that kind, valid or not: the full path then decides.
 */
function plainAsciiAddress(raw: string): Address | null {
  const n = raw.length;
  if (n > 254) return null;
  let upper = false;
  let i = 0;
  // Local part: 1–64 characters, no leading, trailing or doubled dot.
  for (; i < n; i++) {
    let c = raw.charCodeAt(i);
    if (c === 0x40) break;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      c |= 0x20;
    }
    if (c >= 0x80 || !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || ATEXT[c] === 1)) return null;
    if (c === 0x2e && (i === 0 || raw.charCodeAt(i - 1) === 0x2e)) return null;
  }
  if (i === 0 || i > 64 || i === n || raw.charCodeAt(i - 1) === 0x2e) return null;
  // Domain: LDH labels of 1–63 characters, no hyphen at either end nor in positions 3–4, at least two labels.
  const domainStart = i + 1;
  if (n - domainStart > 253) return null;
  let labels = 0;
  let labelStart = domainStart;
  let lastLabel = domainStart;
  for (i = domainStart; i <= n; i++) {
    const c = i < n ? raw.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - labelStart;
      if (len === 0 || len > 63) return null;
      if (raw.charCodeAt(labelStart) === 0x2d || raw.charCodeAt(i - 1) === 0x2d) return null;
      if (len >= 4 && raw.charCodeAt(labelStart + 2) === 0x2d && raw.charCodeAt(labelStart + 3) === 0x2d) return null;
      labels++;
      lastLabel = labelStart;
      labelStart = i + 1;
      continue;
    }
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return null;
  }
  if (labels < 2 || isNumberLabel(raw, lastLabel, n)) return null;
  return (upper ? raw.toLowerCase() : raw) as Address;
}

/** The ASCII domain of a normalized address (the part after its only '@'). */
export function domainOf(a: Address): string {
  return a.slice(a.indexOf('@') + 1);
}

/** R1/R4: the SMTP values of an AD proxyAddresses attribute, split by type. */
export interface ProxyAddresses {
  /** Normalized `SMTP:` (upper-case prefix) values; deduplicated, sorted (code-unit order). */
  primaries: Address[];
  /** Normalized `smtp:` values (prefix in any other case); deduplicated, sorted; may overlap primaries. */
  aliases: Address[];
  /** Raw SMTP values (either prefix) that are not valid addresses, in input order. */
  invalid: string[];
}

/**
 * R1/R4: splits proxyAddresses values. `SMTP:` with exactly that upper-case prefix is a primary
 * candidate; any other casing of `smtp:` is an alias. X500:, SIP:, X400: and every other type (or a
 * value without a type) are ignored. Invalid SMTP values go to `invalid` as read.
 */
export function parseProxyAddresses(values: readonly string[]): ProxyAddresses {
  const primaries = new Set<Address>();
  const aliases = new Set<Address>();
  const invalid: string[] = [];
  for (const value of values) {
    const v = value.trim();
    const colon = v.indexOf(':');
    if (colon !== 4) continue;
    const prefix = v.slice(0, 4);
    if (prefix.toLowerCase() !== 'smtp') continue;
    const address = normalizeAddress(v.slice(5));
    if (address === null) {
      invalid.push(value);
    } else if (prefix === 'SMTP') {
      primaries.add(address);
    } else {
      aliases.add(address);
    }
  }
  return { primaries: [...primaries].sort(compareCodeUnits), aliases: [...aliases].sort(compareCodeUnits), invalid };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// RFC 3492 punycode decoding (the only direction we need: URL does the encoding).
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;

function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digitValue(cp: number): number {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30 + 26; // '0'-'9' → 26-35
  if (cp >= 0x61 && cp <= 0x7a) return cp - 0x61; // 'a'-'z' → 0-25
  if (cp >= 0x41 && cp <= 0x5a) return cp - 0x41;
  return BASE;
}

/** Decodes the part of a label after `xn--`; null when it is not valid punycode. */
function decodePunycode(input: string): string | null {
  const output: number[] = [];
  const lastDelim = input.lastIndexOf('-');
  const basicEnd = lastDelim < 0 ? 0 : lastDelim;
  for (let j = 0; j < basicEnd; j++) {
    const cp = input.charCodeAt(j);
    if (cp >= 0x80) return null;
    output.push(cp);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let pos = basicEnd > 0 ? basicEnd + 1 : 0; pos < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) return null;
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit >= BASE) return null;
      if (digit > Math.floor((0x7fffffff - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(0x7fffffff / (BASE - t))) return null;
      w *= BASE - t;
    }
    const len = output.length + 1;
    bias = adapt(i - oldi, len, oldi === 0);
    if (Math.floor(i / len) > 0x10ffff - n) return null;
    n += Math.floor(i / len);
    i %= len;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...output);
}

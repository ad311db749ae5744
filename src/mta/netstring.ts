/**
 * Netstrings (D. J. Bernstein): `<decimal length>:<payload>,` — the framing of Postfix's socketmap
 * protocol (socketmap_table(5)). Encoding, and a strict incremental decoder for a byte stream.
 *
 * Strict means: the length is 1–N ASCII digits with no sign, no spaces and no leading zero (except
 * the length "0" itself), then ':' and exactly that many bytes, then ','. Anything else is a framing
 * error, and so is a length above the decoder's limit (known as soon as the digits are, before the
 * payload arrives): a server then closes that connection, since the stream cannot be resynchronized.
 */

export class NetstringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetstringError';
  }
}

/** Encodes one netstring (the length counts bytes, not characters). */
export function encodeNetstring(payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** What one chunk completed: the payloads, in order, and the framing error that followed them, if any. */
export interface Decoded {
  frames: Buffer[];
  error: NetstringError | null;
}

/**
 * Decodes netstrings from chunks as they arrive. `push()` returns every payload the chunk
 * completed and, at the first framing error, stops and returns the error with the payloads
 * completed before it (a server answers those, then closes). After an error the decoder only
 * returns that error again.
 */
export class NetstringDecoder {
  readonly #maxPayload: number;
  readonly #maxDigits: number;
  /** Bytes received but not yet part of a completed netstring. */
  #pending: Buffer = Buffer.alloc(0);
  #error: NetstringError | null = null;

  /** `maxPayload`: the largest payload accepted, in bytes. */
  constructor(maxPayload: number) {
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 0) throw new RangeError('maxPayload must be a non-negative integer');
    this.#maxPayload = maxPayload;
    this.#maxDigits = String(maxPayload).length;
  }

  /** Bytes held for an incomplete netstring. */
  get buffered(): number {
    return this.#pending.length;
  }

  push(chunk: Uint8Array): Decoded {
    if (this.#error !== null) return { frames: [], error: this.#error };
    let buf = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    try {
      for (;;) {
        const frame = this.#next(buf);
        if (frame === null) break;
        frames.push(frame.payload);
        buf = buf.subarray(frame.end);
      }
    } catch (e) {
      if (!(e instanceof NetstringError)) throw e;
      this.#error = e;
      this.#pending = Buffer.alloc(0);
      return { frames, error: e };
    }
    // Copy the remainder so a large chunk's buffer is not kept alive by a small tail.
    this.#pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return { frames, error: null };
  }
  /** The first complete netstring in `buf`, null when more bytes are needed; throws on bad framing. */
  #next(buf: Buffer): { payload: Buffer; end: number } | null {
    let i = 0;
    let length = 0;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === COLON) break;
      if (c < ZERO || c > NINE) throw new NetstringError(i === 0 ? 'netstring does not start with a digit' : 'bad character in netstring length');
      if (i === 1 && buf[0] === ZERO) throw new NetstringError('netstring length has a leading zero');
      if (i >= this.#maxDigits) throw new NetstringError(`netstring longer than ${this.#maxPayload} bytes`);
      length = length * 10 + (c - ZERO);
    }
    if (i === buf.length) return null; // length not complete yet (bounded by #maxDigits)
    if (i === 0) throw new NetstringError('netstring has no length');
    if (length > this.#maxPayload) throw new NetstringError(`netstring longer than ${this.#maxPayload} bytes`);
    const start = i + 1;
    const end = start + length;
    if (buf.length <= end) return null;
    if (buf[end] !== COMMA) throw new NetstringError('netstring does not end with a comma');
    return { payload: buf.subarray(start, end), end: end + 1 };
  }
}

/**
 * CLI output (contract in context.ts): one JSON document on stdout with --json, else text;
 * errors on stderr as `roster: <message>` or `{"error":{"code","message"}}`.
 */
import { EXIT_CODES, isRosterError, type ErrorCode } from '../core/errors.ts';

/** Prints a result: JSON with `json`, else the human text. */
export function emit(json: boolean, value: unknown, human: string | string[]): void {
  if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else process.stdout.write((Array.isArray(human) ? human.join('\n') : human) + '\n');
}

/**
 * Prints an error and returns the exit code. Unknown errors are 'internal' (exit 1), with the
 * stack only when ROSTER_DEBUG=1: a stack can carry values from deep inside a library.
 */
export function printError(e: unknown, json: boolean, debug: boolean): number {
  const code: ErrorCode = isRosterError(e) ? e.code : 'internal';
  const raw = e instanceof Error ? e.message : String(e);
  const message = isRosterError(e) ? raw : `internal error: ${raw}`;
  if (json) {
    const details = isRosterError(e) && e.details !== undefined ? { details: e.details } : {};
    process.stderr.write(JSON.stringify({ error: { code, message, ...details } }) + '\n');
  } else {
    process.stderr.write(`roster: ${message}\n`);
  }
  if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return EXIT_CODES[code];
}

/** A plain-text table: columns padded to the widest cell; empty → the `empty` line. */
export function table(headers: string[], rows: (string | number | null)[][], empty = '(none)'): string[] {
  if (rows.length === 0) return [empty];
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** `key: value` lines, keys aligned. */
export function fields(pairs: [string, string | number | boolean | null][]): string[] {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${v === null ? '-' : String(v)}`);
}

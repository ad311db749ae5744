/**
 * What every CLI command module receives. Command modules live in src/cli/commands/<name>.ts and
 * export `register(program: Command, ctx: CliContext): void`; src/cli/main.ts registers them all.
 *
 * Output contract: with `--json` (a global option) a command prints exactly one JSON document on
 * stdout (its documented shape, see docs/CLI.md); without it, human-readable text. Errors go to
 * stderr as one line `roster: <message>` (or `{"error":{"code","message"}}` with --json) and the
 * process exits with EXIT_CODES[code] (src/core/errors.ts). Throw RosterError; main.ts prints it.
 */
import type { Store } from '../store/db.ts';

export interface CliContext {
  /** Opens the configured store (ROSTER_DATABASE_URL, else SQLite under ROSTER_DATA_DIR, default ./data). */
  openStore(): Promise<Store>;
  /** The lifecycle clock (D5): ROSTER_NOW when set, else the real time. ISO string. */
  now(): string;
  /** The override in force (ROSTER_NOW), or null. */
  clockOverride: string | null;
  /** `cli:<os user>` (D1). */
  actor: string;
  /** True when --json was given. */
  json(): boolean;
  /** Prints a result: JSON document with --json, else the human text (a string or lines). */
  emit(value: unknown, human: string | string[]): void;
  /** True when stderr is a terminal (progress display, R53). */
  interactive: boolean;
}

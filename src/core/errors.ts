/**
 * Errors with codes (DESIGN convention 4). A bad directory entry is never an exception: it is a
 * skipped item or an issue in the plan. RosterError is for failures of a whole operation.
 */
export type ErrorCode =
  | 'bad_input' // a value given by an admin is invalid (CLI exit 2, HTTP 400)
  | 'not_found' // HTTP 404
  | 'conflict' // uniqueness or state conflict, e.g. an address already held (HTTP 409)
  | 'read_incomplete' // R5: the directory read did not complete; nothing was changed
  | 'connect_failed' // no server could be reached or bound
  | 'held' // R41: the run was held for approval
  | 'config' // the process configuration is invalid
  | 'internal';

export const EXIT_CODES: Record<ErrorCode, number> = {
  bad_input: 2,
  not_found: 3,
  conflict: 4,
  read_incomplete: 5,
  connect_failed: 6,
  held: 7,
  config: 8,
  internal: 1,
};

export class RosterError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (never secrets). */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RosterError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isRosterError(e: unknown): e is RosterError {
  return e instanceof RosterError;
}

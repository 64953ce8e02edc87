/**
 * Errors with a stable code: what a tool error says in a form a program can
 * act on, so no caller has to match message text. The code travels in the
 * tool result's `_meta["io.signalbox/error"]` as `{code, field}`
 * (tools/register.ts); the message stays the human sentence naming the field.
 *
 * Codes (each raised by the class or module named):
 * - `invalid_argument`: an argument is malformed or out of its range ({@link InvalidArgumentError}, paths.ts KeyError);
 * - `not_found`: an id names nothing (no such signal, plan, wave, gate, incident, review, checkpoint; a feature never started; an agent not registered where one must be) ({@link NotFoundError});
 * - `invalid_state`: the thing named exists but its state refuses the request (already completed, closed or resumed; not open; active under another agent) ({@link InvalidStateError});
 * - `not_holder`: the lock belongs to another agent (locks/manager.ts);
 * - `limit`: a configured limit would be passed (`limits.*`, `capacity.*`; {@link LimitError});
 * - `not_permitted`: the caller lacks the authority (control/registry/authority.ts NotPermittedError);
 * - `store_full`: the disk reserve or the store's quota refuses the write (store/lmdb/guard.ts);
 * - `store_damaged`: the data file is damaged (store/lmdb/validate.ts);
 * - `boot_id_unavailable`: no system boot identity (store/clock.ts);
 *
 * Errors from git carry git/cli.ts's own codes (`not_a_repository`,
 * `git_too_old`, ...), and a lock refusal is not an error at all: it is
 * `granted: false` with a `reason` (`conflict`, `paused`, `checkpoint`, ...).
 */

/** Every code a tool error may carry. */
export const ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "invalid_state",
  "not_holder",
  "limit",
  "not_permitted",
  "store_full",
  "store_damaged",
  "boot_id_unavailable",
] as const;

/** A stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error with a {@link ErrorCode} and the argument it is about (null when none). */
export class SignalboxError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
    this.name = "SignalboxError";
  }
}

/** An argument that is malformed or out of range: `<field>: <what was expected>`. */
export class InvalidArgumentError extends SignalboxError {
  constructor(field: string, expected: string) {
    super("invalid_argument", field, `${field}: ${expected}`);
    this.name = "InvalidArgumentError";
  }
}

/** An id that names nothing: `message` is the whole sentence, starting `<field>: `. */
export class NotFoundError extends SignalboxError {
  constructor(field: string, message: string) {
    super("not_found", field, message);
    this.name = "NotFoundError";
  }
}

/** A thing that exists but is in a state that refuses the request: `message` is the whole sentence, starting `<field>: `. */
export class InvalidStateError extends SignalboxError {
  constructor(field: string, message: string) {
    super("invalid_state", field, message);
    this.name = "InvalidStateError";
  }
}

/** A configured limit the request would pass; `field` is the argument, `limit` the config key (`limits.locks_per_agent`). */
export class LimitError extends SignalboxError {
  constructor(
    field: string | null,
    readonly limit: string,
    message: string,
  ) {
    super("limit", field, message);
    this.name = "LimitError";
  }
}

/** A lock named by an agent that does not hold it. */
export class NotHolderError extends SignalboxError {
  constructor(field: string, message: string) {
    super("not_holder", field, message);
    this.name = "NotHolderError";
  }
}

/** A write refused by the disk reserve or the store's quota; nothing was written. */
export class StoreFullError extends SignalboxError {
  constructor(message: string) {
    super("store_full", null, message);
    this.name = "StoreFullError";
  }
}

/** The code and field of an error from a class that carries them, else null (an unclassified error). */
export function codeOf(err: unknown): { code: string; field: string | null } | null {
  if (err instanceof SignalboxError) return { code: err.code, field: err.field };
  if (err instanceof Error && typeof (err as { code?: unknown }).code === "string") {
    const e = err as Error & { code: string; field?: unknown };
    return { code: e.code, field: typeof e.field === "string" ? e.field : null };
  }
  return null;
}

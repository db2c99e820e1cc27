/**
 * Why a command is refused, in the domain's words. Deciders and handlers throw these; one place
 * (core/problems.ts) says what each means over HTTP.
 */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What the command is about does not exist (or no longer does). */
export class NotFound extends DomainError {}

/** The actor may not do this to someone else's things. */
export class Forbidden extends DomainError {}

/** The acting user is not (or no longer) there to act. */
export class Unauthenticated extends DomainError {}

/** The command is well-formed but makes no sense (e.g. following yourself). */
export class Invalid extends DomainError {}

/** The command clashes with what already happened; `members` say more (e.g. the field). */
export class Conflict extends DomainError {
  constructor(
    message: string,
    readonly members?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** An Idempotency-Key that was already accepted with another request. */
export class IdempotencyKeyReused extends Conflict {
  constructor() {
    super('This Idempotency-Key was already used with a different request');
  }
}

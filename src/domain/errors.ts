// The one error hierarchy (STYLE.md): retry, breaker and DLQ logic ask an error's class
// what to do, never its message.

/** The API said "slow down". Not a failure: it never spends an item's retry budget. */
export class Throttled extends Error {
  override readonly name = 'Throttled';
  readonly retriable = true;
  constructor(
    message: string,
    /** From Retry-After when the API sent one; often it does not. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Worth trying again later: 5xx, timeouts, connection errors, per-entity INTERNAL_ERROR. */
export class Transient extends Error {
  override readonly name = 'Transient';
  readonly retriable = true;
  constructor(
    message: string,
    /** What kind of transient: http5xx, timeout, connection, internalServerError… */
    readonly kind: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** Will not succeed as it is: validation, entity not found, access revoked. */
export class Permanent extends Error {
  override readonly name = 'Permanent';
  readonly retriable = false;
  constructor(
    message: string,
    readonly kind: string,
    readonly reason: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** Bad input, named precisely: which item, which field, why. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly index: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`item ${index}: ${field}: ${reason}`);
  }
}

export type CallFailure = Throttled | Transient | Permanent;

/**
 * The one error taxonomy. Every failure ferry meets is mapped, at the edge where it happens, to one of these kinds;
 * the retry policy and the workers decide only by kind.
 *
 *  - rate-limited: the source asked us to slow down (HTTP 429, Retry-After). Pause the whole queue; spend no attempt.
 *  - banned:       the source refuses us for a while (Binance 418). Pause until the ban ends; never retry into it.
 *  - network:      timeouts, resets, DNS: exponential backoff with jitter, up to 1 minute.
 *  - transient:    5xx, checksum or size mismatch, other passing faults: backoff up to 30 seconds.
 *  - permanent:    bad symbol, bad request, corrupt data: fail now, no retries (BullMQ UnrecoverableError).
 */
export type FailureKind = 'rate-limited' | 'banned' | 'network' | 'transient' | 'permanent';

export abstract class FerryError extends Error {
  abstract readonly kind: FailureKind;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class RateLimitedError extends FerryError {
  readonly kind = 'rate-limited';
  constructor(
    message: string,
    /** How long the source asked us to wait; undefined when it did not say. */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class BannedError extends FerryError {
  readonly kind = 'banned';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NetworkError extends FerryError {
  readonly kind = 'network';
}

export class TransientError extends FerryError {
  readonly kind = 'transient';
}

export class PermanentError extends FerryError {
  readonly kind = 'permanent';
}

/** Data that broke a rule (candle sanity, checksum of a corrupt file): permanent, and names what was wrong. */
export class DataValidationError extends PermanentError {}

/** Anything not already classified is treated as transient: retried a few times, then failed with its message. */
export function failureKindOf(err: unknown): FailureKind {
  return err instanceof FerryError ? err.kind : 'transient';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}

import ccxt from 'ccxt';
import {
  BannedError, FerryError, NetworkError, PermanentError, RateLimitedError, TransientError,
} from '../errors.js';
import { redactText } from '../logger.js';

/** Binance's 418 body: "Way too much request weight used; IP banned until 1659146400000." */
const BANNED_UNTIL = /banned until (\d{13})/i;

/**
 * Maps whatever a ccxt call threw to ferry's taxonomy. Errors the budget hooks already classified (429/418 with
 * their Retry-After) pass through unchanged.
 */
export function classifyCcxtError(err: unknown, context: string, nowMs: number = Date.now()): FerryError {
  if (err instanceof FerryError) return err;
  const message = `${context}: ${redactText(err instanceof Error ? err.message : String(err))}`;
  const options = { cause: err };
  if (err instanceof ccxt.DDoSProtection || err instanceof ccxt.RateLimitExceeded) {
    const banned = BANNED_UNTIL.exec(message);
    if (banned) return new BannedError(message, Math.max(0, Number(banned[1]) - nowMs), options);
    return new RateLimitedError(message, undefined, options);
  }
  if (err instanceof ccxt.BadSymbol || err instanceof ccxt.BadRequest || err instanceof ccxt.ArgumentsRequired ||
      err instanceof ccxt.NotSupported || err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied) {
    return new PermanentError(message, options);
  }
  if (err instanceof ccxt.RequestTimeout) return new NetworkError(message, options);
  if (err instanceof ccxt.ExchangeNotAvailable) return new TransientError(message, options);
  if (err instanceof ccxt.NetworkError) return new NetworkError(message, options);
  if (err instanceof ccxt.BadResponse) return new TransientError(message, options);
  if (err instanceof Error && /ECONNRESET|ECONNREFUSED|ETIMEDOUT|socket hang up|fetch failed|terminated/i.test(err.message)) {
    return new NetworkError(message, options);
  }
  return new TransientError(message, options);
}

import {
  BannedError, FerryError, NetworkError, PermanentError, RateLimitedError, TransientError,
} from '../core/errors.js';
import { answerSnippet } from './answer-checks.js';
import { loadedCcxt } from './ccxt-module.js';

/** Longest context and ccxt message kept in ferry's message (it is stored as a job's failed reason and in run_items). */
const MAX_CONTEXT = 200;
const MAX_DETAIL = 1_000;

/** Binance's 418 body: "Way too much request weight used; IP banned until 1659146400000." */
const BANNED_UNTIL = /banned until (\d{13})/i;

/**
 * Maps whatever a ccxt call threw to ferry's taxonomy. Errors the budget hooks already classified (429/418 with
 * their Retry-After) pass through unchanged.
 */
export function classifyCcxtError(err: unknown, context: string, nowMs: number = Date.now()): FerryError {
  if (err instanceof FerryError) return err;
  const ccxt = loadedCcxt();
  // ccxt quotes what it was given (a symbol, an answer's body); a huge one must not become a huge failed reason.
  const message = `${answerSnippet(context, MAX_CONTEXT)}: ${answerSnippet(err instanceof Error ? err.message : String(err), MAX_DETAIL)}`;
  const options = { cause: err };
  if (ccxt && (err instanceof ccxt.DDoSProtection || err instanceof ccxt.RateLimitExceeded)) {
    const banned = BANNED_UNTIL.exec(message);
    if (banned) return new BannedError(message, Math.max(0, Number(banned[1]) - nowMs), options);
    return new RateLimitedError(message, undefined, options);
  }
  if (ccxt && (err instanceof ccxt.BadSymbol || err instanceof ccxt.BadRequest || err instanceof ccxt.ArgumentsRequired ||
      err instanceof ccxt.NotSupported || err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied)) {
    return new PermanentError(message, options);
  }
  if (ccxt && err instanceof ccxt.RequestTimeout) return new NetworkError(message, options);
  if (ccxt && err instanceof ccxt.ExchangeNotAvailable) return new TransientError(message, options);
  if (ccxt && err instanceof ccxt.NetworkError) return new NetworkError(message, options);
  if (ccxt && err instanceof ccxt.BadResponse) return new TransientError(message, options);
  if (err instanceof Error && /ECONNRESET|ECONNREFUSED|ETIMEDOUT|socket hang up|fetch failed|terminated/i.test(err.message)) {
    return new NetworkError(message, options);
  }
  return new TransientError(message, options);
}

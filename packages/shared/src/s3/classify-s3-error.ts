import { FerryError, NetworkError, PermanentError, RateLimitedError, TransientError, errorMessage } from '../core/errors.js';

/**
 * Maps what `@aws-sdk/client-s3` throws to ferry's error taxonomy, at the edge where S3 is called.
 *  - 403 (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied) and 404 (NoSuchBucket, NoSuchKey): permanent;
 *    retrying cannot fix credentials or a missing object. The message names the settings to check.
 *  - 503 SlowDown: S3's "reduce your request rate": rate-limited, so the queue pauses instead of retrying into it.
 *  - other 5xx: transient. Resets, timeouts, refused connections: network.
 */
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** S3 asks for a slower rate without saying how long: one second, then the retry policy's backoff. */
const SLOW_DOWN_MS = 1_000;

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

export function classifyS3Error(err: unknown, what: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const detail = `${what}: ${name}${e.message && e.message !== name ? ` (${e.message})` : ''}`;
  if (CREDENTIAL_CODES.has(name) || status === 403) {
    return new PermanentError(`${detail}: S3 refused the credentials; check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION`, { cause: err });
  }
  if (name === 'NoSuchBucket') return new PermanentError(`${detail}: check S3_BUCKET and S3_ENDPOINT`, { cause: err });
  if (name === 'NoSuchKey' || status === 404) return new PermanentError(`${detail}: the object is gone upstream`, { cause: err });
  if (name === 'SlowDown' || status === 429) return new RateLimitedError(`${detail}: S3 asked to slow down`, SLOW_DOWN_MS, { cause: err });
  if (status !== undefined && status >= 500) return new TransientError(detail, { cause: err });
  if ((e.code && NETWORK_CODES.has(e.code)) || name === 'TimeoutError' || name === 'RequestTimeout' || name === 'AbortError') {
    return new NetworkError(`${what}: ${e.code ?? name}: ${errorMessage(err)}`, { cause: err });
  }
  if (status !== undefined && status >= 400) return new PermanentError(detail, { cause: err });
  return new TransientError(`${what}: ${errorMessage(err)}`, { cause: err });
}

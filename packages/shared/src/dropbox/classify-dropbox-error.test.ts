import { DropboxResponseError } from 'dropbox';
import { describe, expect, it } from 'vitest';
import { NetworkError, PermanentError, RateLimitedError, TransientError } from '../core/errors.js';
import { classifyDropboxError, classifyDropboxFailure, incorrectOffsetOf, isDropboxNotFound } from './classify-dropbox-error.js';

/** Errors as the SDK builds them from Dropbox's answers (status, fetch Headers, parsed JSON or text body). */
function answer(status: number, body: unknown, headers: Record<string, string> = {}): DropboxResponseError<unknown> {
  return new DropboxResponseError(status, new Headers(headers) as unknown as DropboxResponseError<unknown>['headers'], body);
}

const routeError = (error: unknown) => answer(409, { error_summary: 'x/..', error });

describe('classifyDropboxError', () => {
  it('makes a 429 rate-limited for as long as Retry-After says', () => {
    const err = classifyDropboxError(
      answer(429, { error_summary: 'too_many_write_operations/.', error: { reason: { '.tag': 'too_many_write_operations' }, retry_after: 3 } }, { 'retry-after': '2' }),
      'upload data/x',
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(2000);
    expect(err.message).toBe('Dropbox upload data/x: rate limited (too_many_write_operations)');
  });

  it('reads the wait from the body when the header is missing', () => {
    const err = classifyDropboxError(answer(429, { error_summary: '', error: { reason: { '.tag': 'too_many_requests' }, retry_after: 5 } }), 'call');
    expect((err as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it('makes a 503 with Retry-After rate-limited, and other 5xx transient', () => {
    expect(classifyDropboxError(answer(503, 'busy', { 'retry-after': '4' }), 'call')).toBeInstanceOf(RateLimitedError);
    expect(classifyDropboxError(answer(500, 'An error occurred'), 'call')).toBeInstanceOf(TransientError);
    expect(classifyDropboxError(answer(503, 'busy'), 'call')).toBeInstanceOf(TransientError);
  });

  it.each([
    ['a conflict with a folder', { '.tag': 'path', reason: { '.tag': 'conflict', conflict: { '.tag': 'folder' } } }, 'path/conflict/folder'],
    ['a full Dropbox', { '.tag': 'path', reason: { '.tag': 'insufficient_space' } }, 'path/insufficient_space'],
    ['a malformed path', { '.tag': 'path', path: { '.tag': 'malformed_path' } }, 'path/malformed_path'],
    ['a payload over 150 MB', { '.tag': 'payload_too_large' }, 'payload_too_large'],
  ])('fails for good on %s, naming it', (_what, error, tags) => {
    const err = classifyDropboxError(routeError(error), 'upload data/a');
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe(`Dropbox upload data/a: ${tags}`);
  });

  it.each([
    ['a content hash mismatch', { '.tag': 'content_hash_mismatch' }],
    ['an upload session that is gone', { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_found' } }],
  ])('retries after %s', (_what, error) => {
    expect(classifyDropboxError(routeError(error), 'finish')).toBeInstanceOf(TransientError);
  });

  it('treats lock contention in a 409 as rate limiting without a given wait', () => {
    const err = classifyDropboxError(routeError({ '.tag': 'path', reason: { '.tag': 'too_many_write_operations' } }), 'upload');
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBeUndefined();
  });

  it('fails for good on rejected credentials and bad requests, without echoing tokens', () => {
    const expired = classifyDropboxError(answer(401, { error_summary: 'expired_access_token/', error: { '.tag': 'expired_access_token' } }), 'upload');
    expect(expired).toBeInstanceOf(PermanentError);
    expect(expired.message).toContain('credentials rejected (expired_access_token)');
    expect(classifyDropboxError(answer(400, 'Error in call to API function "files/upload": bad arg'), 'upload')).toBeInstanceOf(PermanentError);
  });

  it('turns a connection lost mid-answer into a network error and anything else into a transient one', () => {
    expect(classifyDropboxError(new TypeError('terminated'), 'download')).toBeInstanceOf(NetworkError);
    expect(classifyDropboxError(new Error('odd'), 'download')).toBeInstanceOf(TransientError);
    const already = new NetworkError('reset');
    expect(classifyDropboxError(already, 'x')).toBe(already);
  });
});

describe('classifyDropboxFailure (finish_batch entries)', () => {
  it('maps an entry refused for lock contention to rate-limited, and a conflict to permanent', () => {
    expect(classifyDropboxFailure({ '.tag': 'too_many_write_operations' }, 'commit a')).toBeInstanceOf(RateLimitedError);
    expect(classifyDropboxFailure({ '.tag': 'path', path: { '.tag': 'conflict', conflict: { '.tag': 'file' } } }, 'commit a'))
      .toBeInstanceOf(PermanentError);
  });
});

describe('incorrectOffsetOf and isDropboxNotFound', () => {
  it('finds the correct_offset to resume an upload session from', () => {
    expect(incorrectOffsetOf(routeError({ '.tag': 'incorrect_offset', correct_offset: 1234 }))).toBe(1234);
    expect(incorrectOffsetOf(routeError({ '.tag': 'lookup_failed', lookup_failed: { '.tag': 'incorrect_offset', correct_offset: 9 } }))).toBe(9);
    expect(incorrectOffsetOf(routeError({ '.tag': 'closed' }))).toBeUndefined();
    expect(incorrectOffsetOf(new Error('x'))).toBeUndefined();
  });

  it('tells a missing path from a missing upload session', () => {
    expect(isDropboxNotFound(routeError({ '.tag': 'path', path: { '.tag': 'not_found' } }))).toBe(true);
    expect(isDropboxNotFound(routeError({ '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_found' } }))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { NetworkError } from '@ferry/shared/core';
import { createDropboxClient } from '@ferry/shared/dropbox';
import { DropboxCounter, DropboxFault, startDropboxEmulator } from './index.js';
import { apiErrorBody, clientOptionsFor, responseErrorOf, sdkClientFor } from './sdk-client.js';
import { emulatorForEachTest } from './test-client.js';

describe('Dropbox emulator: tokens, rate limits and faults, through the real dropbox SDK', () => {
  // A fresh emulator per test: these tests expire tokens and count refreshes.
  const dropbox = emulatorForEachTest();

  it('gets an access token with the refresh token on the first call and reuses it afterwards', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(1);
    expect(dropbox.emulator.control.counter(DropboxCounter.calls('oauth2/token'))).toBe(1);
  });

  it('refreshes once and retries when the server expires a token before its announced expiry', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    dropbox.emulator.control.addFault({ name: DropboxFault.ExpireToken, remaining: 1 });

    const uploaded = await dbx.filesUpload({ path: '/after-expiry.txt', contents: Buffer.from('still uploaded') });

    expect(uploaded.result.size).toBe(14);
    expect(dropbox.emulator.control.counter(DropboxCounter.status(401))).toBe(1);
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(2);
    expect(dropbox.emulator.control.counter(DropboxCounter.calls('files/upload'))).toBe(2);
    expect((await dropbox.emulator.readFile('/after-expiry.txt')).toString()).toBe('still uploaded');
  });

  it('refreshes only once when many calls meet the expired token together', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    dropbox.emulator.expireAccessTokens();

    const results = await Promise.all(Array.from({ length: 5 }, () => dbx.filesGetMetadata({ path: '/probe.txt' })));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(2);
    expect(dropbox.emulator.control.counter(DropboxCounter.status(401))).toBe(5);
  });

  it('surfaces the 401 expired_access_token of a long-lived token, which cannot be refreshed', async () => {
    const dbx = sdkClientFor(dropbox.emulator, 'long-lived');
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    dropbox.emulator.control.addFault({ name: DropboxFault.ExpireToken, remaining: 1 });

    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));

    expect(err.status).toBe(401);
    const body = apiErrorBody(err);
    expect(body.error_summary).toMatch(/^expired_access_token\/\.*$/);
    expect(body.error).toEqual({ '.tag': 'expired_access_token' });
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(0);
    const longLived = dropbox.emulator.credentials.longLivedToken ?? '';
    expect(`${err.message} ${JSON.stringify(err.error)}`).not.toContain(longLived);
  });

  it('answers an unknown access token with 401 invalid_access_token', async () => {
    const dbx = createDropboxClient({ ...clientOptionsFor(dropbox.emulator), auth: { kind: 'long-lived', accessToken: 'sl.not-issued' } });
    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(err.status).toBe(401);
    expect(apiErrorBody(err).error).toEqual({ '.tag': 'invalid_access_token' });
  });

  it('answers a revoked refresh token with 400 invalid_grant, and no secret reaches the error or a URL', async () => {
    const urls: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    const refreshToken = 'revoked-refresh-token-0123456789';
    const dbx = createDropboxClient({
      ...clientOptionsFor(dropbox.emulator),
      auth: { kind: 'refresh', refreshToken, appKey: dropbox.emulator.credentials.appKey, appSecret: dropbox.emulator.credentials.appSecret },
      fetch: recordingFetch,
    });

    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));

    expect(err.status).toBe(400);
    expect(err.error).toEqual({ error: 'invalid_grant', error_description: 'refresh token is invalid or revoked' });
    const visible = `${err.message} ${JSON.stringify(err.error)} ${String(err)}`;
    expect(visible).not.toContain(refreshToken);
    expect(visible).not.toContain(dropbox.emulator.credentials.appSecret);
    expect(urls).toEqual([`${dropbox.emulator.url}/oauth2/token`]);
  });

  it('takes the refresh grant in the query string (as the SDK sends it), a form body, or with HTTP Basic', async () => {
    const { appKey, appSecret, refreshToken } = dropbox.emulator.credentials;
    const inQuery = await fetch(
      `${dropbox.emulator.url}/oauth2/token?grant_type=refresh_token&refresh_token=${refreshToken}&client_id=${appKey}&client_secret=${appSecret}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' } },
    );
    expect(inQuery.status).toBe(200);
    expect(await inQuery.json()).toEqual({ access_token: expect.stringMatching(/^sl\./), token_type: 'bearer', expires_in: 14_400 });

    const basic = await fetch(`${dropbox.emulator.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${appKey}:${appSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    expect(basic.status).toBe(200);

    const wrongSecret = await fetch(`${dropbox.emulator.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: appKey, client_secret: 'wrong' }).toString(),
    });
    expect(wrongSecret.status).toBe(400);
    expect(await wrongSecret.json()).toEqual({ error: 'invalid_client', error_description: 'Invalid client_id or client_secret' });
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(2);
  });

  it('answers the random errorRate with a plain-text 500', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    dropbox.emulator.control.configure({ errorRate: 1 });
    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(err.status).toBe(500);
    expect(err.error).toMatch(/^An error occurred on the Dropbox servers/);
    expect(dropbox.emulator.control.counter(DropboxCounter.status(500))).toBe(1);
  });

  it('turns a refused connection into a NetworkError whose message holds no secret', async () => {
    const closed = await startDropboxEmulator();
    const options = clientOptionsFor(closed);
    await closed.close();
    const dbx = createDropboxClient(options);

    const failure = await dbx.filesGetMetadata({ path: '/probe.txt' }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(failure).toBeInstanceOf(NetworkError);
    const message = (failure as NetworkError).message;
    expect(message).toMatch(/^Dropbox request POST http:\/\/127\.0\.0\.1:\d+\/oauth2\/token failed: fetch failed/);
    expect(message).not.toContain(closed.credentials.refreshToken);
    expect(message).not.toContain(closed.credentials.appSecret);
  });

  it('answers too_many_write_operations with 429, Retry-After and retry_after visible to the caller', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    dropbox.emulator.control.addFault({ name: DropboxFault.TooManyWriteOperations, remaining: 1, params: { retryAfterSeconds: 3 } });

    const err = await responseErrorOf(dbx.filesUpload({ path: '/contended.txt', contents: Buffer.from('x') }));

    expect(err.status).toBe(429);
    expect((err.headers as Headers).get('retry-after')).toBe('3');
    const body = apiErrorBody(err);
    expect(body.error_summary).toMatch(/^too_many_write_operations\/\.*$/);
    expect(body.error).toEqual({ reason: { '.tag': 'too_many_write_operations' }, retry_after: 3 });
    expect(dropbox.emulator.fileMetadata('/contended.txt')).toBeUndefined();
    expect(dropbox.emulator.control.counter(DropboxCounter.status(429))).toBe(1);

    await dbx.filesUpload({ path: '/contended.txt', contents: Buffer.from('x') });
    expect(dropbox.emulator.fileMetadata('/contended.txt')?.size).toBe(1);
  });

  it('applies too_many_write_operations to writes only, and too_many_requests to any call', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    dropbox.emulator.control.addFault({ name: DropboxFault.TooManyWriteOperations, remaining: 1 });
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    expect(dropbox.emulator.control.listFaults()[0]?.remaining).toBe(1);

    dropbox.emulator.control.addFault({ name: DropboxFault.TooManyRequests, remaining: 1 });
    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(err.status).toBe(429);
    expect((err.headers as Headers).get('retry-after')).toBe('1');
    expect(apiErrorBody(err).error).toEqual({ reason: { '.tag': 'too_many_requests' }, retry_after: 1 });
  });

  it('answers the server-error fault with a plain-text 503 and Retry-After', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    dropbox.emulator.control.addFault({ name: DropboxFault.ServerError, remaining: 1, pathIncludes: '/get_metadata', params: { status: 503, retryAfterSeconds: 2 } });
    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(err.status).toBe(503);
    expect((err.headers as Headers).get('retry-after')).toBe('2');
    expect(typeof err.error).toBe('string');
  });

  it('can reset the connection after committing, so a client that retries must not double the file', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    dropbox.emulator.control.addFault({ name: DropboxFault.ConnectionReset, remaining: 1, pathIncludes: '/files/upload', params: { afterProcessing: true } });
    const data = Buffer.from('committed but unheard');

    await expect(dbx.filesUpload({ path: '/unheard.txt', contents: data })).rejects.toBeInstanceOf(NetworkError);
    const stored = dropbox.emulator.fileMetadata('/unheard.txt');
    expect(stored?.size).toBe(data.length);

    const retried = await dbx.filesUpload({ path: '/unheard.txt', contents: data, mode: { '.tag': 'add' } });
    expect(retried.result.rev).toBe(stored?.rev);
    expect(dropbox.emulator.listFilePaths().filter((p) => p.startsWith('/unheard'))).toEqual(['/unheard.txt']);
  });

  it('is controlled over HTTP: faults, settings, counters and reset', async () => {
    const dbx = sdkClientFor(dropbox.emulator);
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${dropbox.emulator.url}/__control/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);

    await control('POST', 'faults', { name: DropboxFault.TooManyRequests, remaining: 1, params: { retryAfterSeconds: 7 } });
    const limited = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(limited.status).toBe(429);
    expect(apiErrorBody(limited).error).toMatchObject({ retry_after: 7 });
    await dbx.filesGetMetadata({ path: '/probe.txt' });

    const settings = await control('POST', 'settings', { maxRequestBytes: 4 });
    expect(settings.maxRequestBytes).toBe(4);
    const tooBig = await responseErrorOf(dbx.filesUpload({ path: '/five.txt', contents: Buffer.from('12345') }));
    expect(apiErrorBody(tooBig).error).toEqual({ '.tag': 'payload_too_large' });

    const { counters } = (await control('GET', 'counters')) as { counters: Record<string, number> };
    expect(counters[`fault:${DropboxFault.TooManyRequests}`]).toBe(1);
    expect(counters[DropboxCounter.status(429)]).toBe(1);
    expect(counters[DropboxCounter.status(409)]).toBe(1);
    expect(counters[DropboxCounter.calls('files/get_metadata')]).toBe(2);

    await control('POST', 'reset');
    expect(dropbox.emulator.control.settings.maxRequestBytes).toBe(150 * 1024 * 1024);
    expect(dropbox.emulator.control.counter(DropboxCounter.status(429))).toBe(0);
  });
});

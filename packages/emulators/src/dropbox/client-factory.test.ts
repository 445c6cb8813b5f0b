import { describe, expect, it } from 'vitest';
import { createDropboxClient } from '@ferry/shared/dropbox';
import { DropboxCounter } from './index.js';
import { apiErrorBody, clientOptionsFor, responseErrorOf } from './sdk-client.js';
import { emulatorForEachTest } from './test-client.js';

describe('createDropboxClient', () => {
  const dropbox = emulatorForEachTest();

  it('refuses a base URL that is not http(s), naming the option', () => {
    expect(() => createDropboxClient({ ...clientOptionsFor(dropbox.emulator), apiBaseUrl: 'ftp://example.com' })).toThrowError(
      'createDropboxClient: apiBaseUrl is "ftp://example.com", expected an http(s) URL',
    );
    expect(() => createDropboxClient({ ...clientOptionsFor(dropbox.emulator), contentBaseUrl: 'not a url' })).toThrowError(/contentBaseUrl/);
  });

  it('keeps a path prefix of the base URLs, as behind a reverse proxy', async () => {
    const seen: string[] = [];
    // A reverse proxy in front of the emulator: strips `/dropbox` and forwards.
    const proxy: typeof fetch = (input, init) => {
      const url = String(input);
      seen.push(new URL(url).pathname);
      return fetch(url.replace(`${dropbox.emulator.url}/dropbox`, dropbox.emulator.url), init);
    };
    const dbx = createDropboxClient({
      ...clientOptionsFor(dropbox.emulator),
      apiBaseUrl: `${dropbox.emulator.url}/dropbox/`,
      contentBaseUrl: `${dropbox.emulator.url}/dropbox`,
      fetch: proxy,
    });
    await dbx.filesUpload({ path: '/via-proxy.txt', contents: Buffer.from('p') });
    await dbx.filesGetMetadata({ path: '/via-proxy.txt' });
    expect(seen).toEqual(['/dropbox/oauth2/token', '/dropbox/2/files/upload', '/dropbox/2/files/get_metadata']);
  });

  it("follows the server's expires_in: with a lifetime inside the SDK's 5-minute margin, every call refreshes", async () => {
    dropbox.emulator.control.configure({ accessTokenLifetimeSeconds: 120 });
    const dbx = createDropboxClient(clientOptionsFor(dropbox.emulator));
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    await dbx.filesGetMetadata({ path: '/probe.txt' });
    expect(dropbox.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(2);
  });

  it('answers a token past its lifetime with 401 expired_access_token', async () => {
    const token = dropbox.emulator.issueAccessToken(0);
    const dbx = createDropboxClient({ ...clientOptionsFor(dropbox.emulator), auth: { kind: 'long-lived', accessToken: token } });
    const err = await responseErrorOf(dbx.filesGetMetadata({ path: '/probe.txt' }));
    expect(err.status).toBe(401);
    expect(apiErrorBody(err).error).toEqual({ '.tag': 'expired_access_token' });
  });
});

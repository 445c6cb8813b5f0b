import { describe, expect, it } from 'vitest';
import { redactUrlCredentials } from './redact-url.js';

describe('redactUrlCredentials', () => {
  it.each([
    ['redis://:SuperRedisPw@127.0.0.1:99999', 'redis://:***@127.0.0.1:99999'],
    ['postgres://me:hunter2@db:5432/x', 'postgres://me:***@db:5432/x'],
    ['http://:ProxyPw88@proxy:8080/api', 'http://:***@proxy:8080/api'],
    ['redis://127.0.0.1:6379/0?password=QueryPw&db=1', 'redis://127.0.0.1:6379/0?password=***&db=***'],
    ['https://host/x?api%5Fkey=KEY#access_token=T', 'https://host/x?api%5Fkey=***#***'],
    ['SuperRedisPw:x@127.0.0.1', 'SuperRedisPw:***@127.0.0.1'],
    ['redis://:pa/ss@word@host', 'redis://:***@host'],
  ])('hides the credentials of %s', (input, shown) => {
    expect(redactUrlCredentials(input)).toBe(shown);
  });

  it('leaves a URL without credentials as it is', () => {
    for (const url of ['redis://127.0.0.1:6379', 'https://api.binance.com/api/v3', 'postgres://postgres@127.0.0.1/x', 'not a url']) {
      expect(redactUrlCredentials(url)).toBe(url);
    }
  });
});

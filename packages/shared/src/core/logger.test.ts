import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Secret } from './config/secret.js';
import { createLogger, redactText } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, logger: createLogger({ name: 'test', format: 'json', destination }) };
}

describe('logging', () => {
  it('writes JSON lines', () => {
    const { lines, logger } = capture();
    logger.info({ coin: 'BTC/USDT' }, 'stored');
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'test', coin: 'BTC/USDT', msg: 'stored' });
  });

  it('redacts credentials by key, in URLs, in messages and in Secret values', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        apiKey: 'k-1',
        headers: { authorization: 'Bearer abc.def' },
        nested: { token: 't-2' },
        url: 'http://host/api?symbol=BTC&api_key=SECRET123&x=1',
        secret: new Secret('s-3'),
      },
      'calling https://user:pw@host/path?token=zzz',
    );
    const out = lines.join('');
    for (const leaked of ['k-1', 'abc.def', 't-2', 'SECRET123', 's-3', 'zzz', ':pw@']) expect(out).not.toContain(leaked);
    expect(out).toContain('api_key=[redacted]');
    expect(out).toContain('symbol=BTC');
  });

  it('redacts free text', () => {
    expect(redactText('GET /x?apikey=abc&b=2 Authorization: Bearer xyz')).toBe(
      'GET /x?apikey=[redacted]&b=2 Authorization: Bearer [redacted]',
    );
  });
});

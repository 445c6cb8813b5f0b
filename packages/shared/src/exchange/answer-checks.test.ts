import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../core/errors.js';
import { answerShapeError, answerSnippet, jsonSnippet, nonJsonAnswerError, ohlcvRowProblem } from './answer-checks.js';

const GET = { method: 'GET', url: 'https://user:secret@api.binance.com/api/v3/klines?symbol=BTCUSDT' };

describe('nonJsonAnswerError', () => {
  const answer = (status: number, body: string, json: unknown, type = 'text/html') =>
    nonJsonAnswerError('binance', GET, { status, headers: { 'Content-Type': type }, body, json });

  it('refuses a 2xx HTML page or empty body as transient, naming the call but not the credentials in the URL', () => {
    const html = answer(200, '<html><body>Down for maintenance</body></html>', undefined);
    expect(html).toBeInstanceOf(TransientError);
    expect(html!.message).toBe('binance GET /api/v3/klines answered HTTP 200 with an HTML page (text/html: ' +
      '"<html><body>Down for maintenance</body></html>") instead of JSON: something in front of the exchange (a CDN or proxy, maintenance) answered; trying again later');
    expect(answer(204, '  ', undefined)!.message).toContain('answered HTTP 204 with an empty body');
  });

  it('leaves JSON, errors (ccxt raises those) and other text to ccxt', () => {
    expect(answer(200, '[]', [], 'application/json')).toBeUndefined();
    expect(answer(503, '<html>503</html>', undefined)).toBeUndefined();
    expect(answer(200, '1700000000000x', undefined, 'text/plain')).toBeUndefined();
  });
});

describe('answerShapeError', () => {
  const shape = (path: string, json: unknown) => answerShapeError('binance', { method: 'GET', url: `http://x${path}` }, { status: 200, json });

  it.each<[string, unknown, string]>([
    ['/api/v3/klines', { code: 0 }, 'a list of klines'],
    ['/api/v3/exchangeInfo', { symbols: 'all' }, 'an object with a list of symbols'],
    ['/api/v3/ticker/24hr', 'BTCUSDT', 'a list of 24h tickers'],
    ['/api/v3/time', { serverTime: '1700000000000' }, 'an object with serverTime in epoch milliseconds'],
  ])('%s answering %j is permanent: expected %s', (path, json, expected) => {
    const err = shape(path, json);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err!.message).toBe(`binance GET ${path} answered JSON of the wrong shape: expected ${expected}, got ${JSON.stringify(json)}`);
  });

  it('accepts the shapes Binance answers, and knows nothing of other exchanges or endpoints', () => {
    expect(shape('/api/v3/klines', [])).toBeUndefined();
    expect(shape('/api/v3/exchangeInfo', { symbols: [] })).toBeUndefined();
    expect(shape('/api/v3/ticker/24hr', { symbol: 'BTCUSDT' })).toBeUndefined();
    expect(shape('/api/v3/time', { serverTime: 1_700_000_000_000 })).toBeUndefined();
    expect(shape('/api/v3/ping', 'pong')).toBeUndefined();
    expect(answerShapeError('kraken', { method: 'GET', url: 'http://x/api/v3/klines' }, { status: 200, json: {} })).toBeUndefined();
  });
});

describe('ohlcvRowProblem', () => {
  it.each<[unknown, string | undefined]>([
    [[1_700_000_000_000, 1, 2, 0.5, 1.5, 10], undefined],
    [[1_700_000_000_000, 1, 2, 0.5, 1.5, 0, 'extra'], undefined],
    [null, 'expected [open time, open, high, low, close, volume]'],
    [[1_700_000_000_000, 1, 2, 0.5], 'expected [open time, open, high, low, close, volume]'],
    [[undefined, 1, 2, 0.5, 1.5, 10], 'its open time is missing or not a number'],
    [[1_700_000_000_000.5, 1, 2, 0.5, 1.5, 10], 'its open time is 1700000000000.5, not whole epoch milliseconds'],
    [[1_700_000_000_000, '1', 2, 0.5, 1.5, 10], 'its open is "1", not a number'],
    [[1_700_000_000_000, 1, 2, 0.5, undefined, 10], 'its close is missing or not a number'],
    [[1_700_000_000_000, 1, 2, 0.5, 1.5, Infinity], 'its volume is Infinity, not a finite number'],
  ])('%j: %s', (row, problem) => {
    expect(ohlcvRowProblem(row)).toBe(problem);
  });
});

describe('answerSnippet', () => {
  it('keeps the start of an answer on one line, redacted, with an ellipsis when cut', () => {
    expect(answerSnippet('<html>\n  <body>hi</body>\n</html>')).toBe('<html> <body>hi</body> </html>');
    expect(answerSnippet('x'.repeat(500), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(jsonSnippet({ url: 'postgres://me:pw@db/x' })).toBe('{"url":"postgres://me:[redacted]@db/x"}');
    expect(jsonSnippet('BTCUSDT')).toBe('"BTCUSDT"');
  });
});

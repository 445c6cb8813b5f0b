import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBinanceEmulator, type BinanceEmulator, type BinanceFault } from './index.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);
const KLINES = '/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3';

/** The faults that answer 200 with JSON a client must refuse (see settings.ts), as they look on the wire. */
describe('the Binance emulator answers malformed JSON on request', () => {
  let emu: BinanceEmulator;
  beforeAll(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
  });
  afterAll(async () => emu.close());
  beforeEach(() => emu.control.reset());

  const get = async (path: string) => {
    const res = await fetch(`${emu.url}${path}`);
    return { status: res.status, body: (await res.json()) as unknown, used: res.headers.get('x-mbx-used-weight-1m') };
  };

  it.each<[string, Record<string, unknown> | undefined, (row: unknown) => boolean]>([
    ['null (the default)', undefined, (row) => row === null],
    ['short', { shape: 'short' }, (row) => Array.isArray(row) && row.length === 4],
    ['text', { shape: 'text' }, (row) => Array.isArray(row) && row[1] === 'n/a' && row[4] === 'n/a' && typeof row[0] === 'number'],
    ['time-text', { shape: 'time-text' }, (row) => Array.isArray(row) && row[0] === 'yesterday' && row.length === 12],
  ])('malformed-kline %s breaks the middle kline only', async (_shape, params, broken) => {
    emu.control.addFault({ name: 'malformed-kline', remaining: 1, ...(params ? { params } : {}) });
    const { status, body } = await get(KLINES);
    expect(status).toBe(200);
    const rows = body as unknown[];
    expect(rows).toHaveLength(3);
    expect(broken(rows[1])).toBe(true);
    expect([rows[0], rows[2]].every((r) => Array.isArray(r) && r.length === 12)).toBe(true);
    expect((await get(KLINES)).body).toEqual(emu.klines('BTCUSDT', '1h', { limit: 3 }));
  });

  it('empty-list: exchangeInfo lists no symbols but keeps its rate limits, and the ticker list is empty', async () => {
    emu.control.addFault({ name: 'empty-list' });
    const info = (await get('/api/v3/exchangeInfo')).body as { symbols: unknown[]; rateLimits: unknown[] };
    expect(info.symbols).toEqual([]);
    expect(info.rateLimits).toHaveLength(4);
    expect((await get('/api/v3/ticker/24hr')).body).toEqual([]);
  });

  it.each<[string]>([['/api/v3/time'], ['/api/v3/exchangeInfo'], ['/api/v3/ticker/24hr'], [KLINES]])(
    'wrong-shape answers %s with an object of no shape Binance uses, charged and with weight headers',
    async (path) => {
      emu.control.addFault({ name: 'wrong-shape' satisfies BinanceFault, remaining: 1 });
      const answer = await get(path);
      expect(answer).toMatchObject({ status: 200, body: { unexpected: true } });
      expect(Number(answer.used)).toBeGreaterThan(0);
      expect(emu.control.counter('fault:wrong-shape')).toBe(1);
    },
  );
});

import { EmulatorControl } from '../common/control.js';
import { startHttpEmulator, type RunningEmulator } from '../common/http-server.js';
import { closedCandles, INTERVALS, type EmulatedCandle } from './candles.js';
import { buildSymbolMap, handleBinance, now } from './routes.js';
import { DEFAULT_SETTINGS, type BinanceSettings } from './settings.js';
import { universe, type SymbolInfo } from './universe.js';
import { WeightLimiter } from './weight-limiter.js';

export { DEFAULT_OUTAGE, DEFAULT_SETTINGS, type BinanceFault, type BinanceSettings } from './settings.js';
export { LISTING_ANCHOR, universe, type SymbolInfo } from './universe.js';
export type { EmulatedCandle } from './candles.js';

export interface BinanceEmulator extends RunningEmulator<BinanceSettings> {
  /** Every closed candle the emulator serves for a unified (BTC/USDT) or Binance (BTCUSDT) symbol in [start, end). */
  candles(symbol: string, interval: string, startMs: number, endMs: number): EmulatedCandle[];
  /** The emulator's universe as it stands. */
  symbols(): SymbolInfo[];
  /** The exchange's clock now. */
  now(): number;
}

/**
 * Binance spot REST, emulated: /api/v3/{ping,time,exchangeInfo,ticker/24hr,klines} with documented weights, a fixed
 * weight window, 429 -> 418 escalation, listing dates, an outage, halted pairs and the still-open candle.
 */
export async function startBinanceEmulator(options: { port?: number; settings?: Partial<BinanceSettings> } = {}): Promise<BinanceEmulator> {
  const control = new EmulatorControl<BinanceSettings>({ ...DEFAULT_SETTINGS, ...options.settings });
  const limiter = new WeightLimiter();
  let cache: { coinCount: number; map: Map<string, SymbolInfo> } | undefined;
  const symbols = () => {
    if (!cache || cache.coinCount !== control.settings.coinCount) {
      cache = { coinCount: control.settings.coinCount, map: buildSymbolMap(control.settings.coinCount) };
    }
    return cache.map;
  };
  const originalReset = control.reset.bind(control);
  control.reset = () => {
    originalReset();
    limiter.reset();
  };
  const running = await startHttpEmulator({
    name: 'binance',
    port: options.port,
    control,
    handler: (req, res) => handleBinance({ control, limiter, symbols }, req, res),
    serverError: (res) => {
      res.writeHead(503, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify({ code: -1001, msg: 'Internal error; unable to process your request. Please try again.' }));
    },
  });
  return {
    ...running,
    candles(symbol, interval, startMs, endMs) {
      const info = symbols().get(symbol.replace('/', ''));
      const intervalMs = INTERVALS[interval];
      if (!info || intervalMs === undefined) throw new Error(`emulator has no ${symbol} ${interval}`);
      return closedCandles(info, intervalMs, startMs, endMs, now(control.settings), control.settings.outages);
    },
    symbols: () => universe(control.settings.coinCount),
    now: () => now(control.settings),
  };
}
